// Re-search for the trade-off view: the preview solver's rules checked head by head against the profile, the
// frontier's shape, the time budget, and the backend CMake linked (whichever it is) on the sample.
#include <gtest/gtest.h>

#include <cmath>

#include "svdit/analyzer/plan_edit.h"
#include "svdit/analyzer/preview_solver.h"
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
  static ProfileView view() { return ProfileView::of(*reader_); }
  static ProfileReader* reader_;
};
ProfileReader* Search::reader_ = nullptr;

// The candidate a plan runs at (profiled step, layer, head).
int64_t chosen(const ProfileView& p, const Plan& plan, int64_t s, int64_t l, int64_t h) {
  const CandidateIndex index(p, plan);
  const auto id = plan.pattern_for(p.meta.steps[static_cast<size_t>(s)], l, h);
  return id ? *index.candidate_of(*id) : *index.dense_candidate();
}

TEST_F(Search, ErrorBoundPicksTheCheapestCandidateWithinEpsilon) {
  const ProfileView p = view();
  for (double eps : {0.0, 0.05, 0.2, 1.0}) {
    SearchSettings st;
    st.epsilon = eps;
    const Plan plan = preview_solve(p, st, "sample");
    ASSERT_NO_THROW(validate(plan));
    EXPECT_EQ(plan.provenance["objective"], "error-bound");
    EXPECT_EQ(plan.provenance["parameters"]["epsilon"], eps);
    for (int64_t s = 0; s < 3; ++s)
      for (int64_t l = 0; l < 4; ++l)
        for (int64_t h = 0; h < 6; ++h) {
          const int64_t c = chosen(p, plan, s, l, h);
          const double e = aggregate_error(p, PromptAggregate::worst, s, l, h, c);
          EXPECT_LE(e, eps) << "eps " << eps << " at " << s << "," << l << "," << h;
          for (int64_t o = 0; o < p.num_candidates(); ++o) {
            if (aggregate_error(p, PromptAggregate::worst, s, l, h, o) <= eps) {
              EXPECT_GE(p.cost->time_us(o, 1), p.cost->time_us(c, 1)) << "candidate " << o << " is cheaper";
            }
          }
        }
  }
}

TEST_F(Search, ScheduleHasOneRangePerProfiledStepMerged) {
  SearchSettings st;
  st.epsilon = 0.1;
  const Plan plan = preview_solve(view(), st, "sample");
  ASSERT_FALSE(plan.schedule.empty());
  EXPECT_EQ(plan.schedule.front().step_begin, 0);
  EXPECT_EQ(plan.schedule.back().step_end, 10);
  for (size_t i = 1; i < plan.schedule.size(); ++i) {
    EXPECT_EQ(plan.schedule[i].step_begin, plan.schedule[i - 1].step_end);  // no gap
    EXPECT_NE(plan.schedule[i].heads, plan.schedule[i - 1].heads);          // equal neighbours merged
  }
  // Profiled steps 0, 4, 9 → boundaries only at 4 and 9.
  for (const auto& e : plan.schedule) {
    EXPECT_TRUE(e.step_begin == 0 || e.step_begin == 4 || e.step_begin == 9) << e.step_begin;
  }
  // Pattern ids are the profile's candidate ids.
  for (const PlanPattern& pp : plan.patterns) {
    const auto c = find_candidate(view(), pp.pattern);
    ASSERT_TRUE(c);
    EXPECT_EQ(view().candidates[static_cast<size_t>(*c)].id, pp.id);
  }
}

TEST_F(Search, PaperRule) {
  const ProfileView p = view();
  SearchSettings st;
  st.objective = Objective::paper;
  st.epsilon = 0.6;
  st.lambda = 0.5;
  const Plan plan = preview_solve(p, st, "sample");
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t l = 0; l < 4; ++l)
      for (int64_t h = 0; h < 6; ++h) {
        double best = INFINITY;
        for (int64_t c = 0; c < p.num_candidates(); ++c) {
          best = std::min(best, aggregate_error(p, st.aggregate, s, l, h, c) +
                                    st.lambda * p.candidates[static_cast<size_t>(c)].block_density);
        }
        const int64_t c = chosen(p, plan, s, l, h);
        const double lc = aggregate_error(p, st.aggregate, s, l, h, c) + st.lambda * p.candidates[static_cast<size_t>(c)].block_density;
        if (best > st.epsilon) {
          EXPECT_TRUE(p.candidates[static_cast<size_t>(c)].pattern.is_dense());
        } else {
          EXPECT_DOUBLE_EQ(lc, best);
        }
      }
}

TEST_F(Search, FrontierIsParetoAndReachable) {
  const ProfileView p = view();
  SearchSettings st;
  const auto front = preview_frontier(p, st);
  ASSERT_GE(front.size(), 3u);
  for (size_t i = 1; i < front.size(); ++i) {
    EXPECT_GT(front[i].time_us, front[i - 1].time_us);
    EXPECT_LT(front[i].error, front[i - 1].error);
  }
  const double dense_us = plan_figures(p, make_dense_plan(p.meta, p.candidates, {}), st.aggregate).time_us;
  EXPECT_LE(front.back().time_us, dense_us);
  EXPECT_EQ(front.back().error, 0.0);  // ε = 0 keeps every head exact
  // Every point is the evaluation of the plan its parameter gives.
  for (const TradeoffPoint& pt : front) {
    SearchSettings at = st;
    at.epsilon = pt.parameter;
    const TradeoffPoint again = preview_evaluate(p, preview_solve(p, at, "sample"), st);
    EXPECT_DOUBLE_EQ(again.time_us, pt.time_us);
    EXPECT_DOUBLE_EQ(again.error, pt.error);
  }
}

TEST_F(Search, TimeBudgetTakesTheLeastErrorWithinBudget) {
  const ProfileView p = view();
  SearchSettings st;
  st.objective = Objective::time_budget;
  const auto front = preview_frontier(p, st);
  const double dense_us = plan_figures(p, make_dense_plan(p.meta, p.candidates, {}), st.aggregate).time_us;
  for (double fraction : {0.3, 0.5, 0.8, 1.0}) {
    st.budget_fraction = fraction;
    const Plan plan = preview_solve(p, st, "sample");
    const TradeoffPoint pt = preview_evaluate(p, plan, st);
    double best = INFINITY;
    for (const auto& f : front)
      if (f.time_us <= fraction * dense_us) best = std::min(best, f.error);
    if (std::isfinite(best)) {
      EXPECT_LE(pt.time_us, fraction * dense_us + 1e-9) << fraction;
      EXPECT_DOUBLE_EQ(pt.error, best) << fraction;
    } else {
      EXPECT_DOUBLE_EQ(pt.time_us, front.front().time_us);  // nothing fits: the fastest
    }
    EXPECT_EQ(plan.provenance["parameters"]["budget_fraction"], fraction);
  }
}

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
  EXPECT_FALSE(backend->name().empty());
  SearchSettings st;
  st.epsilon = 0.1;
  const SearchResult r = backend->solve(*reader_, st);
  EXPECT_NO_THROW(validate(r.plan));
  EXPECT_NO_THROW(check_plan_matches(r.plan, PlanModel{"svdit-sample", 4, 6, 64}, reader_->meta().layout, "r"));
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
