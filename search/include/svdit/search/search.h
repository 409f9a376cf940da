#pragma once
// The search itself: from a validated input and options to a pattern per (bucket, layer, head), with the
// predicted attention time, speed-up, density and error of the result (docs/SEARCH.md). Plans are made from the
// result by make_plan (plan_export.h); the readable summary, --explain and --csv by report.h.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "svdit/search/buckets.h"
#include "svdit/search/cost_model.h"
#include "svdit/search/error_summary.h"
#include "svdit/search/options.h"
#include "svdit/search/placement.h"

namespace svdit::search {

struct SearchInput;

// One Lagrangian solution of the time-budget sweep.
struct FrontierPoint {
  double multiplier = 0.0;  // μ: error traded per unit of time
  double time = 0.0;        // predicted attention time of one generation, in the cost model's unit
  double error = 0.0;       // mean error per (step, layer, head) of one generation (warm-up counts 0)
};

struct SearchResult {
  SearchOptions options;
  CostModel cost;
  std::vector<Bucket> buckets;
  ErrorSummary errors;       // [bucket, layer, head, candidate] quantile over calibration samples
  int64_t dense = 0;         // index of the dense candidate
  int64_t layers = 0, heads = 0, sampling_steps = 0;

  std::vector<std::vector<int32_t>> choice;    // [bucket][layer * heads + head] candidate index
  std::vector<std::vector<double>> layer_time;  // [bucket][layer] predicted time of one step of the layer

  // Figures for one generation (every sampling step, every layer), warm-up included.
  double time = 0.0;             // predicted attention time
  double dense_time = 0.0;       // the same with every head dense (one fused group per layer)
  double density = 0.0;          // mean block density over (step, layer, head); dense steps count 1
  double sparse_density = 0.0;   // the same over the steps the buckets cover
  double mean_error = 0.0;       // mean chosen error over (step, layer, head); dense counts 0
  double speedup() const { return dense_time / time; }  // +inf for a plan that computes nothing (all skip)

  // time-budget only
  double budget = 0.0;                  // the target time (from --budget-us or dense_time / --speedup)
  double multiplier = 0.0;              // μ of the chosen solution
  std::vector<FrontierPoint> frontier;  // Pareto frontier of the sweep: time descending, error ascending

  // With options.ranks: the per-layer head placement over that many ranks (placement.h), from `choice`.
  std::optional<RankPlacement> placement;

  std::vector<std::string> notes;  // said in the output and stored in the provenance (e.g. cost fallback)

  int32_t candidate(int64_t bucket, int64_t layer, int64_t head) const {
    return choice[static_cast<size_t>(bucket)][static_cast<size_t>(layer * heads + head)];
  }
};

// Validates input and options (data::FormatError / OptionError), then searches.
SearchResult run_search(const SearchInput& input, const SearchOptions& options);

// Recomputes the result's per-layer times, the whole-generation figures and (with options.ranks) the head placement
// from its choices (used by the objectives after choosing, and by callers that edit choices, e.g. the analyzer).
void update_figures(const SearchInput& input, SearchResult& result);

}  // namespace svdit::search
