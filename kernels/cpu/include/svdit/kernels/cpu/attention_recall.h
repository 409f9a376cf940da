#pragma once
// The share of the dense attention mass a block layout keeps (the profile's /recall). See docs/REFERENCE.md.

#include <span>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu {

// Per (b, h) with layout L = layouts[h]: the mean over query rows i of Σ_{j in keys_L(i)} p_ij, where p_ij are
// the dense attention probabilities (lse must be the dense lse) and keys_L(i) is exactly the key set
// sparse_attention() uses for row i. Returns [B, H] (row-major). A dense layout gives 1 (up to rounding), a skip
// layout 0. Throws std::invalid_argument as sparse_attention() does.
std::vector<double> attention_recall(std::span<const float> q,    // [B, H, S, D]
                                     std::span<const float> k,    // [B, H, S, D]
                                     std::span<const float> lse,  // [B, H, S]
                                     const AttentionShape& shape,
                                     std::span<const svdit::data::BlockLayout* const> layouts);  // [H]

std::vector<double> attention_recall(std::span<const float> q,    // [B, H, S, D]
                                     std::span<const float> k,    // [B, H, S, D]
                                     std::span<const float> lse,  // [B, H, S]
                                     const AttentionShape& shape,
                                     std::span<const svdit::data::BlockLayout> layouts);  // [H]

}  // namespace svdit::kernels::cpu
