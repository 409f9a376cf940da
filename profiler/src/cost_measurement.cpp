// measure_candidate_costs (see svdit/profiler/cost_measurement.h): option checks, the choice of timer, and the
// GPU timer. What is launched is in cost_measurement_loop.cpp, the wall-clock timer in cost_measurement_cpu.cpp.
//
// GPU timer: the table must hold what a launch takes while a generation runs — seconds of back-to-back work at
// the clocks the card settles to under that load. Timed in short synchronised bursts on a cool card, the same
// launches ran 4–12 % faster than in the cost model's check (docs/BENCHMARKS.md "Cost model", 2026-12-03, H200:
// every Wan/Hunyuan layer under-predicted, the all-dense SDPA layer by 12 %). So:
//   - before the first entry, the card is kept busy for `heat_ms` with the first launch (steady clocks);
//   - `warmup` launches run untimed, then — with no flush of CUPTI's buffers between, which would idle the card —
//     `repetitions` repetitions of `launches_per_repetition` back-to-back launches; a repetition's time is the CUDA-event time around its launches, per launch (gaps between the
//     launches included, as in a generation); the entry is the median over repetitions;
//   - every repetition runs inside its own CUPTI external-correlation scope: the kernels it ran are recorded, and
//     the share of their durations that was the permute pre-pass (kernels named permute_kv_kernel) splits the
//     event time into the pre-pass part and the rest. Kernels launched through the driver API (cuDNN's SDPA)
//     carry no external id; they are assigned to repetitions by launch order (see below).
// Every recorded kernel goes into CostMeasurement::records tagged with the launch's (candidate, group size); a
// kernel no scope tagged (another thread's, the heat-up's) is kept with candidate −1, group size 0.

#include "svdit/profiler/cost_measurement.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "cost_measurement_internal.h"
#include "svdit/profiler/cupti_tracer.h"

#if SVDIT_PROFILER_WITH_CUPTI
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>

#include <chrono>
#include <map>
#endif

namespace svdit::profiler {

namespace detail {

double median(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median of an empty sample");
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

namespace {

ResolvedCostOptions resolve(const std::vector<data::BlockLayout>& layouts, const CostMeasurementOptions& o) {
  auto bad = [](const std::string& what) {
    throw std::invalid_argument("measure_candidate_costs: " + what);
  };
  if (layouts.empty()) bad("no candidate layouts");
  if (o.batch < 1) bad("batch must be ≥ 1, found " + std::to_string(o.batch));
  if (o.heads < 1) bad("heads must be ≥ 1, found " + std::to_string(o.heads));
  if (o.head_dim < 1) bad("head_dim must be ≥ 1, found " + std::to_string(o.head_dim));
  if (o.max_group < 0 || o.max_group > o.heads) {
    bad("max_group must be in [0, heads = " + std::to_string(o.heads) + "] (0: heads), found " +
        std::to_string(o.max_group));
  }
  if (o.repetitions < 1) bad("repetitions must be ≥ 1, found " + std::to_string(o.repetitions));
  if (o.warmup < 0) bad("warmup must be ≥ 0, found " + std::to_string(o.warmup));
  if (o.launches_per_repetition < 1)
    bad("launches_per_repetition must be ≥ 1, found " + std::to_string(o.launches_per_repetition));
  if (o.heat_ms < 0) bad("heat_ms must be ≥ 0, found " + std::to_string(o.heat_ms));
  ResolvedCostOptions r;
  r.options = o;
  r.group_sizes = o.group_sizes.empty() ? default_group_sizes(o.max_group == 0 ? o.heads : o.max_group) : o.group_sizes;
  for (size_t i = 0; i < r.group_sizes.size(); ++i) {
    const int64_t g = r.group_sizes[i];
    if (g < 1 || g > o.heads || (i > 0 && g <= r.group_sizes[i - 1]))
      bad("group_sizes must ascend strictly within [1, heads = " + std::to_string(o.heads) + "], found " +
          std::to_string(g) + " at [" + std::to_string(i) + "]");
  }
  r.seq_len = layouts.front().seq_len;
  r.block_size = layouts.front().block_size;
  for (size_t c = 0; c < layouts.size(); ++c) {
    const data::BlockLayout& l = layouts[c];
    if (l.seq_len != r.seq_len || l.block_size != r.block_size) {
      bad("layout of candidate " + std::to_string(c) + " is for S = " + std::to_string(l.seq_len) + ", b = " +
          std::to_string(l.block_size) + ", but candidate 0's is for S = " + std::to_string(r.seq_len) +
          ", b = " + std::to_string(r.block_size) + " (all candidates must be compiled for one token layout)");
    }
  }
  if (r.seq_len < 1) bad("layouts have S = " + std::to_string(r.seq_len));
  return r;
}

#if SVDIT_PROFILER_WITH_CUPTI

// A CUDA event that records time (torch's event class moved between releases; the runtime API has not).
class TimingEvent {
 public:
  TimingEvent() { check(cudaEventCreate(&event_), "cudaEventCreate"); }
  ~TimingEvent() { (void)cudaEventDestroy(event_); }
  TimingEvent(const TimingEvent&) = delete;
  TimingEvent& operator=(const TimingEvent&) = delete;
  void record(cudaStream_t stream) { check(cudaEventRecord(event_, stream), "cudaEventRecord"); }
  // Milliseconds from this event to `later`; both must have completed.
  double ms_until(const TimingEvent& later) const {
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, event_, later.event_), "cudaEventElapsedTime");
    return static_cast<double>(ms);
  }

 private:
  static void check(cudaError_t status, const char* call) {
    if (status != cudaSuccess)
      throw std::runtime_error(std::string("measure_candidate_costs: ") + call + ": " + cudaGetErrorString(status));
  }
  cudaEvent_t event_{};
};

// Keeps the device busy with `launch` for at least `ms` of wall-clock time (synchronising every few launches).
void heat(const std::function<void()>& launch, int64_t ms) {
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 4; ++i) launch();
    at::cuda::getCurrentCUDAStream().synchronize();
  }
}

