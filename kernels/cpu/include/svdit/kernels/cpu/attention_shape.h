#pragma once
// The shape every CPU reference function works on. Tensors are passed as flat fp32 spans in row-major order,
// so this struct is the only thing that says how to index them (torch-free on purpose: the reference is the
// specification the GPU kernels and the torch ops are tested against, and must build without LibTorch).
//
//   q, k, v, out   [B, H, S, D]   element (b, h, s, d) at ((b·H + h)·S + s)·D + d
//   lse            [B, H, S]      element (b, h, s)    at (b·H + h)·S + s

#include <cmath>
#include <cstdint>

namespace svdit::kernels::cpu {

struct AttentionShape {
  int64_t batch = 0;     // B
  int64_t heads = 0;     // H
  int64_t seq_len = 0;   // S (self-attention: queries and keys alike)
  int64_t head_dim = 0;  // D

  int64_t heads_total() const { return batch * heads; }                  // B·H
  int64_t rows() const { return batch * heads * seq_len; }               // elements of [B, H, S]
  int64_t elements() const { return batch * heads * seq_len * head_dim; }  // elements of [B, H, S, D]
  int64_t head_elements() const { return seq_len * head_dim; }           // elements of one [S, D] head
  // Softmax scale 1/√D: the scale every svdit attention uses (no custom scale, so it cannot disagree).
  double scale() const { return 1.0 / std::sqrt(static_cast<double>(head_dim)); }
};

// Throws std::invalid_argument unless every dimension is positive and the element count fits in int64_t.
void validate(const AttentionShape& shape);

}  // namespace svdit::kernels::cpu
