// Plan JSON (docs/FORMATS.md "Plan (JSON)"): round trip, the bundled sample, pattern_for, the model/layout
// check, and one test per rule a reader must enforce.
#include "svdit/data/plan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <sstream>
#include <string>

#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace svdit::data;

namespace {

const fs::path kSamplePlan = fs::path(SVDIT_SOURCE_DIR) / "data" / "samples" / "sample_plan.json";

TokenLayout sample_layout() {
  TokenLayout t;
  t.frames = 6;
  t.height = 8;
  t.width = 12;
  t.text_prefix = 0;
  t.text_suffix = 0;
  t.block_size = 64;
  return t;
}

PlanModel sample_model() { return {"svdit-sample", 4, 6, 64, ""}; }

// The plan data/samples/sample_plan.json must hold (the task's specification of the sample), with densities
// taken from the compiled layouts — the same numbers the search and the analyzer show.
Plan sample_plan() {
  Plan plan;
  plan.model = sample_model();
  plan.layout = sample_layout();
  const std::vector<Pattern> patterns = {
      make_pattern({window_component(48)}),
      make_pattern({window_component(96)}),
      make_pattern({temporal_component(24, 5)}),
      make_pattern({stripe_component({{0, 96}}, "first_frame"), window_component(48)}),
      make_pattern({skip_component()}),
      make_pattern({dense_component()}),
  };
  for (size_t i = 0; i < patterns.size(); ++i)
    plan.patterns.push_back({static_cast<int32_t>(i), patterns[i],
                             compile_pattern(patterns[i], plan.layout).block_density()});
  plan.schedule.push_back({0, 2, true, {}});
  plan.schedule.push_back({2, 10, false,
                           {5, 1, 0, 2, 3, 5,  //
                            0, 2, 1, 4, 3, 0,  //
                            1, 0, 2, 2, 3, 4,  //
                            2, 1, 0, 3, 5, 1}});
  plan.provenance = {
      {"objective", "hand-written sample (no search)"},
      {"note", "sample plan for the svdit-sample model; densities are compile_pattern block densities"},
  };
  return plan;
}

// A small plan exercising what the sample does not: non-contiguous ids, gaps between schedule entries,
// a non-trivial provenance.
Plan small_plan() {
  Plan plan;
  plan.model = {"tiny \"quoted\" model", 2, 3, 128, ""};
  plan.layout = sample_layout();
  plan.layout.text_prefix = 10;
  plan.layout.block_size = 128;
  plan.patterns.push_back({7, make_pattern({window_component(12)}), 1.0 / 3.0});
  plan.patterns.push_back({2, make_pattern({skip_component()}), 0.0});
  plan.patterns.push_back({40, make_pattern({temporal_component(3, 1), window_component(5)}), 0.1});
  plan.schedule.push_back({3, 5, false, {7, 2, 40, 40, 7, 7}});
  plan.schedule.push_back({5, 6, true, {}});
  plan.schedule.push_back({8, 20, false, {2, 2, 2, 7, 40, 2}});
  plan.provenance = {{"objective", "error-bound"},
                     {"parameters", {{"epsilon", 0.05}, {"quantile", "max"}, {"warmup_steps", 3}}},
                     {"profile_sha256", "0f3a"},
                     {"predicted", {{"attention_ms", 12.5}, {"speedup", 1.9}}},
                     {"frontier", json::array({json::array({1.0, 0.0}), json::array({2.0, 0.01})})},
                     {"unicode", "λ = 0.5, ε = 1"}};
  return plan;
}

json as_json(const Plan& plan) { return json::parse(serialize_plan(plan)); }

// Runs `action`, which must throw FormatError whose object is `object` and whose message contains every
// string of `needles`. Returns the message for further checks.
std::string expect_format_error(const std::function<void()>& action, const std::string& object,
                                const std::vector<std::string>& needles = {}, const std::string& source = "") {
  try {
    action();
  } catch (const FormatError& e) {
    EXPECT_EQ(e.object(), object) << e.what();
    if (!source.empty()) {
      EXPECT_EQ(e.source(), source) << e.what();
    }
    for (const std::string& needle : needles) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
          << "message lacks \"" << needle << "\": " << e.what();
    }
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected FormatError at " << object << ", got another exception: " << e.what();
    return {};
  }
  ADD_FAILURE() << "expected FormatError at " << object << ", nothing was thrown";
  return {};
}

// parse_plan on the small plan's JSON after `edit`, expecting a FormatError at `object`.
void expect_parse_error(const std::function<void(json&)>& edit, const std::string& object,
                        const std::vector<std::string>& needles = {}) {
  json j = as_json(small_plan());
  edit(j);
  const std::string text = j.dump();
  expect_format_error([&] { parse_plan(text, "edited.json"); }, object, needles, "edited.json");
}

// validate() on the small plan after `edit`, expecting a FormatError at `object`.
void expect_invalid(const std::function<void(Plan&)>& edit, const std::string& object,
                    const std::vector<std::string>& needles = {}) {
  Plan plan = small_plan();
  edit(plan);
  expect_format_error([&] { validate(plan, "mem"); }, object, needles, "mem");
}

