// svdit.sparse_attention on CPU tensors: block-sparse attention with ATen's GEMMs, written for speed (the plain
// reference in kernels/cpu is written for clarity and checks every kernel). Per head with a permutation, q/k/v
// are gathered into layout order; then one parallel loop over every (head, query block) gathers that block's
// key blocks (a view when they are consecutive) and runs one small softmax(q·kᵀ·scale)·v in fp32, so the work is
// proportional to the computed blocks, as on the GPU. Outputs (and lse) are scattered back to token order.
// Registered for the CPU dispatch key.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sparse_attention_inputs.h"

namespace svdit::kernels::torch_ops {

namespace {

constexpr const char* kKernel = "svdit.sparse_attention (CPU)";

// The layout arrays may come from Python: check everything the loops below index with (the CUDA kernel gets the
// same guarantees from data::pack_layouts on the host).
void check_layout_arrays(const SparseAttentionSizes& s, const at::Tensor& row_begin, const at::Tensor& key_blocks) {
  const int32_t* rb = row_begin.const_data_ptr<int32_t>();
  const int32_t* kb = key_blocks.const_data_ptr<int32_t>();
  const int64_t total = key_blocks.numel();
  for (int64_t h = 0; h < s.heads; ++h) {
    const int32_t* row = rb + h * (s.num_blocks + 1);
    for (int64_t qb = 0; qb < s.num_blocks; ++qb) {
      TORCH_CHECK(row[qb] >= 0 && row[qb] <= row[qb + 1] && row[qb + 1] <= total, kKernel, ": row_begin[", h, "][",
                  qb, "..", qb + 1, "] = ", row[qb], ", ", row[qb + 1],
                  " is not an ascending range inside key_blocks (", total, " entries)");
      for (int32_t i = row[qb]; i < row[qb + 1]; ++i) {
        TORCH_CHECK(kb[i] >= 0 && kb[i] < s.num_blocks && (i == row[qb] || kb[i] > kb[i - 1]), kKernel,
                    ": the key blocks of head ", h, ", query block ", qb, " are not ascending inside [0, ",
                    s.num_blocks, ") (key_blocks[", i, "] = ", kb[i], ")");
      }
    }
  }
}

// Row h of `order` as int64 layout position → token, checked to be a permutation (the output is scattered
// through it); undefined when the row is the identity (an unpermuted head in a layer with permuted ones).
at::Tensor head_order(const SparseAttentionSizes& s, const at::Tensor& order, int64_t h) {
  const int32_t* row = order.const_data_ptr<int32_t>() + h * s.seq_len;
  std::vector<char> seen(static_cast<size_t>(s.seq_len), 0);
  bool identity = true;
  for (int64_t l = 0; l < s.seq_len; ++l) {
    const int32_t t = row[l];
    TORCH_CHECK(t >= 0 && t < s.seq_len && !seen[static_cast<size_t>(t)], kKernel, ": order[", h,
                "] is not a permutation of [0, ", s.seq_len, ") (order[", h, "][", l, "] = ", t, ")");
    seen[static_cast<size_t>(t)] = 1;
    identity = identity && t == l;
  }
  if (identity) return {};
  return order.select(0, h).to(at::kLong);  // [S]
}

// One head that computes something, in layout order.
struct HeadWork {
  int64_t head = 0;
  at::Tensor order;    // [S] int64 layout position → token; undefined: identity
  at::Tensor q, k, v;  // [B, S, D] fp32 contiguous
  at::Tensor out;      // [B, S, D] fp32, 0 where a query block has no key block
  at::Tensor lse;      // [B, S] fp32, -inf where a query block has no key block
};

std::tuple<at::Tensor, at::Tensor> sparse_attention_cpu(const at::Tensor& q, const at::Tensor& k,
                                                        const at::Tensor& v, const at::Tensor& row_begin,
                                                        const at::Tensor& key_blocks,
                                                        const std::optional<at::Tensor>& order, int64_t block_size,
                                                        c10::string_view backend, int64_t variant) {
  const SparseAttentionSizes s = check_sparse_attention_inputs(kKernel, q, k, v, row_begin, key_blocks, order,
                                                               block_size, {at::kFloat, at::kBFloat16, at::kHalf});
  TORCH_CHECK(backend == "automatic" || backend == "auto", kKernel, ": backend '", std::string(backend),
              "' is a CUDA backend (CPU tensors take 'automatic')");
  TORCH_CHECK(variant == 0, kKernel, ": variant ", variant, " is a CUDA benchmarking knob (CPU tensors take 0)");
  check_layout_arrays(s, row_begin, key_blocks);

  const int64_t S = s.seq_len, b = s.block_size, nb = s.num_blocks;
  const int32_t* rb = row_begin.const_data_ptr<int32_t>();
  const int32_t* kb = key_blocks.const_data_ptr<int32_t>();
  const float neg_inf = -std::numeric_limits<float>::infinity();

  std::vector<HeadWork> work;
  for (int64_t h = 0; h < s.heads; ++h) {
    const int32_t* row = rb + h * (nb + 1);
    if (row[nb] == row[0]) continue;  // no key block at all (a skip head): output 0, lse -inf
    HeadWork w;
    w.head = h;
    if (s.permuted) w.order = head_order(s, *order, h);
    auto layout_order = [&](const at::Tensor& t) {  // [B, S, H, D] → head h, [B, S, D] fp32 in layout order
      at::Tensor x = t.select(2, h).to(at::kFloat);
      if (w.order.defined()) x = x.index_select(1, w.order);
      return x.contiguous();
    };
    w.q = layout_order(q);
    w.k = layout_order(k);
    w.v = layout_order(v);
    w.out = at::zeros_like(w.q);
    w.lse = at::full({s.batch, S}, neg_inf, w.q.options());
    work.push_back(std::move(w));
  }

  // One parallel loop over every (head, query block) with keys: the small GEMMs inside run single-threaded,
  // which on a few cores is far cheaper than a thread-pool hand-off for each of them. Each task writes its rows.
  std::vector<std::pair<size_t, int64_t>> tasks;  // (index into work, query block)
  for (size_t i = 0; i < work.size(); ++i) {
    const int32_t* row = rb + work[i].head * (nb + 1);
    for (int64_t qb = 0; qb < nb; ++qb) {
      if (row[qb + 1] > row[qb]) tasks.emplace_back(i, qb);
    }
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(s.head_dim));
  at::parallel_for(0, static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> positions;
    for (int64_t t = begin; t < end; ++t) {
      const auto [i, qb] = tasks[static_cast<size_t>(t)];
      const HeadWork& w = work[i];
      const int32_t* row = rb + w.head * (nb + 1);
      const int32_t* keys = kb + row[qb];
      const int64_t n = row[qb + 1] - row[qb];
      at::Tensor kg, vg;  // [B, keys, D]
      if (keys[n - 1] - keys[0] == n - 1) {  // consecutive key blocks (ascending, checked): a view
        const int64_t first = keys[0] * b, last = std::min<int64_t>((keys[n - 1] + 1) * b, S);
        kg = w.k.narrow(1, first, last - first);
        vg = w.v.narrow(1, first, last - first);
      } else {
        positions.clear();
        for (int64_t j = 0; j < n; ++j) {
          for (int64_t p = keys[j] * b; p < std::min<int64_t>((keys[j] + 1) * b, S); ++p) positions.push_back(p);
        }
        const at::Tensor index = at::from_blob(positions.data(), {static_cast<int64_t>(positions.size())}, at::kLong);
        kg = w.k.index_select(1, index);
        vg = w.v.index_select(1, index);
      }
      const int64_t first_row = qb * b, rows = std::min(b, S - first_row);
      at::Tensor scores = at::bmm(w.q.narrow(1, first_row, rows), kg.transpose(1, 2)).mul_(scale);  // [B, rows, n]
      // Softmax with one exp pass, relative to the row's maximum. Scores far below it make exp underflow into
      // denormals, the slow path of the CPU's exp (13× slower for a peaked row, measured on the 2-core development
      // machine; a trained model's rows are peaked, random weights' are not): clamped at −80, such a weight
      // becomes e⁻⁸⁰ ≈ 1.8e-35 of the maximum instead of less, far below fp32's resolution of the row's sum.
      const at::Tensor row_max = std::get<0>(scores.max(-1, /*keepdim=*/true));  // [B, rows, 1]
      scores.sub_(row_max).clamp_min_(-80.0).exp_();                            // unnormalised weights
      const at::Tensor row_sum = scores.sum(-1, /*keepdim=*/true);               // [B, rows, 1], ≥ 1
      w.out.narrow(1, first_row, rows).copy_(at::bmm(scores, vg).div_(row_sum));            // [B, rows, D]
      w.lse.narrow(1, first_row, rows).copy_((row_max + row_sum.log()).squeeze(-1));        // [B, rows]
    }
  });

  at::Tensor out = at::zeros({s.batch, S, s.heads, s.head_dim}, q.options().dtype(at::kFloat));  // [B, S, H, D]
  at::Tensor lse = at::full({s.batch, s.heads, S}, neg_inf, q.options().dtype(at::kFloat));       // [B, H, S]
  for (const HeadWork& w : work) {
    if (w.order.defined()) {  // back to token order
      out.select(2, w.head).index_copy_(1, w.order, w.out);
      lse.select(1, w.head).index_copy_(1, w.order, w.lse);
    } else {
      out.select(2, w.head).copy_(w.out);
      lse.select(1, w.head).copy_(w.lse);
    }
  }
  return {out.to(q.scalar_type()), lse};
}
static_assert(std::is_same_v<decltype(sparse_attention_cpu), SparseAttentionSignature>);

}  // namespace

}  // namespace svdit::kernels::torch_ops

TORCH_LIBRARY_IMPL(svdit, CPU, m) { m.impl("sparse_attention", &svdit::kernels::torch_ops::sparse_attention_cpu); }
