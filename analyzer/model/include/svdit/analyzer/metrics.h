#pragma once
// Figures the analyzer shows: per-candidate statistics of one head (the candidate table), which profile
// candidate a plan pattern is, and the error of a plan. Every predicted time comes from the search's cost model
// (svdit::search::CostModel, docs/SEARCH.md "Cost model"): the analyzer has no pricing of its own.
//
// Index conventions are those of svdit/data/profile.h: `step` is a *profiled* step index (into meta.steps);
// plans count sampler steps, so a profiled step s is looked up in a plan at meta.steps[s].

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "svdit/analyzer/colormap.h"
#include "svdit/data/plan.h"
#include "svdit/data/profile.h"
#include "svdit/search/cost_model.h"

namespace svdit::data {
class ProfileReader;
}

namespace svdit::analyzer {

// The parts of a profile the figures need, by reference, so that tests can build one without a file.
struct ProfileView {
  const data::ProfileMeta& meta;
  const std::vector<data::ProfileCandidate>& candidates;
  const data::Array5<float>& error;   // [prompt, step, layer, head, candidate]
  const data::Array5<float>& recall;  // same shape
  const search::CostModel* cost;      // the search's model of the profile's cost; nullptr without a dense candidate

  static ProfileView of(const data::ProfileReader& reader, const search::CostModel* cost);
  int64_t num_candidates() const { return static_cast<int64_t>(candidates.size()); }
};

// How the calibration prompts combine into one figure. `worst` is what the search's default objective bounds
// (error max over prompts, recall min); `mean` shows the typical case.
enum class PromptAggregate { worst, mean };
const char* to_string(PromptAggregate a);

// Aggregated error and recall of one candidate for one (step, layer, head); NaN when not measured.
double aggregate_error(const ProfileView& p, PromptAggregate a, int64_t step, int64_t layer, int64_t head,
                       int64_t candidate);
double aggregate_recall(const ProfileView& p, PromptAggregate a, int64_t step, int64_t layer, int64_t head,
                        int64_t candidate);

// The search's cost model of an open profile; nullopt when it has no dense candidate (nothing to price against).
std::optional<search::CostModel> cost_model_of(const data::ProfileReader& reader);

// Which profile candidate each plan pattern is: the candidate whose pattern is *equal* (ids are not compared:
// a hand-written plan may number its patterns differently from the profile).
class CandidateIndex {
 public:
  CandidateIndex() = default;
  CandidateIndex(const ProfileView& profile, const data::Plan& plan);
  std::optional<int64_t> candidate_of(int32_t pattern_id) const;
  std::optional<int64_t> dense_candidate() const { return dense_; }  // the first dense candidate
  // Colour key of a candidate (candidate_colour_key), and the number of sparse candidates.
  int64_t colour_key(int64_t candidate) const { return keys_.at(static_cast<size_t>(candidate)); }
  int64_t sparse_candidates() const { return sparse_; }

 private:
  std::vector<std::pair<int32_t, int64_t>> map_;  // (pattern id, candidate), sorted by id
  std::optional<int64_t> dense_;
  std::vector<int64_t> keys_;
  int64_t sparse_ = 0;
};
std::optional<int64_t> find_candidate(const ProfileView& profile, const data::Pattern& pattern);

// The colour of a plan pattern in the grid and legend (pattern_colour of colormap.h, keyed by the candidate
// it is); nullopt — a dense step — is dense_colour().
Rgba8 plan_colour(const data::Plan& plan, const CandidateIndex& index, std::optional<int32_t> pattern_id);
// The colour of a profile candidate (the same as plan_colour gives a plan pattern equal to it).
Rgba8 candidate_colour(const ProfileView& profile, const CandidateIndex& index, int64_t candidate);

// One row of the candidate table.
struct CandidateRow {
  int64_t candidate = 0;  // index into the profile's candidates
  int32_t id = 0;
  std::string pattern;    // describe(pattern)
  double block_density = 0, token_density = 0;
  double error = 0, recall = 0;  // aggregated over prompts
  double time_us = 0;            // the head's share of its layer's launch on this candidate (CostModel::head_time,
                                 // µs); NaN without a measured cost table
  bool chosen = false;           // the head's pattern in the plan
};

enum class CandidateColumn { id, pattern, block_density, token_density, error, recall, time };

// Rows for (step, layer, head), in candidate order; `chosen` marks `chosen_candidate`.
std::vector<CandidateRow> candidate_rows(const ProfileView& p, PromptAggregate a, int64_t step, int64_t layer,
                                         int64_t head, std::optional<int64_t> chosen_candidate);
// Stable sort by one column; ties keep candidate order; NaN sorts last in both directions.
void sort_rows(std::vector<CandidateRow>& rows, CandidateColumn column, bool ascending);

// What one head runs at one profiled step, and what the profile measured for it.
struct HeadFigures {
  std::optional<int32_t> pattern_id;     // nullopt: the plan runs this step dense (dense entry or uncovered)
  const data::Pattern* pattern = nullptr;  // nullptr when pattern_id is nullopt
  std::optional<int64_t> candidate;      // the profile candidate it is, if any
  double density = 1;                    // block density (the plan's figure; 1 for a dense step)
  double error = NAN, recall = NAN;      // aggregated; NaN when no candidate matches
  double share_us = NAN;                 // its share of the layer's one launch (CostModel::head_time)
  int64_t group_size = 1;                // heads of its layer sharing its pattern
  double layer_us = NAN;                 // the layer's predicted time at this step (CostModel::layer_time); NaN
                                         // without a measured table or when a head is no profile candidate
};
HeadFigures head_figures(const ProfileView& p, const data::Plan& plan, const CandidateIndex& index,
                         PromptAggregate a, int64_t step, int64_t layer, int64_t head);

// Heads of one layer that share a pattern id at a sampler step (they share one compiled layout in the layer's
// launch). In order of each group's first head; a dense step is one group of every head with pattern_id nullopt.
struct FusedGroup {
  std::optional<int32_t> pattern_id;
  std::vector<int64_t> heads;
};
std::vector<FusedGroup> fused_groups(const data::Plan& plan, int64_t sampler_step, int64_t layer);

// The predicted time of one layer at one profiled step under the plan (CostModel::layer_time); NaN without a
// measured table or when a head's pattern is no profile candidate.
double layer_time_us(const ProfileView& p, const data::Plan& plan, const CandidateIndex& index, int64_t step,
                     int64_t layer);

// The error of a whole plan over the profiled steps (its time is the search's: search::evaluate_plan).
struct PlanErrors {
  double mean_error = 0;      // mean over profiled (step, layer, head) of the aggregated error
  double max_error = 0;
  int64_t unknown_heads = 0;  // (step, layer, head) whose pattern is no profile candidate: not counted above
};
PlanErrors plan_errors(const ProfileView& p, const data::Plan& plan, PromptAggregate a);

}  // namespace svdit::analyzer
