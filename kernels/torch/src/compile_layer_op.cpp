// torch.ops.svdit.compile_layer: lets Python (benchmarks, FlexAttention comparisons) use the exact layouts the
// C++ side compiles, instead of re-deriving them.

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "ops.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/packed_layout.h"
#include "svdit/data/token_layout.h"
#include "svdit/kernels/torch/sparse_attention.h"

namespace svdit::kernels::torch_ops {

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> compile_layer(const std::string& patterns_json,
                                                                         int64_t frames, int64_t height,
                                                                         int64_t width, int64_t text_prefix,
                                                                         int64_t text_suffix, int64_t block_size) {
  data::TokenLayout layout;
  layout.frames = frames;
  layout.height = height;
  layout.width = width;
  layout.text_prefix = text_prefix;
  layout.text_suffix = text_suffix;
  layout.block_size = block_size;
  data::validate(layout, "compile_layer");

  const nlohmann::json patterns = nlohmann::json::parse(patterns_json);
  if (!patterns.is_array() || patterns.empty()) {
    throw std::invalid_argument("compile_layer: patterns_json must be a non-empty JSON array, one pattern per head");
  }
  std::vector<data::BlockLayout> layouts;
  std::vector<double> density;
  for (size_t h = 0; h < patterns.size(); ++h) {
    const data::Pattern pattern =
        data::pattern_from_json(patterns[h], "compile_layer", "patterns_json[" + std::to_string(h) + "]");
    layouts.push_back(data::compile_pattern(pattern, layout));
    density.push_back(layouts.back().skip ? 0.0 : layouts.back().block_density());
  }
  const DeviceLayouts packed = prepare_layouts(data::pack_layouts(layouts), at::kCPU);
  at::Tensor block_density = at::empty({static_cast<int64_t>(density.size())}, at::TensorOptions().dtype(at::kDouble));
  std::copy(density.begin(), density.end(), block_density.data_ptr<double>());
  return {packed.row_begin, packed.key_blocks, packed.order, block_density};
}

}  // namespace svdit::kernels::torch_ops
