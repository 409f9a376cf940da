#include "svdit/kernels/cpu/dense_attention.h"

#include <numeric>
#include <vector>

#include "head_parallel.h"
#include "input_checks.h"
#include "row_attention.h"

namespace svdit::kernels::cpu {

void dense_attention(std::span<const float> q, std::span<const float> k, std::span<const float> v,
                     const AttentionShape& shape, std::span<float> out, std::span<float> lse) {
  validate(shape);
  const char* fn = "dense_attention";
  detail::check_size(fn, "q", static_cast<int64_t>(q.size()), shape.elements());
  detail::check_size(fn, "k", static_cast<int64_t>(k.size()), shape.elements());
  detail::check_size(fn, "v", static_cast<int64_t>(v.size()), shape.elements());
  detail::check_size(fn, "out", static_cast<int64_t>(out.size()), shape.elements());
  detail::check_size(fn, "lse", static_cast<int64_t>(lse.size()), shape.rows());

  const int64_t S = shape.seq_len;
  const int64_t D = shape.head_dim;
  std::vector<int64_t> all_keys(static_cast<size_t>(S));  // [S]: every key, in order
  std::iota(all_keys.begin(), all_keys.end(), int64_t{0});

  detail::for_each_head(shape.heads_total(), [&](int64_t bh) {
    const int64_t head_offset = bh * S * D;
    std::vector<double> scores;
    for (int64_t i = 0; i < S; ++i) {
      detail::attend_row(q.data() + head_offset + i * D, k.data() + head_offset, v.data() + head_offset, all_keys,
                         D, shape.scale(), scores, out.data() + head_offset + i * D, lse.data() + bh * S + i);
    }
  });
}

}  // namespace svdit::kernels::cpu
