// Figures: prompt aggregation, candidate rows and sorting, pattern groups, head figures and plan errors — each
// checked against the profile's own arrays, and every time against the search's cost model (the only pricing).
#include "svdit/analyzer/metrics.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "svdit/analyzer/plan_edit.h"
#include "svdit/data/profile_reader.h"
#include "svdit/search/cost_model.h"
#include "test_support.h"

using namespace svdit::analyzer;
using namespace svdit::data;

namespace {

class Sample : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    reader_ = new ProfileReader(ProfileReader::open(test::sample_profile()));
    cost_ = new svdit::search::CostModel(*cost_model_of(*reader_));
  }
  static void TearDownTestSuite() {
    delete cost_;
    delete reader_;
    cost_ = nullptr;
    reader_ = nullptr;
  }
  static ProfileView view() { return ProfileView::of(*reader_, cost_); }
  static ProfileReader* reader_;
  static svdit::search::CostModel* cost_;
};
ProfileReader* Sample::reader_ = nullptr;
svdit::search::CostModel* Sample::cost_ = nullptr;

TEST_F(Sample, AggregatesOverPrompts) {
  const ProfileView p = view();
  for (int64_t c = 0; c < p.num_candidates(); ++c) {
    const double e0 = p.error.at(0, 1, 2, 3, c), e1 = p.error.at(1, 1, 2, 3, c);
    const double r0 = p.recall.at(0, 1, 2, 3, c), r1 = p.recall.at(1, 1, 2, 3, c);
    EXPECT_DOUBLE_EQ(aggregate_error(p, PromptAggregate::worst, 1, 2, 3, c), std::max(e0, e1));
    EXPECT_DOUBLE_EQ(aggregate_error(p, PromptAggregate::mean, 1, 2, 3, c), (e0 + e1) / 2);
    EXPECT_DOUBLE_EQ(aggregate_recall(p, PromptAggregate::worst, 1, 2, 3, c), std::min(r0, r1));
    EXPECT_DOUBLE_EQ(aggregate_recall(p, PromptAggregate::mean, 1, 2, 3, c), (r0 + r1) / 2);
  }
}

TEST(Metrics, AnUnmeasuredPromptMakesTheAggregateUnknown) {
  ProfileMeta meta;
  std::vector<ProfileCandidate> cands(1);
  Array5<float> error({2, 1, 1, 1, 1}, 0.5f), recall({2, 1, 1, 1, 1}, 0.5f);
  error.at(1, 0, 0, 0, 0) = NAN;
  const ProfileView p{meta, cands, error, recall, nullptr};
  EXPECT_TRUE(std::isnan(aggregate_error(p, PromptAggregate::worst, 0, 0, 0, 0)));
  EXPECT_TRUE(std::isnan(aggregate_error(p, PromptAggregate::mean, 0, 0, 0, 0)));
  EXPECT_DOUBLE_EQ(aggregate_recall(p, PromptAggregate::worst, 0, 0, 0, 0), 0.5);
}

TEST_F(Sample, TheCostModelIsTheSearchs) {
  ASSERT_NE(view().cost, nullptr);
  EXPECT_TRUE(view().cost->measured());
  EXPECT_EQ(view().cost->note(), svdit::search::CostModel(reader_->meta(), reader_->candidates(), &*reader_->cost()).note());
}

TEST_F(Sample, CandidateRowsCarryTheProfileFigures) {
  const ProfileView p = view();
  auto rows = candidate_rows(p, PromptAggregate::worst, 2, 1, 4, 3);
  ASSERT_EQ(rows.size(), p.candidates.size());
  for (size_t c = 0; c < rows.size(); ++c) {
    EXPECT_EQ(rows[c].candidate, static_cast<int64_t>(c));
    EXPECT_EQ(rows[c].id, p.candidates[c].id);
    EXPECT_EQ(rows[c].pattern, describe(p.candidates[c].pattern));
    EXPECT_EQ(rows[c].block_density, p.candidates[c].block_density);
    EXPECT_DOUBLE_EQ(rows[c].error, aggregate_error(p, PromptAggregate::worst, 2, 1, 4, static_cast<int64_t>(c)));
    EXPECT_DOUBLE_EQ(rows[c].time_us, p.cost->head_time(4, static_cast<int64_t>(c)));
    EXPECT_EQ(rows[c].chosen, c == 3);
  }
}

