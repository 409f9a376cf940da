// The hopper kernel for head_dim 128, bf16: its one explicit instantiation.
#include "launchers.h"
#include "sparse_attention_hopper.cuh"

namespace svdit::kernels::detail {

void launch_hopper_hd128_bf16(const SparseAttentionParams& p, cudaStream_t stream) {
  launch_hopper<128, __nv_bfloat16>(p, stream);
}

}  // namespace svdit::kernels::detail
