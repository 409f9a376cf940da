#pragma once
// The error each candidate would cause, as the objectives see it: for every (bucket, layer, head, candidate) the
// q-quantile of the relative MSE over the bucket's calibration samples — every prompt at every profiled step of
// the bucket. Nearest-rank quantile (no interpolation): the value is one of the measured samples, so at q = 1 it
// is the maximum and "error ≤ ε" holds for every calibration sample.

#include <cstdint>
#include <span>
#include <vector>

#include "svdit/search/buckets.h"

namespace svdit::search {

struct SearchInput;

// Nearest-rank q-quantile of `samples` (reordered in place): the ⌈q·n⌉-th smallest, the smallest for q = 0.
float nearest_rank_quantile(std::span<float> samples, double q);

class ErrorSummary {
 public:
  ErrorSummary() = default;
  ErrorSummary(const SearchInput& input, const std::vector<Bucket>& buckets, double quantile);

  // The candidates' errors for one head, [candidate].
  std::span<const float> head(int64_t bucket, int64_t layer, int64_t head) const {
    return {&values_[static_cast<size_t>(((bucket * layers_ + layer) * heads_ + head) * candidates_)],
            static_cast<size_t>(candidates_)};
  }
  double at(int64_t bucket, int64_t layer, int64_t head_index, int64_t candidate) const {
    return head(bucket, layer, head_index)[static_cast<size_t>(candidate)];
  }
  double quantile() const { return quantile_; }

 private:
  int64_t layers_ = 0, heads_ = 0, candidates_ = 0;
  double quantile_ = 1.0;
  std::vector<float> values_;  // [bucket, layer, head, candidate]
};

}  // namespace svdit::search
