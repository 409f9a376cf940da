// The analyzer's state: opening files (good and bad), edits through the profile's candidates, undo/redo,
// dirty tracking, saving exactly what the plan writer writes, and lazily cached maps.
#include "svdit/analyzer/document.h"

#include <gtest/gtest.h>

#include "svdit/analyzer/plan_edit.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "test_support.h"

using namespace svdit::analyzer;
using namespace svdit::data;
namespace fs = std::filesystem;

namespace {

int64_t candidate_index(const Document& doc, const Pattern& p) {
  auto c = find_candidate(doc.view(), p);
  EXPECT_TRUE(c.has_value()) << describe(p);
  return c.value_or(-1);
}

TEST(Document, OpensTheSampleWithADensePlanForItsModel) {
  auto doc = Document::open(test::sample_profile());
  EXPECT_EQ(doc->plan().model, (PlanModel{"svdit-sample", 4, 6, 64, ""}));
  EXPECT_EQ(doc->plan().layout, doc->meta().layout);
  EXPECT_NO_THROW(validate(doc->plan()));
  for (int64_t l = 0; l < 4; ++l)
    for (int64_t h = 0; h < 6; ++h) EXPECT_TRUE(doc->pattern(*doc->plan().pattern_for(4, l, h))->is_dense());
  EXPECT_FALSE(doc->dirty());
  EXPECT_FALSE(doc->can_undo());
  EXPECT_TRUE(doc->plan_path().empty());
}

TEST(Document, BadProfilesThrowFormatErrorsNamingTheFile) {
  test::ScratchDir dir("bad-profile");
  test::write_text(dir / "not.h5", "this is not HDF5");
  try {
    Document::open(dir / "not.h5");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("not.h5"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Document::open(dir / "missing.h5"), FormatError);
}

TEST(Document, LoadsAMatchingPlanAndRefusesOthersKeepingTheCurrentOne) {
  auto doc = Document::open(test::sample_profile());
  doc->load_plan(test::sample_plan());
  EXPECT_EQ(doc->plan(), read_plan(test::sample_plan()));
  EXPECT_EQ(doc->plan_path(), test::sample_plan());
  EXPECT_FALSE(doc->dirty());  // it is what is on disk
  EXPECT_TRUE(doc->can_undo());

  test::ScratchDir dir("plans");
  Plan other = read_plan(test::sample_plan());
  other.model.heads = 5;
  for (auto& e : other.schedule)
    if (!e.dense) e.heads.resize(4 * 5);
  write_plan(other, dir / "other.json");
  const Plan before = doc->plan();
  try {
    doc->load_plan(dir / "other.json");
    FAIL() << "a plan for another model was accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("heads"), std::string::npos) << e.what();
  }
  EXPECT_EQ(doc->plan(), before);
  test::write_text(dir / "broken.json", "{\"format\": \"svdit-plan\", ");
  EXPECT_THROW(doc->load_plan(dir / "broken.json"), FormatError);
  EXPECT_EQ(doc->plan(), before);
}

TEST(Document, AssignUndoRedoAndDirtyTracking) {
  auto doc = Document::open(test::sample_profile());
  doc->load_plan(test::sample_plan());
  const Plan loaded = doc->plan();
  const uint64_t r0 = doc->revision();
  const Pattern temporal = make_pattern({temporal_component(48, 2)});
  const int64_t c = candidate_index(*doc, temporal);

  doc->assign_candidate(1, 2, 3, c);  // profiled step 1 = sampler step 4, in entry [2, 10)
  EXPECT_TRUE(doc->dirty());
  EXPECT_NE(doc->revision(), r0);
  EXPECT_EQ(*doc->pattern(*doc->plan().pattern_for(4, 2, 3)), temporal);
  EXPECT_EQ(*doc->pattern(*doc->plan().pattern_for(9, 2, 3)), temporal);  // the same entry
  EXPECT_FALSE(doc->plan().pattern_for(0, 2, 3).has_value());            // [0, 2) stays dense
  EXPECT_EQ(doc->index().candidate_of(*doc->plan().pattern_for(4, 2, 3)), c);
  EXPECT_NE(doc->undo_label().find("L2 H3"), std::string::npos) << doc->undo_label();
  const Plan edited = doc->plan();

  ASSERT_TRUE(doc->undo());
  EXPECT_EQ(doc->plan(), loaded);
  EXPECT_EQ(doc->revision(), r0);
  EXPECT_FALSE(doc->dirty());  // back to what is on disk
  ASSERT_TRUE(doc->can_redo());
  ASSERT_TRUE(doc->redo());
  EXPECT_EQ(doc->plan(), edited);
  EXPECT_TRUE(doc->dirty());
  EXPECT_FALSE(doc->redo());

  // A new edit after an undo drops the redo branch.
  doc->undo();
  doc->assign_candidate(1, 0, 0, candidate_index(*doc, make_pattern({skip_component()})));
  EXPECT_FALSE(doc->can_redo());
  EXPECT_EQ(doc->plan().pattern_for(4, 2, 3), loaded.pattern_for(4, 2, 3));
  // Undo all the way to the dense starting plan, then nothing left.
  while (doc->undo()) {
  }
  EXPECT_EQ(doc->plan().patterns.size(), 1u);
  EXPECT_TRUE(doc->plan_path().empty());
  EXPECT_EQ(doc->undo_label(), "");
}

TEST(Document, EditingADenseStepMaterialisesItsEntry) {
  auto doc = Document::open(test::sample_profile());
  doc->load_plan(test::sample_plan());
  const int64_t w96 = candidate_index(*doc, make_pattern({window_component(96)}));
  doc->assign_candidate(0, 1, 4, w96);  // sampler step 0, in the dense entry [0, 2)
  const Plan& p = doc->plan();
  ASSERT_EQ(p.schedule.size(), 2u);
  EXPECT_FALSE(p.schedule[0].dense);
  EXPECT_EQ(*doc->pattern(*p.pattern_for(0, 1, 4)), make_pattern({window_component(96)}));
  EXPECT_TRUE(doc->pattern(*p.pattern_for(1, 0, 0))->is_dense());
  EXPECT_EQ(p.pattern_for(5, 1, 4), read_plan(test::sample_plan()).pattern_for(5, 1, 4));
}

TEST(Document, IsolateStepGivesAProfiledStepItsOwnRange) {
  auto doc = Document::open(test::sample_profile());  // one entry [0, 10); profiled steps 0, 4, 9
  ASSERT_TRUE(doc->isolate_step(1));
  const auto& s = doc->plan().schedule;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].step_end, 4);
  EXPECT_EQ(s[1].step_begin, 4);
  EXPECT_EQ(s[1].step_end, 9);
  EXPECT_EQ(s[2].step_begin, 9);
  EXPECT_FALSE(doc->isolate_step(1));  // already has one: nothing recorded
  doc->assign_candidate(1, 0, 0, candidate_index(*doc, make_pattern({skip_component()})));
  EXPECT_TRUE(doc->pattern(*doc->plan().pattern_for(0, 0, 0))->is_dense());
  EXPECT_TRUE(doc->pattern(*doc->plan().pattern_for(4, 0, 0))->is_skip());
  EXPECT_TRUE(doc->pattern(*doc->plan().pattern_for(9, 0, 0))->is_dense());
}

