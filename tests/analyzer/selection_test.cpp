// The selection: kept inside the profile, moved by the arrow keys, and started from the command line.
#include "svdit/analyzer/selection.h"

#include <gtest/gtest.h>

#include "svdit/analyzer/options.h"
#include "svdit/analyzer/plan_edit.h"
#include "svdit/data/profile_reader.h"
#include "test_support.h"

using namespace svdit::analyzer;
using namespace svdit::data;

namespace {

const ProfileMeta& sample_meta() {
  static const ProfileReader reader = ProfileReader::open(test::sample_profile());
  return reader.meta();  // 4 layers x 6 heads, profiled steps 0, 4, 9 of 10
}

TEST(Selection, ClampKeepsEveryIndexInsideTheProfile) {
  Selection s{7, -3, 99};
  s.clamp(sample_meta());
  EXPECT_EQ(s, (Selection{2, 0, 5}));
  Selection ok{1, 2, 3};
  ok.clamp(sample_meta());
  EXPECT_EQ(ok, (Selection{1, 2, 3}));
}

TEST(Selection, MoveStopsAtTheEdges) {
  Selection s{1, 0, 0};
  s.move(sample_meta(), -1, -1);
  EXPECT_EQ(s, (Selection{1, 0, 0}));
  s.move(sample_meta(), 2, 3);
  EXPECT_EQ(s, (Selection{1, 2, 3}));
  s.move(sample_meta(), 10, 10);
  EXPECT_EQ(s, (Selection{1, 3, 5}));
  EXPECT_EQ(s.sampler_step(sample_meta()), 4);
}

TEST(Selection, DefaultStepIsTheFirstSparseProfiledStep) {
  const Plan sample = read_plan(test::sample_plan());  // [0, 2) dense: profiled step 0 is dense, 1 (sampler 4) not
  EXPECT_EQ(default_step(sample_meta(), sample), 1);
  const ProfileReader reader = ProfileReader::open(test::sample_profile());
  EXPECT_EQ(default_step(sample_meta(), make_dense_plan(reader.meta(), reader.candidates(), {})), 0);
  Plan all_dense = sample;
  all_dense.schedule = {ScheduleEntry{0, 10, true, {}}};
  EXPECT_EQ(default_step(sample_meta(), all_dense), 0);
}

TEST(Selection, InitialSelectionFromTheCommandLine) {
  const Plan sample = read_plan(test::sample_plan());
  EXPECT_EQ(initial_selection(sample_meta(), sample, std::nullopt, std::nullopt, std::nullopt), (Selection{1, 0, 0}));
  EXPECT_EQ(initial_selection(sample_meta(), sample, 9, 3, 5), (Selection{2, 3, 5}));
  EXPECT_EQ(initial_selection(sample_meta(), sample, 0, std::nullopt, 2), (Selection{0, 0, 2}));
  try {
    initial_selection(sample_meta(), sample, 5, std::nullopt, std::nullopt);
    FAIL() << "step 5 was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("profiled steps: 0 4 9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(initial_selection(sample_meta(), sample, std::nullopt, 4, std::nullopt), UsageError);
  EXPECT_THROW(initial_selection(sample_meta(), sample, std::nullopt, std::nullopt, 6), UsageError);
  EXPECT_THROW(initial_selection(sample_meta(), sample, std::nullopt, -1, std::nullopt), UsageError);
}

}  // namespace
