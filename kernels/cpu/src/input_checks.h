#pragma once
// Argument checks shared by the reference functions. The reference is the specification, so it refuses
// anything it would otherwise have to guess about (a wrong span size, a layout made for another sequence)
// with an error that names the function, the argument and what was expected.

#include <cstdint>
#include <span>
#include <string>

#include "svdit/data/block_layout.h"
#include "svdit/kernels/cpu/attention_shape.h"

namespace svdit::kernels::cpu::detail {

// Throws std::invalid_argument unless actual == expected.
void check_size(const char* function, const char* argument, int64_t actual, int64_t expected);

// Throws std::invalid_argument unless the layout (of head `head`) is well formed for a sequence of seq_len
// tokens: matching S, positive b, num_blocks = ⌈S / b⌉, order empty or a permutation of [0, S), and (unless
// skip) a CSR with num_blocks + 1 non-decreasing offsets and key blocks in [0, num_blocks).
void check_layout(const char* function, int64_t head, const svdit::data::BlockLayout& layout, int64_t seq_len);

// check_layout() for every head, after checking that there is exactly one non-null layout per head.
void check_layouts(const char* function, std::span<const svdit::data::BlockLayout* const> layouts,
                   const AttentionShape& shape);

}  // namespace svdit::kernels::cpu::detail
