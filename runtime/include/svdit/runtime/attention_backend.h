#pragma once
// Self-attention backends behind one interface. The DiT hands every self-attention layer's RoPE'd q, k, v to the
// backend of the forward pass; the backend decides how to compute it: dense (cuDNN/flash through
// at::scaled_dot_product_attention) or by a sparse plan (sparse_plan_attention.h). Cross-attention is always
// dense (512 text keys) and does not go through here.

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/token_layout.h"

namespace svdit::runtime {

// Which classifier-free-guidance branch a forward pass computes.
enum class CfgBranch { conditional, unconditional };
const char* to_string(CfgBranch branch);

// Where in the sampling run a self-attention call happens. Plans are indexed by (step, layer, head).
struct SelfAttentionCall {
  int64_t step = 0;   // denoising step index, 0-based
  int64_t layer = 0;  // block index, 0-based
  CfgBranch branch = CfgBranch::conditional;
  const data::TokenLayout* layout = nullptr;  // the token grid of this forward (T0 = T1 = 0 for Wan)
  // The model's head index of each head q/k/v carry, in order; null: all heads 0..H-1. Head-parallel attention
  // (sequence_parallel.h) hands each rank's backend only the heads placed on it. A backend whose answer depends on
  // the head index (a plan) must honour it.
  const std::vector<int64_t>* heads = nullptr;
};

class AttentionBackend {
 public:
  virtual ~AttentionBackend() = default;
  virtual std::string name() const = 0;
  // q, k, v: [B, S, H, D] in the compute dtype, RoPE applied; returns [B, S, H, D] in the same dtype.
  virtual at::Tensor self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const SelfAttentionCall& call) = 0;
};

// Full non-causal softmax attention, scale 1/√D, on [B, S, H, D] tensors (any device).
at::Tensor dense_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

class DenseAttention final : public AttentionBackend {
 public:
  std::string name() const override { return "dense"; }
  at::Tensor self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const SelfAttentionCall& call) override;
};

}  // namespace svdit::runtime
