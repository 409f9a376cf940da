// measure_candidate_costs (see svdit/profiler/cost_measurement.h): option checks, the choice of timer, and the
// CUPTI timer. What is launched is in cost_measurement_loop.cpp, the wall-clock timer in cost_measurement_cpu.cpp.
//
// CUPTI timer: `warmup` launches run untraced (their records are collected and dropped), then `repetitions`
// launches each inside a CUPTI external-correlation scope with its own id. One launch may run several kernels (a
// permuted layout's permute pre-pass, then the attention kernel): the launch's time is the SUM of the durations
// of all kernels tagged with its id (the gap between them is not counted), and its pre-pass part the sum over
// the kernels named permute_kv_kernel (kernels the driver API launched carry no id: see cupti_timer). Every
// recorded kernel goes into CostMeasurement::records tagged with the
// launch's (candidate, group size); a kernel no scope tagged (another thread's) is kept with candidate −1, group
// size 0.

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

// The tracer lives as long as the measurement; the timer collects after each group of launches.
LaunchTimer cupti_timer(const ResolvedCostOptions& r, CuptiTracer& tracer, uint64_t& next_id) {
  const CostMeasurementOptions o = r.options;
  return [o, &tracer, &next_id](const std::function<void()>& launch, int32_t candidate, int32_t group_size,
                                std::vector<data::KernelRecord>& records) {
    for (int64_t w = 0; w < o.warmup; ++w) launch();
    (void)tracer.collect();  // warm-up kernels are not measurements
    const uint64_t first_id = next_id;
    for (int64_t rep = 0; rep < o.repetitions; ++rep) {
      const CuptiTracer::ExternalIdScope scope(next_id++);
      launch();
    }
    const std::vector<TracedKernel> kernels = tracer.collect();
    // Kernels launched through the driver API (cuDNN's SDPA) carry no external id. When none of the timed
    // launches' kernels is tagged and they divide evenly, they are split by launch order instead: collect()
    // synchronised before and after, so every kernel recorded in between is one of these launches'.
    const bool tagged = std::any_of(kernels.begin(), kernels.end(), [&](const TracedKernel& t) {
      return t.external_id >= first_id && t.external_id < next_id;
    });
    const auto reps = static_cast<size_t>(o.repetitions);
    const bool by_order = !tagged && !kernels.empty() && kernels.size() % reps == 0;
    std::map<uint64_t, LaunchTime> launches;  // external id (or launch index) → that launch's kernel time
    for (size_t i = 0; i < kernels.size(); ++i) {
      const TracedKernel& t = kernels[i];
      const bool ours = by_order || (t.external_id >= first_id && t.external_id < next_id);
      if (ours) {
        const double us = static_cast<double>(t.duration_ns()) / 1000.0;
        LaunchTime& l = launches[by_order ? i / (kernels.size() / reps) : t.external_id];
        l.total_us += us;
        if (t.name.find("permute_kv_kernel") != std::string::npos) l.permute_us += us;
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
    if (static_cast<int64_t>(launches.size()) != o.repetitions) {
      throw std::runtime_error("measure_candidate_costs: CUPTI recorded kernels for " +
                               std::to_string(launches.size()) + " of " + std::to_string(o.repetitions) +
                               " timed launches of candidate " + std::to_string(candidate) + " with group size " +
                               std::to_string(group_size) + " (" + std::to_string(kernels.size()) +
                               " kernel records, external correlation missing?)");
    }
    std::vector<LaunchTime> times;
    for (const auto& [id, l] : launches) times.push_back(l);
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
  return measure_launches(layouts, on_device, cupti_timer(on_device, tracer, next_id), "cupti",
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
