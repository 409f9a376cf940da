// Per-device kernel attributes (kernel_attributes.h).

#include "kernel_attributes.h"

#include <cuda_runtime.h>

#include <mutex>
#include <set>
#include <utility>

#include "svdit/kernels/cuda/cuda_check.h"

namespace svdit::kernels::detail {

void require_dynamic_shared_memory(const void* kernel, int bytes) {
  int device = 0;
  SVDIT_CUDA_CHECK(cudaGetDevice(&device));
  static std::mutex mutex;
  static std::set<std::pair<const void*, int>> configured;  // (kernel, device)
  std::lock_guard<std::mutex> lock(mutex);
  if (configured.count({kernel, device}) != 0) return;
  SVDIT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes));
  configured.insert({kernel, device});
}

}  // namespace svdit::kernels::detail
