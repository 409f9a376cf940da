#pragma once
// Hopper (sm_90a) block-sparse flash-attention forward, b = 128.
//
// One CTA = one 128-row query block of one (batch, head), 3 warpgroups:
//   warpgroup 0, producer: loads Q once and then K/V key blocks (128 rows each) straight into the 128-byte
//     swizzled shared layout wgmma reads. Each producer warp owns 32 rows of every tile: when they are 32
//     consecutive tokens (every tile of an unpermuted head, runs of a permuted one) the warp issues TMA copies
//     (cp.async.bulk.tensor from a 4-D tensor map over (D, S, H, B), rows past S zero-filled by the map) that
//     complete on the stage's mbarrier with expect_tx. TMA cannot gather rows on Hopper: for the other K/V rows
//     (permuted heads) a pre-pass (permute_kv_kernel) copies them into layout order in a scratch buffer, loaded by
//     TMA as well; without it (variant 64, no scratch) and for Q the rows are gathered through the layout order
//     with 16-byte cp.async (cp.async.mbarrier.arrive).
//   warpgroups 1 and 2, consumers: 64 query rows each. S = Q·Kᵀ by wgmma (both operands in shared memory), online
//     softmax in registers, O += P·V by wgmma with P from registers (the fp32 accumulator layout of S is the
//     register A-fragment layout of the next product) and V read N-major from shared memory.
// K/V go through a ring of kStages stages with full (producer → consumers) and empty (consumers → producer)
// barriers, so loads of the next key blocks overlap the math of this one.

#include <cuda.h>  // CUtensorMap and cuTensorMapEncodeTiled's signature (called through the runtime's entry point)

#include <climits>
#include <cmath>
#include <map>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "device_utils.cuh"
#include "svdit/kernels/cuda/cuda_check.h"
#include "svdit/kernels/cuda/sparse_attention.h"
#include "wgmma_ops.cuh"

namespace svdit::kernels::detail {

template <int kHeadDim>
struct HopperConfig {
  static constexpr int kBlockM = 128;  // query rows per CTA (= layout block)
  static constexpr int kBlockN = 128;  // key rows per stage (= layout block)
  static constexpr int kThreads = 384;
  static constexpr int kStages = kHeadDim == 64 ? 4 : 3;
  // setmaxnreg split: the registers the producer gives back must be exactly those the consumers take, or
  // setmaxnreg.inc waits forever (a 48/232 split hung): 128·producer + 256·consumer = 384 threads · 168 at launch.
  static constexpr int kProducerRegs = 56;
  static constexpr int kConsumerRegs = 224;
  static_assert(128 * kProducerRegs + 256 * kConsumerRegs == 384 * 168, "register split must match the launch");
  static constexpr int kTileBytes = 128 * kHeadDim * 2;  // one 128-row tile of Q, K or V
  static constexpr int kQOffset = 0;
  static constexpr int kKOffset = kTileBytes;
  static constexpr int kVOffset = kKOffset + kStages * kTileBytes;
  static constexpr int kBarrierOffset = kVOffset + kStages * kTileBytes;
  static constexpr int kNumBarriers = 1 + 3 * kStages;  // Q full, K full[], V full[], K/V empty[]
  // + 1 KB so the tiles can be aligned to the 1024-byte period of the 128-byte swizzle.
  static constexpr int kSmemBytes = kBarrierOffset + kNumBarriers * 8 + 1024;
  static_assert(kSmemBytes <= 227 * 1024, "shared memory over the sm_90 limit");
};

// Byte offset of 16-byte chunk `chunk` of row `row` in a 128-row tile stored as [D/64][128 rows][64 elements]
// with the 128-byte swizzle (chunk bits 4–6 XOR row bits 7–9 of the address), the canonical layout wgmma
// descriptors with swizzle mode 1 describe.
__device__ __forceinline__ uint32_t sw128_offset(int row, int chunk) {
  return static_cast<uint32_t>((chunk >> 3) * (128 * 128) + row * 128 + (((chunk & 7) ^ (row & 7)) << 4));
}

// wgmma shared-memory matrix descriptor, 128-byte swizzle.
__device__ __forceinline__ uint64_t sw128_descriptor(uint32_t addr, uint32_t leading_bytes, uint32_t stride_bytes) {
  return static_cast<uint64_t>((addr & 0x3FFFF) >> 4) | (static_cast<uint64_t>((leading_bytes & 0x3FFFF) >> 4) << 16) |
         (static_cast<uint64_t>((stride_bytes & 0x3FFFF) >> 4) << 32) | (1ull << 62);
}

// ---- mbarrier --------------------------------------------------------------------------------------------

__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  uint32_t done = 0;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(done)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!done);
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.shared::cta.b64 state, [%0];\n}\n" ::"r"(bar) : "memory");
}
// Arrives on `bar` and raises the bytes it waits for by `bytes` (the TMA copies that follow complete them).
__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("{\n.reg .b64 state;\nmbarrier.arrive.expect_tx.shared::cta.b64 state, [%0], %1;\n}\n" ::"r"(bar),
               "r"(bytes)
               : "memory");
}
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
// Arrives on `bar` once every cp.async this thread issued so far has landed (counts as one expected arrival).
__device__ __forceinline__ void cp_async_arrive(uint32_t bar) {
  asm volatile("cp.async.mbarrier.arrive.noinc.shared::cta.b64 [%0];\n" ::"r"(bar) : "memory");
}
// cp.async writes shared memory through the generic proxy; wgmma reads it through the async proxy.
__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
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

