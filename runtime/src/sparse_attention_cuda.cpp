// The block-sparse kernel launch for the plan executor: fills SparseAttentionParams from tensors (no copies, the
// [B, S, H, D] strides go straight in) and launches on PyTorch's current stream.

#include "svdit/runtime/sparse_attention_cuda.h"

#include <algorithm>
#include <stdexcept>

#if SVDIT_RUNTIME_WITH_CUDA
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include "svdit/kernels/cuda/packed_layout.h"
#include "svdit/kernels/cuda/sparse_attention.h"
#endif

namespace svdit::runtime::detail {

#if SVDIT_RUNTIME_WITH_CUDA

bool cuda_kernels_built() { return true; }

namespace {
kernels::Strides strides_of(const at::Tensor& t) {  // t: [B, S, H, D]
  return kernels::Strides{t.stride(0), t.stride(2), t.stride(1)};
}
at::Tensor int32_on(const std::vector<int32_t>& values, at::Device device) {
  const auto n = static_cast<int64_t>(values.size());
  at::Tensor host = at::empty({n}, at::TensorOptions().dtype(at::kInt));  // [n]
  if (n > 0) std::copy(values.begin(), values.end(), host.data_ptr<int32_t>());
  return host.to(device);
}
}  // namespace

DeviceLayouts upload_layouts(const std::vector<const data::BlockLayout*>& layouts, at::Device device) {
  std::vector<data::BlockLayout> copies;  // pack_layouts takes the layouts by value, one per head
  copies.reserve(layouts.size());
  for (const data::BlockLayout* layout : layouts) copies.push_back(*layout);
  const kernels::PackedLayouts packed = kernels::pack_layouts(copies);
  DeviceLayouts out;
  out.row_begin = int32_on(packed.row_begin, device).view({packed.heads, packed.num_blocks + 1});  // [H, nb + 1]
  out.key_blocks = int32_on(packed.key_blocks, device);                                            // [Σ blocks]
  if (!packed.order.empty()) out.order = int32_on(packed.order, device).view({packed.heads, packed.seq_len});  // [H, S]
  out.block_size = packed.block_size;
  return out;
}

at::Tensor sparse_attention_cuda(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 const at::Tensor& row_begin, const at::Tensor& key_blocks, const at::Tensor& order,
                                 int64_t block_size) {
  if (q.scalar_type() != at::kBFloat16 && q.scalar_type() != at::kHalf) {
    throw std::invalid_argument("sparse attention on CUDA: q, k, v must be bf16 or fp16 (run with --dtype bf16), found " +
                                std::string(c10::toString(q.scalar_type())));
  }
  const c10::cuda::CUDAGuard guard(q.device());
  at::Tensor out = at::empty_like(q, at::MemoryFormat::Contiguous);  // [B, S, H, D]
  kernels::SparseAttentionParams p;
  p.dtype = q.scalar_type() == at::kBFloat16 ? kernels::ScalarType::bf16 : kernels::ScalarType::fp16;
  p.head_dim = static_cast<int>(q.size(3));
  p.batch = static_cast<int>(q.size(0));
  p.heads = static_cast<int>(q.size(2));
  p.seq_len = static_cast<int>(q.size(1));
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.out = out.data_ptr();
  p.q_strides = strides_of(q);
  p.k_strides = strides_of(k);
  p.v_strides = strides_of(v);
  p.out_strides = strides_of(out);
  p.lse = nullptr;
  p.block_size = static_cast<int>(block_size);
  p.row_begin = row_begin.data_ptr<int32_t>();
  p.key_blocks = key_blocks.numel() > 0 ? key_blocks.data_ptr<int32_t>() : nullptr;
  p.order = order.defined() && order.numel() > 0 ? order.data_ptr<int32_t>() : nullptr;
  kernels::sparse_attention_forward(p, at::cuda::getCurrentCUDAStream());
  return out;
}

#else

bool cuda_kernels_built() { return false; }

DeviceLayouts upload_layouts(const std::vector<const data::BlockLayout*>&, at::Device) {
  throw std::runtime_error("uploading sparse layouts to a GPU, but this build has no CUDA kernels "
                           "(configure with -DSVDIT_CUDA=ON)");
}

at::Tensor sparse_attention_cuda(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                 const at::Tensor&, const at::Tensor&, int64_t) {
  throw std::runtime_error(
      "sparse attention on a CUDA tensor, but this build has no CUDA kernels (configure with -DSVDIT_CUDA=ON)");
}

#endif

}  // namespace svdit::runtime::detail
