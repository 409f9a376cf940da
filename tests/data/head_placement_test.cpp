// data/head_placement.h: the split rule the runtime's sequence parallel and the search share, and which placement a
// run of a plan over N ranks uses.
#include "svdit/data/head_placement.h"

#include <gtest/gtest.h>

#include <stdexcept>

using namespace svdit::data;

namespace {

Plan plan_of(int64_t layers, int64_t heads) {
  Plan plan;
  plan.model = {"m", layers, heads, 64, ""};
  plan.layout = TokenLayout{.frames = 1, .height = 8, .width = 8, .text_prefix = 0, .text_suffix = 0, .block_size = 64};
  return plan;
}

TEST(EvenSplit, TheFirstRemainderPartsGetOneMore) {
  EXPECT_EQ(even_split(256, 3), (std::vector<int64_t>{86, 85, 85}));
  EXPECT_EQ(even_split(2, 3), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(even_split(0, 2), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(even_split(6, 1), (std::vector<int64_t>{6}));
  EXPECT_THROW(even_split(4, 0), std::invalid_argument);
  EXPECT_THROW(even_split(-1, 2), std::invalid_argument);
}

TEST(ContiguousHeadPlacement, HeadsInOrderEvenlyTheSameInEveryLayer) {
  EXPECT_EQ(contiguous_head_placement(1, 5, 2), (HeadPlacement{{0, 0, 0, 1, 1}}));
  EXPECT_EQ(contiguous_head_placement(2, 4, 3), (HeadPlacement{{0, 0, 1, 2}, {0, 0, 1, 2}}));
  EXPECT_EQ(contiguous_head_placement(1, 2, 4), (HeadPlacement{{0, 1}}));  // ranks 2 and 3 run no heads
  EXPECT_THROW(contiguous_head_placement(1, 4, 0), std::invalid_argument);
}

TEST(HeadPlacementChoice, ThePlansPlacementForItsRankCountTheContiguousSplitOtherwise) {
  Plan plan = plan_of(2, 4);
  const ChosenPlacement none = head_placement(plan, 2);
  EXPECT_EQ(none.source, PlacementSource::contiguous);
  EXPECT_EQ(none.placement, contiguous_head_placement(2, 4, 2));
  EXPECT_NE(none.label.find("the plan has no placement"), std::string::npos) << none.label;

  plan.version = kPlanVersion;
  plan.placement = PlanPlacement{2, {{1, 0, 1, 0}, {0, 0, 0, 1}}};
  const ChosenPlacement own = head_placement(plan, 2);
  EXPECT_EQ(own.source, PlacementSource::plan);
  EXPECT_EQ(own.placement, plan.placement->layers);
  EXPECT_NE(own.label.find("the plan's placement for 2 ranks"), std::string::npos) << own.label;

  const ChosenPlacement other = head_placement(plan, 3);  // balanced for 2 ranks says nothing about 3
  EXPECT_EQ(other.source, PlacementSource::contiguous);
  EXPECT_EQ(other.placement, contiguous_head_placement(2, 4, 3));
  EXPECT_NE(other.label.find("is for 2 ranks"), std::string::npos) << other.label;

  EXPECT_THROW(head_placement(plan, 0), std::invalid_argument);
}

}  // namespace
