#include "input_checks.h"

#include <stdexcept>
#include <vector>

namespace svdit::kernels::cpu::detail {

void check_size(const char* function, const char* argument, int64_t actual, int64_t expected) {
  if (actual != expected) {
    throw std::invalid_argument(std::string("svdit::kernels::cpu::") + function + ": " + argument + " has " +
                                std::to_string(actual) + " elements, expected " + std::to_string(expected));
  }
}

void check_layout(const char* function, int64_t head, const svdit::data::BlockLayout& layout, int64_t seq_len) {
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(std::string("svdit::kernels::cpu::") + function + ": layout of head " +
                                std::to_string(head) + ": " + what);
  };
  if (layout.seq_len != seq_len) {
    fail("made for S=" + std::to_string(layout.seq_len) + ", the tensors have S=" + std::to_string(seq_len));
  }
  if (layout.block_size <= 0) {
    fail("block_size must be positive, got " + std::to_string(layout.block_size));
  }
  const int64_t blocks = (seq_len + layout.block_size - 1) / layout.block_size;
  if (layout.num_blocks != blocks) {
    fail("num_blocks=" + std::to_string(layout.num_blocks) + ", expected ⌈S/b⌉=" + std::to_string(blocks));
  }
  if (layout.permuted()) {
    if (static_cast<int64_t>(layout.order.size()) != seq_len) {
      fail("order has " + std::to_string(layout.order.size()) + " entries, expected S=" + std::to_string(seq_len));
    }
    std::vector<bool> seen(static_cast<size_t>(seq_len), false);
    for (const int32_t token : layout.order) {
      if (token < 0 || token >= seq_len || seen[static_cast<size_t>(token)]) {
        fail("order is not a permutation of [0, S): entry " + std::to_string(token) + " out of range or repeated");
      }
      seen[static_cast<size_t>(token)] = true;
    }
  }
  if (layout.skip) {
    return;  // a skip layout computes nothing, so its CSR is never read
  }
  if (static_cast<int64_t>(layout.row_begin.size()) != blocks + 1) {
    fail("row_begin has " + std::to_string(layout.row_begin.size()) + " entries, expected num_blocks+1=" +
         std::to_string(blocks + 1));
  }
  if (layout.row_begin.front() != 0 ||
      layout.row_begin.back() != static_cast<int64_t>(layout.key_blocks.size())) {
    fail("row_begin must start at 0 and end at key_blocks.size()=" + std::to_string(layout.key_blocks.size()));
  }
  for (int64_t q = 0; q < blocks; ++q) {
    const int32_t begin = layout.row_begin[static_cast<size_t>(q)];
    const int32_t end = layout.row_begin[static_cast<size_t>(q + 1)];
    if (end < begin) {
      fail("row_begin decreases at query block " + std::to_string(q));
    }
    for (int32_t e = begin; e < end; ++e) {
      const int32_t key_block = layout.key_blocks[static_cast<size_t>(e)];
      if (key_block < 0 || key_block >= blocks) {
        fail("query block " + std::to_string(q) + " lists key block " + std::to_string(key_block) +
             ", outside [0, " + std::to_string(blocks) + ")");
      }
      // Ascending and unique: a repeated block would count its keys twice in the softmax.
      if (e > begin && key_block <= layout.key_blocks[static_cast<size_t>(e - 1)]) {
        fail("key blocks of query block " + std::to_string(q) + " are not strictly ascending");
      }
    }
  }
}

void check_layouts(const char* function, std::span<const svdit::data::BlockLayout* const> layouts,
                   const AttentionShape& shape) {
  check_size(function, "layouts", static_cast<int64_t>(layouts.size()), shape.heads);
  for (int64_t h = 0; h < shape.heads; ++h) {
    const svdit::data::BlockLayout* layout = layouts[static_cast<size_t>(h)];
    if (layout == nullptr) {
      throw std::invalid_argument(std::string("svdit::kernels::cpu::") + function + ": layout of head " +
                                  std::to_string(h) + " is a null pointer");
    }
    check_layout(function, h, *layout, shape.seq_len);
  }
}

}  // namespace svdit::kernels::cpu::detail