// Tensor maps of q, k, v for the TMA path: 4-D (D, S, H, B) with the params' strides, box (64, 32, 1, 1) = one
// producer warp's 32 rows of one 64-column half of a tile, 128-byte swizzle (the layout sw128_offset describes).
// enabled == 0: no map could be built (or variant bit 4 asked for none), every tile is gathered with cp.async.
// kp, vp (when permuted != 0): K and V of every warp-row group that is not a run, copied by the permute pre-pass
// into layout order ([B, H, S, D] scratch, row = layout position), so that permuted heads load by TMA too.
struct HopperTensorMaps {
  CUtensorMap q, k, v, kp, vp;
  int enabled;
  int permuted;
};

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

template <int kHeadDim, typename T>
__global__ void __launch_bounds__(384, 1)
    sparse_attention_hopper_kernel(const SparseAttentionParams p, const __grid_constant__ HopperTensorMaps maps) {
#ifdef SVDIT_WGMMA_AVAILABLE
  using Cfg = HopperConfig<kHeadDim>;
  using Traits = ElementTraits<T>;
  constexpr int kStages = Cfg::kStages;
  constexpr int kChunks = kHeadDim / 8;

  extern __shared__ unsigned char smem_raw[];
  const uint32_t smem_base = (smem_addr(smem_raw) + 1023u) & ~1023u;
  const uint32_t s_q = smem_base + Cfg::kQOffset;
  const uint32_t s_k = smem_base + Cfg::kKOffset;
  const uint32_t s_v = smem_base + Cfg::kVOffset;
  const uint32_t bar_q = smem_base + Cfg::kBarrierOffset;
  auto bar_k_full = [&](int s) { return bar_q + 8u * static_cast<uint32_t>(1 + s); };
  auto bar_v_full = [&](int s) { return bar_q + 8u * static_cast<uint32_t>(1 + kStages + s); };
  auto bar_empty = [&](int s) { return bar_q + 8u * static_cast<uint32_t>(1 + 2 * kStages + s); };

  const int tid = threadIdx.x;
  const int warpgroup = tid / 128;
  const int q_block = blockIdx.x;
  const int head = blockIdx.y;
  const int batch = blockIdx.z;
  const int S = p.seq_len;
  const int num_blocks = (S + 127) / 128;
  const int32_t* rows = p.row_begin + static_cast<int64_t>(head) * (num_blocks + 1);
  const int kb_begin = rows[q_block];
  const int kb_count = rows[q_block + 1] - kb_begin;
  const int32_t* key_list = p.key_blocks + kb_begin;
  const int32_t* order = p.order ? p.order + static_cast<int64_t>(head) * S : nullptr;

  if (tid == 0) {
    mbar_init(bar_q, 128);
    for (int s = 0; s < kStages; ++s) {
      mbar_init(bar_k_full(s), 128);  // one arrival per producer thread (cp.async, or TMA + expect_tx)
      mbar_init(bar_v_full(s), 128);
      mbar_init(bar_empty(s), 8);     // one arrival per consumer warp
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  if (warpgroup == 0) {
    // ---------------- producer ----------------
    asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Cfg::kProducerRegs));
    if (kb_count == 0) return;
    // Warp w of the producer owns rows 32w..32w+31 of every tile. Rows that are not one run of consecutive
    // tokens are gathered through the layout order: lane l looks up the token of row 32w + l (one coalesced load, issued a block ahead
    // so its latency hides behind the copies), and the lanes copying a row get its token by shuffle. Staging the
    // tokens through shared memory behind a barrier instead cost 20 % on every head; per-row dependent lookups
    // made the producer the bottleneck of permuted heads.
    const int pwarp = tid / 32;
    const int plane = tid % 32;
    constexpr int kRowsPerPass = 32 / kChunks;  // rows one warp copies per pass: 2 (D = 128) or 4 (D = 64)
    const int chunk = plane % kChunks;
    const int sub = plane / kChunks;
    const bool no_load = (p.variant & 8) != 0;  // diagnostic (WRONG results): time without any load
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
    auto load_rows = [&](uint32_t dst, const CUtensorMap* map, int row, const T* src, int64_t row_stride,
                         uint32_t bar, int token) {
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
      const int q_token = token_at(q_block * 128);
      const int run = tma ? warp_run_start(q_token, plane, S) : -1;
      load_rows(s_q, &maps.q, run, q, p.q_strides.row, bar_q, q_token);  // Q: once per CTA, gathered if permuted
    }
    int next_block = __ldg(key_list);
    int token = token_at(next_block * 128);
    for (int i = 0; i < kb_count; ++i) {
      const int stage = i % kStages;
      const int use = i / kStages;
      if (use > 0) mbar_wait(bar_empty(stage), static_cast<uint32_t>((use - 1) & 1));
      const int current = token;
      const int current_pos = next_block * 128 + 32 * pwarp;  // layout position of this warp's first row
      if (i + 1 < kb_count) {
        next_block = __ldg(key_list + i + 1);
        token = token_at(next_block * 128);
      }
      const int run = tma ? warp_run_start(current, plane, S) : -1;
      // Not a run but inside S: the pre-pass put these rows, in layout order, into the scratch K/V.
      const bool from_scratch = run < 0 && scratch && current_pos < S;
      const CUtensorMap* kmap = from_scratch ? &maps.kp : &maps.k;
      const CUtensorMap* vmap = from_scratch ? &maps.vp : &maps.v;
      const int row = from_scratch ? current_pos : run;
      load_rows(s_k + stage * Cfg::kTileBytes, kmap, row, k, p.k_strides.row, bar_k_full(stage), current);
      load_rows(s_v + stage * Cfg::kTileBytes, vmap, row, v, p.v_strides.row, bar_v_full(stage), current);
    }
    cp_async_wait<0>();  // leave no copy in flight behind an exiting thread
  } else {
    // ---------------- consumers ----------------
    asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Cfg::kConsumerRegs));
    const int ctid = tid - 128 * warpgroup;  // 0..127 inside this warpgroup
    const int cw = warpgroup - 1;            // which 64-row half of the query block
    const int warp = ctid / 32;
    const int lane = ctid % 32;
    const float scale_log2 = p.scale * 1.4426950408889634f;

    float o_acc[kHeadDim / 2];
