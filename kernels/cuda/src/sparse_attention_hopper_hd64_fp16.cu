// The hopper kernel for head_dim 64, fp16: its one explicit instantiation.
#include "launchers.h"
#include "sparse_attention_hopper.cuh"

namespace svdit::kernels::detail {

void launch_hopper_hd64_fp16(const SparseAttentionParams& p, cudaStream_t stream) {
  launch_hopper<64, __half>(p, stream);
}

}  // namespace svdit::kernels::detail
