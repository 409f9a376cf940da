// The portable kernel for head_dim 128, fp16: its one explicit instantiation.
#include "launchers.h"
#include "sparse_attention_portable.cuh"

namespace svdit::kernels::detail {

void launch_portable_hd128_fp16(const SparseAttentionParams& p, cudaStream_t stream) {
  launch_portable<128, __half>(p, stream);
}

}  // namespace svdit::kernels::detail