#pragma unroll
    for (int i = 0; i < kHeadDim / 2; ++i) o_acc[i] = 0.0f;
    float row_max[2] = {-INFINITY, -INFINITY};
    float row_sum[2] = {0.0f, 0.0f};


    auto issue_qk = [&](float (&s)[64], int stage) {
#pragma unroll
      for (int kk = 0; kk < kHeadDim / 16; ++kk) {
        const uint32_t col = static_cast<uint32_t>((kk / 4) * (128 * 128) + (kk % 4) * 32);
        const uint64_t da = sw128_descriptor(s_q + cw * 64 * 128 + col, 16, 1024);
        const uint64_t db = sw128_descriptor(s_k + stage * Cfg::kTileBytes + col, 16, 1024);
        wgmma_ss<128, T>(s, da, db, kk > 0 ? 1 : 0);
      }
      wgmma_commit();
    };
    // V is [keys, D] with D contiguous, i.e. N-major for this product: 64-column blocks of D sit 16 KB apart
    // (leading byte offset), groups of 8 keys 1 KB apart (stride byte offset).
    auto issue_pv = [&](const uint32_t (&pa)[8][4], int stage) {
#pragma unroll
      for (int kk = 0; kk < 8; ++kk) {
        const uint64_t db = sw128_descriptor(s_v + stage * Cfg::kTileBytes + kk * 16 * 128, 128 * 128, 1024);
        wgmma_rs<kHeadDim, T>(o_acc, pa[kk], db, 1);
      }
      wgmma_commit();
    };
    // Masks keys past S, updates the running max and exponentiates S in place (base 2, scale folded in); returns
    // per row the factor the older accumulator and sum must be multiplied by. Every key block holds at least one
    // key < S, so the new max is finite and alpha = exp2(old − new) is 0 on the first block.
    auto softmax = [&](float (&s)[64], int key0, float (&alpha)[2], float (&sum)[2]) {
      if (key0 + 128 > S) {
#pragma unroll
        for (int j = 0; j < 16; ++j) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            if (key0 + j * 8 + 2 * (lane % 4) + (e & 1) >= S) s[4 * j + e] = -INFINITY;
          }
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = row_max[r];
#pragma unroll
        for (int j = 0; j < 16; ++j) mx = fmaxf(mx, fmaxf(s[4 * j + 2 * r], s[4 * j + 2 * r + 1]));
        mx = quad_max(mx);
        alpha[r] = fast_exp2((row_max[r] - mx) * scale_log2);
        row_max[r] = mx;
        const float shift = mx * scale_log2;
        float acc = 0.0f;
#pragma unroll
        for (int j = 0; j < 16; ++j) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float x = s[4 * j + 2 * r + e] * scale_log2 - shift;
            s[4 * j + 2 * r + e] = fast_exp2(x);
            acc += s[4 * j + 2 * r + e];
          }
        }
        sum[r] = acc;
      }
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
    auto rescale = [&](const float (&alpha)[2], const float (&sum)[2]) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        row_sum[r] = row_sum[r] * alpha[r] + sum[r];
