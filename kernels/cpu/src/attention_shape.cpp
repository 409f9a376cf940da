#include "svdit/kernels/cpu/attention_shape.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace svdit::kernels::cpu {

void validate(const AttentionShape& shape) {
  const auto describe = [&] {
    return "[B=" + std::to_string(shape.batch) + ", H=" + std::to_string(shape.heads) +
           ", S=" + std::to_string(shape.seq_len) + ", D=" + std::to_string(shape.head_dim) + "]";
  };
  if (shape.batch <= 0 || shape.heads <= 0 || shape.seq_len <= 0 || shape.head_dim <= 0) {
    throw std::invalid_argument("svdit::kernels::cpu: attention shape " + describe() +
                                ": every dimension must be positive");
  }
  // Multiply step by step so that an absurd shape is reported instead of overflowing silently.
  int64_t count = 1;
  for (const int64_t dim : {shape.batch, shape.heads, shape.seq_len, shape.head_dim}) {
    if (count > std::numeric_limits<int64_t>::max() / dim) {
      throw std::invalid_argument("svdit::kernels::cpu: attention shape " + describe() +
                                  ": element count overflows int64");
    }
    count *= dim;
  }
}

}  // namespace svdit::kernels::cpu
