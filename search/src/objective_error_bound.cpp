// --objective error-bound (the default): the least predicted time such that every head's error stays ≤ ε.
//
// A head may run candidate c when the quantile of c's error over the bucket's calibration samples is ≤ ε; dense
// is always allowed (it is the reference the errors are measured against). Within that, each layer is solved
// by the layer solver (layer_solver.h) with the layer's predicted time as the objective and error as the
// tie-break: it sees the whole launch, so for example a layer stays all dense (the dense path) when the one
// sparse-capable head would save less than the sparse launch costs over it.
#include <algorithm>
#include <limits>
#include <vector>

#include "objectives.h"
#include "svdit/search/layer_solver.h"

namespace svdit::search::detail {

void choose_error_bound(const SearchInput& input, SearchResult& r) {
  const double epsilon = r.options.epsilon_value();
  const int64_t candidates = input.num_candidates();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> primary(static_cast<size_t>(r.heads * candidates));
  std::vector<double> secondary(primary.size());
  for (size_t b = 0; b < r.buckets.size(); ++b)
    for (int64_t l = r.options.warmup_layers; l < r.layers; ++l) {
      for (int64_t h = 0; h < r.heads; ++h) {
        const std::span<const float> error = r.errors.head(static_cast<int64_t>(b), l, h);
        for (int64_t c = 0; c < candidates; ++c) {
          const auto at = static_cast<size_t>(h * candidates + c);
          const double e = c == r.dense ? 0.0 : static_cast<double>(error[static_cast<size_t>(c)]);
          primary[at] = e <= epsilon ? 0.0 : inf;
          secondary[at] = e;
        }
      }
      const LayerSolution solution = solve_layer(LayerProblem{.heads = r.heads,
                                                              .candidates = candidates,
                                                              .primary = primary,
                                                              .secondary = secondary,
                                                              .cost = &r.cost,
                                                              .time_weight = 1.0});
      std::copy(solution.choice.begin(), solution.choice.end(), r.choice[b].begin() + l * r.heads);
    }
}

}  // namespace svdit::search::detail
