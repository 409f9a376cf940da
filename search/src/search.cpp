// run_search: set-up shared by the objectives, warm-up, and the figures of the result.
#include "svdit/search/search.h"

#include <span>

#include "objectives.h"
#include "svdit/search/input.h"

namespace svdit::search {

void update_figures(const SearchInput& input, SearchResult& r) {
  const CostModel& cost = r.cost;
  const double dense_layer = cost.dense_layer_time();  // every head dense: the dense path
  const auto head_steps = static_cast<double>(r.layers * r.heads);
  r.layer_time.assign(r.buckets.size(), std::vector<double>(static_cast<size_t>(r.layers), 0.0));
  double time = 0.0, density = 0.0, error = 0.0, sparse_density = 0.0;
  int64_t sparse_steps = 0;
  for (size_t b = 0; b < r.buckets.size(); ++b) {
    const auto steps = static_cast<double>(r.buckets[b].num_steps());
    double bucket_time = 0.0, bucket_density = 0.0, bucket_error = 0.0;
    for (int64_t l = 0; l < r.layers; ++l) {
      const std::span<const int32_t> row(&r.choice[b][static_cast<size_t>(l * r.heads)], static_cast<size_t>(r.heads));
      const double t = cost.layer_time(row);
      r.layer_time[b][static_cast<size_t>(l)] = t;
      bucket_time += t;
      for (int64_t h = 0; h < r.heads; ++h) {
        const auto c = static_cast<size_t>(row[static_cast<size_t>(h)]);
        bucket_density += input.candidates[c].block_density;
        if (static_cast<int64_t>(c) != r.dense) bucket_error += r.errors.at(static_cast<int64_t>(b), l, h, static_cast<int64_t>(c));
      }
    }
    time += steps * bucket_time;
    density += steps * bucket_density;
    error += steps * bucket_error;
    sparse_density += steps * bucket_density;
    sparse_steps += r.buckets[b].num_steps();
  }
  const int64_t dense_steps = r.sampling_steps - sparse_steps;  // warm-up steps
  time += static_cast<double>(dense_steps * r.layers) * dense_layer;
  density += static_cast<double>(dense_steps) * head_steps;
  r.time = time;
  r.dense_time = static_cast<double>(r.sampling_steps * r.layers) * dense_layer;
  r.density = density / (static_cast<double>(r.sampling_steps) * head_steps);
  r.sparse_density = sparse_steps > 0 ? sparse_density / (static_cast<double>(sparse_steps) * head_steps) : 1.0;
  r.mean_error = error / (static_cast<double>(r.sampling_steps) * head_steps);
  r.placement.reset();
  if (r.options.ranks) r.placement = place_heads(r, static_cast<int>(*r.options.ranks));
}

SearchResult run_search(const SearchInput& input, const SearchOptions& options) {
  validate(input);
  validate(options, input);

  SearchResult r;
  r.options = options;
  r.cost = CostModel(input);
  r.dense = dense_candidate(input);
  r.layers = input.meta.layers;
  r.heads = input.meta.heads;
  r.sampling_steps = input.meta.sampling_steps;
  r.buckets = make_buckets(input.meta, options.warmup_steps, options.buckets);
  r.errors = ErrorSummary(input, r.buckets, options.quantile);
  if (!r.cost.caveat().empty()) r.notes.push_back(r.cost.caveat());
  if (options.buckets > static_cast<int64_t>(r.buckets.size()))
    r.notes.push_back("--buckets " + std::to_string(options.buckets) + " reduced to " +
                      std::to_string(r.buckets.size()) + ": only that many profiled steps cover steps after warm-up");
  if (r.buckets.empty())
    r.notes.push_back("warm-up covers every sampling step: the plan runs dense throughout");

  // Every head starts dense; the objective overwrites the layers after warm-up.
  r.choice.assign(r.buckets.size(), std::vector<int32_t>(static_cast<size_t>(r.layers * r.heads),
                                                         static_cast<int32_t>(r.dense)));
  switch (options.objective) {
    case Objective::paper: detail::choose_paper(input, r); break;
    case Objective::error_bound: detail::choose_error_bound(input, r); break;
    case Objective::time_budget: detail::choose_time_budget(input, r); break;
  }
  update_figures(input, r);
  return r;
}

}  // namespace svdit::search
