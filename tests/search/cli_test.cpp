// `svdit search` as a user runs it: every objective on the bundled sample profile gives a plan that read_plan
// and `svdit inspect` accept, for the sample's model; fallback cost, --explain, --csv, and clear failures.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/run_svdit.h"

#include "svdit/data/block_layout.h"
#include "svdit/data/plan.h"
#include "svdit/data/profile_reader.h"
#include "svdit/data/profile_writer.h"
#include "svdit/search/digest.h"

namespace {

namespace fs = std::filesystem;
using namespace svdit;

using Result = svdit::testing::CommandResult;

Result run(const std::string& args) { return svdit::testing::run_svdit(args); }

const fs::path kSample = fs::path(SVDIT_SOURCE_DIR) / "data" / "samples" / "sample_profile.h5";

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / ("svdit_search_cli_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(SearchCli, EveryObjectiveTurnsTheSampleProfileIntoAValidPlan) {
  ASSERT_TRUE(fs::exists(kSample)) << kSample << " is part of the repository";
  const data::ProfileReader profile = data::ProfileReader::open(kSample);
  const data::PlanModel model{profile.meta().model, profile.meta().layers, profile.meta().heads,
                              profile.meta().head_dim, profile.meta().family};
  const std::string digest = search::digest_file(kSample).text;
  const std::vector<std::pair<std::string, std::string>> objectives = {
      {"paper", "--objective paper"},
      {"error-bound", "--objective error-bound"},
      {"error-bound", ""},  // the default
      {"time-budget", "--objective time-budget --speedup 1.5"},
      {"time-budget", "--objective time-budget --budget-us 6000 --warmup-steps 2 --warmup-layers 1 --buckets 1"},
  };
  int i = 0;
  for (const auto& [name, options] : objectives) {
    const fs::path plan_path = temp_dir() / ("plan_" + std::to_string(i++) + ".json");
    const Result r = run("search " + kSample.string() + " --out " + plan_path.string() + " " + options);
    ASSERT_EQ(r.status, 0) << options << "\n" << r.output;
    EXPECT_TRUE(contains(r.output, "predicted attention time per generation")) << r.output;
    EXPECT_TRUE(contains(r.output, "wrote " + plan_path.string())) << r.output;
    const data::Plan plan = data::read_plan(plan_path);
    EXPECT_NO_THROW(data::check_plan_matches(plan, model, profile.meta().layout, plan_path.string()));
    EXPECT_EQ(plan.provenance["objective"], name);
    EXPECT_EQ(plan.provenance["profile"]["digest"], digest);
    EXPECT_EQ(plan.provenance["cost_model"]["source"], "cupti");
    EXPECT_GE(plan.provenance["predicted"]["speedup"].get<double>(), 1.0) << options;
    if (name == "time-budget") {
      EXPECT_TRUE(contains(r.output, "Pareto frontier")) << r.output;
      EXPECT_GE(plan.provenance["frontier"]["points"].size(), 2u);
    }
    const Result inspect = run("inspect " + plan_path.string());
    EXPECT_EQ(inspect.status, 0) << inspect.output;
  }
}

TEST(SearchCli, ExplainAndCsv) {
  const fs::path csv = temp_dir() / "choices.csv";
  const Result r = run("search " + kSample.string() + " --explain 1 2 --csv " + csv.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "explain layer 1 head 2")) << r.output;
  EXPECT_TRUE(contains(r.output, "CHOSEN")) << r.output;
  EXPECT_TRUE(contains(r.output, "no --out given: plan not written")) << r.output;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "bucket,step_begin,step_end,layer,head,candidate_id,pattern,block_density,error,group_size,"
                  "layer_time,warmup");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  const data::ProfileReader profile = data::ProfileReader::open(kSample);
  EXPECT_EQ(rows, profile.meta().num_steps() * profile.meta().layers * profile.meta().heads);  // one bucket per step
}

