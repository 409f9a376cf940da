#pragma once
// Hopper backend, device side of TMA: the bulk tensor copy, and the rule that decides which 32-row groups it can
// load (the producer and the permute pre-pass both decide with warp_run_start).

#include <cuda.h>  // CUtensorMap

#include <cstdint>

namespace svdit::kernels::detail {

// TMA: one box of a 4-D tensor map (coordinates innermost first) into shared memory, completing on `bar`.
__device__ __forceinline__ void tma_load_4d(uint32_t dst, const CUtensorMap* map, int c0, int c1, int c2, int c3,
                                            uint32_t bar) {
  asm volatile(
      "cp.async.bulk.tensor.4d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3, %4, %5}], "
      "[%6];\n" ::"r"(dst),
      "l"(reinterpret_cast<uint64_t>(map)), "r"(c0), "r"(c1), "r"(c2), "r"(c3), "r"(bar)
      : "memory");
}
__device__ __forceinline__ void prefetch_tensor_map(const CUtensorMap* map) {
  asm volatile("prefetch.tensormap [%0];\n" ::"l"(reinterpret_cast<uint64_t>(map)) : "memory");
}
// First token of the 32 rows whose tokens the lanes of a warp hold (lane l: row l, token < 0: past S) if those rows
// are 32 consecutive tokens — rows past S must continue the run past S, where a tensor map zero-fills — else -1
// (also when every row is past S). Always a run for unpermuted heads. The attention producer and the permute
// pre-pass decide with this one function, so the pre-pass writes exactly the rows the producer reads back.
__device__ __forceinline__ int warp_run_start(int token, int lane, int S) {
  const int first = __shfl_sync(0xffffffffu, token, 0);
  const bool ok = token >= 0 ? token == first + lane : first + lane >= S;
  return __all_sync(0xffffffffu, ok) && first >= 0 ? first : -1;
}

}  // namespace svdit::kernels::detail
