#pragma once
// Shared by the parts of measure_candidate_costs: cost_measurement.cpp (checks, dispatch, the CUPTI timer),
// cost_measurement_loop.cpp (what is launched: the same for every device) and cost_measurement_cpu.cpp (the
// wall-clock timer of the runtime's CPU path).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/profiler/cost_measurement.h"

namespace svdit::profiler::detail {

// Options after checking: group sizes resolved, every layout made for the same S and b.
struct ResolvedCostOptions {
  CostMeasurementOptions options;
  std::vector<int64_t> group_sizes;  // ascending; the last is the largest measured
  int64_t seq_len = 0;
  int64_t block_size = 0;
};

// Median of a non-empty sample (the mean of the two middle values when the count is even).
double median(std::vector<double> values);

// One timed launch: all its work, and the part of it that was the permute pre-pass.
struct LaunchTime {
  double total_us = 0.0;
  double permute_us = 0.0;
};

// Runs `launch` options.warmup times untimed, then options.repetitions times timed, and returns each timed
// launch's time; every kernel it recorded goes to `records` tagged (candidate, group_size).
using LaunchTimer = std::function<std::vector<LaunchTime>(const std::function<void()>& launch, int32_t candidate,
                                                          int32_t group_size, std::vector<data::KernelRecord>& records)>;

// The launches behind the table, on options.device: for every candidate and group size, the runtime's sparse
// attention (kernels::torch_ops::sparse_attention, the call the plan executor makes) on g heads of that layout;
// then one all-dense layer on the runtime's dense path and one all-skip layer (zeros). `source` and `device` name
// the timer in the table.
CostMeasurement measure_launches(const std::vector<data::BlockLayout>& layouts, const ResolvedCostOptions& r,
                                 const LaunchTimer& timer, const std::string& source, const std::string& device,
                                 const std::function<void(int64_t, int64_t)>& progress);

// The wall-clock timer of the runtime's CPU path, and the CPU's description for the table.
LaunchTimer cpu_timer(const ResolvedCostOptions& r);
std::string cpu_description();

}  // namespace svdit::profiler::detail
