// LayerMeasurer on the CPU against the plain CPU reference (kernels/cpu): errors, recall, pooled and frame maps of
// every default candidate on a random layer; exact dense/skip errors; chunking does not change the result.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <span>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/kernels/cpu/attention_recall.h"
#include "svdit/kernels/cpu/dense_attention.h"
#include "svdit/kernels/cpu/frame_attention.h"
#include "svdit/kernels/cpu/pooled_attention.h"
#include "svdit/kernels/cpu/relative_mse.h"
#include "svdit/kernels/cpu/sparse_attention.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/head_measurement.h"

namespace svdit::profiler {
namespace {

using data::BlockLayout;
using data::TokenLayout;

// S = 5·5·8 = 200 tokens: not a multiple of the block (64 → G = 4, the last block 8 rows).
const TokenLayout kLayout{5, 5, 8, 0, 0, 64};

struct Layer {
  at::Tensor q, k, v;  // [1, S, H, D] fp32
};

Layer random_layer(int64_t heads, int64_t head_dim, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const int64_t S = kLayout.seq_len();
  Layer l;
  // Peaky attention (scaled q), so that patterns differ clearly.
  l.q = at::randn({1, S, heads, head_dim}, gen) * 2.5;  // [1, S, H, D]
  l.k = at::randn({1, S, heads, head_dim}, gen);        // [1, S, H, D]
  l.v = at::randn({1, S, heads, head_dim}, gen);        // [1, S, H, D]
  return l;
}

std::vector<data::ProfileCandidate> family() {
  std::vector<data::ProfileCandidate> c = default_candidates(kLayout);
  fill_top_k(c, {{64, 128}, {150, 192}}, kLayout);
  return c;
}

std::vector<BlockLayout> compile(const std::vector<data::ProfileCandidate>& candidates) {
  std::vector<BlockLayout> out;
  for (const auto& c : candidates) out.push_back(data::compile_pattern(c.pattern, kLayout));
  return out;
}

std::span<const float> span_of(const at::Tensor& t) {
  return {t.const_data_ptr<float>(), static_cast<size_t>(t.numel())};
}

TEST(HeadMeasurement, MatchesTheCpuReference) {
  const int64_t H = 3, D = 32, S = kLayout.seq_len(), G = kLayout.num_blocks(), F = kLayout.frames;
  const Layer layer = random_layer(H, D, 5);
  const auto candidates = family();
  const auto layouts = compile(candidates);
  const auto C = static_cast<int64_t>(candidates.size());
  LayerMeasurer measurer(kLayout, layouts);
  const LayerMeasurement m = measurer.measure(layer.q, layer.k, layer.v, true, true);
  ASSERT_EQ(m.error.size(), static_cast<size_t>(H * C));
  ASSERT_EQ(m.pooled.size(), static_cast<size_t>(H * G * G));
  ASSERT_EQ(m.frame_map.size(), static_cast<size_t>(H * F * F));

  // The reference works on [B, H, S, D].
  const at::Tensor q = layer.q.transpose(1, 2).contiguous(), k = layer.k.transpose(1, 2).contiguous();
  const at::Tensor v = layer.v.transpose(1, 2).contiguous();  // [1, H, S, D]
  const kernels::cpu::AttentionShape shape{1, H, S, D};
  std::vector<float> dense_out(static_cast<size_t>(shape.elements())), lse(static_cast<size_t>(shape.rows()));
  kernels::cpu::dense_attention(span_of(q), span_of(k), span_of(v), shape, dense_out, lse);

  std::vector<float> pooled(static_cast<size_t>(H * G * G)), frames(static_cast<size_t>(H * F * F));
  kernels::cpu::pooled_attention(span_of(q), span_of(k), lse, shape, kLayout.block_size, pooled);
  kernels::cpu::frame_attention(span_of(q), span_of(k), lse, shape, kLayout, frames);
  for (size_t i = 0; i < pooled.size(); ++i) EXPECT_NEAR(m.pooled[i], pooled[i], 2e-5) << "pooled " << i;
  for (size_t i = 0; i < frames.size(); ++i) EXPECT_NEAR(m.frame_map[i], frames[i], 2e-5) << "frames " << i;

  for (int64_t c = 0; c < C; ++c) {
    const std::vector<const BlockLayout*> per_head(static_cast<size_t>(H), &layouts[static_cast<size_t>(c)]);
    std::vector<float> out(static_cast<size_t>(shape.elements())), out_lse(static_cast<size_t>(shape.rows()));
    kernels::cpu::sparse_attention(span_of(q), span_of(k), span_of(v), shape, per_head, out, out_lse);
    const std::vector<double> error = kernels::cpu::relative_mse(out, dense_out, shape);
    const std::vector<double> recall = kernels::cpu::attention_recall(span_of(q), span_of(k), lse, shape, per_head);
    for (int64_t h = 0; h < H; ++h) {
      const auto i = static_cast<size_t>(h * C + c);
      const std::string what = "candidate " + data::describe(candidates[static_cast<size_t>(c)].pattern) + " head " +
                               std::to_string(h);
      EXPECT_NEAR(m.error[i], error[static_cast<size_t>(h)], 1e-5 + 1e-4 * error[static_cast<size_t>(h)]) << what;
      EXPECT_NEAR(m.recall[i], recall[static_cast<size_t>(h)], 2e-6) << what;
      EXPECT_LE(m.recall[i], 1.0f) << what;
      EXPECT_GE(m.recall[i], 0.0f) << what;
    }
  }
  // dense (row 0) and skip (row 1) are exact.
  for (int64_t h = 0; h < H; ++h) {
    EXPECT_EQ(m.error[static_cast<size_t>(h * C)], 0.0f);
    EXPECT_EQ(m.error[static_cast<size_t>(h * C + 1)], 1.0f);
    EXPECT_NEAR(m.recall[static_cast<size_t>(h * C)], 1.0f, 1e-6);
    EXPECT_EQ(m.recall[static_cast<size_t>(h * C + 1)], 0.0f);
  }
}

TEST(HeadMeasurement, RecallGrowsWithTheWindowAndChunkingChangesNothing) {
  const int64_t H = 2, D = 64;
  const Layer layer = random_layer(H, D, 9);
  std::vector<data::ProfileCandidate> candidates;
  std::vector<BlockLayout> layouts;
  for (const int64_t w : {8, 20, 40, 80, 160}) {
    layouts.push_back(data::compile_pattern(data::make_pattern({data::window_component(w)}), kLayout));
  }
  const auto C = static_cast<int64_t>(layouts.size());
  LayerMeasurer big(kLayout, layouts);
  LayerMeasurer one_row(kLayout, layouts, MeasureOptions{1, ErrorPath::reference});
  const LayerMeasurement a = big.measure(layer.q, layer.k, layer.v, true, true);
  const LayerMeasurement b = one_row.measure(layer.q, layer.k, layer.v, true, true);
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t c = 1; c < C; ++c) {
      EXPECT_GE(a.recall[static_cast<size_t>(h * C + c)], a.recall[static_cast<size_t>(h * C + c - 1)]);
    }
  }
  for (size_t i = 0; i < a.error.size(); ++i) {
    EXPECT_NEAR(a.error[i], b.error[i], 1e-6 + 1e-5 * a.error[i]);
    EXPECT_NEAR(a.recall[i], b.recall[i], 1e-6);
  }
  for (size_t i = 0; i < a.pooled.size(); ++i) EXPECT_NEAR(a.pooled[i], b.pooled[i], 1e-6);
}

