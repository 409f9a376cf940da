#pragma once
// Which original tokens a block layout puts in a query block and which it lets that block attend to. Both
// sparse_attention() and attention_recall() read a layout only through these, so the key set whose mass the
// recall reports is by construction the key set the sparse reference computes.

#include <cstdint>
#include <vector>

#include "svdit/data/block_layout.h"

namespace svdit::kernels::cpu::detail {

// Original indices of the tokens at layout positions [g·b, min((g+1)·b, S)).
std::vector<int64_t> block_tokens(const svdit::data::BlockLayout& layout, int64_t block);

// Original indices of every key token of query block g: the tokens of each listed key block, in layout
// order. Empty for a skip layout.
std::vector<int64_t> key_tokens(const svdit::data::BlockLayout& layout, int64_t query_block);

}  // namespace svdit::kernels::cpu::detail
