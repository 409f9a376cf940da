#pragma once
// Hopper backend, warpgroup 0: the producer. It loads Q once and then the K/V tiles of every listed key block
// (128 rows each) straight into the 128-byte swizzled shared layout wgmma reads, through a ring of kStages stages:
// it fills a stage after the consumers released it (empty barrier) and completes the stage's full barriers.
//
// Each producer warp owns 32 rows of every tile. When they are 32 consecutive tokens (every tile of an unpermuted
// head, runs of a permuted one) the warp issues TMA copies (cp.async.bulk.tensor from a 4-D tensor map over
// (D, S, H, B), rows past S zero-filled by the map) that complete on the stage's mbarrier with expect_tx. TMA cannot
// gather rows on Hopper: for the other K/V rows (permuted heads) the permute pre-pass (permute_prepass.cuh) copied
// them into layout order in a scratch buffer, loaded by TMA as well; without it (KernelDebug::no_permute_prepass,
// or no scratch) and for Q the rows are gathered through the layout order with 16-byte cp.async
// (cp.async.mbarrier.arrive).

#include <cuda.h>

#include <cstdint>

#include "device_utils.cuh"
#include "hopper/kernel_traits.cuh"
#include "hopper/mbarrier.cuh"
#include "hopper/tensor_maps.h"
#include "hopper/tma_copy.cuh"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

// tid: 0..127, this thread's index in the producer warpgroup.
template <int kHeadDim, typename T>
__device__ __forceinline__ void producer_load_tiles(const SparseAttentionParams& p, const HopperTensorMaps& maps,
                                                    const HopperSharedStorage<kHeadDim>& smem,
                                                    const QueryBlockWork& work, int tid) {
  constexpr int kStages = HopperKernelTraits<kHeadDim>::kStages;
  constexpr int kChunks = kHeadDim / 8;
  const int S = p.seq_len;
  const int head = work.head;
  const int batch = work.batch;
  const int32_t* order = work.order;
  // Warp w of the producer owns rows 32w..32w+31 of every tile. Rows that are not one run of consecutive
  // tokens are gathered through the layout order: lane l looks up the token of row 32w + l (one coalesced load,
  // issued a block ahead so its latency hides behind the copies), and the lanes copying a row get its token by
  // shuffle. Staging the tokens through shared memory behind a barrier instead cost 20 % on every head; per-row
  // dependent lookups made the producer the bottleneck of permuted heads.
  const int pwarp = tid / 32;
  const int plane = tid % 32;
  constexpr int kRowsPerPass = 32 / kChunks;  // rows one warp copies per pass: 2 (D = 128) or 4 (D = 64)
  const int chunk = plane % kChunks;
  const int sub = plane / kChunks;
  const bool no_load = p.debug.skip_loads;  // diagnostic (WRONG results): time without any load
  const bool tma = maps.enabled != 0 && !no_load;
  if (tma && tid == 0) {
    prefetch_tensor_map(&maps.q);
    prefetch_tensor_map(&maps.k);
    prefetch_tensor_map(&maps.v);
    if (maps.permuted != 0) {
      prefetch_tensor_map(&maps.kp);
      prefetch_tensor_map(&maps.vp);
    }
  }
  auto token_at = [&](int first) {
    const int pos = first + 32 * pwarp + plane;
    return pos < S ? (order ? __ldg(order + pos) : pos) : -1;
  };
  // Copies one 128-row tile whose rows are the tokens held by the lanes (token < 0: past S, zero-filled).
  auto copy_tile = [&](uint32_t dst, const T* src, int64_t row_stride, int token) {
#pragma unroll 4
    for (int j = 0; j < 32 / kRowsPerPass; ++j) {
      const int local = j * kRowsPerPass + sub;
      const int t = __shfl_sync(0xffffffffu, token, local);
      if (!no_load) {
        cp_async_16(dst + sw128_offset(32 * pwarp + local, chunk), src + (t < 0 ? 0 : t) * row_stride + chunk * 8,
                    t >= 0);
      }
    }
  };
  // This warp's 32 rows of one tile: by TMA from `map` at row `row` when row >= 0, else gathered; either way 32
  // arrivals on `bar`.
  auto load_rows = [&](uint32_t dst, const CUtensorMap* map, int row, const T* src, int64_t row_stride, uint32_t bar,
                       int token) {
    if (row >= 0) {
      if (plane == 0) {
        mbar_arrive_expect_tx(bar, 32 * kHeadDim * static_cast<uint32_t>(sizeof(T)));
#pragma unroll
        for (int half = 0; half < kHeadDim / 64; ++half) {
          tma_load_4d(dst + half * (128 * 128) + pwarp * (32 * 128), map, half * 64, row, head, batch, bar);
        }
      } else {
        mbar_arrive(bar);
      }
    } else {
      copy_tile(dst, src, row_stride, token);
      cp_async_arrive(bar);
    }
  };
  const bool scratch = tma && maps.permuted != 0;
  const T* q = static_cast<const T*>(p.q) + batch * p.q_strides.batch + head * p.q_strides.head;
  const T* k = static_cast<const T*>(p.k) + batch * p.k_strides.batch + head * p.k_strides.head;
  const T* v = static_cast<const T*>(p.v) + batch * p.v_strides.batch + head * p.v_strides.head;
  {
    const int q_token = token_at(work.q_block * 128);
    const int run = tma ? warp_run_start(q_token, plane, S) : -1;
    load_rows(smem.q(), &maps.q, run, q, p.q_strides.row, smem.q_full(), q_token);  // once per CTA
  }
  int next_block = __ldg(work.key_list);
  int token = token_at(next_block * 128);
  for (int i = 0; i < work.key_count; ++i) {
    const int stage = i % kStages;
    const int use = i / kStages;
    if (use > 0) mbar_wait(smem.kv_empty(stage), static_cast<uint32_t>((use - 1) & 1));
    const int current = token;
    const int current_pos = next_block * 128 + 32 * pwarp;  // layout position of this warp's first row
    if (i + 1 < work.key_count) {
      next_block = __ldg(work.key_list + i + 1);
      token = token_at(next_block * 128);
    }
    const int run = tma ? warp_run_start(current, plane, S) : -1;
    // Not a run but inside S: the pre-pass put these rows, in layout order, into the scratch K/V.
    const bool from_scratch = run < 0 && scratch && current_pos < S;
    const CUtensorMap* kmap = from_scratch ? &maps.kp : &maps.k;
    const CUtensorMap* vmap = from_scratch ? &maps.vp : &maps.v;
    const int row = from_scratch ? current_pos : run;
    load_rows(smem.k(stage), kmap, row, k, p.k_strides.row, smem.k_full(stage), current);
    load_rows(smem.v(stage), vmap, row, v, p.v_strides.row, smem.v_full(stage), current);
  }
  cp_async_wait<0>();  // leave no copy in flight behind an exiting thread
}

}  // namespace svdit::kernels::detail