#pragma unroll
        for (int j = 0; j < kHeadDim / 8; ++j) {
          o_acc[4 * j + 2 * r] *= alpha[r];
          o_acc[4 * j + 2 * r + 1] *= alpha[r];
        }
      }
    };
    auto release = [&](int stage) {
      __syncwarp();
      if (lane == 0) mbar_arrive(bar_empty(stage));
    };
    auto fence_o = [&]() {
#pragma unroll
      for (int j = 0; j < kHeadDim / 2; ++j) fence_operand(o_acc[j]);
    };
    auto parity_of = [&](int i) { return static_cast<uint32_t>((i / kStages) & 1); };

    if (kb_count > 0) {
      float s[64];
      uint32_t pa[8][4];
      float alpha[2], sum[2];
      mbar_wait(bar_q, 0);
      // FA3's intra-warpgroup overlap: S_i = Q·K_iᵀ and O += P_{i−1}·V_{i−1} go to the tensor cores together;
      // the softmax of S_i runs while P·V is in flight, and O is rescaled only after that product landed.
      mbar_wait(bar_k_full(0), 0);
      fence_proxy_async();
      wgmma_fence();
      issue_qk(s, 0);
      wgmma_wait<0>();
#pragma unroll
      for (int j = 0; j < 64; ++j) fence_operand(s[j]);
      softmax(s, __ldg(key_list) * 128, alpha, sum);
      row_sum[0] = sum[0];
      row_sum[1] = sum[1];
      pack(s, pa);
      for (int i = 1; i < kb_count; ++i) {
        const int stage = i % kStages;
        const int prev = (i - 1) % kStages;
        mbar_wait(bar_v_full(prev), parity_of(i - 1));
        mbar_wait(bar_k_full(stage), parity_of(i));
        fence_proxy_async();
        fence_o();
        wgmma_fence();
        issue_qk(s, stage);
        issue_pv(pa, prev);
        wgmma_wait<1>();  // S_i landed; P_{i−1}·V_{i−1} may still run
#pragma unroll
        for (int j = 0; j < 64; ++j) fence_operand(s[j]);
        softmax(s, __ldg(key_list + i) * 128, alpha, sum);
        wgmma_wait<0>();
        fence_o();
        release(prev);
        rescale(alpha, sum);
        pack(s, pa);
      }
      const int last = (kb_count - 1) % kStages;
      mbar_wait(bar_v_full(last), parity_of(kb_count - 1));
      fence_proxy_async();
      fence_o();
      wgmma_fence();
      issue_pv(pa, last);
      wgmma_wait<0>();
      fence_o();
      release(last);
    }

    // Epilogue: normalise, scatter back to token order, lse in natural log (-inf for rows with no key block).
    T* out = static_cast<T*>(p.out) + batch * p.out_strides.batch + head * p.out_strides.head;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float total = quad_sum(row_sum[r]);
      const float inv = total > 0.0f ? 1.0f / total : 0.0f;
      const int pos = q_block * 128 + cw * 64 + warp * 16 + lane / 4 + r * 8;
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
#else
  (void)p;
  __trap();  // built without sm_90a code; the dispatcher never launches this