TEST(SearchCli, RanksPlacesTheSampleHeadsOverTwoRanksInAPlanTheReaderAccepts) {
  const fs::path plan_path = temp_dir() / "placed.json";
  const Result r = run("search " + kSample.string() + " --ranks 2 --out " + plan_path.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "head placement over 2 ranks")) << r.output;
  EXPECT_TRUE(contains(r.output, "contiguous split")) << r.output;
  EXPECT_TRUE(contains(r.output, "ideal")) << r.output;
  const data::Plan plan = data::read_plan(plan_path);
  EXPECT_EQ(plan.version, 3);
  ASSERT_TRUE(plan.placement.has_value());
  EXPECT_EQ(plan.placement->ranks, 2);
  const data::ProfileReader profile = data::ProfileReader::open(kSample);
  EXPECT_EQ(plan.placement->layers.size(), static_cast<size_t>(profile.meta().layers));
  EXPECT_EQ(plan.provenance["placement"]["ranks"], 2);
  EXPECT_LE(plan.provenance["placement"]["attention_time"].get<double>(),
            plan.provenance["placement"]["contiguous_attention_time"].get<double>());
  const Result inspect = run("inspect " + plan_path.string());
  EXPECT_EQ(inspect.status, 0) << inspect.output;
  EXPECT_TRUE(contains(inspect.output, "placement over 2 ranks")) << inspect.output;

  const Result refused = run("search " + kSample.string() + " --ranks 0");
  EXPECT_EQ(refused.status, 2);
  EXPECT_TRUE(contains(refused.output, "--ranks: expected 1 .. 65536")) << refused.output;
  const Result help = run("search --help");
  EXPECT_TRUE(contains(help.output, "--ranks N")) << help.output;
}

TEST(SearchCli, FailuresAreClearAndExitCodesDistinguishThem) {
  Result r = run("search " + kSample.string() + " --epsilon -1");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "--epsilon: expected a finite number >= 0, found -1")) << r.output;
  r = run("search " + kSample.string() + " --explain 99 0");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "--explain: (layer 99, head 0) is outside the model")) << r.output;
  r = run("search " + kSample.string() + " --frobnicate");
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "unknown option --frobnicate")) << r.output;
  r = run("search");
  EXPECT_EQ(r.status, 2);
  r = run("search /nonexistent/profile.h5");
  EXPECT_EQ(r.status, 1);
  EXPECT_TRUE(contains(r.output, "/nonexistent/profile.h5")) << r.output;
  r = run("search " + kSample.string() + " --objective time-budget --budget-us 1 --warmup-steps 1");  // warm-up costs more
  EXPECT_EQ(r.status, 2);
  EXPECT_TRUE(contains(r.output, "below the fastest plan")) << r.output;
  EXPECT_EQ(run("search --help").status, 0);
}

// --- profiles written here: with a CPU cost table, without one, with measurements missing -----------------------

data::ProfileMeta small_meta() {
  data::ProfileMeta m;
  m.model = "cli-test-model";
  m.layers = 2;
  m.heads = 3;
  m.head_dim = 64;
  m.layout = data::TokenLayout{.frames = 4, .height = 4, .width = 8, .text_prefix = 0, .text_suffix = 0, .block_size = 64};
  m.dtype = "bfloat16";
  m.sampling_steps = 6;
  m.steps = {0, 3};
  m.timesteps = {1000.0, 500.0};
  m.prompts = {"a", "b"};
  m.synthetic = true;
  return m;
}

std::vector<data::ProfileCandidate> small_candidates(const data::TokenLayout& layout) {
  const std::vector<data::Pattern> patterns = {data::make_pattern({data::dense_component()}),
                                               data::make_pattern({data::window_component(16)}),
                                               data::make_pattern({data::temporal_component(2, 1)})};
  std::vector<data::ProfileCandidate> out;
  for (size_t c = 0; c < patterns.size(); ++c)
    out.push_back({static_cast<int32_t>(c), patterns[c], data::compile_pattern(patterns[c], layout).block_density(),
                   data::token_density(patterns[c], layout)});
  return out;
}

enum class Cost { cpu_aten, none };

