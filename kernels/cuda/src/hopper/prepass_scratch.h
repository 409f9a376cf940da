#pragma once
// Hopper backend: the device memory the permute pre-pass writes into, stream-ordered.

#include <cuda_runtime.h>

#include <map>
#include <mutex>

#include "svdit/kernels/cuda/cuda_check.h"

namespace svdit::kernels::detail {

// Stream-ordered scratch for the permute pre-pass: one pool per device that keeps what it reserved (release
// threshold = max), so repeated layers reuse the memory without mapping it again. It holds at most the largest
// 2·B·H·S·D elements asked for.
inline cudaMemPool_t scratch_pool() {
  int device = 0;
  SVDIT_CUDA_CHECK(cudaGetDevice(&device));
  static std::mutex mutex;
  static std::map<int, cudaMemPool_t> pools;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = pools.find(device);
  if (it != pools.end()) return it->second;
  cudaMemPoolProps props{};
  props.allocType = cudaMemAllocationTypePinned;
  props.handleTypes = cudaMemHandleTypeNone;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  cudaMemPool_t pool = nullptr;
  SVDIT_CUDA_CHECK(cudaMemPoolCreate(&pool, &props));
  unsigned long long keep = ~0ull;
  SVDIT_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep));
  pools.emplace(device, pool);
  return pool;
}

// Frees the scratch on the stream after the kernels that use it, also when a launch check throws.
struct StreamScratch {
  void* ptr = nullptr;
  cudaStream_t stream = nullptr;
  StreamScratch() = default;
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  ~StreamScratch() {
    if (ptr != nullptr) (void)cudaFreeAsync(ptr, stream);
  }
};

}  // namespace svdit::kernels::detail
