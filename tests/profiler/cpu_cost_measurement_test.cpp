// measure_candidate_costs without CUPTI: the runtime's CPU path timed by the wall clock (ctest label cpu).

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/profiler/cost_measurement.h"
#include "svdit/profiler/cupti_tracer.h"

namespace svdit::profiler {
namespace {

using data::BlockLayout;
using data::TokenLayout;

// S = 1024 in 16 blocks of 64: a window of one frame-row keeps ~3 of 16 key blocks per query block, so dense does
// ~5× the work (robust against a busy machine), and one dense head takes only tens of milliseconds at head_dim 16.
const TokenLayout kLayout{4, 16, 16, 0, 0, 64};  // F = 4, P = 256, S = 1024

std::vector<BlockLayout> candidates() {
  return {
      data::compile_pattern(data::make_pattern({data::dense_component()}), kLayout),
      data::compile_pattern(data::make_pattern({data::window_component(64)}), kLayout),
      data::compile_pattern(data::make_pattern({data::temporal_component(16, 1)}), kLayout),  // permuted
      data::compile_pattern(data::make_pattern({data::skip_component()}), kLayout),
  };
}

CostMeasurementOptions small_options() {
  CostMeasurementOptions o;
  o.device = at::kCPU;
  o.dtype = at::kFloat;
  o.heads = 3;
  o.head_dim = 16;
  o.max_group = 2;
  o.repetitions = 3;
  o.warmup = 1;
  o.seed = 1;
  return o;
}

TEST(CostMeasurementCpu, TimesTheRuntimesCpuPathAtEachGroupSize) {
  const std::vector<BlockLayout> layouts = candidates();
  ASSERT_LT(layouts[1].block_density(), 0.3);
  ASSERT_TRUE(layouts[2].permuted());
  EXPECT_FALSE(cupti_available(at::kCPU));

  std::vector<std::pair<int64_t, int64_t>> calls;
  const CostMeasurement m = measure_candidate_costs(layouts, small_options(), [&](int64_t done, int64_t total) {
    calls.emplace_back(done, total);
  });
  const data::CostTable& t = m.table;
  EXPECT_EQ(t.source, "cpu-aten");
  EXPECT_NE(t.device.find("runtime CPU path"), std::string::npos) << t.device;
  EXPECT_EQ(t.repetitions, 3);
  EXPECT_EQ(t.num_candidates, 4);
  EXPECT_EQ(t.max_group, 2);
  EXPECT_EQ(t.group_sizes, (std::vector<int64_t>{1, 2}));
  ASSERT_EQ(t.us.size(), 8u);
  ASSERT_EQ(t.permute_us, std::vector<double>(8, 0.0)) << "the CPU path has no separate pre-pass";
  ASSERT_EQ(calls.size(), 10u);  // 4 candidates x 2 sizes, then the all-dense and all-skip layers
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i], std::make_pair(static_cast<int64_t>(i + 1), int64_t{10}));
  }
  for (const double us : t.us) EXPECT_TRUE(std::isfinite(us) && us > 0.0) << us;
  EXPECT_GT(t.dense_layer_us, 0.0);
  EXPECT_GT(t.skip_layer_us, 0.0);

  // One record per timed call, in order: every candidate (skip included), group sizes 1, 2, three each; then
  // the dense and skip layers, no candidate's.
  ASSERT_EQ(m.records.size(), 4u * 2u * 3u + 2u * 3u);
  size_t i = 0;
  for (int32_t c = 0; c < 4; ++c) {
    for (int32_t g = 1; g <= 2; ++g) {
      std::vector<double> us;
      for (int rep = 0; rep < 3; ++rep, ++i) {
        const data::KernelRecord& r = m.records[i];
        EXPECT_EQ(r.candidate, c);
        EXPECT_EQ(r.group_size, g);
        EXPECT_EQ(r.name.rfind("cpu:", 0), 0u) << r.name;
        EXPECT_GT(r.end_ns, r.start_ns);
        if (i > 0) {
          EXPECT_GE(r.start_ns, m.records[i - 1].end_ns);
        }
        us.push_back(static_cast<double>(r.end_ns - r.start_ns) / 1e3);
      }
      std::sort(us.begin(), us.end());
      EXPECT_DOUBLE_EQ(t.time_us(c, g), us[1]) << "the entry is the median of its records";
    }
  }
  for (; i < m.records.size(); ++i) EXPECT_EQ(m.records[i].candidate, -1);

  // Orderings of the fastest launch of each entry (the minimum shrugs off a process descheduled by a busy
  // machine, which the median of three does not): skip's empty blocks < a window < dense. (The two layer paths
  // are both too small here to order reliably on a loaded machine.)
  auto fastest = [&](size_t first) {
    double best = 1e300;
    for (size_t k = first; k < first + 3; ++k)
      best = std::min(best, static_cast<double>(m.records[k].end_ns - m.records[k].start_ns));
    return best;
  };
  auto entry = [](int32_t c, int32_t g) { return static_cast<size_t>((c * 2 + g - 1) * 3); };
  for (int32_t g = 1; g <= 2; ++g) {
    SCOPED_TRACE("group size " + std::to_string(g));
    EXPECT_LT(fastest(entry(3, g)), fastest(entry(1, g))) << "skip vs window";
    EXPECT_GT(fastest(entry(0, g)), fastest(entry(1, g)))
        << "dense (density 1) vs window (density " << layouts[1].block_density() << ")";
  }
}

