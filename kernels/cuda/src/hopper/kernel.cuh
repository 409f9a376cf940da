#pragma once
// Hopper (sm_90a) block-sparse flash-attention forward, b = 128: the kernel, which only lays out shared memory,
// initialises the barriers and gives each warpgroup its role.
//
// One CTA = one 128-row query block of one (batch, head), 3 warpgroups:
//   warpgroup 0, producer (producer.cuh): Q once, then K/V of each listed key block, by TMA or cp.async;
//   warpgroups 1 and 2, consumers (consumer.cuh + softmax.cuh): 64 query rows each, wgmma + online softmax,
//     then the epilogue (epilogue.cuh).
// K/V go through a ring of kStages stages with full (producer → consumers) and empty (consumers → producer)
// barriers, so loads of the next key blocks overlap the math of this one.

#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "device_utils.cuh"
#include "hopper/consumer.cuh"
#include "hopper/epilogue.cuh"
#include "hopper/kernel_traits.cuh"
#include "hopper/mbarrier.cuh"
#include "hopper/producer.cuh"
#include "hopper/softmax.cuh"
#include "hopper/tensor_maps.h"
#include "hopper/wgmma_ops.cuh"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

template <int kHeadDim, typename T>
__global__ void __launch_bounds__(384, 1)
    sparse_attention_hopper_kernel(const SparseAttentionParams p, const __grid_constant__ HopperTensorMaps maps) {
#ifdef SVDIT_WGMMA_AVAILABLE
  using Traits = HopperKernelTraits<kHeadDim>;
  static_assert(Traits::kThreads == 384, "__launch_bounds__ above assumes 3 warpgroups");
  constexpr int kStages = Traits::kStages;

  extern __shared__ unsigned char smem_raw[];
  const HopperSharedStorage<kHeadDim> smem(smem_addr(smem_raw));

  const int tid = threadIdx.x;
  const int warpgroup = tid / 128;
  const int S = p.seq_len;
  QueryBlockWork work;
  work.q_block = blockIdx.x;
  work.head = blockIdx.y;
  work.batch = blockIdx.z;
  const int num_blocks = (S + 127) / 128;
  const int32_t* rows = p.row_begin + static_cast<int64_t>(work.head) * (num_blocks + 1);
  const int kb_begin = rows[work.q_block];
  work.key_count = rows[work.q_block + 1] - kb_begin;
  work.key_list = p.key_blocks + kb_begin;
  work.order = p.order ? p.order + static_cast<int64_t>(work.head) * S : nullptr;

  if (tid == 0) {
    mbar_init(smem.q_full(), 128);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(smem.k_full(s), 128);  // one arrival per producer thread (cp.async, or TMA + expect_tx)
      mbar_init(smem.v_full(s), 128);
      mbar_init(smem.kv_empty(s), 8);  // one arrival per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  if (warpgroup == 0) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Traits::kProducerRegs));
    if (work.key_count == 0) return;
    producer_load_tiles<kHeadDim, T>(p, maps, smem, work, tid);
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Traits::kConsumerRegs));
    const int ctid = tid - 128 * warpgroup;  // 0..127 inside this warpgroup
    const int cw = warpgroup - 1;            // which 64-row half of the query block
    const int warp = ctid / 32;
    const int lane = ctid % 32;
    float o_acc[kHeadDim / 2];
#pragma unroll
    for (int i = 0; i < kHeadDim / 2; ++i) o_acc[i] = 0.0f;
    HopperOnlineSoftmax<kHeadDim> softmax(p.scale);
    if (work.key_count > 0) consumer_mainloop<kHeadDim, T>(smem, work, S, cw, lane, o_acc, softmax);  // else skip row
    store_output_rows<kHeadDim, T>(p, o_acc, softmax.row_sum, softmax.row_max, work.batch, work.head, work.order,
                                   work.q_block * 128 + cw * 64 + warp * 16 + lane / 4, lane);
  }
#else
  (void)p;
  __trap();  // built without sm_90a code; the dispatcher never launches this
#endif
}

}  // namespace svdit::kernels::detail
