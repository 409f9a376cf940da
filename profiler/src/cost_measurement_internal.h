#pragma once
// Shared by the two halves of measure_candidate_costs: cost_measurement.cpp (checks, dispatch, the CUPTI path)
// and cost_measurement_cpu.cpp (the wall-clock fallback).

#include <cstdint>
#include <functional>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/profiler/cost_measurement.h"

namespace svdit::profiler::detail {

// Options after checking: max_group resolved (never 0), every layout made for the same S and b.
struct ResolvedCostOptions {
  CostMeasurementOptions options;
  int64_t max_group = 0;
  int64_t seq_len = 0;
  int64_t block_size = 0;
};

// Median of a non-empty sample (the mean of the two middle values when the count is even).
double median(std::vector<double> values);

// The CPU path: each launch of kernels::cpu::sparse_attention timed by std::chrono::steady_clock.
CostMeasurement measure_costs_cpu(const std::vector<data::BlockLayout>& layouts, const ResolvedCostOptions& r,
                                  const std::function<void(int64_t, int64_t)>& progress);

}  // namespace svdit::profiler::detail
