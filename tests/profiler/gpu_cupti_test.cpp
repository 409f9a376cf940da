// The CUPTI tracer and the CUPTI path of measure_candidate_costs, on a CUDA device (ctest label gpu; every test
// reports SKIPPED without a device or without CUPTI in the build).
//
// - the tracer records the kernels that were launched, in launch order, with their names, grids, blocks and
//   resources, and tags them with the external id of the scope they were launched in;
// - its durations agree with CUDA events around the same launches (medians within 5 %, at a shape where one
//   launch takes 0.2–2 ms so that launch jitter does not matter);
// - measure_candidate_costs fills a table of the right shape: skip cheaper than a window, dense slower, every
//   record tagged with its candidate and group size, each entry (CUDA events around back-to-back launches) the
//   kernel time of its records plus at most the launch gaps, the pre-pass part of a permuted launch apart.

#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/kernels/cuda/sparse_attention.h"
#include "svdit/kernels/torch/sparse_attention.h"
#include "svdit/profiler/cost_measurement.h"
#include "svdit/profiler/cupti_tracer.h"

namespace svdit::profiler {
namespace {

using data::BlockLayout;
using data::TokenLayout;

// Empty when the tests can run, else why not.
std::string why_no_cupti() {
  if (!cupti_tracer_built()) return "this build has no CUPTI (SVDIT_PROFILER_WITH_CUPTI unset)";
  if (c10::cuda::device_count() <= 0) return "no CUDA device";
  return "";
}

#define SKIP_WITHOUT_CUPTI()                          \
  do {                                                \
    const std::string why = why_no_cupti();           \
    if (!why.empty()) GTEST_SKIP() << why;            \
  } while (0)

void cuda_ok(cudaError_t code, const char* call) {
  if (code != cudaSuccess) throw std::runtime_error(std::string(call) + " failed: " + cudaGetErrorString(code));
}
#define CUDA_OK(call) cuda_ok((call), #call)

bool hopper_backend() {
  kernels::SparseAttentionParams p;
  p.block_size = 128;
  return kernels::resolve_backend(p) == kernels::AttentionBackend::hopper;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// A layer of `heads` copies of one layout on the device, and a launch of it on q, k, v [B, S, H, D].
struct Layer {
  kernels::torch_ops::DeviceLayouts dl;
  Layer(const BlockLayout& layout, int64_t heads) {
    const std::vector<const BlockLayout*> per_head(static_cast<size_t>(heads), &layout);
    dl = kernels::torch_ops::prepare_layouts(per_head, at::Device(at::kCUDA, 0));
  }
  at::Tensor run(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) const {
    return kernels::torch_ops::sparse_attention(q, k, v, dl).out;
  }
};

at::Tensor random_qkv(int64_t S, int64_t H, int64_t D) {
  return at::randn({1, S, H, D}, at::TensorOptions().dtype(at::kBFloat16).device(at::kCUDA, 0));  // [B, S, H, D]
}

TEST(CuptiTracer, RecordsLaunchedKernelsInOrderWithTheirConfiguration) {
  SKIP_WITHOUT_CUPTI();
  const TokenLayout tl{16, 16, 16, 0, 0, 128};  // P = 256, S = 4096, 32 blocks
  const int64_t S = tl.seq_len(), D = 128;
  const BlockLayout dense = data::compile_pattern(data::make_pattern({data::dense_component()}), tl);
  const BlockLayout temporal = data::compile_pattern(data::make_pattern({data::temporal_component(32, 15)}), tl);
  const BlockLayout window = data::compile_pattern(data::make_pattern({data::window_component(256)}), tl);
  ASSERT_TRUE(temporal.permuted());
  const Layer dense4(dense, 4), temporal2(temporal, 2), window3(window, 3);
  const at::Tensor q = random_qkv(S, 4, D), k = random_qkv(S, 4, D), v = random_qkv(S, 4, D);  // [1, S, 4, D]
  auto heads = [](const at::Tensor& t, int64_t h) { return t.narrow(2, 0, h); };         // [1, S, h, D]
  // Warm up (module load, tensor-map entry point, pre-pass pool) outside the trace.
  (void)dense4.run(q, k, v);
  (void)temporal2.run(heads(q, 2), heads(k, 2), heads(v, 2));
  (void)window3.run(heads(q, 3), heads(k, 3), heads(v, 3));
  CUDA_OK(cudaDeviceSynchronize());

  at::Tensor scaled;
  std::vector<TracedKernel> kernels;
  {
    CuptiTracer tracer;
    (void)tracer.collect();
    {
      const CuptiTracer::ExternalIdScope scope(11);
      (void)dense4.run(q, k, v);
    }
    {
      const CuptiTracer::ExternalIdScope scope(22);
      (void)temporal2.run(heads(q, 2), heads(k, 2), heads(v, 2));
    }
    {
      const CuptiTracer::ExternalIdScope scope(33);
      (void)window3.run(heads(q, 3), heads(k, 3), heads(v, 3));
    }
    scaled = q * 2.0;  // an untagged ATen kernel
    kernels = tracer.collect();
    EXPECT_TRUE(tracer.collect().empty()) << "a second collect() returns only what ran since the first";
    EXPECT_THROW(CuptiTracer second, std::runtime_error) << "one tracer per process";
  }

  const bool hopper = hopper_backend();
  const std::string attention = hopper ? "sparse_attention_hopper_kernel" : "sparse_attention_portable_kernel";
  struct Expected {
    std::string name;
    uint64_t id;
    int32_t grid_x, grid_y, grid_z, block_x;
  };
  const int32_t qblocks = static_cast<int32_t>((S + 127) / 128);
  const int32_t threads = hopper ? 384 : 256;
  std::vector<Expected> expected = {{attention, 11, qblocks, 4, 1, threads}};
  if (hopper) expected.push_back({"permute_kv_kernel", 22, static_cast<int32_t>((S + 255) / 256), 2, 1, 256});
  expected.push_back({attention, 22, qblocks, 2, 1, threads});
  expected.push_back({attention, 33, qblocks, 3, 1, threads});

  for (const TracedKernel& t : kernels) {
    std::printf("  %-24llu %-90.90s grid (%d, %d, %d) block (%d, %d, %d) regs %d smem %lld+%lld  %.1f us\n",
                static_cast<unsigned long long>(t.external_id), t.name.c_str(), t.grid_x, t.grid_y, t.grid_z,
                t.block_x, t.block_y, t.block_z, t.registers, static_cast<long long>(t.static_shared_memory),
                static_cast<long long>(t.dynamic_shared_memory), static_cast<double>(t.duration_ns()) / 1e3);
  }
  ASSERT_EQ(kernels.size(), expected.size() + 1) << "the attention launches and one ATen kernel";
  for (size_t i = 0; i < expected.size(); ++i) {
    const TracedKernel& t = kernels[i];
    SCOPED_TRACE("kernel " + std::to_string(i) + ": " + t.name);
    EXPECT_NE(t.name.find(expected[i].name), std::string::npos) << "expected " << expected[i].name;
    EXPECT_NE(t.name.find("svdit::kernels"), std::string::npos) << "names are demangled";
    EXPECT_EQ(t.external_id, expected[i].id);
    EXPECT_EQ(t.grid_x, expected[i].grid_x);
    EXPECT_EQ(t.grid_y, expected[i].grid_y);
    EXPECT_EQ(t.grid_z, expected[i].grid_z);
    EXPECT_EQ(t.block_x, expected[i].block_x);
    EXPECT_EQ(t.block_y, 1);
    EXPECT_EQ(t.block_z, 1);
    EXPECT_GT(t.registers, 0);
    EXPECT_GT(t.duration_ns(), 0);
    if (t.name.find(attention) != std::string::npos) {
      EXPECT_GT(t.shared_memory(), 16 * 1024);
    }
    if (i > 0) {
      EXPECT_GT(t.correlation_id, kernels[i - 1].correlation_id) << "launch order";
      EXPECT_GE(t.start_ns, kernels[i - 1].end_ns) << "one stream: each kernel starts after the previous ended";
    }
  }
  const TracedKernel& aten = kernels.back();
  EXPECT_EQ(aten.external_id, 0u) << aten.name;
  EXPECT_EQ(aten.name.find("svdit"), std::string::npos) << aten.name;
}

TEST(CuptiTracer, DurationsAgreeWithCudaEvents) {
  SKIP_WITHOUT_CUPTI();
  // S = 16384, 8 heads, head_dim 128: dense ≈ 1.1 TFLOP (~2 ms on an H100), window and temporal 0.2–0.6 ms.
  const TokenLayout tl{16, 32, 32, 0, 0, 128};  // P = 1024
  const int64_t S = tl.seq_len(), H = 8, D = 128;
  const at::Tensor q = random_qkv(S, H, D), k = random_qkv(S, H, D), v = random_qkv(S, H, D);  // [1, S, H, D]
  struct Case {
    const char* label;
    data::Pattern pattern;
  };
  const std::vector<Case> cases = {
      {"dense", data::make_pattern({data::dense_component()})},
      {"window 2P", data::make_pattern({data::window_component(2048)})},
      {"temporal (pre-pass + attention)", data::make_pattern({data::temporal_component(128, 15)})},
  };
  constexpr int kLaunches = 20;
  std::vector<cudaEvent_t> starts(kLaunches), stops(kLaunches);
  for (int i = 0; i < kLaunches; ++i) {
    CUDA_OK(cudaEventCreate(&starts[static_cast<size_t>(i)]));
    CUDA_OK(cudaEventCreate(&stops[static_cast<size_t>(i)]));
  }
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream(0);
  CuptiTracer tracer;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.label);
    const Layer layer(data::compile_pattern(c.pattern, tl), H);
    for (int i = 0; i < 3; ++i) (void)layer.run(q, k, v);
    (void)tracer.collect();
    for (int i = 0; i < kLaunches; ++i) {
      const CuptiTracer::ExternalIdScope scope(static_cast<uint64_t>(i + 1));
      CUDA_OK(cudaEventRecord(starts[static_cast<size_t>(i)], stream));
      (void)layer.run(q, k, v);
      CUDA_OK(cudaEventRecord(stops[static_cast<size_t>(i)], stream));
    }
    const std::vector<TracedKernel> kernels = tracer.collect();
    std::map<uint64_t, double> cupti_us;
    for (const TracedKernel& t : kernels) {
      ASSERT_GE(t.external_id, 1u) << t.name;
      cupti_us[t.external_id] += static_cast<double>(t.duration_ns()) / 1e3;
    }
    ASSERT_EQ(cupti_us.size(), static_cast<size_t>(kLaunches));
    std::vector<double> cupti, events;
    for (int i = 0; i < kLaunches; ++i) {
      float ms = 0;
      CUDA_OK(cudaEventElapsedTime(&ms, starts[static_cast<size_t>(i)], stops[static_cast<size_t>(i)]));
      events.push_back(static_cast<double>(ms) * 1e3);
      cupti.push_back(cupti_us.at(static_cast<uint64_t>(i + 1)));
    }
    const double m_cupti = median(cupti), m_events = median(events);
    const double rel = std::abs(m_cupti - m_events) / m_events;
    std::printf("  %-34s CUPTI median %9.1f us, CUDA events median %9.1f us, difference %+.2f %% (%zu kernels)\n",
                c.label, m_cupti, m_events, 100.0 * (m_cupti - m_events) / m_events, kernels.size());
    EXPECT_GT(m_events, 100.0) << "the shape must be large enough for launch jitter not to matter";
    EXPECT_LE(rel, 0.05) << "CUPTI " << m_cupti << " us vs events " << m_events << " us";
  }
  for (int i = 0; i < kLaunches; ++i) {
    CUDA_OK(cudaEventDestroy(starts[static_cast<size_t>(i)]));
    CUDA_OK(cudaEventDestroy(stops[static_cast<size_t>(i)]));
  }
}

TEST(CostMeasurementGpu, TableOfTheRightShapeFromCupti) {
  SKIP_WITHOUT_CUPTI();
  // Wan2.1-1.3B at 480p: F = 21, H' = 30, W' = 52 (P = 1560, S = 32760), 12 heads of 128, bf16.
  const TokenLayout tl{21, 30, 52, 0, 0, 128};
  constexpr int64_t kHeads = 12;
  const std::vector<BlockLayout> layouts = {
      data::compile_pattern(data::make_pattern({data::dense_component()}), tl),
      data::compile_pattern(data::make_pattern({data::window_component(2 * 1560)}), tl),
      data::compile_pattern(data::make_pattern({data::temporal_component(1560 / 8, 20)}), tl),
      data::compile_pattern(data::make_pattern({data::skip_component()}), tl),
  };
  const char* labels[] = {"dense", "window 2P", "temporal P/8", "skip"};
  CostMeasurementOptions o;
  o.device = at::Device(at::kCUDA, 0);
  o.dtype = at::kBFloat16;
  o.heads = kHeads;
  o.head_dim = 128;
  o.max_group = 0;  // = heads
  for (int64_t g = 1; g <= kHeads; ++g) o.group_sizes.push_back(g);  // every size, to check each entry
  o.repetitions = 5;
  o.warmup = 1;
  o.launches_per_repetition = 2;
  o.heat_ms = 50;
  o.seed = 7;
  ASSERT_TRUE(cupti_available(o.device));
  std::vector<std::pair<int64_t, int64_t>> calls;
  const CostMeasurement m =
      measure_candidate_costs(layouts, o, [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });

  const data::CostTable& t = m.table;
  const int64_t entries = 4 * kHeads;
  EXPECT_EQ(t.source, "cupti");
  EXPECT_EQ(t.device, at::cuda::getDeviceProperties(0)->name);
  EXPECT_EQ(t.repetitions, 5);
  EXPECT_EQ(t.num_candidates, 4);
  EXPECT_EQ(t.max_group, kHeads);
  ASSERT_EQ(t.us.size(), static_cast<size_t>(entries));
  ASSERT_EQ(calls.size(), static_cast<size_t>(entries + 2));  // then the all-dense and all-skip layers
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].first, static_cast<int64_t>(i + 1));
    EXPECT_EQ(calls[i].second, entries + 2);
  }
  std::printf("  %s, [1, %lld, g, 128] bf16, median of 5 repetitions of 2 launches, us\n", t.device.c_str(),
              static_cast<long long>(tl.seq_len()));
  for (int64_t c = 0; c < 4; ++c) {
    std::printf("  %-13s (density %.3f):", labels[c], layouts[static_cast<size_t>(c)].block_density());
    for (int64_t g = 1; g <= kHeads; ++g) std::printf(" %8.1f", t.time_us(c, g));
    std::printf("\n");
  }
  for (int64_t g = 1; g <= kHeads; ++g) {
    SCOPED_TRACE("group size " + std::to_string(g));
    EXPECT_GT(t.time_us(3, g), 0.0) << "skip's tiles run (and write zeros)";
    EXPECT_LT(t.time_us(3, g), t.time_us(1, g));
    EXPECT_EQ(t.permute_us[static_cast<size_t>(1 * kHeads + g - 1)], 0.0) << "an unpermuted layout has no pre-pass";
    EXPECT_GT(t.time_us(1, g), 0.0);
    EXPECT_GT(t.time_us(2, g), 0.0);
    EXPECT_GT(t.time_us(0, g), t.time_us(1, g)) << "dense (density 1) costs more than a window (density "
                                                << layouts[1].block_density() << ")";
  }
  EXPECT_GT(t.time_us(0, kHeads), 4.0 * t.time_us(0, 1)) << "12 dense heads cost more than 4 times one";
  EXPECT_GT(t.dense_layer_us, 0.0);
  EXPECT_GT(t.skip_layer_us, 0.0);
  EXPECT_LT(t.skip_layer_us, t.dense_layer_us);

  // Records: every candidate launch's tagged with a measured (candidate, group size), in launch order, and each
  // unpermuted entry (CUDA events around back-to-back launches, per launch) the kernel time its records show plus
  // the launch gaps: a few µs back to back, up to the op's host-side work (~10–20 µs: measured 23 µs per launch of
  // a 14.6 µs skip kernel on the H200, 2026-12-03) when the kernel is shorter than that; then the dense and skip
  // layers' kernels, no candidate's.
  const bool hopper = hopper_backend();
  std::map<std::pair<int32_t, int32_t>, std::vector<double>> per_entry;
  for (size_t i = 0; i < m.records.size(); ++i) {
    const data::KernelRecord& r = m.records[i];
    SCOPED_TRACE("record " + std::to_string(i) + ": " + r.name);
    if (r.candidate < 0) {
      EXPECT_EQ(r.group_size, 0);
      continue;
    }
    ASSERT_LE(r.candidate, 3);
    ASSERT_GE(r.group_size, 1);
    ASSERT_LE(r.group_size, kHeads);
    EXPECT_EQ(r.grid_y, r.group_size);
    EXPECT_GT(r.end_ns, r.start_ns);
    if (i > 0) {
      EXPECT_GE(r.start_ns, m.records[i - 1].end_ns);
    }
    per_entry[{r.candidate, r.group_size}].push_back(static_cast<double>(r.end_ns - r.start_ns) / 1e3);
  }
  EXPECT_EQ(per_entry.size(), static_cast<size_t>(4 * kHeads));
  for (const auto& [entry, us] : per_entry) {
    const auto [c, g] = entry;
    const size_t kernels_per_launch = (c == 2 && hopper) ? 2 : 1;  // the temporal layout's permute pre-pass
    EXPECT_EQ(us.size(), 5 * 2 * kernels_per_launch) << "candidate " << c << ", group " << g;
    if (kernels_per_launch == 1) {
      const double kernel = median(us);
      EXPECT_GE(t.time_us(c, g), 0.97 * kernel) << "candidate " << c << ", group " << g;
      EXPECT_LE(t.time_us(c, g), 1.05 * kernel + 25.0) << "candidate " << c << ", group " << g;
    } else {
      const double permute = t.permute_us[static_cast<size_t>(c * kHeads + g - 1)];
      EXPECT_GT(permute, 0.0) << "the pre-pass is timed apart";
      EXPECT_LT(permute, t.time_us(c, g)) << "the pre-pass is part of the launch";
    }
  }
}

TEST(CostMeasurementGpu, RefusesFloat32OnTheDevice) {
  SKIP_WITHOUT_CUPTI();
  const TokenLayout tl{2, 8, 16, 0, 0, 128};
  const std::vector<BlockLayout> layouts = {data::compile_pattern(data::make_pattern({data::dense_component()}), tl)};
  CostMeasurementOptions o;
  o.device = at::Device(at::kCUDA, 0);
  o.dtype = at::kFloat;
  o.heads = 2;
  o.head_dim = 128;
  EXPECT_THROW(measure_candidate_costs(layouts, o), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::profiler