TEST_F(Sample, SortingIsStableWithNaNLast) {
  auto rows = candidate_rows(view(), PromptAggregate::worst, 2, 1, 4, std::nullopt);
  rows[5].error = NAN;
  for (bool ascending : {true, false}) {
    sort_rows(rows, CandidateColumn::error, ascending);
    EXPECT_TRUE(std::isnan(rows.back().error));
    for (size_t i = 1; i + 1 < rows.size(); ++i) {
      if (ascending) {
        EXPECT_LE(rows[i - 1].error, rows[i].error);
      } else {
        EXPECT_GE(rows[i - 1].error, rows[i].error);
      }
    }
  }
  sort_rows(rows, CandidateColumn::time, true);
  for (size_t i = 1; i < rows.size(); ++i) {
    EXPECT_LE(rows[i - 1].time_us, rows[i].time_us);
    if (rows[i - 1].time_us == rows[i].time_us) {
      EXPECT_LT(rows[i - 1].candidate, rows[i].candidate);  // stable
    }
  }
  sort_rows(rows, CandidateColumn::pattern, true);
  EXPECT_TRUE(std::is_sorted(rows.begin(), rows.end(), [](auto& a, auto& b) { return a.pattern < b.pattern; }));
  sort_rows(rows, CandidateColumn::id, true);
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i].candidate, static_cast<int64_t>(i));
}

