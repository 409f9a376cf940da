#pragma once
// Packs the per-head BlockLayouts of one layer into the flat arrays that SparseAttentionParams points at, so
// that heads with different patterns (a skip head beside a temporal head beside a dense one) run in one launch.
// Host-side only; the caller copies the vectors to the device.

#include <cstdint>
#include <span>
#include <vector>

#include "svdit/data/block_layout.h"

namespace svdit::kernels {

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

// Throws std::invalid_argument when the layouts disagree on S or b, or one is malformed.
PackedLayouts pack_layouts(std::span<const data::BlockLayout> layouts);

}  // namespace svdit::kernels
