#pragma once
// Portable block-sparse flash-attention forward: mma.sync m16n8k16 + ldmatrix + a two-stage cp.async pipeline.
// Runs on sm_80 and newer; on sm_90 it is the fallback for layouts with b = 64 and the reference the Hopper
// path is checked against.
//
// One CTA = 128 query rows of one (batch, head) = one query block (b = 128) or two (b = 64), 8 warps of 16 rows.
// Keys are walked in 64-row tiles: for b = 128 every listed key block is two tiles for all warps; for b = 64 the
// CTA merges the two query blocks' sorted key lists and a warp computes a tile only if its own block lists it,
// so the K/V tile is loaded once for both blocks. Every thread both loads and computes (no warp specialisation),
// so loads, math, online softmax and the epilogue stay in this one kernel body.

#include <cmath>
#include <cstdint>

#include "device_utils.cuh"
#include "portable/kernel_traits.cuh"
#include "portable/key_tile_walker.cuh"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

template <int kHeadDim, typename T>
__global__ void __launch_bounds__(PortableKernelTraits<kHeadDim>::kThreads)
    sparse_attention_portable_kernel(const SparseAttentionParams p) {
  using Cfg = PortableKernelTraits<kHeadDim>;
  using Traits = ElementTraits<T>;
  constexpr int kChunks = Cfg::kChunks;
  constexpr int kNTiles = Cfg::kBlockN / 8;  // n8 tiles of S per warp
  constexpr int kDTiles = kHeadDim / 8;      // n8 tiles of O per warp
  constexpr int kKSteps = kHeadDim / 16;     // k16 steps of Q·Kᵀ

  extern __shared__ __align__(128) unsigned char smem[];
  T* s_q = reinterpret_cast<T*>(smem);                     // [128, D]
  T* s_k = s_q + Cfg::kQElems;                             // [stages, 64, D]
  T* s_v = s_k + Cfg::kStages * Cfg::kKVElems;             // [stages, 64, D]

  const int tid = threadIdx.x;
  const int warp = tid / 32;
  const int lane = tid % 32;
  const int q_tile = blockIdx.x;
  const int head = blockIdx.y;
  const int batch = blockIdx.z;
  const int S = p.seq_len;
  const int num_blocks = (S + p.block_size - 1) / p.block_size;

  const T* q = static_cast<const T*>(p.q) + batch * p.q_strides.batch + head * p.q_strides.head;
  const T* k = static_cast<const T*>(p.k) + batch * p.k_strides.batch + head * p.k_strides.head;
  const T* v = static_cast<const T*>(p.v) + batch * p.v_strides.batch + head * p.v_strides.head;
  T* out = static_cast<T*>(p.out) + batch * p.out_strides.batch + head * p.out_strides.head;
  const int32_t* order = p.order ? p.order + static_cast<int64_t>(head) * S : nullptr;
  const int32_t* rows = p.row_begin + static_cast<int64_t>(head) * (num_blocks + 1);

  KeyTileWalker walker{};
  walker.blocks = p.key_blocks;
  walker.wide = p.block_size == 128;
  if (walker.wide) {
    walker.a = rows[q_tile];
    walker.a_end = rows[q_tile + 1];
    walker.b = walker.b_end = 0;
  } else {
    walker.a = rows[2 * q_tile];
    walker.a_end = rows[2 * q_tile + 1];
    const bool second = 2 * q_tile + 1 < num_blocks;
    walker.b = second ? rows[2 * q_tile + 1] : 0;
    walker.b_end = second ? rows[2 * q_tile + 2] : 0;
  }

  // Each thread copies one fixed 16-byte column of the rows it owns, so the (gathered) row index is looked up
  // once per row rather than once per chunk.
  constexpr int kRowsPerPass = Cfg::kThreads / kChunks;
  const int my_chunk = tid % kChunks;
  const int my_row0 = tid / kChunks;

  auto load_rows = [&](T* dst, const T* src, int64_t row_stride, int first_pos, int count) {
    for (int r = my_row0; r < count; r += kRowsPerPass) {
      const int pos = first_pos + r;
      const bool valid = pos < S;
      const int token = valid ? (order ? __ldg(order + pos) : pos) : 0;
      cp_async_16(smem_addr(dst) + swizzled<kChunks>(r, my_chunk), src + token * row_stride + my_chunk * 8, valid);
    }
  };

  const int q_first = q_tile * Cfg::kBlockM;
  load_rows(s_q, q, p.q_strides.row, q_first, Cfg::kBlockM);
  cp_async_commit();

  int tile = 0;
  unsigned mask = 0;
  bool have = walker.next(tile, mask);
  if (have) {
    load_rows(s_k, k, p.k_strides.row, tile * Cfg::kBlockN, Cfg::kBlockN);
    load_rows(s_v, v, p.v_strides.row, tile * Cfg::kBlockN, Cfg::kBlockN);
  }
  cp_async_commit();

  // Per-thread state: rows g = lane/4 and g + 8 of this warp's 16.
  float o_acc[kDTiles][4];
#pragma unroll
  for (int j = 0; j < kDTiles; ++j) {
#pragma unroll
    for (int e = 0; e < 4; ++e) o_acc[j][e] = 0.0f;
  }
  float row_max[2] = {-INFINITY, -INFINITY};
  float row_sum[2] = {0.0f, 0.0f};  // this thread's partial sums; reduced over the quad at the end
  uint32_t q_frag[kKSteps][4];
  const unsigned my_half = warp < 4 ? 1u : 2u;
  const float scale_log2 = p.scale * 1.4426950408889634f;

  cp_async_wait<1>();  // Q landed
  __syncthreads();
#pragma unroll
  for (int kk = 0; kk < kKSteps; ++kk) {
    const int mi = lane / 8;
    const int row = warp * 16 + (mi % 2) * 8 + lane % 8;
    ldmatrix_x4(q_frag[kk], smem_addr(s_q) + swizzled<kChunks>(row, kk * 2 + mi / 2));
  }

  int stage = 0;
  while (have) {
    int next_tile = 0;
    unsigned next_mask = 0;
    const bool have_next = walker.next(next_tile, next_mask);
    if (have_next) {
      // The other stage was released by the barrier at the end of the previous iteration.
      T* k_dst = s_k + (stage ^ 1) * Cfg::kKVElems;
      T* v_dst = s_v + (stage ^ 1) * Cfg::kKVElems;
      load_rows(k_dst, k, p.k_strides.row, next_tile * Cfg::kBlockN, Cfg::kBlockN);
      load_rows(v_dst, v, p.v_strides.row, next_tile * Cfg::kBlockN, Cfg::kBlockN);
    }
    cp_async_commit();
    cp_async_wait<1>();  // the current stage landed (the group just committed may still fly)
    __syncthreads();

    if (mask & my_half) {
      const uint32_t k_base = smem_addr(s_k + stage * Cfg::kKVElems);
      const uint32_t v_base = smem_addr(s_v + stage * Cfg::kKVElems);

      // S = Q·Kᵀ for this warp's 16 rows × 64 keys.
      float s[kNTiles][4];
#pragma unroll
      for (int j = 0; j < kNTiles; ++j) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[j][e] = 0.0f;
      }
#pragma unroll
      for (int kk = 0; kk < kKSteps; ++kk) {
#pragma unroll
        for (int j = 0; j < kNTiles / 2; ++j) {
          uint32_t b[4];
          const int mi = lane / 8;
          const int key = j * 16 + (mi / 2) * 8 + lane % 8;
          ldmatrix_x4(b, k_base + swizzled<kChunks>(key, kk * 2 + mi % 2));
          Traits::mma(s[2 * j], q_frag[kk], b[0], b[1]);
          Traits::mma(s[2 * j + 1], q_frag[kk], b[2], b[3]);
        }
      }

      // Keys past S exist only in the last tile of a sequence that is not a multiple of 64.
      const int key0 = tile * Cfg::kBlockN;
      if (key0 + Cfg::kBlockN > S) {
#pragma unroll
        for (int j = 0; j < kNTiles; ++j) {
#pragma unroll
          for (int e = 0; e < 4; ++e) {
            if (key0 + j * 8 + 2 * (lane % 4) + (e & 1) >= S) s[j][e] = -INFINITY;
          }
        }
      }

      // Online softmax (base 2, scale folded in). Every tile holds at least one key < S, so the new maximum is
      // finite and exp2 of (old − new) is well defined, 0 on the first tile.
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        float mx = row_max[r];
#pragma unroll
        for (int j = 0; j < kNTiles; ++j) mx = fmaxf(mx, fmaxf(s[j][2 * r], s[j][2 * r + 1]));
        mx = quad_max(mx);
        const float alpha = fast_exp2((row_max[r] - mx) * scale_log2);
        row_max[r] = mx;
        const float shift = mx * scale_log2;
        float sum = 0.0f;
#pragma unroll
        for (int j = 0; j < kNTiles; ++j) {
          s[j][2 * r] = fast_exp2(s[j][2 * r] * scale_log2 - shift);
          s[j][2 * r + 1] = fast_exp2(s[j][2 * r + 1] * scale_log2 - shift);
          sum += s[j][2 * r] + s[j][2 * r + 1];
        }
        row_sum[r] = row_sum[r] * alpha + sum;
#pragma unroll
        for (int j = 0; j < kDTiles; ++j) {
          o_acc[j][2 * r] *= alpha;
          o_acc[j][2 * r + 1] *= alpha;
        }
      }

      // O += P·V: the S accumulator of n8 tiles 2kk, 2kk+1 is exactly the A fragment of key step kk.
#pragma unroll
      for (int kk = 0; kk < Cfg::kBlockN / 16; ++kk) {
        uint32_t a[4];
        a[0] = Traits::pack(s[2 * kk][0], s[2 * kk][1]);
        a[1] = Traits::pack(s[2 * kk][2], s[2 * kk][3]);
        a[2] = Traits::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]);
        a[3] = Traits::pack(s[2 * kk + 1][2], s[2 * kk + 1][3]);
