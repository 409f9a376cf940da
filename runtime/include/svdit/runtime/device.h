#pragma once
// Device and dtype choices from command-line words, and synchronisation for honest wall-clock timing.

#include <string_view>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace svdit::runtime {

// "auto" (cuda when a GPU is visible, else cpu), "cpu", "cuda", "cuda:N". std::invalid_argument otherwise.
c10::Device parse_device(std::string_view text);

// "auto" (bf16 on cuda, fp32 on cpu), "fp32"/"float32", "bf16"/"bfloat16", "fp16"/"float16".
c10::ScalarType parse_dtype(std::string_view text, c10::Device device);

// Waits for all work queued on the device (no-op on CPU).
void synchronize(c10::Device device);

// Sums device time between begin()/end() pairs (CUDA events on GPU, a steady clock on CPU), without stalling the
// queue in between; total_ms() synchronises once.
class IntervalTimer {
 public:
  explicit IntervalTimer(c10::Device device);
  ~IntervalTimer();
  IntervalTimer(const IntervalTimer&) = delete;
  IntervalTimer& operator=(const IntervalTimer&) = delete;
  void begin();
  void end();
  double total_ms();
  void reset();

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace svdit::runtime
