#pragma once
// One explicitly instantiated launcher per (backend, head_dim, dtype), each in its own translation unit so that
// they compile in parallel and the dispatcher needs none of the kernel templates.

#include <cuda_runtime.h>

#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

void launch_portable_hd64_bf16(const SparseAttentionParams& p, cudaStream_t stream);
void launch_portable_hd64_fp16(const SparseAttentionParams& p, cudaStream_t stream);
void launch_portable_hd128_bf16(const SparseAttentionParams& p, cudaStream_t stream);
void launch_portable_hd128_fp16(const SparseAttentionParams& p, cudaStream_t stream);

#ifdef SVDIT_HAVE_SM90A
void launch_hopper_hd64_bf16(const SparseAttentionParams& p, cudaStream_t stream);
void launch_hopper_hd64_fp16(const SparseAttentionParams& p, cudaStream_t stream);
void launch_hopper_hd128_bf16(const SparseAttentionParams& p, cudaStream_t stream);
void launch_hopper_hd128_fp16(const SparseAttentionParams& p, cudaStream_t stream);
#endif

}  // namespace svdit::kernels::detail
