// Packing per-head layouts into the flat arrays of one layer. Everything the kernels trust without checking
// (offsets in range, key blocks inside [0, num_blocks), order a permutation) is checked here once, on the host.

#include "svdit/data/packed_layout.h"

#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace svdit::data {

namespace {

[[noreturn]] void fail(size_t head, const std::string& what) {
  throw std::invalid_argument("pack_layouts: head " + std::to_string(head) + ": " + what);
}

}  // namespace

double PackedLayouts::block_density() const {
  const double all = static_cast<double>(heads) * static_cast<double>(num_blocks) * static_cast<double>(num_blocks);
  return all > 0 ? static_cast<double>(key_blocks.size()) / all : 0.0;
}

PackedLayouts pack_layouts(std::span<const BlockLayout> layouts) {
  std::vector<const BlockLayout*> heads;
  heads.reserve(layouts.size());
  for (const BlockLayout& layout : layouts) heads.push_back(&layout);
  return pack_layouts(std::span<const BlockLayout* const>(heads));
}

PackedLayouts pack_layouts(std::span<const BlockLayout* const> layouts) {
  if (layouts.empty()) {
    throw std::invalid_argument("pack_layouts: no layouts");
  }
  for (size_t h = 0; h < layouts.size(); ++h) {
    if (layouts[h] == nullptr) fail(h, "no layout (null pointer)");
  }
  PackedLayouts packed;
  packed.heads = static_cast<int64_t>(layouts.size());
  packed.seq_len = layouts[0]->seq_len;
  packed.block_size = layouts[0]->block_size;
  if (packed.block_size != 64 && packed.block_size != 128) {
    fail(0, "block size " + std::to_string(packed.block_size) + " (expected 64 or 128)");
  }
  if (packed.seq_len <= 0 || packed.seq_len > std::numeric_limits<int32_t>::max() / 2) {
    fail(0, "sequence length " + std::to_string(packed.seq_len) + " out of range");
  }
  packed.num_blocks = (packed.seq_len + packed.block_size - 1) / packed.block_size;
  const auto nb = static_cast<size_t>(packed.num_blocks);
  const auto seq = static_cast<size_t>(packed.seq_len);

  bool any_permuted = false;
  int64_t total = 0;
  for (size_t h = 0; h < layouts.size(); ++h) {
    const BlockLayout& l = *layouts[h];
    if (l.seq_len != packed.seq_len || l.block_size != packed.block_size) {
      fail(h, "S=" + std::to_string(l.seq_len) + " b=" + std::to_string(l.block_size) + " differs from head 0 (S=" +
                  std::to_string(packed.seq_len) + " b=" + std::to_string(packed.block_size) + ")");
    }
    any_permuted = any_permuted || l.permuted();
    if (!l.skip) {
      total += l.computed_blocks();
    }
  }
  if (total > std::numeric_limits<int32_t>::max()) {
    throw std::invalid_argument("pack_layouts: more than 2^31 computed blocks in one layer");
  }

  packed.row_begin.reserve(layouts.size() * (nb + 1));
  packed.key_blocks.reserve(static_cast<size_t>(total));
  if (any_permuted) {
    packed.order.reserve(layouts.size() * seq);
  }
  std::vector<char> seen;
  for (size_t h = 0; h < layouts.size(); ++h) {
    const BlockLayout& l = *layouts[h];
    const auto base = static_cast<int32_t>(packed.key_blocks.size());
    if (l.skip) {
      // A skip head computes nothing: every query block gets an empty key list.
      packed.row_begin.insert(packed.row_begin.end(), nb + 1, base);
    } else {
      if (l.row_begin.size() != nb + 1) {
        fail(h, "row_begin has " + std::to_string(l.row_begin.size()) + " entries, expected " +
                    std::to_string(nb + 1));
      }
      if (l.row_begin.front() != 0 || static_cast<size_t>(l.row_begin.back()) != l.key_blocks.size()) {
        fail(h, "row_begin does not span key_blocks");
      }
      for (size_t q = 0; q < nb; ++q) {
        const int32_t begin = l.row_begin[q];
        const int32_t end = l.row_begin[q + 1];
        if (end < begin) {
          fail(h, "row_begin decreases at query block " + std::to_string(q));
        }
        for (int32_t i = begin; i < end; ++i) {
          const int32_t kb = l.key_blocks[static_cast<size_t>(i)];
          if (kb < 0 || static_cast<size_t>(kb) >= nb || (i > begin && kb <= l.key_blocks[static_cast<size_t>(i - 1)])) {
            fail(h, "key blocks of query block " + std::to_string(q) + " not ascending inside [0, " +
                        std::to_string(nb) + ")");
          }
        }
        packed.row_begin.push_back(base + begin);
      }
      packed.row_begin.push_back(base + l.row_begin.back());
      packed.key_blocks.insert(packed.key_blocks.end(), l.key_blocks.begin(), l.key_blocks.end());
    }
    if (any_permuted) {
      if (l.permuted()) {
        if (l.order.size() != seq) {
          fail(h, "order has " + std::to_string(l.order.size()) + " entries, expected S=" + std::to_string(seq));
        }
        // The kernel scatters its output through `order`: a repeated index would be a write race.
        seen.assign(seq, 0);
        for (const int32_t t : l.order) {
          if (t < 0 || static_cast<size_t>(t) >= seq || seen[static_cast<size_t>(t)]) {
            fail(h, "order is not a permutation of [0, S)");
          }
          seen[static_cast<size_t>(t)] = 1;
        }
        packed.order.insert(packed.order.end(), l.order.begin(), l.order.end());
      } else {
        const size_t at = packed.order.size();
        packed.order.resize(at + seq);
        std::iota(packed.order.begin() + static_cast<std::ptrdiff_t>(at), packed.order.end(), 0);
      }
    }
  }
  return packed;
}

}  // namespace svdit::data
