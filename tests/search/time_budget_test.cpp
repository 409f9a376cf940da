// --objective time-budget: least error within a predicted-time budget, by a Lagrangian sweep whose Pareto
// frontier is kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "search_test_support.h"
#include "svdit/search/frontier.h"
#include "svdit/search/options.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

SearchOptions speedup(double target) {
  SearchOptions o;
  o.objective = Objective::time_budget;
  o.speedup = target;
  return o;
}

SearchInput input() { return testing::random_input(11, 4, 6, {0, 5}, 10, 2); }

TEST(TimeBudget, FrontierIsMonotoneAndHoldsTheChosenPlan) {
  const SearchResult r = run_search(input(), speedup(1.6));
  ASSERT_GE(r.frontier.size(), 4u) << "the sweep should find several trade-offs";
  for (size_t i = 1; i < r.frontier.size(); ++i) {
    EXPECT_LT(r.frontier[i].time, r.frontier[i - 1].time) << "point " << i;
    EXPECT_GT(r.frontier[i].error, r.frontier[i - 1].error) << "point " << i << ": less time must cost error";
  }
  EXPECT_LE(r.time, r.budget * (1 + 1e-12));
  EXPECT_GE(r.speedup(), 1.6 * (1 - 1e-12));
  // The plan is the frontier's most accurate point within the budget.
  double best_error = 1e300;
  for (const FrontierPoint& p : r.frontier)
    if (p.time <= r.budget) best_error = std::min(best_error, p.error);
  EXPECT_NEAR(r.mean_error, best_error, 1e-12);
  const auto chosen = std::find_if(r.frontier.begin(), r.frontier.end(),
                                   [&](const FrontierPoint& p) { return p.multiplier == r.multiplier; });
  ASSERT_NE(chosen, r.frontier.end());
  EXPECT_NEAR(chosen->time, r.time, 1e-9 * r.time) << "the stored figures are those of the plan written";
}

TEST(TimeBudget, TighterBudgetsNeverLowerTheError) {
  const SearchInput in = input();
  double previous_error = -1.0, previous_time = 1e300;
  for (const double target : {1.05, 1.3, 1.8, 2.5, 3.5}) {
    const SearchResult r = run_search(in, speedup(target));
    EXPECT_GE(r.mean_error, previous_error) << "target " << target;
    EXPECT_LE(r.time, previous_time) << "target " << target;
    previous_error = r.mean_error;
    previous_time = r.time;
  }
  EXPECT_GT(previous_error, 0.0);
}

TEST(TimeBudget, GenerousBudgetKeepsEveryHeadExact) {
  SearchOptions o;
  o.objective = Objective::time_budget;
  o.budget_us = 1e12;
  const SearchResult r = run_search(input(), o);
  EXPECT_EQ(r.mean_error, 0.0);
  for (size_t b = 0; b < r.buckets.size(); ++b)
    for (int64_t l = 0; l < r.layers; ++l)
      for (int64_t h = 0; h < r.heads; ++h) {
        const int32_t c = r.candidate(static_cast<int64_t>(b), l, h);
        EXPECT_TRUE(c == r.dense || r.errors.at(static_cast<int64_t>(b), l, h, c) == 0.0);
      }
}

TEST(TimeBudget, SpeedupTargetIsTheBudgetAllDenseOverTarget) {
  const SearchInput in = input();
  const SearchResult by_speedup = run_search(in, speedup(2.0));
  SearchOptions o;
  o.objective = Objective::time_budget;
  o.budget_us = by_speedup.dense_time / 2.0;
  const SearchResult by_budget = run_search(in, o);
  EXPECT_EQ(by_speedup.choice, by_budget.choice);
  EXPECT_DOUBLE_EQ(by_speedup.budget, by_budget.budget);
}

TEST(TimeBudget, ImpossibleBudgetIsRefusedWithTheFastestTime) {
  SearchOptions o;
  o.objective = Objective::time_budget;
  o.budget_us = 1.0;  // below even every head skipped plus launch overheads
  o.warmup_steps = 2;  // and warm-up steps alone cost more than that
  try {
    run_search(input(), o);
    FAIL() << "expected OptionError";
  } catch (const OptionError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("--budget-us"), std::string::npos) << what;
    EXPECT_NE(what.find("fastest plan"), std::string::npos) << what;
  }
}

TEST(Frontier, KeepsExactlyTheNonDominatedPoints) {
  const std::vector<FrontierPoint> points = {{1, 10, 0.0}, {2, 8, 0.1},  {3, 8, 0.05}, {4, 9, 0.2},
                                             {5, 5, 0.3},  {6, 5, 0.3},  {7, 7, 0.4}};
  const std::vector<FrontierPoint> f = pareto_frontier(points);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].multiplier, 1);  // (10, 0)
  EXPECT_EQ(f[1].multiplier, 3);  // (8, 0.05) dominates (8, 0.1), (9, 0.2)
  EXPECT_EQ(f[2].multiplier, 5);  // (5, 0.3), first of two equal points; (7, 0.4) is dominated
}

}  // namespace
}  // namespace svdit::search