#pragma unroll
        for (int j = 0; j < kDTiles / 2; ++j) {
          uint32_t b[4];
          const int mi = lane / 8;
          const int key = kk * 16 + (mi % 2) * 8 + lane % 8;
          ldmatrix_x4_trans(b, v_base + swizzled<kChunks>(key, j * 2 + mi / 2));
          Traits::mma(o_acc[2 * j], a, b[0], b[1]);
          Traits::mma(o_acc[2 * j + 1], a, b[2], b[3]);
        }
      }
    }
    __syncthreads();  // everyone is done with `stage` before the next iteration refills it
    stage ^= 1;
    tile = next_tile;
    mask = next_mask;
    have = have_next;
  }
  cp_async_wait<0>();

  // Epilogue: normalise, scatter rows back to token order, write lse (natural log).
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const float total = quad_sum(row_sum[r]);
    const float inv = total > 0.0f ? 1.0f / total : 0.0f;
    const int pos = q_first + warp * 16 + lane / 4 + r * 8;
    if (pos < S) {
      const int token = order ? __ldg(order + pos) : pos;
      T* dst = out + token * p.out_strides.row + 2 * (lane % 4);
#pragma unroll
      for (int j = 0; j < kDTiles; ++j) {
        *reinterpret_cast<uint32_t*>(dst + j * 8) = Traits::pack(o_acc[j][2 * r] * inv, o_acc[j][2 * r + 1] * inv);
      }
      if (p.lse != nullptr && lane % 4 == 0) {
        p.lse[(static_cast<int64_t>(batch) * p.heads + head) * S + token] =
            total > 0.0f ? row_max[r] * p.scale + logf(total) : -INFINITY;
      }
    }
  }
}

}  // namespace svdit::kernels::detail
