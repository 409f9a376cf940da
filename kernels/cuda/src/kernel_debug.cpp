// The torch op's `int variant` bits as the named KernelDebug settings (sparse_attention.h).

#include <stdexcept>
#include <string>

#include "svdit/kernels/cuda/sparse_attention.h"

namespace svdit::kernels {

namespace {
constexpr int kSkipLoads = 8;
constexpr int kCpAsyncOnly = 16;
constexpr int kTmaRequired = 32;
constexpr int kNoPermutePrepass = 64;
}  // namespace

KernelDebug debug_from_variant_bits(int bits) {
  constexpr int kKnown = kSkipLoads | kCpAsyncOnly | kTmaRequired | kNoPermutePrepass;
  if ((bits & ~kKnown) != 0) {
    throw std::invalid_argument("sparse_attention: variant " + std::to_string(bits) +
                                " has unknown bits (expected a combination of 8, 16, 32, 64)");
  }
  if ((bits & kCpAsyncOnly) != 0 && (bits & kTmaRequired) != 0) {
    throw std::invalid_argument("sparse_attention: variant " + std::to_string(bits) +
                                " asks for no TMA (16) and for TMA required (32) at once");
  }
  KernelDebug debug;
  debug.skip_loads = (bits & kSkipLoads) != 0;
  if ((bits & kCpAsyncOnly) != 0) debug.load = KernelDebug::LoadPath::cp_async_only;
  if ((bits & kTmaRequired) != 0) debug.load = KernelDebug::LoadPath::tma_required;
  debug.no_permute_prepass = (bits & kNoPermutePrepass) != 0;
  return debug;
}

}  // namespace svdit::kernels