TEST(CostMeasurementCpu, DefaultGroupSizesSpanTheLayer) {
  EXPECT_EQ(default_group_sizes(3), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(default_group_sizes(12), (std::vector<int64_t>{3, 6, 9, 12}));
  EXPECT_EQ(default_group_sizes(40), (std::vector<int64_t>{10, 20, 30, 40}));
  EXPECT_EQ(default_group_sizes(5), (std::vector<int64_t>{2, 3, 4, 5}));
  const std::vector<BlockLayout> layouts = {
      data::compile_pattern(data::make_pattern({data::window_component(64)}), kLayout)};
  CostMeasurementOptions o = small_options();
  o.heads = 2;
  o.max_group = 0;  // every head
  o.repetitions = 1;
  o.warmup = 0;
  const CostMeasurement m = measure_candidate_costs(layouts, o);
  EXPECT_EQ(m.table.max_group, 2);
  EXPECT_EQ(m.table.us.size(), 2u);
  EXPECT_EQ(m.records.size(), 2u + 2u);
  o.group_sizes = {2};
  EXPECT_EQ(measure_candidate_costs(layouts, o).table.group_sizes, (std::vector<int64_t>{2}));
}

TEST(CostMeasurementCpu, CudaRequestWithoutCuptiTimesTheCpuPath) {
  if (cupti_available(at::Device(at::kCUDA, 0))) GTEST_SKIP() << "this machine measures with CUPTI";
  const std::vector<BlockLayout> layouts = {
      data::compile_pattern(data::make_pattern({data::skip_component()}), kLayout)};
  CostMeasurementOptions o = small_options();
  o.device = at::Device(at::kCUDA, 0);
  const CostMeasurement m = measure_candidate_costs(layouts, o);
  EXPECT_EQ(m.table.source, "cpu-aten");
  EXPECT_EQ(m.table.us.size(), 2u);
}

TEST(CostMeasurementCpu, RefusesBadOptions) {
  const std::vector<BlockLayout> layouts = candidates();
  auto expect_refused = [&](const std::vector<BlockLayout>& ls, CostMeasurementOptions o, const std::string& what) {
    try {
      (void)measure_candidate_costs(ls, o);
      ADD_FAILURE() << "accepted: " << what;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  CostMeasurementOptions o = small_options();
  expect_refused({}, o, "no candidate layouts");
  o = small_options();
  o.repetitions = 0;
  expect_refused(layouts, o, "repetitions");
  o = small_options();
  o.max_group = 4;
  expect_refused(layouts, o, "max_group");
  o = small_options();
  o.heads = 0;
  expect_refused(layouts, o, "heads");
  o = small_options();
  o.warmup = -1;
  expect_refused(layouts, o, "warmup");
  o = small_options();
  o.launches_per_repetition = 0;
  expect_refused(layouts, o, "launches_per_repetition");
  o = small_options();
  o.heat_ms = -1;
  expect_refused(layouts, o, "heat_ms");
  o = small_options();
  o.group_sizes = {2, 1};
  expect_refused(layouts, o, "group_sizes");
  std::vector<BlockLayout> mixed = layouts;
  mixed.push_back(data::compile_pattern(data::make_pattern({data::dense_component()}), TokenLayout{4, 16, 8, 0, 0, 64}));
  expect_refused(mixed, small_options(), "candidate 4");
}

TEST(CuptiTracerCpu, ConstructorSaysWhenTheBuildHasNoCupti) {
  if (cupti_tracer_built()) GTEST_SKIP() << "this build has CUPTI (tested in gpu_cupti_test.cpp)";
  try {
    CuptiTracer tracer;
    ADD_FAILURE() << "a tracer was made without CUPTI";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUPTI"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace svdit::profiler
