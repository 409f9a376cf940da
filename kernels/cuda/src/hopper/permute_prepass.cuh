#pragma once
// Hopper backend: the permute pre-pass. TMA cannot gather rows on Hopper, so before the attention kernel the
// K/V rows of permuted heads that are not runs of consecutive tokens are copied into layout order in a scratch
// buffer, which the producer then loads by TMA like any other tile.

#include <cuda_runtime.h>

#include <cstdint>

#include "hopper/prepass_scratch.h"
#include "hopper/tensor_maps.h"
#include "hopper/tma_copy.cuh"
#include "svdit/kernels/cuda/cuda_check.h"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

// Pre-pass for permuted heads: for each group of 32 layout positions (one producer warp's rows of a tile) that
// is not a run of consecutive tokens, copies the K and V rows of its tokens to positions pos of kp / vp
// ([B, H, S, D] contiguous). Rows past S are not written (the scratch map zero-fills them).
template <int kHeadDim, typename T>
__global__ void __launch_bounds__(256) permute_kv_kernel(const SparseAttentionParams p, T* kp, T* vp) {
  constexpr int kChunks = kHeadDim / 8;
  constexpr int kRowsPerPass = 32 / kChunks;
  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int head = static_cast<int>(blockIdx.y);
  const int S = p.seq_len;
  const int pos0 = (static_cast<int>(blockIdx.x) * 8 + warp) * 32;
  if (pos0 >= S) return;
  const int pos = pos0 + lane;
  const int token = pos < S ? __ldg(p.order + static_cast<int64_t>(head) * S + pos) : -1;
  if (warp_run_start(token, lane, S) >= 0) return;  // the attention producer loads these rows from k / v
  const int chunk = lane % kChunks;
  const int sub = lane / kChunks;
  for (int b = 0; b < p.batch; ++b) {
    const T* k = static_cast<const T*>(p.k) + b * p.k_strides.batch + head * p.k_strides.head;
    const T* v = static_cast<const T*>(p.v) + b * p.v_strides.batch + head * p.v_strides.head;
    const int64_t base = ((static_cast<int64_t>(b) * p.heads + head) * S + pos0) * kHeadDim;
    uint4 kx[32 / kRowsPerPass], vx[32 / kRowsPerPass];
#pragma unroll
    for (int j = 0; j < 32 / kRowsPerPass; ++j) {
      const int t = __shfl_sync(0xffffffffu, token, j * kRowsPerPass + sub);
      if (t >= 0) {
        kx[j] = __ldg(reinterpret_cast<const uint4*>(k + t * p.k_strides.row + chunk * 8));
        vx[j] = __ldg(reinterpret_cast<const uint4*>(v + t * p.v_strides.row + chunk * 8));
      }
    }
#pragma unroll
    for (int j = 0; j < 32 / kRowsPerPass; ++j) {
      const int local = j * kRowsPerPass + sub;
      if (pos0 + local < S) {
        const int64_t at = base + static_cast<int64_t>(local) * kHeadDim + chunk * 8;
        *reinterpret_cast<uint4*>(kp + at) = kx[j];
        *reinterpret_cast<uint4*>(vp + at) = vx[j];
      }
    }
  }
}

// Runs the pre-pass on `stream` into `scratch` (2·B·H·S·D elements from the per-device pool) and adds the
// scratch's tensor maps to `maps` (maps.permuted = 1). Leaves maps.permuted = 0 when the scratch cannot be had
// or mapped: the kernel then gathers those rows itself, correct but slower.
template <int kHeadDim, typename T>
void run_permute_prepass(const SparseAttentionParams& p, HopperTensorMaps& maps, StreamScratch& scratch,
                         cudaStream_t stream) {
  maps.permuted = 0;
  const int64_t elems = static_cast<int64_t>(p.batch) * p.heads * p.seq_len * kHeadDim;
  if (cudaMallocFromPoolAsync(&scratch.ptr, static_cast<size_t>(2 * elems) * sizeof(T), scratch_pool(), stream) !=
      cudaSuccess) {
    (void)cudaGetLastError();  // out of memory: gather in the kernel instead
    scratch.ptr = nullptr;
    return;
  }
  scratch.stream = stream;
  T* kp = static_cast<T*>(scratch.ptr);
  T* vp = kp + elems;
  const Strides dense{static_cast<int64_t>(p.heads) * p.seq_len * kHeadDim, static_cast<int64_t>(p.seq_len) * kHeadDim,
                      kHeadDim};
  maps.permuted = encode_tensor_map<kHeadDim, T>(&maps.kp, kp, dense, p) &&
                  encode_tensor_map<kHeadDim, T>(&maps.vp, vp, dense, p);
  if (maps.permuted) {
    const dim3 grid((p.seq_len + 255) / 256, p.heads);
    permute_kv_kernel<kHeadDim, T><<<grid, 256, 0, stream>>>(p, kp, vp);
    SVDIT_CUDA_CHECK_LAUNCH();
  }
}

}  // namespace svdit::kernels::detail
