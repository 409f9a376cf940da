// --objective paper: Sparse-vDiT's selection rule, for reproducing the method.
//
// Per (bucket, layer, head), over the sparse candidates c (every candidate but dense):
//     L_c = error_c + λ·(1 − S_c),   S_c = 1 − block density_c   (so the second term is λ·density_c)
// The head keeps dense when every L_c > ε, else takes argmin L_c (ties: lower density, then lower index).
// The rule looks at no measured time; the plan's heads still fuse by shared pattern, and the predicted time
// is computed the same way as for the other objectives.
#include "objectives.h"

namespace svdit::search::detail {

void choose_paper(const SearchInput& input, SearchResult& r) {
  const double lambda = r.options.lambda_value();
  const double epsilon = r.options.epsilon_value();
  for (size_t b = 0; b < r.buckets.size(); ++b)
    for (int64_t l = r.options.warmup_layers; l < r.layers; ++l)
      for (int64_t h = 0; h < r.heads; ++h) {
        const std::span<const float> error = r.errors.head(static_cast<int64_t>(b), l, h);
        int64_t best = -1;
        double best_loss = 0.0, best_density = 0.0;
        for (int64_t c = 0; c < input.num_candidates(); ++c) {
          if (c == r.dense) continue;
          const double density = input.candidates[static_cast<size_t>(c)].block_density;
          const double loss = static_cast<double>(error[static_cast<size_t>(c)]) + lambda * density;
          if (best < 0 || loss < best_loss || (loss == best_loss && density < best_density)) {
            best = c;
            best_loss = loss;
            best_density = density;
          }
        }
        const bool keep_dense = best < 0 || best_loss > epsilon;
        r.choice[b][static_cast<size_t>(l * r.heads + h)] = static_cast<int32_t>(keep_dense ? r.dense : best);
      }
}

}  // namespace svdit::search::detail