class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("svdit-plan-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

// ---- round trip ---------------------------------------------------------------------------------------------

TEST(PlanRoundTrip, SerializeThenParseGivesTheSamePlan) {
  for (const Plan& plan : {small_plan(), sample_plan()}) {
    const std::string text = serialize_plan(plan);
    const Plan back = parse_plan(text);
    EXPECT_EQ(back, plan) << text;
    EXPECT_EQ(back.patterns[0].density, plan.patterns[0].density);  // bit-exact, not approximately
    EXPECT_EQ(serialize_plan(back), text) << "serialisation must be stable";
  }
}

TEST(PlanRoundTrip, EmptyPatternsAndScheduleMeanAllDense) {
  Plan plan;
  plan.model = sample_model();
  plan.layout = sample_layout();
  const Plan back = parse_plan(serialize_plan(plan));
  EXPECT_EQ(back, plan);
  EXPECT_FALSE(back.pattern_for(0, 0, 0).has_value());
}

TEST(PlanRoundTrip, KeysComeInTheDocumentedOrderAndHeadsRowsOnePerLine) {
  const std::string text = serialize_plan(small_plan());
  size_t last = 0;
  for (const char* key : {"\"format\"", "\"version\"", "\"model\"", "\"layout\"", "\"patterns\"", "\"schedule\"",
                          "\"provenance\""}) {
    const size_t at = text.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GT(at, last) << key << " out of order in\n" << text;
    last = at;
  }
  EXPECT_NE(text.find("\n      [7, 2, 40],\n      [40, 7, 7]\n"), std::string::npos) << text;
}

TEST(PlanRoundTrip, WriteThenReadFile) {
  TempDir dir;
  const fs::path path = dir.path() / "plan.json";
  const Plan plan = small_plan();
  write_plan(plan, path);
  EXPECT_EQ(read_plan(path), plan);
  EXPECT_EQ(slurp(path), serialize_plan(plan));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1)
      << "write_plan left a temporary behind";
}

TEST(PlanRoundTrip, WritePlanRefusesAnInvalidPlanAndKeepsTheOldFile) {
  TempDir dir;
  const fs::path path = dir.path() / "plan.json";
  write_plan(small_plan(), path);
  const std::string before = slurp(path);
  Plan bad = small_plan();
  bad.schedule[0].heads[1] = 99;
  expect_format_error([&] { write_plan(bad, path); }, "schedule[0].heads[0][1]", {"99"});
  EXPECT_EQ(slurp(path), before);
}

// ---- the bundled sample -------------------------------------------------------------------------------------

TEST(SamplePlan, ParsesAndIsTheSpecifiedPlan) {
  const Plan plan = read_plan(kSamplePlan);
  EXPECT_EQ(plan.model, sample_model());
  EXPECT_EQ(plan.layout, sample_layout());
  EXPECT_EQ(plan.layout.seq_len(), 576);
  EXPECT_EQ(plan.layout.num_blocks(), 9);
  const Plan expected = sample_plan();
  ASSERT_EQ(plan.patterns.size(), expected.patterns.size());
  for (size_t i = 0; i < plan.patterns.size(); ++i) {
    EXPECT_EQ(plan.patterns[i].id, expected.patterns[i].id);
    EXPECT_EQ(plan.patterns[i].pattern, expected.patterns[i].pattern) << describe(plan.patterns[i].pattern);
  }
  EXPECT_EQ(plan.schedule, expected.schedule);
}

TEST(SamplePlan, DensitiesEqualTheCompiledBlockDensities) {
  const Plan plan = read_plan(kSamplePlan);
  std::set<double> distinct;
  for (const PlanPattern& p : plan.patterns) {
    const BlockLayout compiled = compile_pattern(p.pattern, plan.layout);
    EXPECT_DOUBLE_EQ(p.density, compiled.block_density()) << "pattern " << p.id << ": " << describe(p.pattern);
    distinct.insert(p.density);
  }
  // Guards against a sample whose patterns all compile to the same thing, which would make the check weak.
  EXPECT_GE(distinct.size(), 4u);
  EXPECT_EQ(plan.find_pattern(4)->density, 0.0);  // skip
  EXPECT_EQ(plan.find_pattern(5)->density, 1.0);  // dense
}

// The committed file is exactly what serialize_plan writes for the specified plan, so the file doubles as a
// golden test of the writer's layout. SVDIT_REGENERATE_SAMPLES=1 rewrites it (and reports the test skipped).
TEST(SamplePlan, FileIsTheWritersOutput) {
  const Plan expected = sample_plan();
  if (const char* regenerate = std::getenv("SVDIT_REGENERATE_SAMPLES"); regenerate && std::string(regenerate) == "1") {
    write_plan(expected, kSamplePlan);
    GTEST_SKIP() << "regenerated " << kSamplePlan << "; not checked";
  }
  EXPECT_EQ(slurp(kSamplePlan), serialize_plan(expected));
}

// docs/FORMATS.md shows the sample as its complete example; keep the two the same.
TEST(SamplePlan, DocumentationExampleIsTheSampleFile) {
  const std::string doc = slurp(fs::path(SVDIT_SOURCE_DIR) / "docs" / "FORMATS.md");
  const size_t section = doc.find("\n## Plan (JSON)\n");
  ASSERT_NE(section, std::string::npos);
  const size_t next_section = doc.find("\n## ", section + 1);
  const size_t open = doc.find("```json\n", section);
  ASSERT_LT(open, next_section) << "no ```json example in the Plan section";
  const size_t begin = open + 8;
  const size_t end = doc.find("```", begin);
  ASSERT_NE(end, std::string::npos);
  const std::string example = doc.substr(begin, end - begin);
  EXPECT_EQ(example, slurp(kSamplePlan));
  EXPECT_EQ(parse_plan(example, "docs/FORMATS.md"), read_plan(kSamplePlan));
}

