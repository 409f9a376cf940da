#pragma once
// A pattern compiled to blocks: the one representation that the GPU kernels, the CPU reference, the search's
// density figures and the analyzer's overlays all use (docs/FORMATS.md "Patterns (JSON)").
//
// Tokens are first put into layout order (a permutation applied to queries, keys and values alike; the output
// is permuted back). Layout order is
//   [text prefix][stripe columns of the video, ascending][remaining video tokens in body order][text suffix]
// where body order is frame-major, or position-major (p·F + f) when the pattern has a temporal component — in
// that order a temporal neighbourhood is a band, and gathered stripe columns form whole key blocks.
// Then for each query block of b consecutive layout positions, key_blocks lists (ascending) every key block
// that contains at least one (query, key) pair the pattern's token mask keeps. The kernels compute those blocks
// in full, so the attention computed is a superset of the token mask, exactly the set of selected blocks.

#include <cstdint>
#include <span>
#include <vector>

#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"

namespace svdit::data {

struct BlockLayout {
  int64_t seq_len = 0;     // S
  int64_t block_size = 0;  // b
  int64_t num_blocks = 0;  // ⌈S / b⌉, for queries and keys alike (self-attention)
  bool skip = false;       // the head computes nothing and its output is zero

  // order[l] = original index of the token at layout position l. Empty when layout order is the identity.
  std::vector<int32_t> order;

  // CSR over query blocks: the key blocks of query block q are key_blocks[row_begin[q] .. row_begin[q+1]).
  std::vector<int32_t> row_begin;   // [num_blocks + 1]
  std::vector<int32_t> key_blocks;  // [computed blocks], ascending within each query block

  bool permuted() const { return !order.empty(); }
  int64_t computed_blocks() const { return static_cast<int64_t>(key_blocks.size()); }
  double block_density() const;  // computed blocks / num_blocks²
  std::span<const int32_t> keys_of(int64_t query_block) const;
  // Original token index at layout position l.
  int64_t token_at(int64_t l) const { return order.empty() ? l : order[static_cast<size_t>(l)]; }
};

BlockLayout compile_pattern(const Pattern& pattern, const TokenLayout& layout);

// The same layout computed the slow, obvious way from attends() over every (i, j): O(S²). For tests only.
BlockLayout compile_pattern_brute_force(const Pattern& pattern, const TokenLayout& layout);

// inverse[order[l]] = l.
std::vector<int32_t> inverse_permutation(const std::vector<int32_t>& order);

}  // namespace svdit::data
