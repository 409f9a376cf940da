// Block-sparse attention on the CPU with ATen GEMMs (see sparse_attention_cpu.h).

#include "svdit/runtime/sparse_attention_cpu.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace svdit::runtime {

CpuBlockIndex::CpuBlockIndex(const data::BlockLayout& layout) : layout_(&layout) {
  const int64_t S = layout.seq_len, b = layout.block_size, G = layout.num_blocks;
  const auto i64 = at::TensorOptions().dtype(at::kLong);
  if (layout.permuted()) {
    order_ = at::empty({S}, i64);  // [S]
    int64_t* o = order_.data_ptr<int64_t>();
    for (int64_t l = 0; l < S; ++l) o[l] = layout.order[static_cast<size_t>(l)];
  }
  dense_ = !layout.skip && !layout.permuted() && layout.computed_blocks() == G * G;
  if (layout.skip || dense_) return;
  keys_.reserve(static_cast<size_t>(G));
  for (int64_t qb = 0; qb < G; ++qb) {
    std::vector<int64_t> positions;
    for (const int32_t kb : layout.keys_of(qb)) {
      for (int64_t p = kb * b; p < std::min<int64_t>((kb + 1) * b, S); ++p) positions.push_back(p);
    }
    keys_.push_back(at::tensor(positions, i64));  // [n]
  }
}

at::Tensor sparse_attention_cpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const std::vector<const CpuBlockIndex*>& heads) {
  if (q.dim() != 4 || k.sizes() != q.sizes() || v.sizes() != q.sizes() ||
      q.size(2) != static_cast<int64_t>(heads.size())) {
    throw std::invalid_argument("sparse_attention_cpu: expected q, k, v of one shape [B, S, " +
                                std::to_string(heads.size()) + ", D], found " + c10::str(q.sizes()) + ", " +
                                c10::str(k.sizes()) + ", " + c10::str(v.sizes()));
  }
  const int64_t S = q.size(1), D = q.size(3);
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  at::Tensor out = at::zeros(q.sizes(), q.options().dtype(at::kFloat));  // [B, S, H, D]

  // Per sparse head, q/k/v in layout order and an output buffer; dense heads go to SDPA right away.
  struct SparseHead {
    const CpuBlockIndex* index;
    int64_t head;
    at::Tensor q, k, v, out;  // [B, S, D] in layout order
  };
  std::vector<SparseHead> sparse;
  for (size_t h = 0; h < heads.size(); ++h) {
    const CpuBlockIndex& index = *heads[h];
    const data::BlockLayout& layout = index.layout();
    if (layout.seq_len != S) {
      throw std::invalid_argument("sparse_attention_cpu: head " + std::to_string(h) + "'s layout has S = " +
                                  std::to_string(layout.seq_len) + ", the tensors " + std::to_string(S));
    }
    if (layout.skip) continue;  // zero output
    const auto head = static_cast<int64_t>(h);
    at::Tensor qh = q.select(2, head).to(at::kFloat);  // [B, S, D]
    at::Tensor kh = k.select(2, head).to(at::kFloat);  // [B, S, D]
    at::Tensor vh = v.select(2, head).to(at::kFloat);  // [B, S, D]
    if (index.dense()) {
      out.select(2, head).copy_(at::scaled_dot_product_attention(qh, kh, vh));  // [B, S, D]
      continue;
    }
    if (index.order().defined()) {  // into layout order
      qh = qh.index_select(1, index.order());
      kh = kh.index_select(1, index.order());
      vh = vh.index_select(1, index.order());
    }
    sparse.push_back({&index, head, qh.contiguous(), kh.contiguous(), vh.contiguous(), at::zeros_like(qh)});
  }

  // One parallel loop over every (sparse head, query block): the small GEMMs inside run single-threaded, which
  // on a few cores is far cheaper than a thread-pool hand-off for each of them. Each task writes its own rows.
  std::vector<std::pair<size_t, int64_t>> tasks;  // (sparse head, query block)
  for (size_t i = 0; i < sparse.size(); ++i) {
    for (int64_t qb = 0; qb < sparse[i].index->layout().num_blocks; ++qb) tasks.emplace_back(i, qb);
  }
  at::parallel_for(0, static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const auto [i, qb] = tasks[static_cast<size_t>(t)];
      const SparseHead& sh = sparse[i];
      const at::Tensor& keys = sh.index->keys(qb);  // [n]
      if (keys.numel() == 0) continue;              // a query block with no keys outputs zero (as the kernels do)
      const int64_t b = sh.index->layout().block_size, rows = std::min(b, S - qb * b);
      const at::Tensor qi = sh.q.narrow(1, qb * b, rows);                               // [B, rows, D]
      const at::Tensor kg = sh.k.index_select(1, keys);                                 // [B, n, D]
      const at::Tensor vg = sh.v.index_select(1, keys);                                 // [B, n, D]
      const at::Tensor p = at::softmax(at::bmm(qi, kg.transpose(1, 2)).mul_(scale), -1);  // [B, rows, n]
      sh.out.narrow(1, qb * b, rows).copy_(at::bmm(p, vg));                             // [B, rows, D]
    }
  });

  for (const SparseHead& sh : sparse) {
    if (sh.index->order().defined()) {  // back to token order
      out.select(2, sh.head).index_copy_(1, sh.index->order(), sh.out);
    } else {
      out.select(2, sh.head).copy_(sh.out);
    }
  }
  return out.to(q.scalar_type());
}

}  // namespace svdit::runtime
