#pragma once
// Hopper backend, host side of TMA: the tensor maps the kernel receives as a __grid_constant__ parameter, and
// their encoding from the params' pointers and element strides.

#include <cuda.h>  // CUtensorMap and cuTensorMapEncodeTiled's signature (called through the runtime's entry point)
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

// Tensor maps of q, k, v for the TMA path: 4-D (D, S, H, B) with the params' strides, box (64, 32, 1, 1) = one
// producer warp's 32 rows of one 64-column half of a tile, 128-byte swizzle (the layout sw128_offset describes).
// enabled == 0: no map could be built (or KernelDebug::LoadPath::cp_async_only asked for none), every tile is
// gathered with cp.async.
// kp, vp (when permuted != 0): K and V of every warp-row group that is not a run, copied by the permute pre-pass
// into layout order ([B, H, S, D] scratch, row = layout position), so that permuted heads load by TMA too.
struct HopperTensorMaps {
  CUtensorMap q, k, v, kp, vp;
  int enabled;
  int permuted;
};

// cuTensorMapEncodeTiled through the runtime's driver entry point (no link against libcuda); null if unavailable.
inline decltype(&cuTensorMapEncodeTiled) tensor_map_encoder() {
  static const auto fn = []() -> decltype(&cuTensorMapEncodeTiled) {
    void* f = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &f, 12000, cudaEnableDefault, &found) !=
            cudaSuccess ||
        found != cudaDriverEntryPointSuccess) {
      (void)cudaGetLastError();  // leave no error behind for the launch check
      return nullptr;
    }
    return reinterpret_cast<decltype(&cuTensorMapEncodeTiled)>(f);
  }();
  return fn;
}

// 4-D map (D, S, H, B) of one [.., D]-contiguous tensor with the params' element strides; false if TMA cannot
// address it (the kernel then gathers every tile).
template <int kHeadDim, typename T>
bool encode_tensor_map(CUtensorMap* map, const void* base, const Strides& strides, const SparseAttentionParams& p) {
  const auto encode = tensor_map_encoder();
  if (encode == nullptr) return false;
  constexpr int64_t kBytes = static_cast<int64_t>(sizeof(T));
  // A dimension of extent 1 is never stepped over: give it a legal stride whatever the caller's (0 is common).
  auto stride_bytes = [](int64_t elems, int extent) {
    return static_cast<cuuint64_t>(extent == 1 && elems <= 0 ? 16 : elems * kBytes);
  };
  const cuuint64_t dims[4] = {static_cast<cuuint64_t>(kHeadDim), static_cast<cuuint64_t>(p.seq_len),
                              static_cast<cuuint64_t>(p.heads), static_cast<cuuint64_t>(p.batch)};
  const cuuint64_t byte_strides[3] = {stride_bytes(strides.row, p.seq_len), stride_bytes(strides.head, p.heads),
                                      stride_bytes(strides.batch, p.batch)};
  for (const cuuint64_t st : byte_strides) {
    if (st == 0 || st % 16 != 0 || st >= (cuuint64_t{1} << 40)) return false;
  }
  const cuuint32_t box[4] = {64, 32, 1, 1};
  const cuuint32_t element_strides[4] = {1, 1, 1, 1};
  const CUtensorMapDataType type =
      std::is_same_v<T, __half> ? CU_TENSOR_MAP_DATA_TYPE_FLOAT16 : CU_TENSOR_MAP_DATA_TYPE_BFLOAT16;
  return encode(map, type, 4, const_cast<void*>(base), dims, byte_strides, box, element_strides,
                CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B, CU_TENSOR_MAP_L2_PROMOTION_L2_256B,
                CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE) == CUDA_SUCCESS;
}

}  // namespace svdit::kernels::detail
