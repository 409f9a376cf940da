#pragma once
// Dense (full, non-causal) scaled dot-product attention: the ground truth every sparse pattern is measured
// against. See docs/REFERENCE.md for the exact definition and conventions.

#include <span>

#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu {

// For every (b, h) and query row i:
//   s_ij   = (q_i · k_j) / √D                      over all keys j (non-causal)
//   lse_i  = log Σ_j exp(s_ij)                      natural log
//   out_i  = Σ_j exp(s_ij − lse_i) · v_j
// Accumulated in fp64, stored in fp32. Throws std::invalid_argument when a span's size does not match `shape`.
void dense_attention(std::span<const float> q,  // [B, H, S, D]
                     std::span<const float> k,  // [B, H, S, D]
                     std::span<const float> v,  // [B, H, S, D]
                     const AttentionShape& shape,
                     std::span<float> out,   // [B, H, S, D]
                     std::span<float> lse);  // [B, H, S]

}  // namespace svdit::kernels::cpu
