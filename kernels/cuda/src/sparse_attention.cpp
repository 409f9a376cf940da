// Host-side entry point of the block-sparse attention engine: checks the parameters once (the kernels trust
// them), picks the backend for the device and launches the instantiation for (head_dim, dtype) through
// static_switch.h.

#include "svdit/kernels/cuda/sparse_attention.h"

#include <cmath>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "launch_templates.h"
#include "static_switch.h"
#include "svdit/kernels/cuda/cuda_check.h"

namespace svdit::kernels {

namespace {

[[noreturn]] void invalid(const std::string& what) {
  throw std::invalid_argument("sparse_attention_forward: " + what);
}

void check_tensor(const char* name, const void* ptr, const Strides& strides) {
  if (ptr == nullptr) invalid(std::string(name) + " is null");
  // 16-byte vector loads and stores of whole rows.
  if (reinterpret_cast<std::uintptr_t>(ptr) % 16 != 0) invalid(std::string(name) + " is not 16-byte aligned");
  if (strides.batch % 8 != 0 || strides.head % 8 != 0 || strides.row % 8 != 0) {
    invalid(std::string(name) + " strides (" + std::to_string(strides.batch) + ", " + std::to_string(strides.head) +
            ", " + std::to_string(strides.row) + ") are not multiples of 8 elements (16 bytes)");
  }
}

struct DeviceInfo {
  int major = 0;
  int minor = 0;
};

DeviceInfo device_info() {
  static std::mutex mutex;
  static std::vector<DeviceInfo> cache;
  int device = 0;
  SVDIT_CUDA_CHECK(cudaGetDevice(&device));
  std::lock_guard<std::mutex> lock(mutex);
  if (cache.size() <= static_cast<size_t>(device)) cache.resize(static_cast<size_t>(device) + 1, DeviceInfo{-1, -1});
  DeviceInfo& info = cache[static_cast<size_t>(device)];
  if (info.major < 0) {
    SVDIT_CUDA_CHECK(cudaDeviceGetAttribute(&info.major, cudaDevAttrComputeCapabilityMajor, device));
    SVDIT_CUDA_CHECK(cudaDeviceGetAttribute(&info.minor, cudaDevAttrComputeCapabilityMinor, device));
  }
  return info;
}

bool hopper_built() {
#ifdef SVDIT_HAVE_SM90A
  return true;
#else
  return false;
#endif
}

}  // namespace

const char* to_string(AttentionBackend backend) {
  switch (backend) {
    case AttentionBackend::automatic: return "automatic";
    case AttentionBackend::portable: return "portable";
    case AttentionBackend::hopper: return "hopper";
  }
  return "?";
}

AttentionBackend resolve_backend(const SparseAttentionParams& p) {
  const DeviceInfo info = device_info();
  const bool hopper_ok = hopper_built() && info.major == 9 && info.minor == 0;
  switch (p.backend) {
    case AttentionBackend::automatic:
      return hopper_ok && p.block_size == 128 ? AttentionBackend::hopper : AttentionBackend::portable;
    case AttentionBackend::hopper:
      if (!hopper_ok) {
        invalid(std::string("the hopper backend needs an sm_90 device and sm_90a code (") +
                (hopper_built() ? "built" : "not built: SVDIT_CUDA_ARCHITECTURES lacks 90a") + ", device sm_" +
                std::to_string(info.major) + std::to_string(info.minor) + ")");
      }
      if (p.block_size != 128) invalid("the hopper backend supports block size 128 only");
      return AttentionBackend::hopper;
    case AttentionBackend::portable:
      if (info.major < 8) invalid("the portable backend needs sm_80 or newer");
      return AttentionBackend::portable;
  }
  invalid("unknown backend");
}

AttentionBackend sparse_attention_forward(const SparseAttentionParams& params, cudaStream_t stream) {
  SparseAttentionParams p = params;
  if (!detail::is_supported_head_dim(p.head_dim)) {
    invalid("head_dim " + std::to_string(p.head_dim) + " (expected 64 or 128)");
  }
  if (p.batch <= 0 || p.heads <= 0 || p.seq_len <= 0) {
    invalid("B, H, S must be positive (got " + std::to_string(p.batch) + ", " + std::to_string(p.heads) + ", " +
            std::to_string(p.seq_len) + ")");
  }
  if (p.batch > 65535 || p.heads > 65535) invalid("B and H must be at most 65535");
  if (p.block_size != 64 && p.block_size != 128) {
    invalid("block_size " + std::to_string(p.block_size) + " (expected 64 or 128)");
  }
  check_tensor("q", p.q, p.q_strides);
  check_tensor("k", p.k, p.k_strides);
  check_tensor("v", p.v, p.v_strides);
  check_tensor("out", p.out, p.out_strides);
  if (p.row_begin == nullptr) invalid("row_begin is null");
  if (!(p.scale >= 0.0f) || !std::isfinite(p.scale)) invalid("scale must be finite and ≥ 0 (0: 1/sqrt(head_dim))");
  if (p.scale == 0.0f) p.scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));

  const AttentionBackend backend = resolve_backend(p);
  detail::switch_head_dim_and_dtype(p.head_dim, p.dtype, [&]<int kHeadDim, typename Element>() {
    if (backend == AttentionBackend::portable) {
      detail::launch_portable<kHeadDim, Element>(p, stream);
    } else {
#ifdef SVDIT_HAVE_SM90A
      detail::launch_hopper<kHeadDim, Element>(p, stream);
#endif
    }
  });
  return backend;
}

}  // namespace svdit::kernels
