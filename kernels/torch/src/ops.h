#pragma once
// The functions behind torch.ops.svdit.*; registration.cpp binds them to their schemas.

#include <ATen/ATen.h>

#include <string>
#include <tuple>

namespace svdit::kernels::torch_ops {

// Compiles one pattern per head (patterns_json: a JSON array of pattern JSONs, docs/FORMATS.md) at the token
// layout and packs them like pack_layouts(). Returns CPU tensors:
//   row_begin int32 [H, num_blocks + 1], key_blocks int32 [Σ blocks], order int32 [H, S] (or [0] when no head is
//   permuted), block_density float64 [H].
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> compile_layer(const std::string& patterns_json,
                                                                         int64_t frames, int64_t height,
                                                                         int64_t width, int64_t text_prefix,
                                                                         int64_t text_suffix, int64_t block_size);

// q, k, v: [B, S, H, D] CUDA bf16/fp16, any strides with a contiguous last dimension.
// Returns out [B, S, H, D] (contiguous, same dtype) and lse [B, H, S] fp32 (natural log).
std::tuple<at::Tensor, at::Tensor> sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                    const at::Tensor& row_begin, const at::Tensor& key_blocks,
                                                    const std::optional<at::Tensor>& order, int64_t block_size,
                                                    const std::string& backend, int64_t variant);

}  // namespace svdit::kernels::torch_ops
