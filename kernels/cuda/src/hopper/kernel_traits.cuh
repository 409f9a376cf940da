#pragma once
// Hopper backend: tile sizes, pipeline depth, the register split between the warp roles, and the CTA's shared
// memory (Q tile, kStages K and V tiles, mbarriers) with the 128-byte swizzle wgmma reads.

#include <cstdint>

namespace svdit::kernels::detail {

template <int kHeadDim>
struct HopperKernelTraits {
  static constexpr int kBlockM = 128;  // query rows per CTA (= layout block)
  static constexpr int kBlockN = 128;  // key rows per stage (= layout block)
  static constexpr int kThreads = 384;  // warpgroup 0: producer; warpgroups 1, 2: consumers of 64 query rows each
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

// Shared-memory addresses of the CTA's tiles and barriers, from the (1024-byte aligned) dynamic allocation.
template <int kHeadDim>
struct HopperSharedStorage {
  using Traits = HopperKernelTraits<kHeadDim>;
  uint32_t base;

  __device__ explicit HopperSharedStorage(uint32_t raw) : base((raw + 1023u) & ~1023u) {}
  __device__ uint32_t q() const { return base + Traits::kQOffset; }
  __device__ uint32_t k(int stage) const { return base + Traits::kKOffset + stage * Traits::kTileBytes; }
  __device__ uint32_t v(int stage) const { return base + Traits::kVOffset + stage * Traits::kTileBytes; }
  __device__ uint32_t q_full() const { return base + Traits::kBarrierOffset; }
  __device__ uint32_t k_full(int stage) const { return q_full() + 8u * static_cast<uint32_t>(1 + stage); }
  __device__ uint32_t v_full(int stage) const {
    return q_full() + 8u * static_cast<uint32_t>(1 + Traits::kStages + stage);
  }
  __device__ uint32_t kv_empty(int stage) const {
    return q_full() + 8u * static_cast<uint32_t>(1 + 2 * Traits::kStages + stage);
  }
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

// The work of one CTA: query block q_block of (batch, head) and the key blocks its layout row lists.
struct QueryBlockWork {
  int q_block;
  int head;
  int batch;
  int key_count;              // listed key blocks (0: a skip row, output 0 and lse -inf)
  const int32_t* key_list;    // [key_count] ascending key block indices
  const int32_t* order;       // this head's layout position → token, null when no head is permuted
};

}  // namespace svdit::kernels::detail
