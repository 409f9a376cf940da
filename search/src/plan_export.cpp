// Writing the search result as a plan with its provenance.
#include "svdit/search/plan_export.h"

#include <set>

#include "svdit/search/input.h"
#include "svdit/search/search.h"

#ifndef SVDIT_VERSION
#define SVDIT_VERSION "unknown"
#endif

namespace svdit::search {

using nlohmann::json;

data::PlanModel plan_model(const SearchInput& input) {
  return {input.meta.model, input.meta.layers, input.meta.heads, input.meta.head_dim, input.meta.family};
}

json make_provenance(const SearchInput& input, const SearchResult& r) {
  const SearchOptions& o = r.options;
  json parameters = {{"quantile", o.quantile},
                     {"warmup_steps", o.warmup_steps},
                     {"warmup_layers", o.warmup_layers},
                     {"buckets", r.buckets.size()}};
  switch (o.objective) {
    case Objective::paper:
      parameters["lambda"] = o.lambda_value();
      parameters["epsilon"] = o.epsilon_value();
      break;
    case Objective::error_bound: parameters["epsilon"] = o.epsilon_value(); break;
    case Objective::time_budget:
      if (o.budget_us) parameters["budget_us"] = *o.budget_us;
      if (o.speedup) parameters["speedup"] = *o.speedup;
      parameters["budget_resolved"] = r.budget;
      parameters["multiplier"] = r.multiplier;
      break;
  }

  json buckets = json::array();
  for (size_t b = 0; b < r.buckets.size(); ++b) {
    double t = 0.0;
    for (const double layer : r.layer_time[b]) t += layer;
    json profiled = json::array();
    for (const int64_t s : r.buckets[b].profiled) profiled.push_back(input.meta.steps[static_cast<size_t>(s)]);
    buckets.push_back({{"steps", {r.buckets[b].step_begin, r.buckets[b].step_end}},
                       {"profiled_steps", profiled},
                       {"attention_time_per_step", t}});
  }

  json provenance = {
      {"tool", "svdit-search " SVDIT_VERSION},
      {"objective", to_string(o.objective)},
      {"parameters", parameters},
      {"profile",
       {{"path", input.source},
        {"digest", input.digest.empty() ? json(nullptr) : json(input.digest)},
        {"bytes", input.file_bytes},
        {"model", input.meta.model},
        {"synthetic", input.meta.synthetic},
        {"complete", input.complete},
        {"prompts", input.meta.num_prompts()},
        {"profiled_steps", input.meta.steps}}},
      {"cost_model",
       {{"source", r.cost.source()},
        {"unit", r.cost.unit()},
        {"device", r.cost.device().empty() ? json(nullptr) : json(r.cost.device())},
        {"model", "one-launch"},
        {"note", r.cost.note()}}},
      {"predicted",
       {{"per", "one generation: " + std::to_string(r.sampling_steps) + " sampling steps x " +
                    std::to_string(r.layers) + " layers"},
        {"unit", r.cost.unit()},
        {"attention_time", r.time},
        {"dense_attention_time", r.dense_time},
        {"speedup", r.speedup()},
        {"density", r.density},
        {"sparse_step_density", r.sparse_density},
        {"mean_error", r.mean_error}}},
      {"buckets", buckets},
  };
  if (input.cost) provenance["cost_model"]["device"] = input.cost->device;
  if (o.objective == Objective::time_budget) {
    json points = json::array();
    for (const FrontierPoint& p : r.frontier) points.push_back({p.multiplier, p.time, p.error});
    provenance["frontier"] = {{"columns", {"multiplier", "attention_time", "mean_error"}},
                              {"unit", r.cost.unit()},
                              {"points", points}};
  }
  if (r.placement) {
    const RankPlacement& p = *r.placement;
    provenance["placement"] = {{"ranks", p.ranks},
                               {"per", "one generation, the slowest rank of each layer summed over layers"},
                               {"unit", r.cost.unit()},
                               {"attention_time", p.time},
                               {"contiguous_attention_time", p.contiguous_time},
                               {"ideal_attention_time", p.ideal_time},
                               {"balanced_layers", p.balanced_layers()}};
  }
  if (!r.notes.empty()) provenance["notes"] = r.notes;
  return provenance;
}

data::Plan make_plan(const SearchInput& input, const SearchResult& r) {
  data::Plan plan;
  plan.model = plan_model(input);
  plan.layout = input.meta.layout;

  std::set<int32_t> used;  // candidate indices, in candidate order
  for (const auto& table : r.choice) used.insert(table.begin(), table.end());
  for (const int32_t c : used) {
    const data::ProfileCandidate& candidate = input.candidates[static_cast<size_t>(c)];
    plan.patterns.push_back({candidate.id, candidate.pattern, candidate.block_density});
  }

  const int64_t first_sparse = r.buckets.empty() ? r.sampling_steps : r.buckets.front().step_begin;
  if (first_sparse > 0) plan.schedule.push_back({0, first_sparse, true, {}});
  for (size_t b = 0; b < r.buckets.size(); ++b) {
    data::ScheduleEntry entry{r.buckets[b].step_begin, r.buckets[b].step_end, false, {}};
    entry.heads.reserve(r.choice[b].size());
    for (const int32_t c : r.choice[b]) entry.heads.push_back(input.candidates[static_cast<size_t>(c)].id);
    plan.schedule.push_back(std::move(entry));
  }
  if (r.placement) {
    plan.version = data::kPlanVersion;  // a placement needs version 3; plans without one stay version 2
    plan.placement = r.placement->plan_placement();
  }
  plan.provenance = make_provenance(input, r);
  data::validate(plan, input.source + " (searched plan)");
  return plan;
}

}  // namespace svdit::search
