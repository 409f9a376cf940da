#pragma once
// The catch-all op behind torch.ops.svdit.compile_layer; registration.cpp binds it to its schema. (The kernels
// of torch.ops.svdit.sparse_attention register themselves: src/cpu/, src/cuda/.)

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <tuple>

namespace svdit::kernels::torch_ops {

// Compiles one pattern per head (patterns_json: a JSON array of pattern JSONs, docs/FORMATS.md) at the token
// layout and packs them with data::pack_layouts. Returns CPU tensors:
//   row_begin int32 [H, num_blocks + 1], key_blocks int32 [Σ blocks], order int32 [H, S] (or [0] when no head is
//   permuted), block_density float64 [H].
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> compile_layer(const std::string& patterns_json,
                                                                         int64_t frames, int64_t height,
                                                                         int64_t width, int64_t text_prefix,
                                                                         int64_t text_suffix, int64_t block_size);

}  // namespace svdit::kernels::torch_ops
