#pragma once
// The launchers of both backends, one function template each. Their definitions live in portable/launch.cuh and
// hopper/launch.cuh, which only the instantiation units (sparse_attention_<backend>_hd<D>_<dtype>.cu, one explicit
// instantiation each, so that they compile in parallel) include; the dispatcher sees these declarations alone and
// reaches the instantiations through static_switch.h.

#include <cuda_runtime.h>

#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

template <int kHeadDim, typename Element>
void launch_portable(const SparseAttentionParams& p, cudaStream_t stream);

#ifdef SVDIT_HAVE_SM90A
template <int kHeadDim, typename Element>
void launch_hopper(const SparseAttentionParams& p, cudaStream_t stream);
#endif

}  // namespace svdit::kernels::detail
