#pragma once
// Frame-to-frame attention mass of the video tokens: the map the profiler stores as /maps/frames and the one
// that shows which heads are temporal. See docs/REFERENCE.md.

#include <span>

#include "svdit/data/token_layout.h"
#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu {

// With p_ij the dense attention probabilities (as in pooled_attention.h) and F, P from `layout`:
//   frames[f, f'] = (1 / P) · Σ_{i in video frame f} Σ_{j in video frame f'} p_ij
// Text rows and columns are left out, so a row sums to 1 minus the mean mass its frame puts on text keys.
// Throws std::invalid_argument on a size mismatch or when layout.seq_len() != S.
void frame_attention(std::span<const float> q,    // [B, H, S, D]
                     std::span<const float> k,    // [B, H, S, D]
                     std::span<const float> lse,  // [B, H, S]
                     const AttentionShape& shape, const svdit::data::TokenLayout& layout,
                     std::span<float> frames);  // [B, H, F, F]

}  // namespace svdit::kernels::cpu