TEST(Document, AssignToLayerIsOneUndoStep) {
  auto doc = Document::open(test::sample_profile());
  const int64_t w48 = candidate_index(*doc, make_pattern({window_component(48)}));
  doc->assign_candidate_to_layer(0, 3, w48);
  for (int64_t h = 0; h < 6; ++h) EXPECT_EQ(doc->index().candidate_of(*doc->plan().pattern_for(0, 3, h)), w48);
  EXPECT_TRUE(doc->pattern(*doc->plan().pattern_for(0, 2, 0))->is_dense());
  ASSERT_TRUE(doc->undo());
  EXPECT_FALSE(doc->can_undo());
}

TEST(Document, SaveWritesExactlyWhatThePlanWriterWritesForTheSameChoices) {
  auto doc = Document::open(test::sample_profile());
  doc->load_plan(test::sample_plan());
  const Pattern temporal = make_pattern({temporal_component(48, 2)});
  doc->assign_candidate(2, 2, 3, candidate_index(*doc, temporal));
  doc->assign_candidate(2, 3, 5, candidate_index(*doc, make_pattern({window_component(192)})));

  // Built by hand: the sample plan, two cells changed, two patterns added under their candidates' ids where
  // free: temporal(48, 2) as 7; window(192) is candidate 4, but the sample uses 4 for skip, so it gets 8.
  Plan expected = read_plan(test::sample_plan());
  expected.patterns.push_back(PlanPattern{7, temporal, compile_pattern(temporal, expected.layout).block_density()});
  const Pattern w192 = make_pattern({window_component(192)});
  expected.patterns.push_back(PlanPattern{8, w192, compile_pattern(w192, expected.layout).block_density()});
  expected.schedule[1].heads[2 * 6 + 3] = 7;
  expected.schedule[1].heads[3 * 6 + 5] = 8;

  test::ScratchDir dir("save");
  doc->save_plan(dir / "edited.json");
  EXPECT_FALSE(doc->dirty());
  EXPECT_EQ(doc->plan_path(), dir / "edited.json");
  EXPECT_EQ(test::read_text(dir / "edited.json"), serialize_plan(expected));
  write_plan(expected, dir / "expected.json");
  EXPECT_EQ(test::read_text(dir / "edited.json"), test::read_text(dir / "expected.json"));
  EXPECT_EQ(read_plan(dir / "edited.json"), expected);
  // Undo after saving makes the document differ from the file again.
  doc->undo();
  EXPECT_TRUE(doc->dirty());
}