// The tracer lives as long as the measurement; the timer collects after each entry's repetitions. `heated` is
// set by the first call, which heats the card first.
LaunchTimer gpu_timer(const ResolvedCostOptions& r, CuptiTracer& tracer, uint64_t& next_id, bool& heated) {
  const CostMeasurementOptions o = r.options;
  return [o, &tracer, &next_id, &heated](const std::function<void()>& launch, int32_t candidate, int32_t group_size,
                                         std::vector<data::KernelRecord>& records) {
    if (!heated) {
      heat(launch, o.heat_ms);
      (void)tracer.collect();  // the heat-up's kernels are not measurements
      heated = true;
    }
    // The warm-up runs in its own scope right before the timed repetitions, with no collect() between: a flush
    // there would idle the card just before the timing, the condition the heat-up is there to avoid.
    const uint64_t warmup_id = next_id++;
    {
      const CuptiTracer::ExternalIdScope scope(warmup_id);
      for (int64_t w = 0; w < o.warmup; ++w) launch();
    }
    const uint64_t first_id = next_id;
    const auto reps = static_cast<size_t>(o.repetitions);
    std::vector<TimingEvent> starts(reps), stops(reps);
    const cudaStream_t stream = at::cuda::getCurrentCUDAStream().stream();
    for (size_t rep = 0; rep < reps; ++rep) {
      const CuptiTracer::ExternalIdScope scope(next_id++);
      starts[rep].record(stream);
      for (int64_t i = 0; i < o.launches_per_repetition; ++i) launch();
      stops[rep].record(stream);
    }
    const std::vector<TracedKernel> kernels = tracer.collect();  // synchronises: every event has completed
    // When no kernel carries one of this entry's ids and they divide evenly over its launches (warm-up, then the
    // repetitions'), they are assigned by launch order instead: collect() synchronised before the previous entry
    // ended and after this one, so every kernel recorded in between is one of these launches'.
    const bool tagged = std::any_of(kernels.begin(), kernels.end(), [&](const TracedKernel& t) {
      return t.external_id >= warmup_id && t.external_id < next_id;
    });
    const auto launches = static_cast<size_t>(o.warmup) + reps * static_cast<size_t>(o.launches_per_repetition);
    const bool by_order = !tagged && !kernels.empty() && kernels.size() % launches == 0;
    const size_t kernels_per_launch = by_order ? kernels.size() / launches : 0;
    // The repetition (0-based) kernel i belongs to; −1 for a warm-up kernel or another scope's.
    auto repetition_of = [&](size_t i) -> int64_t {
      if (by_order) {
        const size_t launch_index = i / kernels_per_launch;
        if (launch_index < static_cast<size_t>(o.warmup)) return -1;
        return static_cast<int64_t>((launch_index - static_cast<size_t>(o.warmup)) /
                                    static_cast<size_t>(o.launches_per_repetition));
      }
      const uint64_t id = kernels[i].external_id;
      return id >= first_id && id < next_id ? static_cast<int64_t>(id - first_id) : -1;
    };
    struct KernelSums {
      double all_us = 0.0, permute_us = 0.0;
    };
    std::map<int64_t, KernelSums> sums;  // repetition → its kernels' durations
    for (size_t i = 0; i < kernels.size(); ++i) {
      const TracedKernel& t = kernels[i];
      const int64_t rep = repetition_of(i);
      const bool warm_up = by_order ? rep < 0 : t.external_id == warmup_id;
      if (warm_up) continue;  // not a measurement, and not another thread's either
      const bool ours = rep >= 0;
      if (ours) {
        const double us = static_cast<double>(t.duration_ns()) / 1000.0;
        KernelSums& s = sums[rep];
        s.all_us += us;
        if (t.name.find("permute_kv_kernel") != std::string::npos) s.permute_us += us;
      }
      data::KernelRecord rec;
      rec.name = t.name;
      rec.start_ns = t.start_ns;
      rec.end_ns = t.end_ns;
      rec.grid_x = t.grid_x;
      rec.grid_y = t.grid_y;
      rec.grid_z = t.grid_z;
      rec.block_x = t.block_x;
      rec.block_y = t.block_y;
      rec.block_z = t.block_z;
      rec.registers = t.registers;
      rec.shared_memory_bytes = t.shared_memory();
      rec.candidate = ours ? candidate : -1;
      rec.group_size = ours ? group_size : 0;
      records.push_back(std::move(rec));
    }
    if (sums.size() != reps) {
      throw std::runtime_error("measure_candidate_costs: CUPTI recorded kernels for " + std::to_string(sums.size()) +
                               " of " + std::to_string(reps) + " timed repetitions of candidate " +
                               std::to_string(candidate) + " with group size " + std::to_string(group_size) + " (" +
                               std::to_string(kernels.size()) + " kernel records, external correlation missing?)");
    }
    std::vector<LaunchTime> times;
    for (const auto& [rep, s] : sums) {
      const auto at = static_cast<size_t>(rep);
      const double us = starts[at].ms_until(stops[at]) * 1000.0 / static_cast<double>(o.launches_per_repetition);
      times.push_back({us, s.all_us > 0.0 ? us * s.permute_us / s.all_us : 0.0});
    }
    return times;
  };
}

