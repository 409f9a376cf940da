#pragma once
// Portable backend: the host launch (definition of launch_templates.h's launch_portable).

#include <cuda_runtime.h>

#include "kernel_attributes.h"
#include "launch_templates.h"
#include "portable/kernel.cuh"
#include "svdit/kernels/cuda/cuda_check.h"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

template <int kHeadDim, typename T>
void launch_portable(const SparseAttentionParams& p, cudaStream_t stream) {
  using Traits = PortableKernelTraits<kHeadDim>;
  auto kernel = sparse_attention_portable_kernel<kHeadDim, T>;
  require_dynamic_shared_memory(kernel, Traits::kSmemBytes);  // above 48 KB a kernel must opt in
  const dim3 grid((p.seq_len + Traits::kBlockM - 1) / Traits::kBlockM, p.heads, p.batch);
  kernel<<<grid, Traits::kThreads, Traits::kSmemBytes, stream>>>(p);
  SVDIT_CUDA_CHECK_LAUNCH();
}

}  // namespace svdit::kernels::detail
