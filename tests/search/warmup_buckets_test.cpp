// Warm-up (dense first steps and layers) and the step buckets each heads table covers.
#include <gtest/gtest.h>

#include "search_test_support.h"
#include "svdit/search/buckets.h"
#include "svdit/search/plan_export.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

data::ProfileMeta meta(std::vector<int64_t> steps, int64_t sampling_steps) {
  return testing::InputBuilder(1, 1, std::move(steps), sampling_steps).build().meta;
}

struct Range {
  int64_t begin, end;
  std::vector<int64_t> profiled;
};

void expect_buckets(const std::vector<Bucket>& got, const std::vector<Range>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].step_begin, want[i].begin) << "bucket " << i;
    EXPECT_EQ(got[i].step_end, want[i].end) << "bucket " << i;
    EXPECT_EQ(got[i].profiled, want[i].profiled) << "bucket " << i;
  }
}

TEST(Buckets, OnePerProfiledStepUpToTheNext) {
  expect_buckets(make_buckets(meta({0, 4, 9}, 10), 0, 0), {{0, 4, {0}}, {4, 9, {1}}, {9, 10, {2}}});
  // The first profiled step also covers the steps before it.
  expect_buckets(make_buckets(meta({2, 6}, 10), 0, 0), {{0, 6, {0}}, {6, 10, {1}}});
}

TEST(Buckets, WarmupCutsAndDropsRanges) {
  expect_buckets(make_buckets(meta({0, 4, 9}, 10), 5, 0), {{5, 9, {1}}, {9, 10, {2}}});
  expect_buckets(make_buckets(meta({0, 4, 9}, 10), 9, 0), {{9, 10, {2}}});
  EXPECT_TRUE(make_buckets(meta({0, 4, 9}, 10), 10, 0).empty());
}

TEST(Buckets, GroupsContiguousRangesAsEvenlyAsPossible) {
  expect_buckets(make_buckets(meta({0, 4, 9}, 10), 0, 1), {{0, 10, {0, 1, 2}}});
  expect_buckets(make_buckets(meta({0, 2, 4, 6, 8}, 10), 0, 2), {{0, 4, {0, 1}}, {4, 10, {2, 3, 4}}});
  expect_buckets(make_buckets(meta({0, 4, 9}, 10), 5, 3), {{5, 9, {1}}, {9, 10, {2}}});  // clamped to 2
}

SearchOptions objective(Objective o) {
  SearchOptions options;
  options.objective = o;
  if (o == Objective::time_budget) options.speedup = 1.2;
  return options;
}

TEST(Warmup, FirstStepsAndLayersRunDenseUnderEveryObjective) {
  const SearchInput in = testing::random_input(3, 4, 5, {0, 4, 8}, 12, 2);
  for (const Objective o : {Objective::paper, Objective::error_bound, Objective::time_budget}) {
    SearchOptions options = objective(o);
    options.warmup_steps = 3;
    options.warmup_layers = 2;
    const SearchResult r = run_search(in, options);
    const data::Plan plan = make_plan(in, r);
    ASSERT_FALSE(plan.schedule.empty());
    EXPECT_TRUE(plan.schedule[0].dense);
    EXPECT_EQ(plan.schedule[0].step_begin, 0);
    EXPECT_EQ(plan.schedule[0].step_end, 3);
    const int32_t dense_id = in.candidates[static_cast<size_t>(r.dense)].id;
    int64_t sparse = 0;
    for (int64_t step = 0; step < 12; ++step)
      for (int64_t l = 0; l < 4; ++l)
        for (int64_t h = 0; h < 5; ++h) {
          const std::optional<int32_t> id = plan.pattern_for(step, l, h);
          if (step < 3) {
            EXPECT_FALSE(id.has_value()) << to_string(o) << " step " << step;
          } else if (l < 2) {
            ASSERT_TRUE(id.has_value());
            EXPECT_EQ(*id, dense_id) << to_string(o) << " step " << step << " layer " << l;
          } else {
            ASSERT_TRUE(id.has_value());
            sparse += *id != dense_id;
          }
        }
    EXPECT_GT(sparse, 0) << to_string(o) << ": layers after warm-up should get sparse patterns";
    // Figures: warm-up costs full dense time.
    EXPECT_GT(r.density, r.sparse_density) << to_string(o);
  }
}

TEST(Warmup, EveryStepWarmGivesAnAllDensePlan) {
  const SearchInput in = testing::random_input(3, 2, 3, {0, 4}, 6, 2);
  SearchOptions o;
  o.warmup_steps = 6;
  const SearchResult r = run_search(in, o);
  const data::Plan plan = make_plan(in, r);
  ASSERT_EQ(plan.schedule.size(), 1u);
  EXPECT_TRUE(plan.schedule[0].dense);
  EXPECT_EQ(plan.schedule[0].step_end, 6);
  EXPECT_DOUBLE_EQ(r.speedup(), 1.0);
  EXPECT_DOUBLE_EQ(r.density, 1.0);
}

TEST(Buckets, OneBucketDecidesFromEveryProfiledStep) {
  // Window is accurate at profiled step 0 and not at step 1: one table per step uses it early only; one table
  // for all steps cannot use it at all.
  testing::InputBuilder b(1, 1, {0, 5}, 10);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3);
  b.errors([](int64_t, int64_t s, int64_t, int64_t, int64_t c) -> float { return c == 0 ? 0.0f : s == 0 ? 0.01f : 0.3f; });
  const SearchInput in = b.build();
  SearchOptions per_step;
  const SearchResult r = run_search(in, per_step);
  ASSERT_EQ(r.buckets.size(), 2u);
  EXPECT_EQ(r.candidate(0, 0, 0), 1);
  EXPECT_EQ(r.candidate(1, 0, 0), 0);
  SearchOptions one = per_step;
  one.buckets = 1;
  const SearchResult single = run_search(in, one);
  ASSERT_EQ(single.buckets.size(), 1u);
  EXPECT_EQ(single.candidate(0, 0, 0), 0);
}

}  // namespace
}  // namespace svdit::search