// ---- queries ------------------------------------------------------------------------------------------------

TEST(PlanQueries, PatternForFollowsTheSchedule) {
  const Plan plan = small_plan();  // entries [3,5) table A, [5,6) dense, [8,20) table B; heads 3 per layer
  EXPECT_FALSE(plan.pattern_for(0, 0, 0).has_value()) << "before the first entry: dense";
  EXPECT_FALSE(plan.pattern_for(2, 1, 2).has_value());
  EXPECT_EQ(plan.pattern_for(3, 0, 0), 7);
  EXPECT_EQ(plan.pattern_for(3, 0, 1), 2);
  EXPECT_EQ(plan.pattern_for(4, 0, 2), 40);
  EXPECT_EQ(plan.pattern_for(4, 1, 0), 40);  // layer-major: layer 1 starts at index 3
  EXPECT_EQ(plan.pattern_for(4, 1, 2), 7);
  EXPECT_FALSE(plan.pattern_for(5, 0, 0).has_value()) << "dense entry; step_end of the previous is exclusive";
  EXPECT_FALSE(plan.pattern_for(6, 0, 0).has_value()) << "gap between entries: dense";
  EXPECT_FALSE(plan.pattern_for(7, 0, 0).has_value());
  EXPECT_EQ(plan.pattern_for(8, 1, 1), 40);
  EXPECT_EQ(plan.pattern_for(19, 0, 0), 2);
  EXPECT_FALSE(plan.pattern_for(20, 0, 0).has_value()) << "after the last entry: dense";
  EXPECT_FALSE(plan.pattern_for(-1, 0, 0).has_value());

  EXPECT_THROW(plan.pattern_for(3, 2, 0), std::out_of_range);
  EXPECT_THROW(plan.pattern_for(3, 0, 3), std::out_of_range);
  EXPECT_THROW(plan.pattern_for(3, -1, 0), std::out_of_range);
  EXPECT_THROW(plan.pattern_for(3, 0, -1), std::out_of_range);
}

TEST(PlanQueries, FindPatternAndEntryFor) {
  const Plan plan = small_plan();
  ASSERT_NE(plan.find_pattern(40), nullptr);
  EXPECT_EQ(plan.find_pattern(40)->pattern, make_pattern({temporal_component(3, 1), window_component(5)}));
  EXPECT_EQ(plan.find_pattern(3), nullptr);
  EXPECT_EQ(plan.entry_for(4), &plan.schedule[0]);
  EXPECT_EQ(plan.entry_for(5), &plan.schedule[1]);
  EXPECT_EQ(plan.entry_for(7), nullptr);
}

// ---- check_plan_matches -------------------------------------------------------------------------------------

TEST(PlanMatches, AcceptsTheSameModelAndLayout) {
  const Plan plan = sample_plan();
  EXPECT_NO_THROW(check_plan_matches(plan, sample_model(), sample_layout(), "p.json"));
}

TEST(PlanMatches, RefusesEachMismatchNamingFieldAndBothValues) {
  const Plan plan = sample_plan();
  struct Case {
    std::string field;
    std::function<void(PlanModel&, TokenLayout&)> edit;
    std::string plan_value, model_value;
  };
  const std::vector<Case> cases = {
      {"model.name", [](PlanModel& m, TokenLayout&) { m.name = "wan2.1-1.3b"; }, "\"svdit-sample\"",
       "\"wan2.1-1.3b\""},
      {"model.layers", [](PlanModel& m, TokenLayout&) { m.layers = 30; }, "4", "30"},
      {"model.heads", [](PlanModel& m, TokenLayout&) { m.heads = 12; }, "6", "12"},
      {"model.head_dim", [](PlanModel& m, TokenLayout&) { m.head_dim = 128; }, "64", "128"},
      {"layout.frames", [](PlanModel&, TokenLayout& t) { t.frames = 21; }, "6", "21"},
      {"layout.height", [](PlanModel&, TokenLayout& t) { t.height = 30; }, "8", "30"},
      {"layout.width", [](PlanModel&, TokenLayout& t) { t.width = 52; }, "12", "52"},
      {"layout.text_prefix", [](PlanModel&, TokenLayout& t) { t.text_prefix = 226; }, "0", "226"},
      {"layout.text_suffix", [](PlanModel&, TokenLayout& t) { t.text_suffix = 256; }, "0", "256"},
      {"layout.block_size", [](PlanModel&, TokenLayout& t) { t.block_size = 128; }, "64", "128"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.field);
    PlanModel model = sample_model();
    TokenLayout layout = sample_layout();
    c.edit(model, layout);
    expect_format_error([&] { check_plan_matches(plan, model, layout, "p.json"); }, c.field,
                        {c.field + ": plan has " + c.plan_value + ", model has " + c.model_value}, "p.json");
  }
}

TEST(PlanMatches, ListsEveryMismatchAtOnce) {
  PlanModel model = sample_model();
  TokenLayout layout = sample_layout();
  model.heads = 12;
  layout.frames = 21;
  expect_format_error([&] { check_plan_matches(sample_plan(), model, layout, "p.json"); },
                      "model.heads, layout.frames",
                      {"model.heads: plan has 6, model has 12", "layout.frames: plan has 6, model has 21"});
}

// ---- malformed text and files -------------------------------------------------------------------------------

