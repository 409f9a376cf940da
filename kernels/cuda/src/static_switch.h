#pragma once
// The one map from the runtime (head_dim, dtype) of a launch to the compile-time (kHeadDim, Element) of a kernel
// instantiation, for both backends (like FlashAttention's static_switch.h, as a template instead of macros):
//
//   switch_head_dim_and_dtype(p.head_dim, p.dtype, [&]<int kHeadDim, typename Element>() {
//     launch_portable<kHeadDim, Element>(p, stream);
//   });
//
// Adding a head_dim or a dtype means adding it here and adding its instantiation units to CMakeLists.txt.

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels::detail {

constexpr bool is_supported_head_dim(int head_dim) { return head_dim == 64 || head_dim == 128; }

template <int kHeadDim, typename Body>
decltype(auto) switch_dtype(ScalarType dtype, Body&& body) {
  switch (dtype) {
    case ScalarType::bf16: return std::forward<Body>(body).template operator()<kHeadDim, __nv_bfloat16>();
    case ScalarType::fp16: return std::forward<Body>(body).template operator()<kHeadDim, __half>();
  }
  throw std::invalid_argument("sparse_attention_forward: unknown dtype");
}

// Calls body.template operator()<kHeadDim, Element>() for the instantiation that serves (head_dim, dtype).
template <typename Body>
decltype(auto) switch_head_dim_and_dtype(int head_dim, ScalarType dtype, Body&& body) {
  static_assert(is_supported_head_dim(64) && is_supported_head_dim(128), "keep the cases below in step");
  switch (head_dim) {
    case 64: return switch_dtype<64>(dtype, std::forward<Body>(body));
    case 128: return switch_dtype<128>(dtype, std::forward<Body>(body));
  }
  throw std::invalid_argument("sparse_attention_forward: head_dim " + std::to_string(head_dim) +
                              " (expected 64 or 128)");
}

}  // namespace svdit::kernels::detail