TEST(Document, FailedEditChangesNothing) {
  auto doc = Document::open(test::sample_profile());
  const Plan before = doc->plan();
  EXPECT_THROW(doc->assign_candidate(0, 4, 0, 0), std::out_of_range);   // layer outside the model
  EXPECT_THROW(doc->assign_candidate(0, 0, 0, 99), std::out_of_range);  // no such candidate
  EXPECT_THROW(doc->assign_candidate(7, 0, 0, 0), std::out_of_range);   // no such profiled step
  EXPECT_EQ(doc->plan(), before);
  EXPECT_FALSE(doc->can_undo());
}

TEST(Document, ReplacePlanChecksTheModel) {
  auto doc = Document::open(test::sample_profile());
  Plan p = read_plan(test::sample_plan());
  doc->replace_plan(p, "search");
  EXPECT_EQ(doc->plan(), p);
  EXPECT_EQ(doc->undo_label(), "search");
  p.layout.block_size = 128;
  EXPECT_THROW(doc->replace_plan(p, "bad"), FormatError);
  EXPECT_EQ(doc->undo_label(), "search");
}

TEST(Document, LiveReplacementsMergeIntoOneUndoStep) {
  auto doc = Document::open(test::sample_profile());
  const Plan start = doc->plan();
  Plan a = read_plan(test::sample_plan());
  Plan b = a;
  b.schedule[1].heads[0] = 4;
  doc->replace_plan(a, "re-search (live)", true);  // nothing to merge with: a new step
  const uint64_t ra = doc->revision();
  doc->replace_plan(b, "re-search (live)", true);
  EXPECT_EQ(doc->plan(), b);
  EXPECT_NE(doc->revision(), ra);
  ASSERT_TRUE(doc->undo());
  EXPECT_EQ(doc->plan(), start);  // one undo step back past both
  EXPECT_FALSE(doc->can_undo());
  // Another label, or an undo in between, starts a new step.
  doc->redo();
  doc->replace_plan(a, "search", true);
  EXPECT_EQ(doc->undo_label(), "search");
  doc->undo();
  doc->replace_plan(a, "re-search (live)", true);
  EXPECT_FALSE(doc->can_redo());
  doc->undo();
  EXPECT_EQ(doc->plan(), b);
}

TEST(Document, MapsAreReadLazilyAndCached) {
  auto doc = Document::open(test::sample_profile(), 4 * (81 + 36) * sizeof(float));  // room for 4 heads
  EXPECT_EQ(doc->map_cache().loads(), 0u);  // opening reads no map
  auto m = doc->maps({2, 1, 3});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->blocks, 9);
  EXPECT_EQ(m->frames, 6);
  EXPECT_EQ(m->pooled, doc->profile().pooled_map(2, 1, 3));
  EXPECT_EQ(m->frame, doc->profile().frame_map(2, 1, 3));
  EXPECT_EQ(doc->maps({2, 1, 3}).get(), m.get());
  EXPECT_EQ(doc->map_cache().loads(), 1u);
  EXPECT_EQ(doc->map_cache().hits(), 1u);
  for (int64_t h = 0; h < 6; ++h) doc->maps({0, 0, h});
  EXPECT_EQ(doc->map_cache().entries(), 4u);  // the budget holds four
  EXPECT_THROW(doc->maps({3, 0, 0}), std::out_of_range);
}

}  // namespace
