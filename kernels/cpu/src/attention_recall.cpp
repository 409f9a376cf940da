#include "svdit/kernels/cpu/attention_recall.h"

#include <cmath>

#include "head_parallel.h"
#include "input_checks.h"
#include "layout_tokens.h"
#include "row_attention.h"

namespace svdit::kernels::cpu {

std::vector<double> attention_recall(std::span<const float> q, std::span<const float> k, std::span<const float> lse,
                                     const AttentionShape& shape,
                                     std::span<const svdit::data::BlockLayout* const> layouts) {
  validate(shape);
  const char* fn = "attention_recall";
  detail::check_size(fn, "q", static_cast<int64_t>(q.size()), shape.elements());
  detail::check_size(fn, "k", static_cast<int64_t>(k.size()), shape.elements());
  detail::check_size(fn, "lse", static_cast<int64_t>(lse.size()), shape.rows());
  detail::check_layouts(fn, layouts, shape);

  const int64_t S = shape.seq_len;
  const int64_t D = shape.head_dim;
  std::vector<double> recall(static_cast<size_t>(shape.heads_total()), 0.0);  // [B, H]
  detail::for_each_head(shape.heads_total(), [&](int64_t bh) {
    const svdit::data::BlockLayout& layout = *layouts[static_cast<size_t>(bh % shape.heads)];
    const float* q_head = q.data() + bh * S * D;  // [S, D]
    const float* k_head = k.data() + bh * S * D;  // [S, D]
    const float* lse_head = lse.data() + bh * S;  // [S]
    double kept = 0.0;                            // Σ over rows of the mass on computed keys
    for (int64_t block = 0; block < layout.num_blocks; ++block) {
      const std::vector<int64_t> keys = detail::key_tokens(layout, block);
      for (const int64_t i : detail::block_tokens(layout, block)) {
        for (const int64_t j : keys) {
          const double score = detail::scaled_dot(q_head + i * D, k_head + j * D, D, shape.scale());
          kept += std::exp(score - static_cast<double>(lse_head[i]));
        }
      }
    }
    recall[static_cast<size_t>(bh)] = kept / static_cast<double>(S);
  });
  return recall;
}

std::vector<double> attention_recall(std::span<const float> q, std::span<const float> k, std::span<const float> lse,
                                     const AttentionShape& shape, std::span<const svdit::data::BlockLayout> layouts) {
  std::vector<const svdit::data::BlockLayout*> pointers;  // [H]
  for (const svdit::data::BlockLayout& layout : layouts) {
    pointers.push_back(&layout);
  }
  return attention_recall(q, k, lse, shape, pointers);
}

}  // namespace svdit::kernels::cpu
