// The checks both kernels of svdit.sparse_attention run first (see sparse_attention_inputs.h).

#include "sparse_attention_inputs.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <string>

namespace svdit::kernels::torch_ops {

namespace {

std::string dtype_list(std::initializer_list<at::ScalarType> dtypes) {
  std::string out;
  for (const at::ScalarType t : dtypes) out += (out.empty() ? "" : ", ") + std::string(c10::toString(t));
  return out;
}

void check_int32_array(const char* kernel, const char* name, const at::Tensor& t, const at::Device& device) {
  TORCH_CHECK(t.scalar_type() == at::kInt && t.is_contiguous(), kernel, ": ", name,
              " must be a contiguous int32 tensor; found ", t.scalar_type(), " with strides ", t.strides());
  TORCH_CHECK(t.device() == device, kernel, ": ", name, " must be on q's device ", device, "; found ", t.device());
}

}  // namespace

SparseAttentionSizes check_sparse_attention_inputs(const char* kernel, const at::Tensor& q, const at::Tensor& k,
                                                   const at::Tensor& v, const at::Tensor& row_begin,
                                                   const at::Tensor& key_blocks,
                                                   const std::optional<at::Tensor>& order, int64_t block_size,
                                                   std::initializer_list<at::ScalarType> dtypes) {
  TORCH_CHECK(q.dim() == 4 && q.sizes() == k.sizes() && q.sizes() == v.sizes(), kernel,
              ": q, k, v must all be [B, S, H, D]; found ", q.sizes(), ", ", k.sizes(), ", ", v.sizes());
  TORCH_CHECK(std::find(dtypes.begin(), dtypes.end(), q.scalar_type()) != dtypes.end() &&
                  k.scalar_type() == q.scalar_type() && v.scalar_type() == q.scalar_type(),
              kernel, ": q, k, v must share one dtype out of {", dtype_list(dtypes), "}; found ", q.scalar_type(),
              ", ", k.scalar_type(), ", ", v.scalar_type());
  for (const auto& [name, t] : {std::pair<const char*, const at::Tensor*>{"q", &q}, {"k", &k}, {"v", &v}}) {
    TORCH_CHECK(t->device() == q.device(), kernel, ": ", name, " must be on q's device ", q.device(), "; found ",
                t->device());
    TORCH_CHECK(t->stride(3) == 1, kernel, ": the last (head_dim) dimension of ", name,
                " must be contiguous; found strides ", t->strides());
  }
  SparseAttentionSizes s;
  s.batch = q.size(0);
  s.seq_len = q.size(1);
  s.heads = q.size(2);
  s.head_dim = q.size(3);
  TORCH_CHECK(s.batch >= 1 && s.seq_len >= 1 && s.heads >= 1 && s.head_dim >= 1, kernel,
              ": B, S, H, D must be at least 1; found q ", q.sizes());
  TORCH_CHECK(block_size == 64 || block_size == 128, kernel, ": block_size must be 64 or 128; found ", block_size);
  s.block_size = block_size;
  s.num_blocks = (s.seq_len + block_size - 1) / block_size;

  check_int32_array(kernel, "row_begin", row_begin, q.device());
  TORCH_CHECK(row_begin.numel() == s.heads * (s.num_blocks + 1), kernel, ": row_begin must be [H, ⌈S/b⌉ + 1] = [",
              s.heads, ", ", s.num_blocks + 1, "]; found ", row_begin.sizes());
  check_int32_array(kernel, "key_blocks", key_blocks, q.device());
  TORCH_CHECK(key_blocks.dim() == 1, kernel, ": key_blocks must be one-dimensional; found ", key_blocks.sizes());
  s.permuted = order.has_value() && order->numel() > 0;
  if (s.permuted) {
    check_int32_array(kernel, "order", *order, q.device());
    TORCH_CHECK(order->numel() == s.heads * s.seq_len, kernel, ": order must be [H, S] = [", s.heads, ", ",
                s.seq_len, "] (or empty: no head permuted); found ", order->sizes());
  }
  return s;
}

}  // namespace svdit::kernels::torch_ops
