// svdit.sparse_attention on CUDA tensors: checks the arguments, fills SparseAttentionParams and launches
// svdit_kernels_cuda on the current stream. No copies: strided [B, S, H, D] views (e.g. slices of a fused QKV
// projection) go straight in. Registered for the CUDA dispatch key; compiled only in builds with the kernels.

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <torch/library.h>

#include <string>
#include <type_traits>

#include "sparse_attention_inputs.h"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::torch_ops {

namespace {

constexpr const char* kKernel = "svdit.sparse_attention (CUDA)";

Strides strides_of(const at::Tensor& t) {  // t: [B, S, H, D]
  return Strides{t.stride(0), t.stride(2), t.stride(1)};
}

AttentionBackend parse_backend(c10::string_view name) {
  if (name == "automatic" || name == "auto") return AttentionBackend::automatic;
  if (name == "portable") return AttentionBackend::portable;
  if (name == "hopper") return AttentionBackend::hopper;
  TORCH_CHECK(false, kKernel, ": backend '", std::string(name), "' (expected automatic, portable or hopper)");
}

std::tuple<at::Tensor, at::Tensor> sparse_attention_cuda(const at::Tensor& q, const at::Tensor& k,
                                                         const at::Tensor& v, const at::Tensor& row_begin,
                                                         const at::Tensor& key_blocks,
                                                         const std::optional<at::Tensor>& order, int64_t block_size,
                                                         c10::string_view backend, int64_t variant) {
  const SparseAttentionSizes s = check_sparse_attention_inputs(kKernel, q, k, v, row_begin, key_blocks, order,
                                                               block_size, {at::kBFloat16, at::kHalf});
  const c10::cuda::CUDAGuard guard(q.device());
  at::Tensor out = at::empty({s.batch, s.seq_len, s.heads, s.head_dim}, q.options());  // [B, S, H, D]
  at::Tensor lse = at::empty({s.batch, s.heads, s.seq_len}, q.options().dtype(at::kFloat));  // [B, H, S]

  SparseAttentionParams p;
  p.dtype = q.scalar_type() == at::kBFloat16 ? ScalarType::bf16 : ScalarType::fp16;
  p.head_dim = static_cast<int>(s.head_dim);
  p.batch = static_cast<int>(s.batch);
  p.heads = static_cast<int>(s.heads);
  p.seq_len = static_cast<int>(s.seq_len);
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.out = out.data_ptr();
  p.q_strides = strides_of(q);
  p.k_strides = strides_of(k);
  p.v_strides = strides_of(v);
  p.out_strides = strides_of(out);
  p.lse = lse.data_ptr<float>();
  p.block_size = static_cast<int>(s.block_size);
  p.row_begin = row_begin.data_ptr<int32_t>();
  p.key_blocks = key_blocks.numel() > 0 ? key_blocks.data_ptr<int32_t>() : nullptr;
  p.order = s.permuted ? order->data_ptr<int32_t>() : nullptr;
  p.backend = parse_backend(backend);
  p.variant = static_cast<int>(variant);  // benchmarking only
  sparse_attention_forward(p, at::cuda::getCurrentCUDAStream());
  return {out, lse};
}
static_assert(std::is_same_v<decltype(sparse_attention_cuda), SparseAttentionSignature>);

}  // namespace

}  // namespace svdit::kernels::torch_ops

TORCH_LIBRARY_IMPL(svdit, CUDA, m) { m.impl("sparse_attention", &svdit::kernels::torch_ops::sparse_attention_cuda); }
