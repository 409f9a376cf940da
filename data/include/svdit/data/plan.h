#pragma once
// A plan: which sparse pattern every (denoising step, layer, head) of one model runs (the exact JSON form
// is in docs/FORMATS.md "Plan (JSON)"). `svdit search` and the analyzer write plans; the runtime reads them.
// Everything that reads a plan goes through parse_plan()/read_plan(), which validate it completely, so that the
// runtime can index the heads table without further checks.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"

namespace svdit::data {

inline constexpr const char* kPlanFormat = "svdit-plan";
// The version rule (docs/FORMATS.md): a plan is written with the version it holds, and svdit gives a plan the
// lowest version that can carry it — 3 with a placement, 2 without — so that a plan without a placement stays
// readable by version-2 readers. Readers read every version from 1 to 3.
inline constexpr int kPlanVersion = 3;                  // the newest read; the version of a plan with a placement
inline constexpr int kPlanVersionWithoutPlacement = 2;  // what svdit writes for a plan without a placement
inline constexpr int kOldestPlanVersion = 1;            // the oldest read

// The model a plan was searched for. A plan applies only to a model with the same shape (check_plan_matches).
struct PlanModel {
  std::string name;
  int64_t layers = 0, heads = 0, head_dim = 0;
  // The model family the plan was searched for (data/checkpoint_family.h ids: "wan2.1", "cogvideox1.5", …);
  // empty: unknown (plans of version 1, profiles that do not record it). Version 2 writes it when known.
  std::string family;
  bool operator==(const PlanModel&) const = default;
};

struct PlanPattern {
  int32_t id = 0;
  Pattern pattern;
  double density = 0;  // block density of compile_pattern(pattern, plan.layout), for display and cost figures
  bool operator==(const PlanPattern&) const = default;
};

// Steps [step_begin, step_end) run either dense (every head dense attention) or by a pattern id per head.
struct ScheduleEntry {
  int64_t step_begin = 0, step_end = 0;
  bool dense = false;
  std::vector<int32_t> heads;  // [layers*heads] pattern ids, layer-major; empty when dense

  bool covers(int64_t step) const { return step_begin <= step && step < step_end; }
  bool operator==(const ScheduleEntry&) const = default;
};

// placement[layer][head] = the rank that runs that head's self-attention when the model runs over several ranks
// with head-parallel (Ulysses) attention (docs/RUNTIME.md "Sequence parallel"; data/head_placement.h).
using HeadPlacement = std::vector<std::vector<int32_t>>;

// A plan's head placement (version 3): chosen by `svdit search --ranks N` for exactly `ranks` ranks; a run over
// another number of ranks does not use it (head_placement() in data/head_placement.h).
struct PlanPlacement {
  int32_t ranks = 0;
  HeadPlacement layers;  // [model.layers][model.heads], every entry in [0, ranks)
  bool operator==(const PlanPlacement&) const = default;
};

struct Plan {
  // The file's version: kPlanVersionWithoutPlacement (2) unless the plan has a placement, which needs
  // kPlanVersion (3); 1 is still read (no model.family).
  int version = kPlanVersionWithoutPlacement;
  PlanModel model;
  TokenLayout layout;
  std::vector<PlanPattern> patterns;
  std::vector<ScheduleEntry> schedule;  // sorted by step, disjoint; steps no entry covers run dense
  std::optional<PlanPlacement> placement;  // version 3; absent: the runtime splits heads contiguously
  nlohmann::json provenance = nlohmann::json::object();  // free-form: objective, parameters, profile digest, …

  const PlanPattern* find_pattern(int32_t id) const;  // nullptr when absent
  // The entry that covers `step`, or nullptr (that step runs dense).
  const ScheduleEntry* entry_for(int64_t step) const;
  // Pattern id for (step, layer, head); std::nullopt when that step runs dense (dense entry or no entry covers
  // it). Throws std::out_of_range when layer or head is outside the model.
  std::optional<int32_t> pattern_for(int64_t step, int64_t layer, int64_t head) const;

  bool operator==(const Plan&) const = default;
};

// Parses and validates. Every problem is a FormatError naming `source`, the JSON field path (e.g.
// "schedule[2].heads[3][1]") and what was expected versus found.
Plan parse_plan(std::string_view json_text, const std::string& source = "<memory>");
Plan read_plan(const std::filesystem::path& path);  // source = path

// Pretty JSON with a fixed key order (format, version, model, layout, patterns, schedule, placement, provenance),
// one line per heads-table row and per placement row. Validates first: a plan that readers would refuse is never
// written.
std::string serialize_plan(const Plan& plan);
void write_plan(const Plan& plan, const std::filesystem::path& path);  // atomic (write_file_atomically)

// The rules of docs/FORMATS.md on an in-memory plan; throws FormatError with the field path.
void validate(const Plan& plan, const std::string& source = "<memory>");

// Refuse a plan for another model/layout: the message names each mismatching field with both values. The family is
// compared when both the plan and the model know theirs.
void check_plan_matches(const Plan& plan, const PlanModel& model, const TokenLayout& layout,
                        const std::string& source);

}  // namespace svdit::data
