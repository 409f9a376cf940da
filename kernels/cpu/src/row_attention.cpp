#include "row_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace svdit::kernels::cpu::detail {

double scaled_dot(const float* q_row, const float* k_row, int64_t head_dim, double scale) {
  double dot = 0.0;
  for (int64_t d = 0; d < head_dim; ++d) {
    dot += static_cast<double>(q_row[d]) * static_cast<double>(k_row[d]);
  }
  return scale * dot;
}

void attend_row(const float* q_row, const float* k_head, const float* v_head, std::span<const int64_t> key_tokens,
                int64_t head_dim, double scale, std::vector<double>& scores, float* out_row, float* lse_row) {
  if (key_tokens.empty()) {
    std::fill(out_row, out_row + head_dim, 0.0f);
    *lse_row = -std::numeric_limits<float>::infinity();
    return;
  }
  // Pass 1: scores and their maximum, so that exp() below never overflows.
  scores.resize(key_tokens.size());
  double max_score = -std::numeric_limits<double>::infinity();
  for (size_t j = 0; j < key_tokens.size(); ++j) {
    scores[j] = scaled_dot(q_row, k_head + key_tokens[j] * head_dim, head_dim, scale);
    max_score = std::max(max_score, scores[j]);
  }
  // Pass 2: unnormalised weights exp(s_j − max), their sum, and the weighted sum of values.
  std::vector<double> acc(static_cast<size_t>(head_dim), 0.0);
  double sum = 0.0;
  for (size_t j = 0; j < key_tokens.size(); ++j) {
    const double weight = std::exp(scores[j] - max_score);
    sum += weight;
    const float* v_row = v_head + key_tokens[j] * head_dim;
    for (int64_t d = 0; d < head_dim; ++d) {
      acc[static_cast<size_t>(d)] += weight * static_cast<double>(v_row[d]);
    }
  }
  for (int64_t d = 0; d < head_dim; ++d) {
    out_row[d] = static_cast<float>(acc[static_cast<size_t>(d)] / sum);
  }
  *lse_row = static_cast<float>(max_score + std::log(sum));
}

}  // namespace svdit::kernels::cpu::detail
