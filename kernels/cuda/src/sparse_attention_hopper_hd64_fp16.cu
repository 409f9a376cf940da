// The hopper kernel for head_dim 64, fp16: its one explicit instantiation (static_switch.h dispatches to it).
#include "hopper/launch.cuh"

namespace svdit::kernels::detail {

template void launch_hopper<64, __half>(const SparseAttentionParams& p, cudaStream_t stream);

}  // namespace svdit::kernels::detail
