// The portable kernel for head_dim 64, fp16: its one explicit instantiation.
#include "launchers.h"
#include "sparse_attention_portable.cuh"

namespace svdit::kernels::detail {

void launch_portable_hd64_fp16(const SparseAttentionParams& p, cudaStream_t stream) {
  launch_portable<64, __half>(p, stream);
}

}  // namespace svdit::kernels::detail
