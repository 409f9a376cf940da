// Device/dtype parsing, synchronisation and interval timing. The GPU side goes through c10's device-generic
// guard and events (CUDA's implementation comes with libtorch_cuda), so this file needs no CUDA headers and
// compiles the same in builds with and without CUDA.

#include "svdit/runtime/device.h"

#include <ATen/Context.h>
#include <c10/core/Event.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

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

namespace {
// The device's own index when it has none ("cuda" means the current CUDA device).
c10::Device indexed(c10::Device device) {
  if (device.is_cpu() || device.has_index()) return device;
  return c10::impl::VirtualGuardImpl(device.type()).getDevice();
}
}  // namespace

void synchronize(c10::Device device) {
  if (device.is_cpu()) return;
  const c10::Device d = indexed(device);
  c10::impl::VirtualGuardImpl(d.type()).synchronizeDevice(d.index());
}

struct IntervalTimer::Impl {
  explicit Impl(c10::Device d) : device(indexed(d)) {}
  c10::Device device;
  std::chrono::steady_clock::time_point started;
  double cpu_ms = 0;
  std::vector<std::pair<c10::Event, std::optional<c10::Event>>> events;  // GPU: (begin, end) per interval

  // An event recorded on the device's current stream, with timing on (PYTORCH_DEFAULT would turn it off).
  c10::Event recorded() const {
    c10::Event event(device.type(), c10::EventFlag::BACKEND_DEFAULT);
    event.record(c10::impl::VirtualGuardImpl(device.type()).getStream(device));
    return event;
  }
};

IntervalTimer::IntervalTimer(c10::Device device) : impl_(new Impl(device)) {}
IntervalTimer::~IntervalTimer() { delete impl_; }

void IntervalTimer::begin() {
  if (impl_->device.is_cpu()) {
    impl_->started = std::chrono::steady_clock::now();
    return;
  }
  impl_->events.emplace_back(impl_->recorded(), std::nullopt);
}

void IntervalTimer::end() {
  if (impl_->device.is_cpu()) {
    impl_->cpu_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - impl_->started).count();
    return;
  }
  impl_->events.back().second = impl_->recorded();
}

double IntervalTimer::total_ms() {
  if (impl_->device.is_cpu()) return impl_->cpu_ms;
  double total = 0;
  for (auto& [start, stop] : impl_->events) {
    if (!stop) continue;
    stop->synchronize();
    total += start.elapsedTime(*stop);
  }
  return total;
}

void IntervalTimer::reset() {
  impl_->cpu_ms = 0;
  impl_->events.clear();
}

}  // namespace svdit::runtime
