// LayerMeasurer on a CUDA device against the CPU path, on a small random layer (ctest label gpu; SKIPPED without a
// device or without the CUDA kernels): errors through the block-sparse kernel (bf16/fp16, head_dim 64 and 128,
// S not a multiple of the block) agree with the CPU reference path on the same rounded inputs; recall and maps
// computed on the device agree with the CPU's.

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/head_measurement.h"
#include "svdit/kernels/torch/sparse_attention.h"

namespace svdit::profiler {
namespace {

using Param = std::tuple<int64_t, at::ScalarType, int64_t>;  // head_dim, dtype, block size

class GpuMeasurement : public ::testing::TestWithParam<Param> {};

TEST_P(GpuMeasurement, KernelPathAgreesWithTheCpuPath) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  if (!kernels::torch_ops::sparse_attention_runs_on(at::kCUDA)) GTEST_SKIP() << "this build has no CUDA kernels";
  const auto [D, dtype, b] = GetParam();
  // S = 200 at b = 64 (G = 4, last block 8 rows); S = 360 at b = 128 (G = 3, last block 104 rows).
  const data::TokenLayout layout = b == 64 ? data::TokenLayout{5, 5, 8, 0, 0, 64} : data::TokenLayout{4, 9, 10, 0, 0, 128};
  const int64_t S = layout.seq_len(), H = 3;
  std::vector<data::ProfileCandidate> candidates = default_candidates(layout);
  fill_top_k(candidates, {{b, 2 * b}}, layout);
  std::vector<data::BlockLayout> layouts;
  for (const auto& c : candidates) layouts.push_back(data::compile_pattern(c.pattern, layout));
  const auto C = static_cast<int64_t>(candidates.size());

  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(21);
  // Rounded to the kernel's dtype first, so both paths see the same inputs.
  const at::Tensor q = (at::randn({1, S, H, D}, gen) * 2.0).to(dtype);  // [1, S, H, D]
  const at::Tensor k = at::randn({1, S, H, D}, gen).to(dtype);          // [1, S, H, D]
  const at::Tensor v = at::randn({1, S, H, D}, gen).to(dtype);          // [1, S, H, D]
  const at::Device cuda(at::kCUDA, 0);

  LayerMeasurer cpu(layout, layouts, MeasureOptions{int64_t{1} << 20, ErrorPath::reference});
  LayerMeasurer gpu(layout, layouts, MeasureOptions{int64_t{1} << 20, ErrorPath::kernel});
  LayerMeasurer gpu_reference(layout, layouts, MeasureOptions{int64_t{1} << 20, ErrorPath::reference});
  const LayerMeasurement a = cpu.measure(q.to(at::kFloat), k.to(at::kFloat), v.to(at::kFloat), true, true);
  ASSERT_TRUE(gpu.uses_kernel(q.to(cuda)));
  const LayerMeasurement g = gpu.measure(q.to(cuda), k.to(cuda), v.to(cuda), true, true);
  const LayerMeasurement r = gpu_reference.measure(q.to(cuda), k.to(cuda), v.to(cuda), true, true);

  for (int64_t h = 0; h < H; ++h) {
    for (int64_t c = 0; c < C; ++c) {
      const auto i = static_cast<size_t>(h * C + c);
      const std::string what = data::describe(candidates[static_cast<size_t>(c)].pattern) + ", head " +
                               std::to_string(h);
      // The kernel rounds its output to bf16/fp16: relative MSE differs by about that rounding.
      EXPECT_NEAR(g.error[i], a.error[i], 0.05 * a.error[i] + 3e-4) << what;
      EXPECT_NEAR(r.error[i], a.error[i], 1e-3 * a.error[i] + 1e-5) << what;
      EXPECT_NEAR(g.recall[i], a.recall[i], 1e-4) << what;
    }
    EXPECT_EQ(g.error[static_cast<size_t>(h * C)], 0.0f);      // dense
    EXPECT_EQ(g.error[static_cast<size_t>(h * C + 1)], 1.0f);  // skip
  }
  for (size_t i = 0; i < a.pooled.size(); ++i) EXPECT_NEAR(g.pooled[i], a.pooled[i], 1e-4) << "pooled " << i;
  for (size_t i = 0; i < a.frame_map.size(); ++i) EXPECT_NEAR(g.frame_map[i], a.frame_map[i], 1e-4) << "frames " << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuMeasurement,
                         ::testing::Values(Param{64, at::kBFloat16, 64}, Param{128, at::kBFloat16, 64},
                                           Param{64, at::kHalf, 128}, Param{128, at::kHalf, 128}));

}  // namespace
}  // namespace svdit::profiler
