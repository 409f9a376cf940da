#pragma once
// The hardware-cost half of a profile (docs/PROFILER.md): the time of each candidate's kernel at the profiled shape,
// for every number of heads fused into one launch (1 … max_group), as /cost/table and /cost/kernels store it.
//
// On a CUDA device (a build with the kernels and CUPTI): every candidate layout is launched through the same
// block-sparse kernel the runtime uses, on random q/k/v of the profiled shape, `repetitions` times per group size
// after a warm-up; the CUPTI Activity API records every kernel; a launch's time is the sum of the durations of all
// its kernels (a permuted layout's permute pre-pass and the attention kernel), and the table entry is the median over
// the launches (CostTable::source = "cupti"; docs/PROFILER.md "Kernel cost"). Without a device, or in a build without
// CUPTI, each launch of the CPU path is timed by the wall clock instead (source = "cpu-wallclock") — good for
// tests and for a relative picture on the CPU, not for GPU plans.

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/block_layout.h"
#include "svdit/data/profile.h"

namespace svdit::profiler {

struct CostMeasurementOptions {
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kBFloat16;  // attention dtype of the profiled run
  int64_t batch = 1;
  int64_t heads = 0;         // heads of the model's layer
  int64_t head_dim = 0;
  int64_t max_group = 0;     // group sizes 1 … max_group are measured; 0 means `heads`
  int64_t repetitions = 10;  // timed launches per (candidate, group size); the table holds their median
  int64_t warmup = 2;        // untimed launches first
  uint64_t seed = 0;         // of the random q, k, v
};

struct CostMeasurement {
  data::CostTable table;
  std::vector<data::KernelRecord> records;  // every kernel launched while timing, in launch order
};

// True when this build and machine measure with CUPTI on `device` (a CUDA device, kernels and CUPTI built in).
bool cupti_available(at::Device device);

// layouts[c] is candidate c compiled for the profiled token layout. `progress(done, total)` is called after each
// (candidate, group size) entry. Throws std::invalid_argument on bad options, std::runtime_error naming the CUDA
// or CUPTI call that failed.
CostMeasurement measure_candidate_costs(const std::vector<data::BlockLayout>& layouts,
                                        const CostMeasurementOptions& options,
                                        const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace svdit::profiler
