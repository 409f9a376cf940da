// Head placement over ranks (search/placement.h, docs/SEARCH.md "Ranks"): the cost model's price of one rank's
// heads, LPT against the contiguous split on layers computed by hand, the placement in the search result and in
// the plan (version 3) it writes.
#include "svdit/search/placement.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "search_test_support.h"
#include "svdit/data/head_placement.h"
#include "svdit/search/plan_export.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

using V = std::vector<int32_t>;
constexpr int32_t kDense = 0, kSkip = 1, kWindow = 2, kTemporal = 3;

// 4 heads; dense, skip, window, temporal (permuted). The table is exact for the launch model:
//   head = 10, 0.5, 4, 6 (incl. 1 of pre-pass rows for temporal)   last = 5, 0.2, 3, 2   pre-pass launch 1.5
//   all-dense layer (the dense path, all 4 heads) 24, all-skip layer 2.
SearchInput hand_input(int64_t layers = 1) {
  testing::InputBuilder b(layers, 4);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(16), 0.5)
      .candidate(testing::temporal(2, 1), 0.6);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  b.launch_cost({10.0, 0.5, 4.0, 5.0}, {5.0, 0.2, 3.0, 2.0}, 24.0, 2.0, {1, 2, 4}, 1.5, 1.0,
                {false, false, false, true});
  return b.build();
}

TEST(HeadsTime, EveryHeadIsTheLayerTimeAndASubsetIsItsOwnLaunch) {
  const CostModel cost(hand_input());
  const V all = {0, 1, 2, 3};
  for (const V& choice : {V{kWindow, kTemporal, kDense, kSkip}, V{kDense, kDense, kDense, kDense},
                          V{kSkip, kSkip, kSkip, kSkip}, V{kDense, kSkip, kWindow, kWindow}})
    EXPECT_NEAR(cost.heads_time(choice, all), cost.layer_time(choice), 1e-12);

  const V mixed = {kWindow, kTemporal, kDense, kSkip};
  EXPECT_NEAR(cost.heads_time(mixed, V{0, 2}), 4 + 10 + 5, 1e-9) << "the tail of the rank's last head, dense";
  EXPECT_NEAR(cost.heads_time(mixed, V{1}), 6 + 2 + 1.5, 1e-9) << "a permuted head brings the pre-pass";
  EXPECT_NEAR(cost.heads_time(mixed, V{3}), 2.0 / 4, 1e-12) << "only skip heads: zeros, no launch";
  EXPECT_NEAR(cost.heads_time(mixed, V{}), 0.0, 1e-12);
  // The whole layer's path decides: all dense runs the dense path on the rank's share of the heads.
  EXPECT_NEAR(cost.heads_time(V{kDense, kDense, kDense, kDense}, V{1, 3}), 24.0 * 2 / 4, 1e-12);
  // Two dense heads of a mixed layer are one sparse launch, not the dense path.
  EXPECT_NEAR(cost.heads_time(V{kDense, kDense, kSkip, kSkip}, V{0, 1}), 10 + 10 + 5, 1e-9);

  EXPECT_THROW((void)cost.heads_time(mixed, V{2, 0}), std::invalid_argument);  // not ascending
  EXPECT_THROW((void)cost.heads_time(mixed, V{4}), std::invalid_argument);     // outside the model
  EXPECT_THROW((void)cost.heads_time(V{0, 0}, V{0}), std::invalid_argument);    // a choice per head
}

TEST(PlaceLayer, LptBeatsTheContiguousSplitOnAnUnbalancedLayer) {
  const CostModel cost(hand_input());
  // Contiguous: rank 0 runs both dense heads (10 + 10 + 5 = 25), rank 1 only skip heads (zeros, 0.5).
  const V choice = {kDense, kDense, kSkip, kSkip};
  const WeightedChoice ranges[] = {{1.0, choice}};
  const LayerPlacement p = place_layer(cost, ranges, 2);
  EXPECT_TRUE(p.balanced);
  EXPECT_EQ(p.rank_of_head, (V{0, 1, 0, 1}));  // one dense head each: 10 + 0.5 + 0.2 per rank
  EXPECT_NEAR(p.contiguous_time, 25.0, 1e-9);
  EXPECT_NEAR(p.time, 10.7, 1e-9);
  EXPECT_NEAR(p.time, placement_time(cost, ranges, p.rank_of_head, 2), 1e-12);
  EXPECT_NEAR(p.single_time, cost.layer_time(choice), 1e-12);
}

TEST(PlaceLayer, ABalancedLayerKeepsTheContiguousSplit) {
  const CostModel cost(hand_input());
  for (const V& choice : {V{kWindow, kWindow, kWindow, kWindow}, V{kDense, kDense, kDense, kDense}}) {
    const WeightedChoice ranges[] = {{3.0, choice}};
    const LayerPlacement p = place_layer(cost, ranges, 2);
    EXPECT_FALSE(p.balanced);  // LPT's {0, 1, 0, 1} is exactly as fast: the plain split stays
    EXPECT_EQ(p.rank_of_head, (V{0, 0, 1, 1}));
    EXPECT_NEAR(p.time, p.contiguous_time, 1e-12);
  }
  const V windows = {kWindow, kWindow, kWindow, kWindow};
  const WeightedChoice ranges[] = {{3.0, windows}};
  EXPECT_NEAR(place_layer(cost, ranges, 2).time, 3.0 * (4 + 4 + 3), 1e-9);
}

