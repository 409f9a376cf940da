// The portable kernel for head_dim 64, bf16: its one explicit instantiation.
#include "launchers.h"
#include "sparse_attention_portable.cuh"

namespace svdit::kernels::detail {

void launch_portable_hd64_bf16(const SparseAttentionParams& p, cudaStream_t stream) {
  launch_portable<64, __nv_bfloat16>(p, stream);
}

}  // namespace svdit::kernels::detail
