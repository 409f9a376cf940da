#pragma once
// Every CUDA runtime call in svdit goes through SVDIT_CUDA_CHECK, and every kernel launch is followed by
// SVDIT_CUDA_CHECK_LAUNCH(): a failure throws with the file, the line, the call and CUDA's own error string,
// so that an error surfaces where it happened instead of at the next unrelated synchronisation.

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace svdit::kernels {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t code, const char* call, const char* file, int line)
      : std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + call + " failed: " +
                           cudaGetErrorName(code) + " (" + cudaGetErrorString(code) + ")"),
        code_(code) {}
  cudaError_t code() const { return code_; }

 private:
  cudaError_t code_;
};

namespace detail {
inline void cuda_check(cudaError_t code, const char* call, const char* file, int line) {
  if (code != cudaSuccess) {
    throw CudaError(code, call, file, line);
  }
}
}  // namespace detail

}  // namespace svdit::kernels

#define SVDIT_CUDA_CHECK(call) ::svdit::kernels::detail::cuda_check((call), #call, __FILE__, __LINE__)
// A launch reports configuration errors only through cudaGetLastError; asynchronous faults surface later.
#define SVDIT_CUDA_CHECK_LAUNCH() \
  ::svdit::kernels::detail::cuda_check(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
