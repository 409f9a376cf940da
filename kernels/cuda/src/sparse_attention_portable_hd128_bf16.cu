// The portable kernel for head_dim 128, bf16: its one explicit instantiation (static_switch.h dispatches to it).
#include "portable/launch.cuh"

namespace svdit::kernels::detail {

template void launch_portable<128, __nv_bfloat16>(const SparseAttentionParams& p, cudaStream_t stream);

}  // namespace svdit::kernels::detail
