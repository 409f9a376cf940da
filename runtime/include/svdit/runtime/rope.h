#pragma once
// Wan2.1's 3D rotary position embedding (reference/wan21-spec.md §2 "3D RoPE (exact)"): channel pairs (2j, 2j+1)
// of every head are rotated as complex numbers — interleaved, not rotate-half — by an angle that depends on the
// token's (frame, row, column) in the patch grid. The c = head_dim/2 pairs are split over the three axes as
// [c − 2⌊c/3⌋, ⌊c/3⌋, ⌊c/3⌋] (22/21/21 for head_dim 128); within an axis of n pairs, pair k turns by
// position · θ^(−k/n) (θ = 10000; = θ^(−2k/D_a) with D_a = 2n channels). Positions are 0-based integers.

#include <array>
#include <cstdint>

#include <ATen/core/Tensor.h>

namespace svdit::runtime {

// Pairs per axis (frames, rows, columns) for a head_dim.
std::array<int64_t, 3> rope_axis_pairs(int64_t head_dim);

struct RopeTable {
  int64_t frames = 0, height = 0, width = 0;  // the grid F' × H' × W'
  at::Tensor cos;  // [S, head_dim/2] fp32, S = F'·H'·W' in frame-major order
  at::Tensor sin;  // [S, head_dim/2] fp32
};

// Angles computed in fp64 (as the reference does), stored as fp32 cos/sin on `device`.
RopeTable make_rope_table(int64_t head_dim, int64_t frames, int64_t height, int64_t width, double theta,
                          at::Device device);

// x: [B, S, H, head_dim] of any float dtype → rotated, in fp32 (the caller casts for attention).
at::Tensor apply_rope(const at::Tensor& x, const RopeTable& table);

}  // namespace svdit::runtime