CostMeasurement measure_costs_cupti(const std::vector<data::BlockLayout>& layouts, const ResolvedCostOptions& r,
                                    const std::function<void(int64_t, int64_t)>& progress) {
  const CostMeasurementOptions& o = r.options;
  if (o.dtype != at::kBFloat16 && o.dtype != at::kHalf) {
    throw std::invalid_argument(std::string("measure_candidate_costs: the CUDA kernels run bf16 or fp16, found dtype ") +
                                c10::toString(o.dtype));
  }
  const at::DeviceIndex index = o.device.has_index() ? o.device.index() : c10::cuda::current_device();
  ResolvedCostOptions on_device = r;
  on_device.options.device = at::Device(at::kCUDA, index);
  const c10::cuda::CUDAGuard guard(on_device.options.device);
  CuptiTracer tracer;
  (void)tracer.collect();  // drop whatever CUPTI still holds
  uint64_t next_id = 1;
  bool heated = false;
  return measure_launches(layouts, on_device, gpu_timer(on_device, tracer, next_id, heated), "cupti",
                          at::cuda::getDeviceProperties(index)->name, progress);
}

#endif

}  // namespace

}  // namespace detail

std::vector<int64_t> default_group_sizes(int64_t max_group) {
  std::vector<int64_t> sizes;
  if (max_group <= 4) {
    for (int64_t g = 1; g <= max_group; ++g) sizes.push_back(g);
    return sizes;
  }
  for (int64_t k = 1; k <= 4; ++k) {
    const int64_t g = (max_group * k + 3) / 4;  // ⌈max_group · k / 4⌉
    if (sizes.empty() || g > sizes.back()) sizes.push_back(g);
  }
  return sizes;
}

bool cupti_available(at::Device device) {
#if SVDIT_PROFILER_WITH_CUPTI
  if (!device.is_cuda()) return false;
  const int count = c10::cuda::device_count();  // 0 without a driver or device; never throws
  if (count <= 0) return false;
  return !device.has_index() || device.index() < count;
#else
  (void)device;
  return false;
#endif
}

CostMeasurement measure_candidate_costs(const std::vector<data::BlockLayout>& layouts,
                                        const CostMeasurementOptions& options,
                                        const std::function<void(int64_t done, int64_t total)>& progress) {
  const detail::ResolvedCostOptions resolved = detail::resolve(layouts, options);
#if SVDIT_PROFILER_WITH_CUPTI
  if (cupti_available(options.device)) return detail::measure_costs_cupti(layouts, resolved, progress);
#endif
  detail::ResolvedCostOptions on_cpu = resolved;
  on_cpu.options.device = at::kCPU;
  return detail::measure_launches(layouts, on_cpu, detail::cpu_timer(on_cpu), "cpu-aten", detail::cpu_description(),
                                  progress);
}

}  // namespace svdit::profiler