#endif
}

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

// Stream-ordered scratch for the permute pre-pass: one pool per device that keeps what it reserved (release
// threshold = max), so repeated layers reuse the memory without mapping it again. It holds at most the largest
// 2·B·H·S·D elements asked for.
inline cudaMemPool_t scratch_pool() {
  int device = 0;
  SVDIT_CUDA_CHECK(cudaGetDevice(&device));
  static std::mutex mutex;
  static std::map<int, cudaMemPool_t> pools;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = pools.find(device);
  if (it != pools.end()) return it->second;
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t pool = nullptr;
  SVDIT_CUDA_CHECK(cudaMemPoolCreate(&pool, &props));
  unsigned long long keep = ~0ull;
  SVDIT_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  pools.emplace(device, pool);
  return pool;
}

// Frees the scratch on the stream after the kernels that use it, also when a launch check throws.
struct StreamScratch {
  void* ptr = nullptr;
  cudaStream_t stream = nullptr;
  StreamScratch() = default;
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  ~StreamScratch() {
    if (ptr != nullptr) (void)cudaFreeAsync(ptr, stream);
  }
};

template <int kHeadDim, typename T>
void launch_hopper(const SparseAttentionParams& p, cudaStream_t stream) {
  using Cfg = HopperConfig<kHeadDim>;
  auto kernel = sparse_attention_hopper_kernel<kHeadDim, T>;
  static const bool configured = [&] {
    SVDIT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Cfg::kSmemBytes));
    return true;
  }();
  (void)configured;
  // variant bit 4 (16): no TMA, every tile gathered; bit 5 (32): TMA required (tests: the path cannot vanish).
  HopperTensorMaps maps{};
  maps.enabled = (p.variant & 16) == 0 && encode_tensor_map<kHeadDim, T>(&maps.q, p.q, p.q_strides, p) &&
                 encode_tensor_map<kHeadDim, T>(&maps.k, p.k, p.k_strides, p) &&
                 encode_tensor_map<kHeadDim, T>(&maps.v, p.v, p.v_strides, p);
  if ((p.variant & 32) != 0 && !maps.enabled) {
    throw std::invalid_argument("sparse_attention_forward: TMA required (variant bit 5) but no tensor map was built");
  }
  // Permuted heads: copy their non-run rows of K and V into layout order first (one pass over those rows), then
  // load them by TMA like the rest; variant bit 6 (64) keeps the in-kernel cp.async gather for them instead.
  StreamScratch scratch;
  maps.permuted = 0;
  if (maps.enabled && p.order != nullptr && (p.variant & (8 | 64)) == 0) {
    const int64_t elems = static_cast<int64_t>(p.batch) * p.heads * p.seq_len * kHeadDim;
    if (cudaMallocFromPoolAsync(&scratch.ptr, static_cast<size_t>(2 * elems) * sizeof(T), scratch_pool(), stream) ==
        cudaSuccess) {
      scratch.stream = stream;
      T* kp = static_cast<T*>(scratch.ptr);
      T* vp = kp + elems;
      const Strides dense{static_cast<int64_t>(p.heads) * p.seq_len * kHeadDim,
                          static_cast<int64_t>(p.seq_len) * kHeadDim, kHeadDim};
      maps.permuted = encode_tensor_map<kHeadDim, T>(&maps.kp, kp, dense, p) &&
                      encode_tensor_map<kHeadDim, T>(&maps.vp, vp, dense, p);
      if (maps.permuted) {
        const dim3 pgrid((p.seq_len + 255) / 256, p.heads);
        permute_kv_kernel<kHeadDim, T><<<pgrid, 256, 0, stream>>>(p, kp, vp);
        SVDIT_CUDA_CHECK_LAUNCH();
      }
    } else {
      (void)cudaGetLastError();  // out of memory: gather in the kernel instead
      scratch.ptr = nullptr;
    }
  }
  const dim3 grid((p.seq_len + 127) / 128, p.heads, p.batch);
  kernel<<<grid, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(p, maps);
  SVDIT_CUDA_CHECK_LAUNCH();
}

}  // namespace svdit::kernels::detail