TEST(HeadMeasurement, ChunkRowsRespectTheBound) {
  EXPECT_EQ(chunk_rows(200, 64, 64, 1), 1);
  EXPECT_EQ(chunk_rows(200, 64, 64, int64_t{1} << 40), 200);
  const int64_t rows = chunk_rows(32760, 128, 128, int64_t{256} << 20);
  EXPECT_GT(rows, 100);
  EXPECT_LE(rows * 4 * (4 * 32768 + 2 * 256 * 128), int64_t{256} << 20);
}

TEST(HeadMeasurement, RefusesAnotherShape) {
  const auto layouts = compile(family());
  LayerMeasurer measurer(kLayout, layouts);
  const at::Tensor q = at::zeros({1, kLayout.seq_len() + 1, 2, 32});
  EXPECT_THROW(measurer.measure(q, q, q, true, false), std::invalid_argument);
  const at::Tensor batch2 = at::zeros({2, kLayout.seq_len(), 2, 32});
  EXPECT_THROW(measurer.measure(batch2, batch2, batch2, true, false), std::invalid_argument);
}

// The demo model's size (S = 1152, 4 heads × 64, b = 64, the default family): one layer's measurement time,
// printed for docs/PROFILER.md; bounded loosely so that a pathological slowdown fails.
TEST(HeadMeasurement, DemoSizedLayerTime) {
  const TokenLayout layout{12, 8, 12, 0, 0, 64};
  std::vector<data::ProfileCandidate> candidates = default_candidates(layout);
  fill_top_k(candidates, {{0, 128}}, layout);
  std::vector<BlockLayout> layouts;
  for (const auto& c : candidates) layouts.push_back(data::compile_pattern(c.pattern, layout));
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor q = at::randn({1, 1152, 4, 64}, gen), k = at::randn({1, 1152, 4, 64}, gen);
  const at::Tensor v = at::randn({1, 1152, 4, 64}, gen);
  LayerMeasurer measurer(layout, layouts);
  static_cast<void>(measurer.measure(q, k, v, true, true));  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  static_cast<void>(measurer.measure(q, k, v, true, true));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("demo-sized layer (S 1152, 4 heads x 64, %zu candidates): %.3f s\n", candidates.size(), seconds);
  EXPECT_LT(seconds, 20.0);
}

}  // namespace
}  // namespace svdit::profiler
