// Predicted figures of an arbitrary plan from a profile (see plan_figures.h).
#include "svdit/search/plan_figures.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "svdit/data/error.h"
#include "svdit/search/cost_model.h"
#include "svdit/search/error_summary.h"
#include "svdit/search/input.h"
#include "svdit/search/options.h"
#include "svdit/search/plan_export.h"

namespace svdit::search {

PlanFigures evaluate_plan(const SearchInput& input, const data::Plan& plan, double quantile) {
  validate(input);
  if (!(quantile >= 0.0 && quantile <= 1.0)) throw OptionError("--quantile: expected a number in [0, 1]");
  data::validate(plan, "plan");
  data::check_plan_matches(plan, plan_model(input), input.meta.layout, "plan");
  const data::ProfileMeta& meta = input.meta;
  const int64_t layers = meta.layers, heads = meta.heads;

  // Plan pattern id → candidate index, by pattern equality (a hand-edited plan may number patterns its own way).
  std::vector<std::pair<int32_t, int32_t>> candidate_of;  // (plan id, candidate index)
  for (size_t i = 0; i < plan.patterns.size(); ++i) {
    const data::PlanPattern& p = plan.patterns[i];
    const auto it = std::find_if(input.candidates.begin(), input.candidates.end(),
                                 [&](const data::ProfileCandidate& c) { return c.pattern == p.pattern; });
    if (it == input.candidates.end())
      throw data::FormatError("plan", "patterns[" + std::to_string(i) + "]",
                              "pattern " + data::describe(p.pattern) + " (id " + std::to_string(p.id) +
                                  ") is none of the profile's candidates, so its error and cost are unknown");
    candidate_of.emplace_back(p.id, static_cast<int32_t>(it - input.candidates.begin()));
  }
  auto candidate = [&](int32_t id) {
    for (const auto& [plan_id, c] : candidate_of)
      if (plan_id == id) return c;
    return int32_t{-1};  // unreachable: validate() checked every id
  };

  // One bucket per profiled step, as the search makes them by default: bucket b stands for its steps.
  const std::vector<Bucket> buckets = make_buckets(meta, 0, 0);
  const ErrorSummary errors(input, buckets, quantile);
  const CostModel cost(input);
  const int64_t dense = dense_candidate(input);
  const double dense_layer = cost.dense_layer_time();

  PlanFigures f;
  f.unit = cost.unit();
  f.dense_time = static_cast<double>(meta.sampling_steps * layers) * dense_layer;
  std::vector<int32_t> row(static_cast<size_t>(heads));
  double density = 0.0, error = 0.0;
  for (int64_t step = 0; step < meta.sampling_steps; ++step) {
    const std::optional<int32_t> any = plan.pattern_for(step, 0, 0);
    if (!any) {  // a dense step
      f.time += static_cast<double>(layers) * dense_layer;
      density += static_cast<double>(layers * heads);
      continue;
    }
    size_t b = 0;
    while (b + 1 < buckets.size() && buckets[b + 1].step_begin <= step) ++b;
    for (int64_t l = 0; l < layers; ++l) {
      for (int64_t h = 0; h < heads; ++h) {
        const int32_t c = candidate(*plan.pattern_for(step, l, h));
        row[static_cast<size_t>(h)] = c;
        density += input.candidates[static_cast<size_t>(c)].block_density;
        if (c != dense) error += errors.at(static_cast<int64_t>(b), l, h, c);
      }
      f.time += cost.layer_time(row);
    }
  }
  const auto head_steps = static_cast<double>(meta.sampling_steps * layers * heads);
  f.density = density / head_steps;
  f.mean_error = error / head_steps;
  return f;
}

}  // namespace svdit::search
