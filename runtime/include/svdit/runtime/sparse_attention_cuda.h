#pragma once
// The one place svdit code above the kernels calls svdit_kernels_cuda (the sparse plan executor, the profiler).
// Compiled in every build; without the kernels (SVDIT_RUNTIME_WITH_CUDA unset) the launch throws and
// cuda_kernels_built() is false.

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/block_layout.h"

namespace svdit::runtime::detail {

bool cuda_kernels_built();

// One layer's per-head layouts packed (kernels::pack_layouts) and copied to `device` as int32 tensors.
struct DeviceLayouts {
  at::Tensor row_begin;   // [H, num_blocks + 1]
  at::Tensor key_blocks;  // [Σ computed blocks]
  at::Tensor order;       // [H, S], or undefined when no head is permuted
  int64_t block_size = 0;
};
DeviceLayouts upload_layouts(const std::vector<const data::BlockLayout*>& layouts, at::Device device);

// q, k, v: [B, S, H, D] bf16 or fp16 CUDA tensors with a contiguous last dim. row_begin [H, num_blocks + 1],
// key_blocks [Σ blocks] and order [H, S] (undefined tensor: no head permuted) are int32 on q's device, as
// kernels::pack_layouts lays them out. Returns out [B, S, H, D], launched on the current stream.
at::Tensor sparse_attention_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const at::Tensor& row_begin, const at::Tensor& key_blocks, const at::Tensor& order,
                                 int64_t block_size);

}  // namespace svdit::runtime::detail
