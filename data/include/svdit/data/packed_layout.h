#pragma once
// Packs the per-head BlockLayouts of one layer into the flat arrays one sparse-attention call takes (the
// svdit.sparse_attention op's row_begin / key_blocks / order, docs/KERNELS.md "Layout arrays"), so that heads
// with different patterns (a skip head beside a temporal head beside a dense one) run in one launch.
// Host-side only and torch-free; the op library turns the vectors into tensors on the target device.

#include <cstdint>
#include <span>
#include <vector>

#include "svdit/data/block_layout.h"

namespace svdit::data {

struct PackedLayouts {
  int64_t heads = 0;
  int64_t seq_len = 0;
  int64_t block_size = 0;
  int64_t num_blocks = 0;
  std::vector<int32_t> row_begin;   // [heads, num_blocks + 1], absolute offsets into key_blocks
  std::vector<int32_t> key_blocks;  // [Σ computed blocks]
  std::vector<int32_t> order;       // [heads, seq_len] (identity rows for unpermuted heads), or empty if none is

  int64_t computed_blocks() const { return static_cast<int64_t>(key_blocks.size()); }
  // computed blocks / (heads · num_blocks²)
  double block_density() const;
};

// One layout per head, in head order. Checks everything a kernel trusts without checking (offsets in range, key
// blocks ascending inside [0, num_blocks), order a permutation) and throws std::invalid_argument naming the head
// when the layouts disagree on S or b, or one is malformed.
PackedLayouts pack_layouts(std::span<const BlockLayout> layouts);
PackedLayouts pack_layouts(std::span<const BlockLayout* const> layouts);

}  // namespace svdit::data
