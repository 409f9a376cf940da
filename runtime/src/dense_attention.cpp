// Dense self-attention through at::scaled_dot_product_attention, which picks cuDNN or FlashAttention on GPU.

#include <ATen/ATen.h>

#include "svdit/runtime/attention_backend.h"

namespace svdit::runtime {

const char* to_string(CfgBranch branch) {
  return branch == CfgBranch::conditional ? "conditional" : "unconditional";
}

at::Tensor dense_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  // SDPA wants [B, H, S, D]; the transposes are views, the kernels take the strides.
  const at::Tensor out = at::scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2));  // [B, H, S, D]
  return out.transpose(1, 2);  // [B, S, H, D]
}

at::Tensor DenseAttention::self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                          const SelfAttentionCall& /*call*/) {
  return dense_attention(q, k, v);
}

}  // namespace svdit::runtime
