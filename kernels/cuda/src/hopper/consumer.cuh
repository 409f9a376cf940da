#pragma once
// Hopper backend, warpgroups 1 and 2: the consumers, 64 query rows each. S = Q·Kᵀ by wgmma (both operands in shared
// memory), the online softmax in registers (softmax.cuh), O += P·V by wgmma with P from registers (the fp32
// accumulator layout of S is the register A-fragment layout of the next product) and V read N-major from shared
// memory. A stage is released to the producer (empty barrier) once both products that read it have landed.

#include <cstdint>

#include "device_utils.cuh"
#include "hopper/kernel_traits.cuh"
#include "hopper/mbarrier.cuh"
#include "hopper/softmax.cuh"
#include "hopper/wgmma_ops.cuh"

namespace svdit::kernels::detail {

// cw: which 64-row half of the query block (0 or 1); warp, lane: this thread's warp (0..3) in its warpgroup and lane.
// work.key_count ≥ 1. o_acc must hold zeros on entry; on return it and `softmax` hold the unnormalised output and
// the row statistics.
template <int kHeadDim, typename T>
__device__ __forceinline__ void consumer_mainloop(const HopperSharedStorage<kHeadDim>& smem,
                                                  const QueryBlockWork& work, int S, int cw, int lane,
                                                  float (&o_acc)[kHeadDim / 2],
                                                  HopperOnlineSoftmax<kHeadDim>& softmax) {
  using Traits = ElementTraits<T>;
  constexpr int kStages = HopperKernelTraits<kHeadDim>::kStages;

  auto issue_qk = [&](float (&s)[64], int stage) {
#pragma unroll
    for (int kk = 0; kk < kHeadDim / 16; ++kk) {
      const uint32_t col = static_cast<uint32_t>((kk / 4) * (128 * 128) + (kk % 4) * 32);
      const uint64_t da = sw128_descriptor(smem.q() + cw * 64 * 128 + col, 16, 1024);
      const uint64_t db = sw128_descriptor(smem.k(stage) + col, 16, 1024);
      wgmma_ss<128, T>(s, da, db, kk > 0 ? 1 : 0);
    }
    wgmma_commit();
  };
  // V is [keys, D] with D contiguous, i.e. N-major for this product: 64-column blocks of D sit 16 KB apart
  // (leading byte offset), groups of 8 keys 1 KB apart (stride byte offset).
  auto issue_pv = [&](const uint32_t (&pa)[8][4], int stage) {
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) {
      const uint64_t db = sw128_descriptor(smem.v(stage) + kk * 16 * 128, 128 * 128, 1024);
      wgmma_rs<kHeadDim, T>(o_acc, pa[kk], db, 1);
    }
    wgmma_commit();
  };
  // The fp32 accumulator layout of S is the register A-fragment layout of the P·V product.
  auto pack = [&](const float (&s)[64], uint32_t (&pa)[8][4]) {
#pragma unroll
    for (int kk = 0; kk < 8; ++kk) {
      pa[kk][0] = Traits::pack(s[8 * kk + 0], s[8 * kk + 1]);
      pa[kk][1] = Traits::pack(s[8 * kk + 2], s[8 * kk + 3]);
      pa[kk][2] = Traits::pack(s[8 * kk + 4], s[8 * kk + 5]);
      pa[kk][3] = Traits::pack(s[8 * kk + 6], s[8 * kk + 7]);
    }
  };
  auto release = [&](int stage) {
    __syncwarp();
    if (lane == 0) mbar_arrive(smem.kv_empty(stage));
  };
  auto fence_o = [&]() {
#pragma unroll
    for (int j = 0; j < kHeadDim / 2; ++j) fence_operand(o_acc[j]);
  };
  auto parity_of = [&](int i) { return static_cast<uint32_t>((i / kStages) & 1); };

  float s[64];
  uint32_t pa[8][4];
  float alpha[2], sum[2];
  mbar_wait(smem.q_full(), 0);
  // FA3's intra-warpgroup overlap: S_i = Q·K_iᵀ and O += P_{i−1}·V_{i−1} go to the tensor cores together;
  // the softmax of S_i runs while P·V is in flight, and O is rescaled only after that product landed.
  mbar_wait(smem.k_full(0), 0);
  fence_proxy_async();
  wgmma_fence();
  issue_qk(s, 0);
  wgmma_wait<0>();
#pragma unroll
  for (int j = 0; j < 64; ++j) fence_operand(s[j]);
  softmax.exponentiate(s, __ldg(work.key_list) * 128, S, lane, alpha, sum);
  softmax.start(sum);
  pack(s, pa);
  for (int i = 1; i < work.key_count; ++i) {
    const int stage = i % kStages;
    const int prev = (i - 1) % kStages;
    mbar_wait(smem.v_full(prev), parity_of(i - 1));
    mbar_wait(smem.k_full(stage), parity_of(i));
    fence_proxy_async();
    fence_o();
    wgmma_fence();
    issue_qk(s, stage);
    issue_pv(pa, prev);
    wgmma_wait<1>();  // S_i landed; P_{i−1}·V_{i−1} may still run
#pragma unroll
    for (int j = 0; j < 64; ++j) fence_operand(s[j]);
    softmax.exponentiate(s, __ldg(work.key_list + i) * 128, S, lane, alpha, sum);
    wgmma_wait<0>();
    fence_o();
    release(prev);
    softmax.rescale(o_acc, alpha, sum);
    pack(s, pa);
  }
  const int last = (work.key_count - 1) % kStages;
  mbar_wait(smem.v_full(last), parity_of(work.key_count - 1));
  fence_proxy_async();
  fence_o();
  wgmma_fence();
  issue_pv(pa, last);
  wgmma_wait<0>();
  fence_o();
  release(last);
}

}  // namespace svdit::kernels::detail
