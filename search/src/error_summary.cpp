// Quantiles of the measured error over each bucket's calibration samples.
#include "svdit/search/error_summary.h"

#include <algorithm>
#include <cmath>

#include "svdit/search/input.h"

namespace svdit::search {

float nearest_rank_quantile(std::span<float> samples, double q) {
  const auto n = static_cast<int64_t>(samples.size());
  const auto rank = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(q * static_cast<double>(n))), 1, n);
  const auto nth = samples.begin() + (rank - 1);
  std::nth_element(samples.begin(), nth, samples.end());
  return *nth;
}

ErrorSummary::ErrorSummary(const SearchInput& input, const std::vector<Bucket>& buckets, double quantile)
    : layers_(input.meta.layers), heads_(input.meta.heads), candidates_(input.num_candidates()), quantile_(quantile) {
  const int64_t prompts = input.meta.num_prompts();
  // Flat offsets into error [prompt, step, layer, head, candidate] (validated shape): this loop reads every
  // measurement once, so it avoids Array5::at's per-element bounds checks.
  const int64_t step_stride = layers_ * heads_ * candidates_;
  const int64_t prompt_stride = input.meta.num_steps() * step_stride;
  const float* error = input.error.data.data();
  values_.resize(buckets.size() * static_cast<size_t>(layers_ * heads_ * candidates_));
  std::vector<float> samples;
  for (size_t b = 0; b < buckets.size(); ++b) {
    const std::vector<int64_t>& steps = buckets[b].profiled;
    for (int64_t l = 0; l < layers_; ++l)
      for (int64_t h = 0; h < heads_; ++h)
        for (int64_t c = 0; c < candidates_; ++c) {
          const int64_t within = (l * heads_ + h) * candidates_ + c;
          float value = 0.0f;
          if (quantile >= 1.0) {  // the common case, without the copy
            for (int64_t p = 0; p < prompts; ++p)
              for (const int64_t s : steps)
                value = std::max(value, error[p * prompt_stride + s * step_stride + within]);
          } else {
            samples.clear();
            for (int64_t p = 0; p < prompts; ++p)
              for (const int64_t s : steps) samples.push_back(error[p * prompt_stride + s * step_stride + within]);
            value = nearest_rank_quantile(samples, quantile);
          }
          values_[static_cast<size_t>(((static_cast<int64_t>(b) * layers_ + l) * heads_ + h) * candidates_ + c)] = value;
        }
  }
}

}  // namespace svdit::search
