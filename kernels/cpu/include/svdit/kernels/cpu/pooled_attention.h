#pragma once
// Block-pooled dense attention probabilities: the attention maps the profiler stores (/maps/pooled) and the
// analyzer draws. See docs/REFERENCE.md.

#include <cstdint>
#include <span>

#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu {

// Number of blocks ⌈S / b⌉ along each side of the pooled map.
int64_t pooled_size(int64_t seq_len, int64_t block_size);

// With p_ij = exp((q_i · k_j)/√D − lse_i) the dense attention probabilities, in ORIGINAL token order and blocks
// of b consecutive tokens (the last one may be partial), G = ⌈S / b⌉:
//   pooled[g, g'] = (1 / rows(g)) · Σ_{i in block g} Σ_{j in block g'} p_ij
// so each pooled row is the mean attention row of its query block and sums to 1 (when lse is the dense lse).
// `lse` must be the dense log-sum-exp of the same q and k (from dense_attention). Memory O(G² + S), never S².
// Throws std::invalid_argument on a size mismatch or block_size ≤ 0.
void pooled_attention(std::span<const float> q,    // [B, H, S, D]
                      std::span<const float> k,    // [B, H, S, D]
                      std::span<const float> lse,  // [B, H, S]
                      const AttentionShape& shape, int64_t block_size,
                      std::span<float> pooled);  // [B, H, G, G]

}  // namespace svdit::kernels::cpu
