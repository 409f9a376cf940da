#include "svdit/kernels/cpu/sparse_attention.h"

#include <vector>

#include "head_parallel.h"
#include "input_checks.h"
#include "layout_tokens.h"
#include "row_attention.h"

namespace svdit::kernels::cpu {

void sparse_attention(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                      const AttentionShape& shape, std::span<const svdit::data::BlockLayout* const> layouts,
                      std::span<float> out, std::span<float> lse) {
  validate(shape);
  const char* fn = "sparse_attention";
  detail::check_size(fn, "q", static_cast<int64_t>(q.size()), shape.elements());
  detail::check_size(fn, "k", static_cast<int64_t>(k.size()), shape.elements());
  detail::check_size(fn, "v", static_cast<int64_t>(v.size()), shape.elements());
  detail::check_size(fn, "out", static_cast<int64_t>(out.size()), shape.elements());
  detail::check_size(fn, "lse", static_cast<int64_t>(lse.size()), shape.rows());
  detail::check_layouts(fn, layouts, shape);

  const int64_t S = shape.seq_len;
  const int64_t D = shape.head_dim;
  detail::for_each_head(shape.heads_total(), [&](int64_t bh) {
    const svdit::data::BlockLayout& layout = *layouts[static_cast<size_t>(bh % shape.heads)];
    const int64_t head_offset = bh * S * D;
    std::vector<double> scores;
    // Every query block in layout order; its rows are written back at their original token positions, so
    // the un-permutation is implicit in the indexing.
    for (int64_t block = 0; block < layout.num_blocks; ++block) {
      const std::vector<int64_t> keys = detail::key_tokens(layout, block);
      for (const int64_t i : detail::block_tokens(layout, block)) {
        detail::attend_row(q.data() + head_offset + i * D, k.data() + head_offset, v.data() + head_offset, keys, D,
                           shape.scale(), scores, out.data() + head_offset + i * D, lse.data() + bh * S + i);
      }
    }
  });
}

void sparse_attention(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                      const AttentionShape& shape, std::span<const svdit::data::BlockLayout> layouts,
                      std::span<float> out, std::span<float> lse) {
  std::vector<const svdit::data::BlockLayout*> pointers;  // [H]
  for (const svdit::data::BlockLayout& layout : layouts) {
    pointers.push_back(&layout);
  }
  sparse_attention(q, k, v, shape, pointers, out, lse);
}

}  // namespace svdit::kernels::cpu
