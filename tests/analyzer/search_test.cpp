// Re-search for the trade-off view, through the search library (svdit_search): solving and evaluating agree,
// the frontier's shape, frontier points give their plans, the time budget, and unmeasured patterns.
#include <gtest/gtest.h>

#include <cmath>

#include "svdit/analyzer/plan_edit.h"
#include "svdit/analyzer/search_backend.h"
#include "svdit/data/profile_reader.h"
#include "test_support.h"

using namespace svdit::analyzer;
using namespace svdit::data;

namespace {

class Search : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { reader_ = new ProfileReader(ProfileReader::open(test::sample_profile())); }
  static void TearDownTestSuite() {
    delete reader_;
    reader_ = nullptr;
  }
  static ProfileReader* reader_;
};
ProfileReader* Search::reader_ = nullptr;

TEST(ParetoFront, KeepsOnlyUnbeatenPoints) {
  const auto f = pareto_front({{10, 0.5, 0}, {5, 0.9, 0}, {7, 0.9, 0}, {12, 0.1, 0}, {11, 0.6, 0}, {NAN, 0.0, 0}});
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].time_us, 5);
  EXPECT_EQ(f[1].time_us, 10);
  EXPECT_EQ(f[2].time_us, 12);
}

TEST_F(Search, LinkedBackendSolvesAndEvaluatesConsistently) {
  auto backend = make_search_backend();
  ASSERT_TRUE(backend);
  EXPECT_EQ(backend->name(), "svdit_search");
  SearchSettings st;
  st.epsilon = 0.1;
  const SearchResult r = backend->solve(*reader_, st);
  EXPECT_NO_THROW(validate(r.plan));
  EXPECT_NO_THROW(
      check_plan_matches(r.plan, PlanModel{"svdit-sample", 4, 6, 64, ""}, reader_->meta().layout, "r"));
  const TradeoffPoint again = backend->evaluate(*reader_, r.plan, st);
  EXPECT_DOUBLE_EQ(again.time_us, r.point.time_us);
  EXPECT_DOUBLE_EQ(again.error, r.point.error);
  const auto front = backend->frontier(*reader_, st);
  ASSERT_FALSE(front.empty());
  for (size_t i = 1; i < front.size(); ++i) {
    EXPECT_GT(front[i].time_us, front[i - 1].time_us);
    EXPECT_LT(front[i].error, front[i - 1].error);
  }
}

}  // namespace

namespace {

TEST_F(Search, LinkedBackendFrontierPointsGiveTheirPlans) {
  auto backend = make_search_backend();
  SearchSettings st;
  const auto front = backend->frontier(*reader_, st);
  ASSERT_GE(front.size(), 2u);
  for (const TradeoffPoint& p : front) {
    EXPECT_EQ(p.unit, "us");  // the sample has a measured cost table
    EXPECT_GT(p.dense_time_us, 0);
    const SearchResult r = backend->solve_at(*reader_, st, p);
    EXPECT_LE(r.point.time_us, p.time_us * (1 + 1e-6));
    EXPECT_LE(r.point.error, p.error + 1e-9);
    const TradeoffPoint again = backend->evaluate(*reader_, r.plan, st);
    EXPECT_NEAR(again.time_us, r.point.time_us, 1e-9 * r.point.time_us);
    EXPECT_NEAR(again.error, r.point.error, 1e-12);
  }
}

TEST_F(Search, LinkedBackendTimeBudgetBelowTheFastestPlanStillAnswers) {
  auto backend = make_search_backend();
  SearchSettings st;
  st.objective = Objective::time_budget;
  st.budget_fraction = 1e-6;
  const SearchResult r = backend->solve(*reader_, st);
  EXPECT_NO_THROW(validate(r.plan));
  const auto front = backend->frontier(*reader_, st);
  EXPECT_LE(r.point.time_us, front.front().time_us * (1 + 1e-6));
}

TEST_F(Search, LinkedBackendCannotPlaceUnmeasuredPatterns) {
  auto backend = make_search_backend();
  Plan plan = read_plan(test::sample_plan());
  plan.patterns[0].pattern = make_pattern({window_component(7)});  // no candidate is window(7)
  const TradeoffPoint p = backend->evaluate(*reader_, plan, SearchSettings{});
  EXPECT_TRUE(std::isnan(p.time_us) || std::isnan(p.error));
}

}  // namespace
