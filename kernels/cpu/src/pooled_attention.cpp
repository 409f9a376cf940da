#include "svdit/kernels/cpu/pooled_attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "head_parallel.h"
#include "input_checks.h"
#include "row_attention.h"

namespace svdit::kernels::cpu {

int64_t pooled_size(int64_t seq_len, int64_t block_size) {
  if (block_size <= 0) {
    throw std::invalid_argument("svdit::kernels::cpu::pooled_attention: block_size must be positive, got " +
                                std::to_string(block_size));
  }
  return (seq_len + block_size - 1) / block_size;
}

void pooled_attention(std::span<const float> q, std::span<const float> k, std::span<const float> lse,
                      const AttentionShape& shape, int64_t block_size, std::span<float> pooled) {
  validate(shape);
  const int64_t S = shape.seq_len;
  const int64_t D = shape.head_dim;
  const int64_t G = pooled_size(S, block_size);
  const char* fn = "pooled_attention";
  detail::check_size(fn, "q", static_cast<int64_t>(q.size()), shape.elements());
  detail::check_size(fn, "k", static_cast<int64_t>(k.size()), shape.elements());
  detail::check_size(fn, "lse", static_cast<int64_t>(lse.size()), shape.rows());
  detail::check_size(fn, "pooled", static_cast<int64_t>(pooled.size()), shape.heads_total() * G * G);

  detail::for_each_head(shape.heads_total(), [&](int64_t bh) {
    const float* q_head = q.data() + bh * S * D;  // [S, D]
    const float* k_head = k.data() + bh * S * D;  // [S, D]
    const float* lse_head = lse.data() + bh * S;  // [S]
    std::vector<double> sums(static_cast<size_t>(G * G), 0.0);  // [G, G] block sums of probabilities
    // One probability row at a time: p_ij needs only lse_i, so no S×S buffer is ever held.
    for (int64_t i = 0; i < S; ++i) {
      double* sum_row = sums.data() + (i / block_size) * G;  // [G]
      for (int64_t j = 0; j < S; ++j) {
        const double score = detail::scaled_dot(q_head + i * D, k_head + j * D, D, shape.scale());
        sum_row[j / block_size] += std::exp(score - static_cast<double>(lse_head[i]));
      }
    }
    float* pooled_head = pooled.data() + bh * G * G;  // [G, G]
    for (int64_t g = 0; g < G; ++g) {
      // The last query block may be partial: divide by the rows it really has, so every row is a mean.
      const int64_t rows = std::min(block_size, S - g * block_size);
      for (int64_t h = 0; h < G; ++h) {
        pooled_head[g * G + h] = static_cast<float>(sums[static_cast<size_t>(g * G + h)] / static_cast<double>(rows));
      }
    }
  });
}

}  // namespace svdit::kernels::cpu
