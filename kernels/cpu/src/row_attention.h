#pragma once
// The arithmetic of one attention row, shared by every reference function so that "the score of (i, j)" and
// "softmax over a key set" have exactly one definition. All of it in fp64 from fp32 inputs.

#include <cstdint>
#include <span>
#include <vector>

namespace svdit::kernels::cpu::detail {

// scale · (q_row · k_row), accumulated in fp64.
double scaled_dot(const float* q_row,  // [D]
                  const float* k_row,  // [D]
                  int64_t head_dim, double scale);

// Attention of one query row over an explicit set of key tokens of its head:
//   s_j = scale · q_row · k_j,  lse = log Σ_j exp(s_j),  out = Σ_j exp(s_j − lse) · v_j
// computed in two passes (scores and their max, then the normalised sum) in fp64. An empty key set gives
// out = 0 and lse = −inf. `scores` is caller-owned scratch so that a head's rows reuse one buffer.
void attend_row(const float* q_row,   // [D]
                const float* k_head,  // [S, D]
                const float* v_head,  // [S, D]
                std::span<const int64_t> key_tokens, int64_t head_dim, double scale,
                std::vector<double>& scores,  // scratch
                float* out_row,               // [D]
                float* lse_row);              // [1]

}  // namespace svdit::kernels::cpu::detail