TEST_F(Sample, FusedGroupsOfTheSamplePlan) {
  const Plan plan = read_plan(test::sample_plan());
  // Layer 1 at step 5: ids [0, 2, 1, 4, 3, 0] → {0: heads 0, 5}, {2: 1}, {1: 2}, {4: 3}, {3: 4}.
  const auto groups = fused_groups(plan, 5, 1);
  ASSERT_EQ(groups.size(), 5u);
  EXPECT_EQ(groups[0].pattern_id, 0);
  EXPECT_EQ(groups[0].heads, (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(groups[1].pattern_id, 2);
  EXPECT_EQ(groups[4].heads, (std::vector<int64_t>{4}));
  // A dense step: one group of every head.
  const auto dense = fused_groups(plan, 0, 1);
  ASSERT_EQ(dense.size(), 1u);
  EXPECT_FALSE(dense[0].pattern_id.has_value());
  EXPECT_EQ(dense[0].heads.size(), 6u);
}

TEST_F(Sample, HeadFiguresCombinePlanAndProfile) {
  const ProfileView p = view();
  const Plan plan = read_plan(test::sample_plan());
  const CandidateIndex index(p, plan);
  // Profiled step 1 (sampler 4), layer 1, head 0: pattern id 0 = window(48), fused with head 5.
  const HeadFigures f = head_figures(p, plan, index, PromptAggregate::worst, 1, 1, 0);
  ASSERT_TRUE(f.pattern_id.has_value());
  EXPECT_EQ(*f.pattern_id, 0);
  const int64_t c = *find_candidate(p, make_pattern({window_component(48)}));
  EXPECT_EQ(f.candidate, c);
  EXPECT_EQ(f.density, plan.find_pattern(0)->density);
  EXPECT_EQ(f.group_size, 2);
  EXPECT_DOUBLE_EQ(f.error, aggregate_error(p, PromptAggregate::worst, 1, 1, 0, c));
  EXPECT_DOUBLE_EQ(f.share_us, p.cost->head_time(0, c));
  // The layer's time: one launch of its six heads, each on its plan pattern's candidate.
  std::vector<int32_t> row;
  for (int64_t h = 0; h < 6; ++h) row.push_back(static_cast<int32_t>(*index.candidate_of(*plan.pattern_for(4, 1, h))));
  EXPECT_DOUBLE_EQ(f.layer_us, p.cost->layer_time(row));
  EXPECT_DOUBLE_EQ(f.layer_us, layer_time_us(p, plan, index, 1, 1));
  // Profiled step 0 (sampler 0) runs dense: the dense candidate's figures, one group of all heads.
  const HeadFigures d = head_figures(p, plan, index, PromptAggregate::worst, 0, 1, 0);
  EXPECT_FALSE(d.pattern_id.has_value());
  EXPECT_EQ(d.candidate, index.dense_candidate());
  EXPECT_EQ(d.error, 0.0);
  EXPECT_EQ(d.group_size, 6);
  EXPECT_DOUBLE_EQ(d.layer_us, p.cost->dense_layer_time()) << "a dense step runs the dense path";
}

TEST_F(Sample, PlanErrorsOfDenseAndSamplePlans) {
  const ProfileView p = view();
  const PlanErrors fd = plan_errors(p, make_dense_plan(p.meta, p.candidates, {}), PromptAggregate::worst);
  EXPECT_EQ(fd.mean_error, 0.0);
  EXPECT_EQ(fd.unknown_heads, 0);

  // The sample plan, recomputed here head by head.
  const Plan plan = read_plan(test::sample_plan());
  const CandidateIndex index(p, plan);
  const int64_t dc = *find_candidate(p, make_pattern({dense_component()}));
  double err = 0, max_err = 0;
  for (int64_t s = 0; s < 3; ++s)
    for (int64_t l = 0; l < 4; ++l)
      for (int64_t h = 0; h < 6; ++h) {
        const auto id = plan.pattern_for(p.meta.steps[static_cast<size_t>(s)], l, h);
        const int64_t c = id ? *index.candidate_of(*id) : dc;
        const double e = aggregate_error(p, PromptAggregate::worst, s, l, h, c);
        err += e;
        max_err = std::max(max_err, e);
      }
  const PlanErrors fs = plan_errors(p, plan, PromptAggregate::worst);
  EXPECT_NEAR(fs.mean_error, err / (3 * 24), 1e-12);
  EXPECT_DOUBLE_EQ(fs.max_error, max_err);
  EXPECT_GT(fs.mean_error, 0.0);
}

}  // namespace

namespace {

TEST_F(Sample, PlanColoursFollowTheCandidates) {
  const Plan plan = read_plan(test::sample_plan());
  const CandidateIndex index(view(), plan);
  EXPECT_EQ(plan_colour(plan, index, std::nullopt), dense_colour());
  EXPECT_EQ(plan_colour(plan, index, 5), dense_colour());  // id 5 is dense in the sample plan
  EXPECT_EQ(plan_colour(plan, index, 4), skip_colour());
  // Candidates 0 and 1 are dense and skip: candidate 2 (window(48), the sample plan's id 0) is the first
  // sparse one and takes the first palette entry.
  EXPECT_EQ(index.colour_key(2), 0);
  EXPECT_EQ(index.sparse_candidates(), 6);
  EXPECT_EQ(plan_colour(plan, index, 0), categorical_palette()[0]);
  for (const PlanPattern& pp : plan.patterns) {
    EXPECT_EQ(plan_colour(plan, index, pp.id), candidate_colour(view(), index, *index.candidate_of(pp.id)));
  }
  std::set<uint32_t> distinct;
  for (const PlanPattern& pp : plan.patterns) distinct.insert(plan_colour(plan, index, pp.id).packed());
  EXPECT_EQ(distinct.size(), plan.patterns.size());
  // A pattern no candidate has is keyed after the candidates, by its place in the plan.
  Plan extra = plan;
  extra.patterns.push_back(PlanPattern{42, make_pattern({window_component(7)}), 0.2});
  const CandidateIndex extra_index(view(), extra);
  EXPECT_EQ(plan_colour(extra, extra_index, 42), categorical_palette()[(6 + 6) % categorical_palette().size()]);
}

}  // namespace
