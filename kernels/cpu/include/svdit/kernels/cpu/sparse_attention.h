#pragma once
// Block-sparse attention over compiled block layouts (one per head): the specification of the GPU block-sparse
// kernel. See docs/REFERENCE.md for the exact definition and conventions.

#include <span>

#include "svdit/data/block_layout.h"
#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu {

// For every (b, h) with layout L = layouts[h] (the same layouts for every batch entry):
//   query token i sits at layout position l (L.token_at(l) = i), in query block l / b;
//   its keys are the tokens L.token_at(m) for every layout position m of every key block listed for that
//   query block (whole blocks; the last block holds S − (num_blocks − 1)·b positions);
//   out_i and lse_i are dense attention (see dense_attention.h) restricted to those keys, written at the
//   ORIGINAL position i.
// A row with no keys (a skip layout, or a query block with an empty key list) gets out_i = 0, lse_i = −inf.
// Throws std::invalid_argument when a span's size does not match `shape`, when layouts.size() != H, or when a
// layout is malformed or made for another sequence length (order not a permutation of [0, S), CSR out of range).
void sparse_attention(std::span<const float> q,  // [B, H, S, D]
                      std::span<const float> k,  // [B, H, S, D]
                      std::span<const float> v,  // [B, H, S, D]
                      const AttentionShape& shape,
                      std::span<const svdit::data::BlockLayout* const> layouts,  // [H]
                      std::span<float> out,   // [B, H, S, D]
                      std::span<float> lse);  // [B, H, S]

// Convenience overload for layouts held by value, one per head.
void sparse_attention(std::span<const float> q,  // [B, H, S, D]
                      std::span<const float> k,  // [B, H, S, D]
                      std::span<const float> v,  // [B, H, S, D]
                      const AttentionShape& shape,
                      std::span<const svdit::data::BlockLayout> layouts,  // [H]
                      std::span<float> out,   // [B, H, S, D]
                      std::span<float> lse);  // [B, H, S]

}  // namespace svdit::kernels::cpu