TEST(PlanBadInput, MalformedJsonText) {
  expect_format_error([] { parse_plan("{\"format\": \"svdit-plan\", \"version\": 1,, }", "x.json"); },
                      "JSON text", {"malformed JSON", "line 1"}, "x.json");
  expect_format_error([] { parse_plan("", "x.json"); }, "JSON text", {"malformed JSON"});
  expect_format_error([] { parse_plan("{\"a\": \"\xff\"}", "x.json"); }, "JSON text", {"malformed JSON"});
  expect_format_error([] { parse_plan("{\"format\": 1e999}", "x.json"); }, "JSON text", {"1e999"});
}

TEST(PlanBadInput, DeeplyNestedJsonIsRefusedNotAStackOverflow) {
  // svdit-fuzz-plan: provenance nested 300 000 levels deep overflowed the stack in recursive json copies.
  const std::string text = serialize_plan(small_plan());
  const std::string deep = std::string(300000, '[') + std::string(300000, ']');
  const std::string nested = text.substr(0, text.rfind('}')) + ", \"x\": " + deep + "}";
  expect_format_error([&] { parse_plan(nested, "deep.json"); }, "JSON text", {"nested deeper than 32 levels"});
}

TEST(PlanBadInput, TruncatedTextAtEveryLength) {
  // No proper prefix of a plan is a complete JSON value, so every one must be refused — and none may crash.
  const std::string text = serialize_plan(small_plan());
  for (size_t n = 0; n < text.size(); n += 7) {
    // Trailing whitespace after the closing brace is the only removable part.
    if (text.find_first_not_of(" \n", n) == std::string::npos) break;
    EXPECT_THROW(parse_plan(text.substr(0, n), "cut.json"), FormatError) << "prefix of " << n << " bytes";
  }
}

TEST(PlanBadInput, TruncatedFileNamesThePath) {
  TempDir dir;
  const fs::path path = dir.path() / "cut.json";
  const std::string text = serialize_plan(sample_plan());
  std::ofstream(path, std::ios::binary) << text.substr(0, text.size() / 2);
  expect_format_error([&] { read_plan(path); }, "JSON text", {path.string(), "malformed JSON"}, path.string());
}

TEST(PlanBadInput, MissingFileAndDirectory) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing.json";
  expect_format_error([&] { read_plan(missing); }, "file", {"cannot open", "No such file"}, missing.string());
  expect_format_error([&] { read_plan(dir.path()); }, "file", {"directory"}, dir.path().string());
}

TEST(PlanBadInput, DuplicateKey) {
  const std::string text = serialize_plan(small_plan());
  const std::string doubled = "{\"format\": \"svdit-plan\", " + text.substr(text.find('{') + 1);
  expect_format_error([&] { parse_plan(doubled, "d.json"); }, "JSON text", {"duplicate key \"format\""});
}

TEST(PlanBadInput, TopLevelNotAnObject) {
  expect_format_error([] { parse_plan("[1, 2]"); }, "plan (top-level value)", {"expected an object"});
}

// ---- format and version -------------------------------------------------------------------------------------

TEST(PlanBadInput, FormatMissingWrongOrMistyped) {
  expect_parse_error([](json& j) { j.erase("format"); }, "format", {"missing"});
  expect_parse_error([](json& j) { j["format"] = "svdit-profile"; }, "format",
                     {"expected \"svdit-plan\"", "\"svdit-profile\""});
  expect_parse_error([](json& j) { j["format"] = 1; }, "format", {"expected \"svdit-plan\"", "found 1"});
}

TEST(PlanBadInput, VersionMissingUnknownOrMistyped) {
  expect_parse_error([](json& j) { j.erase("version"); }, "version", {"missing"});
  expect_parse_error([](json& j) { j["version"] = 4; }, "version", {"unsupported version 4", "versions 1 to 3"});
  expect_parse_error([](json& j) { j["version"] = 0; }, "version", {"unsupported version 0"});
  expect_parse_error([](json& j) { j["version"] = "1"; }, "version", {"expected an integer", "\"1\""});
  expect_parse_error([](json& j) { j["version"] = 1.5; }, "version", {"expected an integer", "1.5"});
  expect_invalid([](Plan& p) { p.version = 4; }, "version", {"unsupported version 4"});
}

TEST(PlanBadInput, UnknownField) {
  expect_parse_error([](json& j) { j["provenence"] = json::object(); }, "provenence", {"unknown field"});
  expect_parse_error([](json& j) { j["model"]["layer"] = 3; }, "model.layer", {"unknown field", "layers"});
  expect_parse_error([](json& j) { j["schedule"][1]["dence"] = true; }, "schedule[1].dence", {"unknown field"});
  expect_parse_error([](json& j) { j["patterns"][0]["name"] = "w"; }, "patterns[0].name", {"unknown field"});
}

// ---- model and layout ---------------------------------------------------------------------------------------

TEST(PlanBadInput, ModelFieldsMissingOrWrongTyped) {
  expect_parse_error([](json& j) { j.erase("model"); }, "model", {"missing"});
  expect_parse_error([](json& j) { j["model"] = json::array(); }, "model", {"expected an object"});
  expect_parse_error([](json& j) { j["model"].erase("layers"); }, "model.layers", {"missing"});
  expect_parse_error([](json& j) { j["model"]["heads"] = "12"; }, "model.heads", {"expected an integer"});
  expect_parse_error([](json& j) { j["model"]["name"] = 5; }, "model.name", {"expected a string"});
  expect_parse_error([](json& j) { j["model"]["head_dim"] = json(std::numeric_limits<uint64_t>::max()); },
                     "model.head_dim", {"out of range"});
}

