// Device/dtype parsing, synchronisation and interval timing (CUDA events where the build has CUDA).

#include "svdit/runtime/device.h"

#include <ATen/Context.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#if SVDIT_RUNTIME_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#endif

namespace svdit::runtime {

namespace {
std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}
}  // namespace

c10::Device parse_device(std::string_view text) {
  const std::string t = lower(text);
  if (t == "auto") return at::hasCUDA() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (t == "cpu") return c10::Device(c10::kCPU);
  if (t == "cuda" || t.rfind("cuda:", 0) == 0) {
    if (!at::hasCUDA()) throw std::invalid_argument("--device " + std::string(text) + ": no CUDA device is visible");
    return t == "cuda" ? c10::Device(c10::kCUDA, 0) : c10::Device(t);
  }
  throw std::invalid_argument("--device: expected auto, cpu, cuda or cuda:N, found \"" + std::string(text) + "\"");
}

c10::ScalarType parse_dtype(std::string_view text, c10::Device device) {
  const std::string t = lower(text);
  if (t == "auto") return device.is_cuda() ? c10::kBFloat16 : c10::kFloat;
  if (t == "fp32" || t == "float32" || t == "f32") return c10::kFloat;
  if (t == "bf16" || t == "bfloat16") return c10::kBFloat16;
  if (t == "fp16" || t == "float16" || t == "f16") return c10::kHalf;
  throw std::invalid_argument("--dtype: expected auto, fp32, bf16 or fp16, found \"" + std::string(text) + "\"");
}

void synchronize(c10::Device device) {
#if SVDIT_RUNTIME_WITH_CUDA
  if (device.is_cuda()) {
    const c10::cuda::CUDAGuard guard(device);
    c10::cuda::device_synchronize();
  }
#else
  (void)device;
#endif
}

struct IntervalTimer::Impl {
  explicit Impl(c10::Device d) : device(d) {}
  c10::Device device;
  std::chrono::steady_clock::time_point started;
  double cpu_ms = 0;
#if SVDIT_RUNTIME_WITH_CUDA
  std::vector<std::pair<std::unique_ptr<at::cuda::CUDAEvent>, std::unique_ptr<at::cuda::CUDAEvent>>> events;
#endif
};

IntervalTimer::IntervalTimer(c10::Device device) : impl_(new Impl(device)) {}
IntervalTimer::~IntervalTimer() { delete impl_; }

void IntervalTimer::begin() {
#if SVDIT_RUNTIME_WITH_CUDA
  if (impl_->device.is_cuda()) {
    auto start = std::make_unique<at::cuda::CUDAEvent>(cudaEventDefault);
    start->record();
    impl_->events.emplace_back(std::move(start), nullptr);
    return;
  }
#endif
  impl_->started = std::chrono::steady_clock::now();
}

void IntervalTimer::end() {
#if SVDIT_RUNTIME_WITH_CUDA
  if (impl_->device.is_cuda()) {
    auto stop = std::make_unique<at::cuda::CUDAEvent>(cudaEventDefault);
    stop->record();
    impl_->events.back().second = std::move(stop);
    return;
  }
#endif
  impl_->cpu_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - impl_->started).count();
}

double IntervalTimer::total_ms() {
#if SVDIT_RUNTIME_WITH_CUDA
  if (impl_->device.is_cuda()) {
    double total = 0;
    for (auto& [start, stop] : impl_->events) {
      if (!stop) continue;
      stop->synchronize();
      total += static_cast<double>(start->elapsed_time(*stop));
    }
    return total;
  }
#endif
  return impl_->cpu_ms;
}

void IntervalTimer::reset() {
  impl_->cpu_ms = 0;
#if SVDIT_RUNTIME_WITH_CUDA
  impl_->events.clear();
#endif
}

}  // namespace svdit::runtime
