#pragma once
// The error a sparse pattern causes in a head's attention output (the profile's /error). See docs/REFERENCE.md.

#include <span>
#include <vector>

#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu {

// Per (b, h): ‖O_c − O‖² / ‖O‖² over the head's [S, D] output, in fp64. Returns [B, H] (row-major, B·H values).
// 0/0 (both outputs zero) is 0; x/0 with x > 0 is +inf.
std::vector<double> relative_mse(std::span<const float> candidate_out,  // [B, H, S, D]
                                 std::span<const float> dense_out,      // [B, H, S, D]
                                 const AttentionShape& shape);

}  // namespace svdit::kernels::cpu
