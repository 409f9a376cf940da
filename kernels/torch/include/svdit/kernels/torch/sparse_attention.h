#pragma once
// The C++ face of torch.ops.svdit.sparse_attention, for svdit code above the kernels (the runtime's plan
// executor, the profiler) — the one header they call; Python calls the same op through torch.ops.svdit.
//
// A layer's per-head layouts are packed and put on a device once (prepare_layouts); each step then calls
// sparse_attention(), which goes through the dispatcher exactly like a call from Python: the CPU kernel
// (kernels/torch/src/cpu/) for CPU tensors, the CUDA kernel (kernels/torch/src/cuda/, svdit_kernels_cuda) for
// CUDA tensors. Both compute docs/REFERENCE.md's block-sparse attention for every head with its own layout.

#include <ATen/core/Tensor.h>
#include <c10/core/DeviceType.h>

#include <cstdint>
#include <span>
#include <string>

#include "svdit/data/block_layout.h"
#include "svdit/data/packed_layout.h"

namespace svdit::kernels::torch_ops {

// One layer's layouts as the op takes them (data::pack_layouts' arrays), on one device.
struct DeviceLayouts {
  at::Tensor row_begin;   // int32 [H, num_blocks + 1], absolute offsets into key_blocks
  at::Tensor key_blocks;  // int32 [Σ computed blocks], ascending within each query block
  at::Tensor order;       // int32 [H, S] layout position → token, or [0] when no head is permuted
  int64_t block_size = 0;
};

DeviceLayouts prepare_layouts(const data::PackedLayouts& packed, at::Device device);
// Packs one layout per head (data::pack_layouts: throws std::invalid_argument naming a malformed head), then as
// above.
DeviceLayouts prepare_layouts(std::span<const data::BlockLayout* const> layouts, at::Device device);

struct SparseAttentionResult {
  at::Tensor out;  // [B, S, H, D] contiguous, q's dtype; rows without a key block are 0
  at::Tensor lse;  // [B, H, S] fp32 natural-log logsumexp of the scaled scores; -inf for rows without a key block
};

// q, k, v: [B, S, H, D] on one device with any strides but a contiguous last dimension; `layouts` on the same
// device, H heads. CPU: fp32, bf16 or fp16 (softmax in fp32), backend "automatic". CUDA: bf16 or fp16,
// head_dim 64 or 128, backend "automatic", "portable" or "hopper", launched on the current stream.
// `variant` is the kernels' benchmarking knob (docs/KERNELS.md); 0 for real use.
// Throws when the op has no kernel for q's device in this build (sparse_attention_runs_on) and, through the
// op's own checks, on tensors that do not fit (c10::Error naming the argument, expected vs found).
SparseAttentionResult sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                       const DeviceLayouts& layouts, const std::string& backend = "automatic",
                                       int64_t variant = 0);

// Whether svdit.sparse_attention has a kernel for tensors on this device type in this process (CUDA: only when
// the op library was built with the CUDA kernels, -DSVDIT_CUDA).
bool sparse_attention_runs_on(c10::DeviceType device);

}  // namespace svdit::kernels::torch_ops