TEST(PlanBadInput, ModelSizesMustBePositive) {
  expect_parse_error([](json& j) { j["model"]["layers"] = 0; }, "model.layers", {"positive", "found 0"});
  expect_parse_error([](json& j) { j["model"]["heads"] = -3; }, "model.heads", {"positive", "found -3"});
  expect_parse_error([](json& j) { j["model"]["head_dim"] = 0; }, "model.head_dim", {"positive"});
  expect_parse_error([](json& j) { j["model"]["name"] = ""; }, "model.name", {"non-empty"});
  expect_invalid([](Plan& p) { p.model.layers = -1; }, "model.layers", {"positive"});
}

TEST(PlanBadInput, LayoutFieldsMissingWrongTypedOrInvalid) {
  expect_parse_error([](json& j) { j.erase("layout"); }, "layout", {"missing"});
  expect_parse_error([](json& j) { j["layout"].erase("block_size"); }, "layout.block_size", {"missing"});
  expect_parse_error([](json& j) { j["layout"]["width"] = 12.5; }, "layout.width", {"expected an integer"});
  expect_parse_error([](json& j) { j["layout"]["frames"] = 0; }, "layout.frames", {"0"});
  expect_parse_error([](json& j) { j["layout"]["height"] = -8; }, "layout.height", {"-8"});
  expect_parse_error([](json& j) { j["layout"]["text_prefix"] = -1; }, "layout.text_prefix", {"-1"});
  expect_parse_error([](json& j) { j["layout"]["block_size"] = 96; }, "layout.block_size", {"96"});
  expect_invalid([](Plan& p) { p.layout.width = 0; }, "layout.width");
}

// ---- patterns -----------------------------------------------------------------------------------------------

TEST(PlanBadInput, PatternsFieldsMissingOrWrongTyped) {
  expect_parse_error([](json& j) { j.erase("patterns"); }, "patterns", {"missing"});
  expect_parse_error([](json& j) { j["patterns"] = json::object(); }, "patterns", {"expected an array"});
  expect_parse_error([](json& j) { j["patterns"][1] = 7; }, "patterns[1]", {"expected an object"});
  expect_parse_error([](json& j) { j["patterns"][1].erase("id"); }, "patterns[1].id", {"missing"});
  expect_parse_error([](json& j) { j["patterns"][1]["id"] = 2.5; }, "patterns[1].id", {"expected an integer"});
  expect_parse_error([](json& j) { j["patterns"][1]["id"] = -2; }, "patterns[1].id", {"-2"});
  expect_parse_error([](json& j) { j["patterns"][1]["id"] = int64_t{1} << 31; }, "patterns[1].id",
                     {"2147483648"});
  expect_parse_error([](json& j) { j["patterns"][2].erase("density"); }, "patterns[2].density", {"missing"});
  expect_parse_error([](json& j) { j["patterns"][2]["density"] = "0.1"; }, "patterns[2].density",
                     {"expected a number"});
  expect_parse_error([](json& j) { j["patterns"][0].erase("components"); }, "patterns[0].components",
                     {"missing"});
}

TEST(PlanBadInput, DuplicatePatternIds) {
  expect_parse_error([](json& j) { j["patterns"][2]["id"] = 7; }, "patterns[2].id",
                     {"duplicate pattern id 7", "patterns[0]"});
}

TEST(PlanBadInput, DensityOutsideUnitIntervalOrNotFinite) {
  expect_parse_error([](json& j) { j["patterns"][0]["density"] = 1.5; }, "patterns[0].density", {"[0, 1]", "1.5"});
  expect_parse_error([](json& j) { j["patterns"][0]["density"] = -0.25; }, "patterns[0].density", {"-0.25"});
  // JSON text cannot hold NaN or infinity; an in-memory plan can, and must not be written.
  expect_invalid([](Plan& p) { p.patterns[1].density = std::nan(""); }, "patterns[1].density", {"nan"});
  expect_invalid([](Plan& p) { p.patterns[1].density = std::numeric_limits<double>::infinity(); },
                 "patterns[1].density", {"inf"});
  Plan plan = small_plan();
  plan.patterns[1].density = std::nan("");
  EXPECT_THROW(serialize_plan(plan), FormatError);
}

TEST(PlanBadInput, ComponentsMalformedOrInvalidForTheLayout) {
  expect_parse_error([](json& j) { j["patterns"][1]["components"] = json::parse(R"([{"type":"diagonal"}])"); },
                     "patterns[1].components[0].type", {"diagonal"});
  // Columns beyond S = 10 + 576 tokens.
  expect_parse_error(
      [](json& j) {
        j["patterns"][1]["components"] = json::parse(R"([{"type":"stripe","rule":"top_k","columns":[[0,1000]]}])");
      },
      "patterns[1].components[0].columns[0]", {"1000"});
  expect_parse_error([](json& j) { j["patterns"][0]["components"] = json::array(); }, "patterns[0].components");
  expect_invalid([](Plan& p) { p.patterns[2].pattern = make_pattern({window_component(-4)}); },
                 "patterns[2].components[0].w", {"-4"});
}

// ---- schedule -----------------------------------------------------------------------------------------------

