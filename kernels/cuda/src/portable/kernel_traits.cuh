#pragma once
// Portable backend: tile sizes, threads, the shared-memory budget and its swizzle.

#include <cstdint>

namespace svdit::kernels::detail {

template <int kHeadDim>
struct PortableKernelTraits {
  static constexpr int kBlockM = 128;              // query rows per CTA
  static constexpr int kBlockN = 64;               // key rows per tile
  static constexpr int kWarps = 8;                 // 16 query rows each
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kChunks = kHeadDim / 8;     // 16-byte chunks per row
  static constexpr int kQElems = kBlockM * kHeadDim;
  static constexpr int kKVElems = kBlockN * kHeadDim;
  static constexpr int kStages = 2;
  static constexpr int kSmemBytes = (kQElems + 2 * kStages * kKVElems) * 2;
};

// Row-major tile in shared memory, 16-byte chunks XOR-swizzled by (row mod 8): the 8 rows an ldmatrix reads
// at one logical chunk land in 8 different bank groups.
template <int kChunks>
__device__ __forceinline__ uint32_t swizzled(int row, int chunk) {
  return static_cast<uint32_t>((row * kChunks + (chunk ^ (row & 7))) * 16);
}

}  // namespace svdit::kernels::detail
