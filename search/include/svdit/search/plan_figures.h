#pragma once
// Where any plan — searched, hand-edited in the analyzer, or written by another tool — sits on the search's axes:
// predicted attention time (the same fusion-aware cost model), speed-up, density and error, from a profile of
// the same model. For a plan made by run_search with one bucket per profiled step, these are exactly the
// result's own figures.

#include <string>

#include "svdit/data/plan.h"

namespace svdit::search {

struct SearchInput;

struct PlanFigures {
  double time = 0.0;        // predicted attention time of one generation, in `unit`
  double dense_time = 0.0;  // the same with every head dense
  double density = 0.0;     // mean block density over (step, layer, head); dense steps count 1
  double mean_error = 0.0;  // mean error over (step, layer, head); dense counts 0
  std::string unit;         // "us" or "dense-head" (see CostModel)
  double speedup() const { return dense_time / time; }
};

// Sampler step s is judged by the measurements of the profiled step that stands for it (the last one ≤ s, or
// the first), each head's error being the `quantile` over the prompts (nearest rank; 1 = the maximum).
// Throws data::FormatError when the plan is for another model or layout, or uses a pattern that is none of the
// profile's candidates (its error and cost are unknown); OptionError for a quantile outside [0, 1].
PlanFigures evaluate_plan(const SearchInput& input, const data::Plan& plan, double quantile = 1.0);

}  // namespace svdit::search