TEST(PlanBadInput, ScheduleFieldsMissingOrWrongTyped) {
  expect_parse_error([](json& j) { j.erase("schedule"); }, "schedule", {"missing"});
  expect_parse_error([](json& j) { j["schedule"] = 3; }, "schedule", {"expected an array"});
  expect_parse_error([](json& j) { j["schedule"][0].erase("steps"); }, "schedule[0].steps", {"missing"});
  expect_parse_error([](json& j) { j["schedule"][0]["steps"] = {1, 2, 3}; }, "schedule[0].steps",
                     {"expected [from, to]"});
  expect_parse_error([](json& j) { j["schedule"][0]["steps"][1] = "5"; }, "schedule[0].steps[1]",
                     {"expected an integer"});
  expect_parse_error([](json& j) { j["schedule"][1]["dense"] = 1; }, "schedule[1].dense",
                     {"expected true or false"});
  expect_parse_error([](json& j) { j["schedule"][2]["heads"][1][2] = "7"; }, "schedule[2].heads[1][2]",
                     {"expected an integer"});
}

TEST(PlanBadInput, ScheduleRangeEmptyOrNegative) {
  expect_parse_error([](json& j) { j["schedule"][0]["steps"] = {4, 4}; }, "schedule[0].steps", {"non-empty"});
  expect_parse_error([](json& j) { j["schedule"][0]["steps"] = {4, 2}; }, "schedule[0].steps", {"[4, 2)"});
  expect_parse_error([](json& j) { j["schedule"][0]["steps"] = {-1, 2}; }, "schedule[0].steps[0]", {"-1"});
}

TEST(PlanBadInput, ScheduleUnsortedOrOverlapping) {
  expect_parse_error([](json& j) { std::swap(j["schedule"][0], j["schedule"][2]); }, "schedule[1].steps",
                     {"sorted"});
  expect_parse_error([](json& j) { j["schedule"][1]["steps"] = {4, 6}; }, "schedule[1].steps",
                     {"overlaps schedule[0]"});
  // Touching ranges are fine.
  json j = as_json(small_plan());
  j["schedule"][2]["steps"] = {6, 20};
  EXPECT_NO_THROW(parse_plan(j.dump()));
}

TEST(PlanBadInput, DenseAndHeadsConflictOrBothMissing) {
  expect_parse_error([](json& j) { j["schedule"][1]["heads"] = j["schedule"][0]["heads"]; }, "schedule[1].heads",
                     {"dense entry"});
  expect_parse_error([](json& j) { j["schedule"][1].erase("dense"); }, "schedule[1]",
                     {"\"heads\"", "\"dense\": true"});
  expect_parse_error([](json& j) { j["schedule"][0]["dense"] = false; j["schedule"][0].erase("heads"); },
                     "schedule[0]", {"\"heads\""});
  // "dense": false beside a table is explicit and accepted.
  json j = as_json(small_plan());
  j["schedule"][0]["dense"] = false;
  EXPECT_EQ(parse_plan(j.dump()), small_plan());
  expect_invalid([](Plan& p) { p.schedule[1].heads = {7, 7, 7, 7, 7, 7}; }, "schedule[1].heads", {"dense"});
}

TEST(PlanBadInput, HeadsTableNotLayersByHeads) {
  expect_parse_error([](json& j) { j["schedule"][0]["heads"].erase(1); }, "schedule[0].heads",
                     {"expected 2 rows", "found 1"});
  expect_parse_error([](json& j) { j["schedule"][2]["heads"][1].push_back(7); }, "schedule[2].heads[1]",
                     {"expected 3 pattern ids", "found 4"});
  expect_parse_error([](json& j) { j["schedule"][2]["heads"][0] = 7; }, "schedule[2].heads[0]",
                     {"expected an array"});
  expect_parse_error([](json& j) { j["schedule"][0]["heads"] = {7, 2, 40, 40, 7, 7}; }, "schedule[0].heads",
                     {"expected 2 rows", "found 6"});
  expect_invalid([](Plan& p) { p.schedule[0].heads.pop_back(); }, "schedule[0].heads", {"6 ids", "found 5"});
}

TEST(PlanBadInput, HeadIdNotInPatterns) {
  expect_parse_error([](json& j) { j["schedule"][2]["heads"][1][2] = 3; }, "schedule[2].heads[1][2]",
                     {"pattern id 3"});
  expect_parse_error([](json& j) { j["schedule"][2]["heads"][1][2] = -1; }, "schedule[2].heads[1][2]", {"-1"});
}

TEST(PlanBadInput, ProvenanceNotAnObject) {
  expect_parse_error([](json& j) { j["provenance"] = "searched"; }, "provenance", {"expected an object"});
  expect_invalid([](Plan& p) { p.provenance = json::array(); }, "provenance", {"expected an object"});
  // Absent provenance is allowed and reads as {}.
  json j = as_json(small_plan());
  j.erase("provenance");
  EXPECT_EQ(parse_plan(j.dump()).provenance, json::object());
}

// --- issue 20: sizes bounded before allocating, components exactly as documented, JSON in linear time ----------

TEST(PlanBadInput, HugeModelSizesAreRefusedNamingFieldValueAndBound) {
  // Today: heads 2^31 - 1 made the reader allocate the heads tables and die with std::bad_alloc.
  expect_parse_error([](json& j) { j["model"]["heads"] = 2147483647; }, "model.heads",
                     {"2147483647", "exceeds the bound 1024"});
  expect_parse_error([](json& j) { j["model"]["layers"] = int64_t{1} << 40; }, "model.layers",
                     {"1099511627776", "exceeds the bound 1024"});
}

TEST(PlanBadInput, ASequenceOfTooManyBlocksIsRefusedBeforeCompiling) {
  // S just under 2^30 is within the old token bound; `svdit inspect` then allocated 5 GB for its block lists.
  expect_parse_error([](json& j) { j["layout"]["frames"] = (int64_t{1} << 30) / 96 - 1; }, "layout.seq_len",
                     {"exceeds the bound 8192 blocks"});
}

