#pragma once
// Hopper backend: the host launch (definition of launch_templates.h's launch_hopper). Builds the tensor maps,
// runs the permute pre-pass when a head is permuted, and launches one CTA per (query block, head, batch).

#include <cuda_runtime.h>

#include <stdexcept>

#include "hopper/kernel.cuh"
#include "hopper/kernel_traits.cuh"
#include "hopper/permute_prepass.cuh"
#include "hopper/prepass_scratch.h"
#include "hopper/tensor_maps.h"
#include "kernel_attributes.h"
#include "launch_templates.h"
#include "svdit/kernels/cuda/cuda_check.h"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

template <int kHeadDim, typename T>
void launch_hopper(const SparseAttentionParams& p, cudaStream_t stream) {
  using Traits = HopperKernelTraits<kHeadDim>;
  using LoadPath = KernelDebug::LoadPath;
  auto kernel = sparse_attention_hopper_kernel<kHeadDim, T>;
  require_dynamic_shared_memory(kernel, Traits::kSmemBytes);
  HopperTensorMaps maps{};
  maps.enabled = p.debug.load != LoadPath::cp_async_only &&
                 encode_tensor_map<kHeadDim, T>(&maps.q, p.q, p.q_strides, p) &&
                 encode_tensor_map<kHeadDim, T>(&maps.k, p.k, p.k_strides, p) &&
                 encode_tensor_map<kHeadDim, T>(&maps.v, p.v, p.v_strides, p);
  if (p.debug.load == LoadPath::tma_required && !maps.enabled) {
    throw std::invalid_argument("sparse_attention_forward: TMA required (KernelDebug::LoadPath::tma_required) but no "
                                "tensor map was built");
  }
  // Permuted heads: copy their non-run rows of K and V into layout order first, then load them by TMA like the rest.
  StreamScratch scratch;  // freed on the stream after the kernel, also when a launch check throws
  if (maps.enabled && p.order != nullptr && !p.debug.skip_loads && !p.debug.no_permute_prepass) {
    run_permute_prepass<kHeadDim, T>(p, maps, scratch, stream);
  }
  const dim3 grid((p.seq_len + 127) / 128, p.heads, p.batch);
  kernel<<<grid, Traits::kThreads, Traits::kSmemBytes, stream>>>(p, maps);
  SVDIT_CUDA_CHECK_LAUNCH();
}

}  // namespace svdit::kernels::detail
