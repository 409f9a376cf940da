// Plan edits as pure functions: each leaves a valid plan, and the serialized result is exactly what the plan
// writer produces for a plan built by hand with the same choices.
#include "svdit/analyzer/plan_edit.h"

#include <gtest/gtest.h>

#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "test_support.h"

using namespace svdit::analyzer;
using namespace svdit::data;

namespace {

ProfileMeta small_meta() {
  ProfileMeta m;
  m.model = "tiny";
  m.layers = 2;
  m.heads = 3;
  m.head_dim = 64;
  m.layout = TokenLayout{2, 4, 8, 0, 0, 64};  // S = 64: one block
  m.dtype = "float32";
  m.sampling_steps = 10;
  m.steps = {0, 5};
  m.timesteps = {1000, 500};
  m.prompts = {"p"};
  return m;
}

std::vector<ProfileCandidate> small_candidates() {
  std::vector<ProfileCandidate> c;
  c.push_back({3, make_pattern({skip_component()}), 0, 0});
  c.push_back({7, make_pattern({dense_component()}), 1, 1});
  c.push_back({9, make_pattern({window_component(8)}), 1, 0.3});
  return c;
}

const Pattern kDense = make_pattern({dense_component()});
const Pattern kWindow = make_pattern({window_component(8)});
const Pattern kSkip = make_pattern({skip_component()});

TEST(PlanEdit, DensePlanIsValidAndUsesTheDenseCandidateId) {
  const Plan plan = make_dense_plan(small_meta(), small_candidates(), {{"objective", "dense"}});
  EXPECT_NO_THROW(validate(plan));
  ASSERT_EQ(plan.patterns.size(), 1u);
  EXPECT_EQ(plan.patterns[0].id, 7);
  EXPECT_TRUE(plan.patterns[0].pattern.is_dense());
  EXPECT_EQ(plan.patterns[0].density, 1.0);
  ASSERT_EQ(plan.schedule.size(), 1u);
  EXPECT_EQ(plan.schedule[0].step_begin, 0);
  EXPECT_EQ(plan.schedule[0].step_end, 10);
  EXPECT_EQ(plan.schedule[0].heads, std::vector<int32_t>(6, 7));
  EXPECT_EQ(plan.model, (PlanModel{"tiny", 2, 3, 64, ""}));
  EXPECT_EQ(plan.layout, small_meta().layout);
  // Without a dense candidate the id is 0.
  const Plan other = make_dense_plan(small_meta(), {}, {});
  EXPECT_EQ(other.patterns[0].id, 0);
}

TEST(PlanEdit, EnsurePatternReusesOrAddsWithPreferredOrNextId) {
  Plan plan = make_dense_plan(small_meta(), small_candidates(), {});
  EXPECT_EQ(ensure_pattern(plan, kDense, 99, 1.0), 7);  // present: reused whatever the preferred id
  EXPECT_EQ(plan.patterns.size(), 1u);
  EXPECT_EQ(ensure_pattern(plan, kWindow, 9, 0.5), 9);  // free preferred id
  EXPECT_EQ(ensure_pattern(plan, kSkip, 9, 0.0), 10);   // taken: one past the largest
  ASSERT_EQ(plan.patterns.size(), 3u);
  EXPECT_EQ(plan.patterns[1].density, 0.5);
  EXPECT_EQ(ensure_pattern(plan, make_pattern({window_component(16)}), -1, 0.6), 11);
}

TEST(PlanEdit, AssignChangesOneCellOfTheCoveringEntry) {
  Plan plan = make_dense_plan(small_meta(), small_candidates(), {});
  assign_pattern(plan, 5, 1, 2, kWindow, 9, 1.0, 10, 7);
  EXPECT_NO_THROW(validate(plan));
  EXPECT_EQ(plan.pattern_for(5, 1, 2), 9);
  EXPECT_EQ(plan.pattern_for(0, 1, 2), 9);  // the entry covers every step
  EXPECT_EQ(plan.pattern_for(5, 1, 1), 7);
  EXPECT_EQ(plan.pattern_for(5, 0, 2), 7);
  EXPECT_THROW(assign_pattern(plan, 5, 2, 0, kWindow, 9, 1.0, 10, 7), std::out_of_range);
  EXPECT_THROW(assign_pattern(plan, 5, 0, 3, kWindow, 9, 1.0, 10, 7), std::out_of_range);
}

TEST(PlanEdit, MaterialiseTurnsADenseEntryIntoAllDenseHeads) {
  Plan plan = make_dense_plan(small_meta(), small_candidates(), {});
  plan.patterns.clear();
  plan.schedule = {ScheduleEntry{0, 4, true, {}}, ScheduleEntry{4, 10, false, std::vector<int32_t>(6, 1)}};
  plan.patterns.push_back(PlanPattern{1, kWindow, 1.0});
  ASSERT_NO_THROW(validate(plan));
  const size_t i = materialise_entry(plan, 2, 10, 7);
  EXPECT_EQ(i, 0u);
  EXPECT_FALSE(plan.schedule[0].dense);
  EXPECT_EQ(plan.schedule[0].heads, std::vector<int32_t>(6, 7));
  EXPECT_EQ(plan.schedule[0].step_end, 4);
  EXPECT_TRUE(plan.find_pattern(7)->pattern.is_dense());
  EXPECT_NO_THROW(validate(plan));
  // Already per head: unchanged.
  const Plan before = plan;
  EXPECT_EQ(materialise_entry(plan, 6, 10, 7), 1u);
  EXPECT_EQ(plan, before);
}

TEST(PlanEdit, MaterialiseFillsTheGapAroundAnUncoveredStep) {
  Plan plan = make_dense_plan(small_meta(), small_candidates(), {});
  plan.schedule = {ScheduleEntry{2, 4, false, std::vector<int32_t>(6, 7)},
                   ScheduleEntry{7, 9, false, std::vector<int32_t>(6, 7)}};
  EXPECT_EQ(materialise_entry(plan, 5, 10, 7), 1u);
  ASSERT_EQ(plan.schedule.size(), 3u);
  EXPECT_EQ(plan.schedule[1].step_begin, 4);
  EXPECT_EQ(plan.schedule[1].step_end, 7);
  EXPECT_EQ(materialise_entry(plan, 0, 10, 7), 0u);  // before the first entry: from 0
  EXPECT_EQ(plan.schedule[0].step_begin, 0);
  EXPECT_EQ(plan.schedule[0].step_end, 2);
  EXPECT_EQ(materialise_entry(plan, 12, 10, 7), 4u);  // after the last, beyond sampling: to step + 1
  EXPECT_EQ(plan.schedule[4].step_begin, 9);
  EXPECT_EQ(plan.schedule[4].step_end, 13);
  EXPECT_NO_THROW(validate(plan));
  Plan empty = make_dense_plan(small_meta(), small_candidates(), {});
  empty.schedule.clear();
  EXPECT_EQ(materialise_entry(empty, 3, 10, 7), 0u);
  EXPECT_EQ(empty.schedule[0].step_begin, 0);
  EXPECT_EQ(empty.schedule[0].step_end, 10);
}

TEST(PlanEdit, SplitKeepsContentOnBothSides) {
  Plan plan = make_dense_plan(small_meta(), small_candidates(), {});
  assign_pattern(plan, 0, 0, 0, kWindow, 9, 1.0, 10, 7);
  EXPECT_FALSE(split_entry(plan, 0));   // starts there
  EXPECT_FALSE(split_entry(plan, 10));  // not covered
  EXPECT_TRUE(split_entry(plan, 5));
  ASSERT_EQ(plan.schedule.size(), 2u);
  EXPECT_EQ(plan.schedule[0].step_end, 5);
  EXPECT_EQ(plan.schedule[1].step_begin, 5);
  EXPECT_EQ(plan.schedule[0].heads, plan.schedule[1].heads);
  EXPECT_NO_THROW(validate(plan));
  assign_pattern(plan, 5, 0, 1, kSkip, 3, 0.0, 10, 7);
  EXPECT_EQ(plan.pattern_for(5, 0, 1), 3);
  EXPECT_EQ(plan.pattern_for(4, 0, 1), 7);  // the earlier range is untouched
}

TEST(PlanEdit, RemoveUnusedPatterns) {
  Plan plan = make_dense_plan(small_meta(), small_candidates(), {});
  assign_pattern(plan, 0, 0, 0, kWindow, 9, 1.0, 10, 7);
  assign_pattern(plan, 0, 0, 0, kSkip, 3, 0.0, 10, 7);  // window no longer used
  EXPECT_EQ(plan.patterns.size(), 3u);
  EXPECT_EQ(remove_unused_patterns(plan), 1u);
  EXPECT_EQ(plan.find_pattern(9), nullptr);
  EXPECT_NE(plan.find_pattern(3), nullptr);
  EXPECT_EQ(remove_unused_patterns(plan), 0u);
}

TEST(PlanEdit, EditedPlanSerializesExactlyAsTheHandBuiltPlan) {
  // The sample plan, edited: step 5 layer 2 head 3 → temporal(w_s=48, w_f=2), layer 0 head 0 → skip (id 4).
  const Plan sample = read_plan(test::sample_plan());
  const Pattern temporal = make_pattern({temporal_component(48, 2)});
  const double density = compile_pattern(temporal, sample.layout).block_density();
  Plan edited = sample;
  assign_pattern(edited, 5, 2, 3, temporal, 7, density, 10, 5);
  assign_pattern(edited, 5, 0, 0, make_pattern({skip_component()}), 1, 0.0, 10, 5);

  Plan expected = sample;
  expected.patterns.push_back(PlanPattern{7, temporal, density});
  expected.schedule[1].heads[2 * 6 + 3] = 7;
  expected.schedule[1].heads[0] = 4;  // the plan's own skip id is reused
  EXPECT_EQ(serialize_plan(edited), serialize_plan(expected));
  EXPECT_EQ(edited, expected);
  // And it reads back as itself.
  EXPECT_EQ(parse_plan(serialize_plan(edited)), edited);
}

}  // namespace
