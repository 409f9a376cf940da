#pragma once
// Block-sparse attention on the CPU for running plans (the sparse plan executor's CPU path). The plain reference
// in kernels/cpu is written for clarity and checks every kernel; this path is written for speed with ATen's
// GEMMs: per head and query block it gathers that block's key blocks and runs one small softmax(q·kᵀ)·v, so the
// work is proportional to the computed blocks, as on the GPU. Layout semantics are exactly block_layout.h's:
// permuted heads are gathered into layout order first and their output scattered back.

#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/block_layout.h"

namespace svdit::runtime {

// The gather indices of one compiled layout, built once and reused at every step.
class CpuBlockIndex {
 public:
  explicit CpuBlockIndex(const data::BlockLayout& layout);
  const data::BlockLayout& layout() const { return *layout_; }
  const at::Tensor& order() const { return order_; }        // [S] int64 layout position → token; undefined: identity
  const at::Tensor& keys(int64_t query_block) const { return keys_[static_cast<size_t>(query_block)]; }  // [n] int64
  bool dense() const { return dense_; }                     // every block computed, no permutation

 private:
  const data::BlockLayout* layout_;
  at::Tensor order_;
  std::vector<at::Tensor> keys_;  // per query block: layout positions of its keys, ascending
  bool dense_ = false;
};

// q, k, v: [B, S, H, D] float CPU tensors; heads[h] describes head h (a skip layout gives zeros). Returns
// [B, S, H, D] in q's dtype; the softmax runs in fp32.
at::Tensor sparse_attention_cpu(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const std::vector<const CpuBlockIndex*>& heads);

}  // namespace svdit::runtime