TEST(PlanBadInput, ComponentsWithExtraOrMissingFieldsAreRefused) {
  expect_parse_error([](json& j) { j["patterns"][0]["components"][0]["width"] = 3; },
                     "patterns[0].components[0].width", {"unknown field"});
  expect_parse_error([](json& j) { j["patterns"][0]["components"][0].erase("w"); }, "patterns[0].components[0].w",
                     {"missing"});
}

TEST(PlanBadInput, ANumberTooLargeForADoubleNamesItsField) {
  expect_format_error([] { parse_plan("{\"format\": \"svdit-plan\", \"provenance\": {\"epsilon\": 1e999}}", "x.json"); },
                      "JSON text", {"1e999", "\"provenance.epsilon\"", "does not fit a double"});
}

TEST(PlanBadInput, JsonParsingIsLinearInTheMemberCount) {
  // A provenance object of n members: 40k took 7.2 s (quadratic: nlohmann's callback parser rescans the enclosing
  // object at the end of every nested one). Compare 8x the members against the time of one eighth: linear gives
  // ~8x, quadratic ~64x; the bound of 24x leaves room for a noisy machine.
  auto plan_with_members = [](int n) {
    json j = as_json(small_plan());
    json provenance = json::object();
    for (int i = 0; i < n; ++i) provenance["k" + std::to_string(i)] = {{"v", i}};
    j["provenance"] = provenance;
    return j.dump();
  };
  auto seconds = [](const std::string& text) {
    double best = 1e9;
    for (int repeat = 0; repeat < 3; ++repeat) {
      const auto start = std::chrono::steady_clock::now();
      static_cast<void>(parse_plan(text, "big.json"));
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
  };
  const std::string small = plan_with_members(5000), large = plan_with_members(40000);
  const double small_s = seconds(small), large_s = seconds(large);
  EXPECT_LT(large_s, 24.0 * small_s + 0.05) << "5k members: " << small_s << " s, 40k members: " << large_s << " s";
}

// ---- model.family (version 2) ---------------------------------------------------------------------------------

namespace {

TEST(PlanFamily, Version2RecordsTheFamilyAndRoundTrips) {
  Plan plan = small_plan();
  plan.version = 2;
  plan.model.family = "cogvideox1.5";
  const std::string text = serialize_plan(plan);
  EXPECT_NE(text.find("\"family\": \"cogvideox1.5\""), std::string::npos) << text;
  EXPECT_EQ(parse_plan(text, "p.json"), plan);
}

TEST(PlanFamily, Version1PlansAreStillReadAndCannotCarryAFamily) {
  Plan plan = small_plan();
  plan.version = 1;
  EXPECT_EQ(parse_plan(serialize_plan(plan), "old.json").model.family, "");
  expect_parse_error([](json& j) { j["version"] = 1; j["model"]["family"] = "wan2.1"; }, "model.family",
                     {"unknown field"});
  expect_parse_error([](json& j) { j["version"] = 2; j["model"]["family"] = ""; }, "model.family",
                     {"non-empty string"});
  expect_invalid([](Plan& p) { p.version = 1; p.model.family = "wan2.1"; }, "model.family", {"needs version 2"});
}

TEST(PlanFamily, APlanOfOneFamilyIsRefusedOnAnotherAndAnUnknownFamilyIsNotCompared) {
  Plan plan = sample_plan();
  plan.version = 2;
  plan.model.family = "wan2.1";
  PlanModel model = sample_model();
  model.family = "cogvideox1.5";
  expect_format_error([&] { check_plan_matches(plan, model, sample_layout(), "p.json"); }, "model.family",
                      {"model.family: plan has \"wan2.1\", model has \"cogvideox1.5\""}, "p.json");
  model.family = "";  // a caller that does not know the family (a diffusers model of the Python package)
  EXPECT_NO_THROW(check_plan_matches(plan, model, sample_layout(), "p.json"));
  plan.model.family = "";  // a plan of version 1
  model.family = "wan2.1";
  EXPECT_NO_THROW(check_plan_matches(plan, model, sample_layout(), "p.json"));
}

}  // namespace

// ---- placement (version 3) ------------------------------------------------------------------------------------

namespace {

// The small plan (2 layers x 3 heads) with a placement over 2 ranks that is not the contiguous split.
Plan placed_plan() {
  Plan plan = small_plan();
  plan.version = kPlanVersion;
  plan.placement = PlanPlacement{2, {{1, 0, 1}, {0, 0, 1}}};
  return plan;
}

// parse_plan on the placed plan's JSON after `edit`, expecting a FormatError at `object`.
void expect_placement_parse_error(const std::function<void(json&)>& edit, const std::string& object,
                                  const std::vector<std::string>& needles) {
  json j = as_json(placed_plan());
  edit(j);
  const std::string text = j.dump();
  expect_format_error([&] { parse_plan(text, "placed.json"); }, object, needles, "placed.json");
}

void expect_placement_invalid(const std::function<void(Plan&)>& edit, const std::string& object,
                              const std::vector<std::string>& needles) {
  Plan plan = placed_plan();
  edit(plan);
  expect_format_error([&] { validate(plan, "mem"); }, object, needles, "mem");
}

TEST(PlanPlacement, RoundTripsAsVersion3AfterTheScheduleWithOneRowPerLayer) {
  const Plan plan = placed_plan();
  const std::string text = serialize_plan(plan);
  EXPECT_EQ(parse_plan(text, "p.json"), plan) << text;
  EXPECT_EQ(serialize_plan(parse_plan(text)), text) << "serialisation must be stable";
  EXPECT_NE(text.find("\"version\": 3,"), std::string::npos) << text;
  EXPECT_NE(text.find("  \"placement\": {\"ranks\": 2, \"layers\": [\n    [1, 0, 1],\n    [0, 0, 1]\n  ]},\n"),
            std::string::npos)
      << text;
  const size_t schedule = text.find("\"schedule\""), placement = text.find("\"placement\""),
               provenance = text.find("\"provenance\"");
  EXPECT_LT(schedule, placement);
  EXPECT_LT(placement, provenance);
}

TEST(PlanPlacement, APlanWithoutPlacementStaysVersion2AndOldPlansAreStillRead) {
  const Plan plain = small_plan();
  EXPECT_EQ(plain.version, kPlanVersionWithoutPlacement);
  const std::string text = serialize_plan(plain);
  EXPECT_NE(text.find("\"version\": 2,"), std::string::npos) << text;
  EXPECT_EQ(text.find("placement"), std::string::npos) << text;
  EXPECT_FALSE(read_plan(kSamplePlan).placement.has_value());  // the bundled version-2 sample
  Plan v1 = small_plan();
  v1.version = 1;
  EXPECT_EQ(parse_plan(serialize_plan(v1)), v1);
  Plan v3 = small_plan();  // version 3 without a placement: readers accept every version
  v3.version = 3;
  EXPECT_EQ(parse_plan(serialize_plan(v3)), v3);
}

TEST(PlanPlacement, Version1And2FilesWithAPlacementAreRefusedNamingTheField) {
  for (const int version : {1, 2}) {
    expect_placement_parse_error(
        [&](json& j) {
          j["version"] = version;
          if (version == 1) j["model"].erase("family");
        },
        "placement", {"needs version 3", "has version " + std::to_string(version)});
    expect_placement_invalid([&](Plan& p) { p.version = version; }, "placement",
                             {"needs version 3", "has version " + std::to_string(version)});
  }
}

TEST(PlanPlacement, EveryRuleIsEnforcedOnReadNamingTheField) {
  expect_placement_parse_error([](json& j) { j["placement"] = json::array(); }, "placement", {"expected an object"});
  expect_placement_parse_error([](json& j) { j["placement"]["rank"] = 2; }, "placement.rank",
                               {"unknown field", "ranks, layers"});
  expect_placement_parse_error([](json& j) { j["placement"].erase("ranks"); }, "placement.ranks", {"missing"});
  expect_placement_parse_error([](json& j) { j["placement"].erase("layers"); }, "placement.layers", {"missing"});
  expect_placement_parse_error([](json& j) { j["placement"]["ranks"] = 0; }, "placement.ranks",
                               {"expected a rank count in [1, 65536]", "found 0"});
  expect_placement_parse_error([](json& j) { j["placement"]["ranks"] = 70000; }, "placement.ranks",
                               {"found 70000"});
  expect_placement_parse_error([](json& j) { j["placement"]["ranks"] = 2.0; }, "placement.ranks",
                               {"expected an integer"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"] = 1; }, "placement.layers",
                               {"expected an array"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"].erase(1); }, "placement.layers",
                               {"expected 2 rows (model.layers), found 1"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"][1] = 0; }, "placement.layers[1]",
                               {"expected an array"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"][1].push_back(0); }, "placement.layers[1]",
                               {"expected 3 ranks (model.heads), found 4"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"][1][2] = 2; }, "placement.layers[1][2]",
                               {"expected a rank in [0, 2) (placement.ranks), found 2"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"][0][1] = -1; }, "placement.layers[0][1]",
                               {"found -1"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"][0][1] = "1"; }, "placement.layers[0][1]",
                               {"expected an integer"});
  expect_placement_parse_error([](json& j) { j["placement"]["layers"][0][1] = 4294967297LL; },
                               "placement.layers[0][1]", {"found 4294967297"});  // not narrowed to int32 first
}

TEST(PlanPlacement, EveryRuleIsEnforcedOnAnInMemoryPlan) {
  expect_placement_invalid([](Plan& p) { p.placement->ranks = 0; }, "placement.ranks", {"found 0"});
  expect_placement_invalid([](Plan& p) { p.placement->layers.pop_back(); }, "placement.layers",
                           {"expected 2 rows (model.layers), found 1"});
  expect_placement_invalid([](Plan& p) { p.placement->layers[0].push_back(0); }, "placement.layers[0]",
                           {"expected 3 ranks (model.heads), found 4"});
  expect_placement_invalid([](Plan& p) { p.placement->layers[1][0] = 5; }, "placement.layers[1][0]",
                           {"expected a rank in [0, 2)", "found 5"});
  // The writer validates first: a bad placement is never written.
  Plan bad = placed_plan();
  bad.placement->layers[1][0] = -3;
  expect_format_error([&] { serialize_plan(bad); }, "placement.layers[1][0]", {"found -3"});
}

TEST(PlanPlacement, ARankMayRunNoHeadsOfALayer) {
  Plan plan = placed_plan();
  plan.placement = PlanPlacement{4, {{3, 3, 3}, {0, 1, 2}}};  // ranks 0-2 idle in layer 0, rank 3 in layer 1
  EXPECT_EQ(parse_plan(serialize_plan(plan)), plan);
}

}  // namespace
