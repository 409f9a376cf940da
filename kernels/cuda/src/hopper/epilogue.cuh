#pragma once
// Hopper backend: the epilogue of a consumer thread. Normalise O, scatter its rows back to token order, write lse.
// O is in the wgmma accumulator layout (the m16n8 layout of mma.sync, repeated over head_dim): a thread holds two
// rows, pos0 and pos0 + 8, and for each 8-column tile j the elements o_acc[4j + 2r] and o_acc[4j + 2r + 1] of row
// r, at columns 8j + 2·(lane % 4) and the next one.
//
// The portable kernel does the same in its own loop (portable/kernel.cuh): calling this function from there made
// ptxas spill 16 bytes inside the portable main loop (hd64, at its 128-register budget), so it stays inline there.

#include <cmath>
#include <cstdint>

#include "device_utils.cuh"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

// order: this head's row of the layout order (null: not permuted), taken from the caller — recomputing it here from
// p.order changed the schedule of the whole kernel (+32 SASS instructions) and the hd128 kernel ran 2–7 % slower on
// the H200.
// row_sum: this thread's partial sums (reduced over the quad here); row_max: the running max of raw scores, so that
// lse = max·scale + ln(sum) in natural log; -inf and output 0 for a row that saw no key block.
template <int kHeadDim, typename T>
__device__ __forceinline__ void store_output_rows(const SparseAttentionParams& p, const float (&o_acc)[kHeadDim / 2],
                                                  const float (&row_sum)[2], const float (&row_max)[2], int batch,
                                                  int head, const int32_t* order, int pos0, int lane) {
  using Traits = ElementTraits<T>;
  const int S = p.seq_len;
  T* out = static_cast<T*>(p.out) + batch * p.out_strides.batch + head * p.out_strides.head;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float total = quad_sum(row_sum[r]);
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    const int pos = pos0 + r * 8;
    if (pos < S) {
      const int token = order ? __ldg(order + pos) : pos;
      T* dst = out + token * p.out_strides.row + 2 * (lane % 4);
#pragma unroll
      for (int j = 0; j < kHeadDim / 8; ++j) {
        *reinterpret_cast<uint32_t*>(dst + j * 8) =
            Traits::pack(o_acc[4 * j + 2 * r] * inv, o_acc[4 * j + 2 * r + 1] * inv);
      }
      if (p.lse != nullptr && lane % 4 == 0) {
        p.lse[(static_cast<int64_t>(batch) * p.heads + head) * S + token] =
            total > 0.0f ? row_max[r] * p.scale + logf(total) : -INFINITY;
      }
    }
  }
}

}  // namespace svdit::kernels::detail
