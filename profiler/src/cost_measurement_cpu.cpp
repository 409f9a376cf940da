// The wall-clock timer of measure_candidate_costs (no CUDA device, or no CUPTI in the build): each launch of the
// runtime's CPU path — kernels::torch_ops::sparse_attention on CPU tensors, ATen GEMMs per block, the path the
// runtime takes on the CPU — timed by std::chrono::steady_clock (source "cpu-aten"). Its table prices CPU plans.

#include <chrono>
#include <fstream>
#include <string>

#include <ATen/Parallel.h>

#include "cost_measurement_internal.h"

namespace svdit::profiler::detail {

namespace {

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// "Intel(R) Xeon(R) ... (runtime CPU path, 2 threads)" from /proc/cpuinfo's first "model name" and ATen's
// intra-op thread count (what the CPU path runs on).
std::string cpu_description() {
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t begin = line.find_first_not_of(" \t", colon + 1);
    if (begin != std::string::npos) model = line.substr(begin);
  }
  if (model.empty()) model = "unknown CPU";
  return model + " (runtime CPU path, " + std::to_string(at::get_num_threads()) + " threads)";
}

LaunchTimer cpu_timer(const ResolvedCostOptions& r) {
  const CostMeasurementOptions o = r.options;
  return [o](const std::function<void()>& launch, int32_t candidate, int32_t group_size,
             std::vector<data::KernelRecord>& records) {
    for (int64_t w = 0; w < o.warmup; ++w) launch();
    std::vector<LaunchTime> times;
    for (int64_t rep = 0; rep < o.repetitions; ++rep) {
      const int64_t start = steady_ns();
      launch();
      const int64_t end = steady_ns();
      times.push_back({static_cast<double>(end - start) / 1000.0, 0.0});  // the CPU path gathers in place
      data::KernelRecord record;
      record.name = candidate >= 0 ? "cpu:svdit.sparse_attention (runtime CPU path)" : "cpu:dense or skip layer";
      record.start_ns = start;  // host steady clock; no launch configuration, registers or shared memory
      record.end_ns = end;
      record.candidate = candidate;
      record.group_size = group_size;
      records.push_back(std::move(record));
    }
    return times;
  };
}

}  // namespace svdit::profiler::detail
