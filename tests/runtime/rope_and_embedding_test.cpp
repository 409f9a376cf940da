// RoPE against a direct computation of the spec's formula (one token, one pair at a time, in double), and the
// model's other fixed transforms against independent formulations: patchify = Conv3d, unpatchify its inverse
// layout, the timestep sinusoid.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "runtime_test_support.h"
#include "svdit/runtime/rope.h"

namespace svdit::runtime {
namespace {

TEST(Rope, AxisSplitFollowsTheRule) {
  EXPECT_EQ(rope_axis_pairs(128), (std::array<int64_t, 3>{22, 21, 21}));  // Wan2.1 1.3B / 14B
  EXPECT_EQ(rope_axis_pairs(64), (std::array<int64_t, 3>{12, 10, 10}));
  EXPECT_EQ(rope_axis_pairs(96), (std::array<int64_t, 3>{16, 16, 16}));
  EXPECT_EQ(rope_axis_pairs(34), (std::array<int64_t, 3>{7, 5, 5}));
  EXPECT_THROW(rope_axis_pairs(7), std::invalid_argument);
}

// The formula, written out per element: pair j of a head at grid (f, h, w) turns by pos_axis · θ^(−k/n_axis)
// where the axis and k follow from j and the split; (a, b) → (a cos − b sin, a sin + b cos).
void expect_rope_matches_formula(int64_t head_dim, int64_t F, int64_t H, int64_t W) {
  const int64_t B = 2, heads = 3, S = F * H * W, c = head_dim / 2;
  const std::array<int64_t, 3> split = rope_axis_pairs(head_dim);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(head_dim));
  const at::Tensor x = at::randn({B, S, heads, head_dim}, gen);  // [B, S, H, D]
  const at::Tensor got = apply_rope(x, make_rope_table(head_dim, F, H, W, 10000.0, at::kCPU));  // [B, S, H, D]
  const at::Tensor x64 = x.to(at::kDouble);
  auto xa = x64.accessor<double, 4>();
  auto ga = got.accessor<float, 4>();
  double worst = 0;
  for (int64_t f = 0; f < F; ++f) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        const int64_t s = (f * H + h) * W + w;  // frame-major token order
        for (int64_t j = 0; j < c; ++j) {
          int64_t axis = 0, k = j;
          while (k >= split[static_cast<size_t>(axis)]) k -= split[static_cast<size_t>(axis++)];
          const double n = static_cast<double>(split[static_cast<size_t>(axis)]);
          const double pos = static_cast<double>(axis == 0 ? f : axis == 1 ? h : w);
          const double phi = pos * std::pow(10000.0, -static_cast<double>(k) / n);
          for (int64_t b = 0; b < B; ++b) {
            for (int64_t hd = 0; hd < heads; ++hd) {
              const double re = xa[b][s][hd][2 * j], im = xa[b][s][hd][2 * j + 1];
              const double want_re = re * std::cos(phi) - im * std::sin(phi);
              const double want_im = re * std::sin(phi) + im * std::cos(phi);
              worst = std::max({worst, std::abs(ga[b][s][hd][2 * j] - want_re), std::abs(ga[b][s][hd][2 * j + 1] - want_im)});
            }
          }
        }
      }
    }
  }
  // fp32 cos/sin and products of O(1) values.
  EXPECT_LT(worst, 2e-6) << "head_dim " << head_dim;
}

TEST(Rope, MatchesTheDirectFormula) {
  expect_rope_matches_formula(128, 3, 4, 5);
  expect_rope_matches_formula(64, 2, 3, 7);
  expect_rope_matches_formula(34, 4, 2, 3);
}

TEST(Rope, LargePositionsUseTheFullAngle) {
  // Frame 20, row 29, column 51 of the 1.3B 480p grid: angles far beyond 2π must still be exact.
  const RopeTable t = make_rope_table(128, 21, 30, 52, 10000.0, at::kCPU);
  const int64_t s = (20 * 30 + 29) * 52 + 51;
  EXPECT_NEAR(t.cos[s][0].item<double>(), std::cos(20.0), 1e-6);          // frame axis, k = 0
  EXPECT_NEAR(t.sin[s][22].item<double>(), std::sin(29.0), 1e-6);         // row axis, k = 0
  EXPECT_NEAR(t.cos[s][43 + 1].item<double>(), std::cos(51.0 * std::pow(10000.0, -1.0 / 21)), 1e-6);  // column, k = 1
}

TEST(WanModelStages, PatchifyIsTheConv3dOfThePatchEmbedding) {
  const WanModel model = test::small_model();
  const test::SmallInputs in = test::small_inputs();
  const at::Tensor& w = model.weights().at("patch_embedding.weight");  // [D, 16, 1, 2, 2]
  const at::Tensor& b = model.weights().at("patch_embedding.bias");
  const at::Tensor conv = at::conv3d(in.latents, w, b, {1, 2, 2});     // [1, D, F, H', W']
  const at::Tensor expected = conv.flatten(2).transpose(1, 2);          // [1, S, D]
  const at::Tensor got = at::linear(model.patchify(in.latents), w.reshape({w.size(0), -1}), b);  // [1, S, D]
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5);
}

TEST(WanModelStages, UnpatchifyPutsChannelFastestPatchesBack) {
  const WanModel model = test::small_model();
  const VideoGeometry g = latent_geometry(model.config(), 2, 4, 6);  // grid 2 × 2 × 3
  // Token s = (f, hp, wp), feature (pt, ph, pw, c) → latent (c, f·1 + pt, hp·2 + ph, wp·2 + pw).
  const at::Tensor tokens = at::arange(g.tokens() * 64, at::kFloat).reshape({1, g.tokens(), 64});  // [1, S, 64]
  const at::Tensor video = model.unpatchify(tokens, g);  // [1, 16, 2, 4, 6]
  auto v = video.accessor<float, 5>();
  for (int64_t c = 0; c < 16; ++c)
    for (int64_t t = 0; t < 2; ++t)
      for (int64_t y = 0; y < 4; ++y)
        for (int64_t x = 0; x < 6; ++x) {
          const int64_t s = (t * 2 + y / 2) * 3 + x / 2;
          const int64_t feature = ((0 * 2 + y % 2) * 2 + x % 2) * 16 + c;
          ASSERT_EQ(v[0][c][t][y][x], static_cast<float>(s * 64 + feature));
        }
}

TEST(WanModelStages, TimestepSinusoidIsCosThenSin) {
  const WanModel model = test::small_model();
  const at::Tensor e = model.timestep_sinusoid(at::tensor({0.0, 999.0}, at::kDouble));  // [2, 256]
  ASSERT_EQ(e.sizes(), (at::IntArrayRef{2, 256}));
  for (int64_t i : {0, 1, 17, 127}) {
    const double omega = std::pow(10000.0, -static_cast<double>(i) / 128.0);
    EXPECT_NEAR(e[1][i].item<double>(), std::cos(999.0 * omega), 1e-6);
    EXPECT_NEAR(e[1][128 + i].item<double>(), std::sin(999.0 * omega), 1e-6);
    EXPECT_EQ(e[0][i].item<double>(), 1.0);
    EXPECT_EQ(e[0][128 + i].item<double>(), 0.0);
  }
}

}  // namespace
}  // namespace svdit::runtime
