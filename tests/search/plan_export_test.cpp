// Plans written by the search: valid, for the profile's model and layout, round-trippable, with provenance.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "search_test_support.h"
#include "svdit/data/error.h"
#include "svdit/data/plan.h"
#include "svdit/search/digest.h"
#include "svdit/search/plan_export.h"
#include "svdit/search/plan_figures.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

namespace fs = std::filesystem;

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("svdit_search_plan_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(PlanExport, PlanValidatesMatchesTheProfileAndRoundTrips) {
  const SearchInput in = testing::random_input(5, 3, 4, {0, 4, 8}, 10, 2);
  SearchOptions o;
  o.warmup_steps = 1;
  const SearchResult r = run_search(in, o);
  const data::Plan plan = make_plan(in, r);
  EXPECT_NO_THROW(data::validate(plan));
  EXPECT_NO_THROW(data::check_plan_matches(plan, plan_model(in), in.meta.layout, "test"));
  // The check is not vacuous: another layout is refused.
  data::TokenLayout other = in.meta.layout;
  other.frames += 1;
  EXPECT_THROW(data::check_plan_matches(plan, plan_model(in), other, "test"), data::FormatError);

  // Patterns are the used candidates, under their profile ids and block densities.
  for (const data::PlanPattern& p : plan.patterns) {
    const auto it = std::find_if(in.candidates.begin(), in.candidates.end(),
                                 [&](const data::ProfileCandidate& c) { return c.id == p.id; });
    ASSERT_NE(it, in.candidates.end());
    EXPECT_EQ(p.pattern, it->pattern);
    EXPECT_EQ(p.density, it->block_density);
  }
  // The schedule says what the result chose, step by step.
  for (int64_t step = 1; step < 10; ++step)
    for (int64_t l = 0; l < 3; ++l)
      for (int64_t h = 0; h < 4; ++h) {
        size_t b = 0;
        while (!(r.buckets[b].step_begin <= step && step < r.buckets[b].step_end)) ++b;
        EXPECT_EQ(plan.pattern_for(step, l, h),
                  in.candidates[static_cast<size_t>(r.candidate(static_cast<int64_t>(b), l, h))].id);
      }

  const fs::path path = temp_dir() / "plan.json";
  data::write_plan(plan, path);
  EXPECT_EQ(data::read_plan(path), plan);
}

TEST(PlanExport, ProvenanceRecordsObjectiveParametersAndPredictions) {
  const SearchInput in = testing::random_input(5, 3, 4, {0, 4}, 10, 2);
  SearchOptions o;
  o.objective = Objective::paper;
  o.lambda = 0.25;
  const SearchResult r = run_search(in, o);
  const nlohmann::json p = make_plan(in, r).provenance;
  EXPECT_EQ(p["objective"], "paper");
  EXPECT_EQ(p["parameters"]["lambda"], 0.25);
  EXPECT_EQ(p["parameters"]["epsilon"], 1.0);
  EXPECT_EQ(p["cost_model"]["source"], "cupti");
  EXPECT_DOUBLE_EQ(p["predicted"]["attention_time"].get<double>(), r.time);
  EXPECT_DOUBLE_EQ(p["predicted"]["speedup"].get<double>(), r.dense_time / r.time);
  EXPECT_DOUBLE_EQ(p["predicted"]["density"].get<double>(), r.density);
  EXPECT_TRUE(p["profile"]["digest"].is_null()) << "an in-memory input has no file to digest";
  EXPECT_FALSE(p.contains("frontier"));
}

TEST(PlanExport, TimeBudgetStoresItsFrontierAndFallbackIsStated) {
  SearchInput in = testing::random_input(5, 3, 4, {0, 4}, 10, 2);
  in.cost.reset();
  SearchOptions o;
  o.objective = Objective::time_budget;
  o.speedup = 1.5;
  const SearchResult r = run_search(in, o);
  const nlohmann::json p = make_plan(in, r).provenance;
  ASSERT_TRUE(p.contains("frontier"));
  EXPECT_EQ(p["frontier"]["points"].size(), r.frontier.size());
  EXPECT_EQ(p["cost_model"]["source"], "density-proportional");
  EXPECT_EQ(p["predicted"]["unit"], "dense-head");
  ASSERT_TRUE(p.contains("notes"));
  EXPECT_NE(p["notes"][0].get<std::string>().find("no cost table"), std::string::npos);
}

TEST(Digest, Fnv1a64KnownValues) {
  // Published FNV-1a 64 test vectors.
  EXPECT_EQ(fnv1a64({}), 0xcbf29ce484222325ull);
  const std::string a = "a", foobar = "foobar";
  EXPECT_EQ(fnv1a64({reinterpret_cast<const unsigned char*>(a.data()), a.size()}), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64({reinterpret_cast<const unsigned char*>(foobar.data()), foobar.size()}), 0x85944171f73967e8ull);
  const fs::path file = temp_dir() / "foobar.bin";
  std::ofstream(file, std::ios::binary) << foobar;
  const FileDigest d = digest_file(file);
  EXPECT_EQ(d.text, "fnv1a64:85944171f73967e8");
  EXPECT_EQ(d.bytes, 6);
  EXPECT_THROW(digest_file(temp_dir() / "missing.bin"), data::FormatError);
}

}  // namespace
}  // namespace svdit::search

namespace svdit::search {
namespace {

TEST(PlanFigures, ASearchedPlanHasTheSearchsOwnFigures) {
  const SearchInput in = testing::random_input(9, 3, 4, {0, 3, 7}, 10, 3);
  for (const Objective objective : {Objective::paper, Objective::error_bound, Objective::time_budget}) {
    SearchOptions o;
    o.objective = objective;
    if (objective == Objective::time_budget) o.speedup = 1.7;
    o.warmup_steps = 2;
    o.warmup_layers = 1;
    const SearchResult r = run_search(in, o);
    const PlanFigures f = evaluate_plan(in, make_plan(in, r));
    EXPECT_NEAR(f.time, r.time, 1e-9 * r.time) << to_string(objective);
    EXPECT_NEAR(f.dense_time, r.dense_time, 1e-9 * r.dense_time);
    EXPECT_NEAR(f.density, r.density, 1e-12);
    EXPECT_NEAR(f.mean_error, r.mean_error, 1e-12) << to_string(objective);
    EXPECT_EQ(f.unit, "us");
  }
}

TEST(PlanFigures, HandEditedAndForeignPlans) {
  const SearchInput in = testing::random_input(9, 3, 4, {0, 3, 7}, 10, 3);
  data::Plan plan = make_plan(in, run_search(in, {}));
  // Every head dense, under a renumbered id: all-dense figures.
  const int32_t dense_id = 7;
  plan.patterns = {{dense_id, testing::dense(), 1.0}};
  for (data::ScheduleEntry& e : plan.schedule)
    if (!e.dense) std::fill(e.heads.begin(), e.heads.end(), dense_id);
  const PlanFigures f = evaluate_plan(in, plan);
  EXPECT_DOUBLE_EQ(f.speedup(), 1.0);
  EXPECT_EQ(f.mean_error, 0.0);
  EXPECT_EQ(f.density, 1.0);
  // A pattern the profile never measured is refused.
  plan.patterns.push_back({8, testing::window(3), 0.1});
  try {
    evaluate_plan(in, plan);
    FAIL() << "expected a FormatError";
  } catch (const data::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("none of the profile's candidates"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace svdit::search