// Writes every error and map; `missing_slice` leaves (prompt 1, step 1, layer 0) unwritten. Returns the file to
// read: the finished target, or the partial file when the profile is not finished.
fs::path write_profile(const std::string& name, Cost cost, bool missing_slice) {
  const fs::path target = temp_dir() / name;
  const data::ProfileMeta meta = small_meta();
  data::ProfileWriter w = data::ProfileWriter::create(target, meta, small_candidates(meta.layout));
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t s = 0; s < 2; ++s)
      for (int64_t l = 0; l < 2; ++l) {
        if (missing_slice && p == 1 && s == 1 && l == 0) continue;
        std::vector<float> error, recall;
        for (int64_t h = 0; h < 3; ++h)
          for (int64_t c = 0; c < 3; ++c) {
            error.push_back(c == 0 ? 0.0f : 0.01f * static_cast<float>(c + h));
            recall.push_back(c == 0 ? 1.0f : 0.9f);
          }
        w.write_error_recall(p, s, l, error, recall);
      }
  const int64_t g = meta.layout.num_blocks(), f = meta.layout.frames;
  const std::vector<float> pooled(static_cast<size_t>(g * g), 1.0f / static_cast<float>(g));
  const std::vector<float> frames(static_cast<size_t>(f * f), 1.0f / static_cast<float>(f));
  for (int64_t s = 0; s < 2; ++s)
    for (int64_t l = 0; l < 2; ++l)
      for (int64_t h = 0; h < 3; ++h) w.write_maps(s, l, h, pooled, frames);
  if (cost == Cost::none) return data::ProfileWriter::partial_path(target);  // never finished: no cost table
  data::CostTable table{.source = "cpu-aten", .device = "test cpu", .repetitions = 3, .num_candidates = 3,
                        .max_group = 3, .us = {}};
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t gs = 1; gs <= 3; ++gs) table.us.push_back(1000.0 * static_cast<double>(c + gs));
  table.dense_layer_us = 2500.0;
  table.skip_layer_us = 10.0;
  w.write_cost(table, {});
  if (missing_slice) return data::ProfileWriter::partial_path(target);
  w.finish();
  return target;
}

TEST(SearchCli, WithoutACostTableFallsBackToDensityAndSaysSo) {
  const fs::path profile = write_profile("nocost.h5", Cost::none, false);
  const fs::path plan_path = temp_dir() / "fallback_plan.json";
  const Result r = run("search " + profile.string() + " --out " + plan_path.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "no cost table")) << r.output;
  EXPECT_TRUE(contains(r.output, "dense-head")) << r.output;
  const data::Plan plan = data::read_plan(plan_path);
  EXPECT_EQ(plan.provenance["cost_model"]["source"], "density-proportional");
  EXPECT_TRUE(plan.provenance["cost_model"]["device"].is_null());
  EXPECT_EQ(plan.provenance["profile"]["complete"], false);
  EXPECT_EQ(run("inspect " + plan_path.string()).status, 0);
}

TEST(SearchCli, ACpuPathTableIsUsedForCpuPlansAndNamesTheDevice) {
  const fs::path profile = write_profile("cpucost.h5", Cost::cpu_aten, false);
  const fs::path plan_path = temp_dir() / "cpu_plan.json";
  const Result r = run("search " + profile.string() + " --out " + plan_path.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_FALSE(contains(r.output, "dense-head")) << r.output;
  const data::Plan plan = data::read_plan(plan_path);
  EXPECT_EQ(plan.provenance["cost_model"]["source"], "cpu-aten");
  EXPECT_EQ(plan.provenance["cost_model"]["unit"], "us");
  EXPECT_EQ(plan.provenance["cost_model"]["device"], "test cpu");
  EXPECT_EQ(plan.provenance["predicted"]["dense_attention_time"].get<double>(), 6 * 2 * 2500.0);
}

TEST(SearchCli, AVersionOneProfileIsPricedByConversionWithANote) {
  const fs::path v1 = fs::path(SVDIT_SOURCE_DIR) / "tests" / "data" / "fixtures" / "sample_profile_v1.h5";
  const fs::path plan_path = temp_dir() / "v1_plan.json";
  const Result r = run("search " + v1.string() + " --out " + plan_path.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "version-1")) << r.output;
  const data::Plan plan = data::read_plan(plan_path);
  EXPECT_EQ(plan.provenance["cost_model"]["source"], "cupti");
  ASSERT_TRUE(plan.provenance.contains("notes"));
  EXPECT_TRUE(contains(plan.provenance["notes"].dump(), "version-1")) << plan.provenance.dump();
}

TEST(SearchCli, MissingMeasurementsAreRefusedNamingTheEntry) {
  const fs::path profile = write_profile("missing.h5", Cost::cpu_aten, true);
  const Result r = run("search " + profile.string() + " --out " + (temp_dir() / "never.json").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "/error")) << r.output;
  EXPECT_TRUE(contains(r.output, "[prompt 1, step 1, layer 0, head 0, candidate 0] is NaN")) << r.output;
  EXPECT_TRUE(contains(r.output, "incomplete")) << r.output;
  EXPECT_FALSE(fs::exists(temp_dir() / "never.json"));
}

}  // namespace
