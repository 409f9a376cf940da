#pragma once
// The hardware-cost half of a profile (docs/PROFILER.md "Kernel cost"): the measurements behind the search's
// one-launch cost model (docs/SEARCH.md "Cost model"), as /cost stores them (docs/FORMATS.md): for every candidate
// and group size g, one launch of the runtime's sparse attention on g heads of that layout at the profiled shape;
// and the two layer paths that launch no sparse kernel (every head dense: the dense path; every head skip: zeros).
//
// On a CUDA device (a build with the kernels and CUPTI) launches are timed as a generation runs them: after the card
// has been kept busy for `heat_ms`, each repetition is `launches_per_repetition` back-to-back launches between two
// CUDA events; the CUPTI Activity API records every kernel, and the share of the pre-pass kernels in them splits the
// time into the pre-pass part and the rest; the table entry is the median over `repetitions` (source "cupti").
// Without a device, or in a build without CUPTI, the same calls run on CPU tensors — the runtime's CPU path, ATen
// GEMMs per block — timed by the wall clock (source "cpu-aten"), which is what prices a plan run on the CPU.

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
  int64_t max_group = 0;     // the largest group measured; 0 means `heads`
  std::vector<int64_t> group_sizes;  // the sizes measured; empty: default_group_sizes(max_group)
  int64_t repetitions = 10;  // timed repetitions per (candidate, group size); the table holds their median
  int64_t warmup = 2;        // untimed launches first
  // GPU only (the CPU path times single launches: its clocks do not depend on the load the way a GPU's do):
  int64_t launches_per_repetition = 4;  // back-to-back launches per timed repetition, time per launch
  int64_t heat_ms = 1000;               // the card kept busy this long before the first entry (steady clocks)
  uint64_t seed = 0;         // of the random q, k, v
};

struct CostMeasurement {
  data::CostTable table;
  std::vector<data::KernelRecord> records;  // every kernel launched while timing, in launch order
};

// The group sizes measured by default: every size when max_group ≤ 4, else ⌈max_group·k/4⌉ for k = 1 … 4 — the
// model is fitted where a layer's launch runs (all its heads), with enough spread to separate the per-head share
// from the fixed part.
std::vector<int64_t> default_group_sizes(int64_t max_group);

// True when this build and machine measure with CUPTI on `device` (a CUDA device, kernels and CUPTI built in).
bool cupti_available(at::Device device);

// layouts[c] is candidate c compiled for the profiled token layout. `progress(done, total)` is called after each
// (candidate, group size) entry. Throws std::invalid_argument on bad options, std::runtime_error naming the CUDA
// or CUPTI call that failed.
CostMeasurement measure_candidate_costs(const std::vector<data::BlockLayout>& layouts,
                                        const CostMeasurementOptions& options,
                                        const std::function<void(int64_t done, int64_t total)>& progress = {});

}  // namespace svdit::profiler