TEST(PlaceLayer, StepRangesAreWeightedByTheirStepsAndDenseStepsCount) {
  const CostModel cost(hand_input());
  const V sparse = {kDense, kDense, kSkip, kSkip}, dense = {kDense, kDense, kDense, kDense};
  const WeightedChoice ranges[] = {{8.0, sparse}, {2.0, dense}};
  const LayerPlacement p = place_layer(cost, ranges, 2);
  EXPECT_TRUE(p.balanced);
  EXPECT_NEAR(p.contiguous_time, 8 * 25.0 + 2 * 12.0, 1e-9);
  EXPECT_NEAR(p.time, 8 * 10.7 + 2 * 12.0, 1e-9);
  EXPECT_NEAR(p.single_time, 8 * cost.layer_time(sparse) + 2 * 24.0, 1e-9);
}

TEST(PlaceLayer, OneRankAndMoreRanksThanHeads) {
  const CostModel cost(hand_input());
  const V choice = {kWindow, kTemporal, kDense, kSkip};
  const WeightedChoice ranges[] = {{1.0, choice}};
  const LayerPlacement one = place_layer(cost, ranges, 1);
  EXPECT_EQ(one.rank_of_head, (V{0, 0, 0, 0}));
  EXPECT_NEAR(one.time, cost.layer_time(choice), 1e-12);
  const LayerPlacement many = place_layer(cost, ranges, 6);  // two ranks run nothing
  for (const int32_t r : many.rank_of_head) {
    EXPECT_GE(r, 0);
    EXPECT_LT(r, 6);
  }
  EXPECT_LE(many.time, many.contiguous_time);
  EXPECT_NEAR(many.time, 10 + 5, 1e-9) << "the slowest rank runs the dense head alone";
  EXPECT_THROW(place_layer(cost, ranges, 0), std::invalid_argument);
}

TEST(SearchRanks, TheResultAndThePlanCarryAPlacementNoWorseThanContiguous) {
  const SearchInput input = testing::random_input(7, 6, 8, {0, 10, 30}, 50, 2);
  SearchOptions options;
  options.warmup_steps = 5;
  options.ranks = 3;
  const SearchResult r = run_search(input, options);
  ASSERT_TRUE(r.placement.has_value());
  EXPECT_EQ(r.placement->ranks, 3);
  ASSERT_EQ(r.placement->layers.size(), 6u);
  double time = 0.0, contiguous = 0.0;
  for (const LayerPlacement& l : r.placement->layers) {
    EXPECT_LE(l.time, l.contiguous_time);
    EXPECT_EQ(l.balanced, l.time < l.contiguous_time);
    time += l.time;
    contiguous += l.contiguous_time;
  }
  EXPECT_NEAR(r.placement->time, time, 1e-9 * time);
  EXPECT_NEAR(r.placement->contiguous_time, contiguous, 1e-9 * contiguous);
  EXPECT_NEAR(r.placement->single_time, r.time, 1e-9 * r.time) << "one process: the search's own figure";
  EXPECT_NEAR(r.placement->ideal_time, r.time / 3, 1e-9 * r.time);
  EXPECT_GT(r.placement->balanced_layers(), 0) << "random mixed layers are not balanced by a plain split";

  const data::Plan plan = make_plan(input, r);
  EXPECT_EQ(plan.version, data::kPlanVersion);
  ASSERT_TRUE(plan.placement.has_value());
  EXPECT_EQ(plan.placement->ranks, 3);
  EXPECT_EQ(plan.placement->layers[0], r.placement->layers[0].rank_of_head);
  EXPECT_EQ(data::parse_plan(data::serialize_plan(plan), "p.json"), plan);
  EXPECT_EQ(data::head_placement(plan, 3).source, data::PlacementSource::plan);
  EXPECT_EQ(plan.provenance["placement"]["ranks"], 3);
  EXPECT_EQ(plan.provenance["placement"]["balanced_layers"], r.placement->balanced_layers());

  options.ranks.reset();
  const data::Plan plain = make_plan(input, run_search(input, options));
  EXPECT_EQ(plain.version, data::kPlanVersionWithoutPlacement);
  EXPECT_FALSE(plain.placement.has_value());
  EXPECT_FALSE(plain.provenance.contains("placement"));
}

TEST(SearchRanks, ARankCountOutsideOneToTheBoundIsRefusedNamingTheOption) {
  const SearchInput input = hand_input();
  for (const int64_t ranks : {int64_t{0}, int64_t{-2}, int64_t{70000}}) {
    SearchOptions options;
    options.ranks = ranks;
    try {
      run_search(input, options);
      ADD_FAILURE() << ranks << " accepted";
    } catch (const OptionError& e) {
      EXPECT_NE(std::string(e.what()).find("--ranks: expected 1 .. 65536"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace svdit::search
