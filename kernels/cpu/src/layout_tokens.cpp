#include "layout_tokens.h"

#include <algorithm>

namespace svdit::kernels::cpu::detail {

std::vector<int64_t> block_tokens(const svdit::data::BlockLayout& layout, int64_t block) {
  const int64_t begin = block * layout.block_size;
  const int64_t end = std::min(begin + layout.block_size, layout.seq_len);
  std::vector<int64_t> tokens;
  tokens.reserve(static_cast<size_t>(std::max<int64_t>(0, end - begin)));
  for (int64_t l = begin; l < end; ++l) {
    tokens.push_back(layout.token_at(l));
  }
  return tokens;
}

std::vector<int64_t> key_tokens(const svdit::data::BlockLayout& layout, int64_t query_block) {
  std::vector<int64_t> keys;
  if (layout.skip) {
    return keys;
  }
  // The CSR read directly (it is the definition; check_layout() has validated it).
  const int32_t begin = layout.row_begin[static_cast<size_t>(query_block)];
  const int32_t end = layout.row_begin[static_cast<size_t>(query_block + 1)];
  for (int32_t e = begin; e < end; ++e) {
    const std::vector<int64_t> block = block_tokens(layout, layout.key_blocks[static_cast<size_t>(e)]);
    keys.insert(keys.end(), block.begin(), block.end());
  }
  return keys;
}

}  // namespace svdit::kernels::cpu::detail
