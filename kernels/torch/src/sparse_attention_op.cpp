// torch.ops.svdit.sparse_attention (CUDA): checks tensors, fills SparseAttentionParams and launches on the
// current stream. No copies: strided [B, S, H, D] views (e.g. slices of a fused QKV projection) go straight in.

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <cmath>

#include "ops.h"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::torch_ops {

namespace {

Strides strides_of(const at::Tensor& t) {  // t: [B, S, H, D]
  return Strides{t.stride(0), t.stride(2), t.stride(1)};
}

AttentionBackend parse_backend(const std::string& name) {
  if (name == "automatic" || name == "auto") return AttentionBackend::automatic;
  if (name == "portable") return AttentionBackend::portable;
  if (name == "hopper") return AttentionBackend::hopper;
  TORCH_CHECK(false, "svdit.sparse_attention: backend '", name, "' (expected automatic, portable or hopper)");
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                    const at::Tensor& row_begin, const at::Tensor& key_blocks,
                                                    const std::optional<at::Tensor>& order, int64_t block_size,
                                                    const std::string& backend, int64_t variant) {
  TORCH_CHECK(q.dim() == 4 && q.sizes() == k.sizes() && q.sizes() == v.sizes(),
              "svdit.sparse_attention: q, k, v must all be [B, S, H, D]; got ", q.sizes(), ", ", k.sizes(), ", ",
              v.sizes());
  TORCH_CHECK(q.scalar_type() == k.scalar_type() && q.scalar_type() == v.scalar_type() &&
                  (q.scalar_type() == at::kBFloat16 || q.scalar_type() == at::kHalf),
              "svdit.sparse_attention: q, k, v must share dtype bfloat16 or float16");
  for (const at::Tensor* t : {&q, &k, &v}) {
    TORCH_CHECK(t->is_cuda() && t->device() == q.device(), "svdit.sparse_attention: q, k, v on one CUDA device");
    TORCH_CHECK(t->stride(3) == 1, "svdit.sparse_attention: the last (head_dim) dimension must be contiguous");
  }
  const int64_t B = q.size(0), S = q.size(1), H = q.size(2), D = q.size(3);
  const int64_t num_blocks = (S + block_size - 1) / block_size;
  TORCH_CHECK(row_begin.scalar_type() == at::kInt && row_begin.is_contiguous() && row_begin.device() == q.device() &&
                  row_begin.numel() == H * (num_blocks + 1),
              "svdit.sparse_attention: row_begin must be contiguous int32 [H, num_blocks + 1] = [", H, ", ",
              num_blocks + 1, "] on q's device; got ", row_begin.sizes());
  TORCH_CHECK(key_blocks.scalar_type() == at::kInt && key_blocks.is_contiguous() &&
                  key_blocks.device() == q.device(),
              "svdit.sparse_attention: key_blocks must be contiguous int32 on q's device");
  const bool permuted = order.has_value() && order->numel() > 0;
  if (permuted) {
    TORCH_CHECK(order->scalar_type() == at::kInt && order->is_contiguous() && order->device() == q.device() &&
                    order->numel() == H * S,
                "svdit.sparse_attention: order must be contiguous int32 [H, S] on q's device; got ", order->sizes());
  }

  const c10::cuda::CUDAGuard guard(q.device());
  at::Tensor out = at::empty({B, S, H, D}, q.options());                        // [B, S, H, D]
  at::Tensor lse = at::empty({B, H, S}, q.options().dtype(at::kFloat));         // [B, H, S]

  SparseAttentionParams p;
  p.dtype = q.scalar_type() == at::kBFloat16 ? ScalarType::bf16 : ScalarType::fp16;
  p.head_dim = static_cast<int>(D);
  p.batch = static_cast<int>(B);
  p.heads = static_cast<int>(H);
  p.seq_len = static_cast<int>(S);
  p.q = q.data_ptr();
  p.k = k.data_ptr();
  p.v = v.data_ptr();
  p.out = out.data_ptr();
  p.q_strides = strides_of(q);
  p.k_strides = strides_of(k);
  p.v_strides = strides_of(v);
  p.out_strides = strides_of(out);
  p.lse = lse.data_ptr<float>();
  p.block_size = static_cast<int>(block_size);
  p.row_begin = row_begin.data_ptr<int32_t>();
  p.key_blocks = key_blocks.numel() > 0 ? key_blocks.data_ptr<int32_t>() : nullptr;
  p.order = permuted ? order->data_ptr<int32_t>() : nullptr;
  p.backend = parse_backend(backend);
  p.debug = debug_from_variant_bits(static_cast<int>(variant));  // benchmarking and tests only
  sparse_attention_forward(p, at::cuda::getCurrentCUDAStream());
  return {out, lse};
}

}  // namespace svdit::kernels::torch_ops
