// Tests of the CPU reference (kernels/cpu): the specification the GPU kernels are tested against, so every
// result here is checked against a second, independent and deliberately naive computation written in this file
// (an S×S mask and a plain softmax), never against numbers copied from a previous run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"
#include "svdit/kernels/cpu/attention_recall.h"
#include "svdit/kernels/cpu/attention_shape.h"
#include "svdit/kernels/cpu/dense_attention.h"
#include "svdit/kernels/cpu/frame_attention.h"
#include "svdit/kernels/cpu/pooled_attention.h"
#include "svdit/kernels/cpu/relative_mse.h"
#include "svdit/kernels/cpu/sparse_attention.h"

namespace svdit::kernels::cpu {
namespace {

using data::BlockLayout;
using data::Pattern;
using data::TokenLayout;

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
// Probabilities recomputed as exp(s − lse) from an fp32 lse (≈ 8, ulp ≈ 5e-7) carry that relative error, so a
// row's mass can exceed 1 by about 1e-6: sums of such probabilities are compared to this tolerance.
constexpr double kLseTolerance = 1e-5;

// ---- inputs --------------------------------------------------------------------------------------------------

std::vector<float> random_tensor(int64_t count, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, stddev);
  std::vector<float> values(static_cast<size_t>(count));
  for (float& value : values) {
    value = normal(rng);
  }
  return values;
}

struct Qkv {
  std::vector<float> q, k, v;  // [B, H, S, D] each
};

// stddev 1.5 makes the softmax peaked enough that leaving keys out changes the output visibly.
Qkv random_qkv(const AttentionShape& shape, uint32_t seed) {
  return Qkv{random_tensor(shape.elements(), seed, 1.5f), random_tensor(shape.elements(), seed + 1, 1.5f),
             random_tensor(shape.elements(), seed + 2)};
}

TokenLayout token_layout(int64_t frames, int64_t height, int64_t width, int64_t prefix, int64_t suffix,
                         int64_t block) {
  TokenLayout layout;
  layout.frames = frames;
  layout.height = height;
  layout.width = width;
  layout.text_prefix = prefix;
  layout.text_suffix = suffix;
  layout.block_size = block;
  return layout;
}

// F=6, H'=8, W'=10 (P=80), b=64: S=480, so the last block is partial (32 tokens), and with 8 blocks a
// sparse pattern still leaves blocks out once text rows and stripe columns (always dense) are added.
TokenLayout small_layout() { return token_layout(6, 8, 10, 0, 0, 64); }
TokenLayout prefix_layout() { return token_layout(6, 8, 10, 7, 0, 64); }
TokenLayout suffix_layout() { return token_layout(6, 8, 10, 0, 5, 64); }

AttentionShape shape_for(const TokenLayout& layout, int64_t batch, int64_t heads, int64_t head_dim) {
  return AttentionShape{batch, heads, layout.seq_len(), head_dim};
}

// ---- the naive second computation ----------------------------------------------------------------------------

// mask[i·S + j] (original token indices): true when the layout computes key j for query i. Built from the
// selected blocks in layout order, mapped back through order[], independently of kernels/cpu's own helpers.
std::vector<char> layout_mask(const BlockLayout& layout) {
  const int64_t S = layout.seq_len;
  const int64_t b = layout.block_size;
  std::vector<char> mask(static_cast<size_t>(S * S), 0);  // [S, S]
  if (layout.skip) {
    return mask;
  }
  for (int64_t qb = 0; qb < layout.num_blocks; ++qb) {
    for (const int32_t kb : layout.keys_of(qb)) {
      for (int64_t lq = qb * b; lq < std::min(S, (qb + 1) * b); ++lq) {
        for (int64_t lk = kb * b; lk < std::min(S, (kb + 1) * b); ++lk) {
          mask[static_cast<size_t>(layout.token_at(lq) * S + layout.token_at(lk))] = 1;
        }
      }
    }
  }
  return mask;
}

double naive_score(const Qkv& x, const AttentionShape& shape, int64_t bh, int64_t i, int64_t j) {
  const int64_t D = shape.head_dim;
  const float* q_row = x.q.data() + (bh * shape.seq_len + i) * D;
  const float* k_row = x.k.data() + (bh * shape.seq_len + j) * D;
  double dot = 0.0;
  for (int64_t d = 0; d < D; ++d) {
    dot += static_cast<double>(q_row[d]) * static_cast<double>(k_row[d]);
  }
  return dot / std::sqrt(static_cast<double>(D));
}

// Dense attention over the keys the mask keeps: softmax weights normalised directly, without the max shift
// (scores here are small enough), so that it shares no code path with the reference.
struct Result {
  std::vector<float> out;  // [B, H, S, D]
  std::vector<float> lse;  // [B, H, S]
};

Result masked_attention(const Qkv& x, const AttentionShape& shape, const std::vector<const BlockLayout*>& layouts) {
  const int64_t S = shape.seq_len;
  const int64_t D = shape.head_dim;
  Result result{std::vector<float>(static_cast<size_t>(shape.elements())),
                std::vector<float>(static_cast<size_t>(shape.rows()))};
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    const std::vector<char> mask = layout_mask(*layouts[static_cast<size_t>(bh % shape.heads)]);  // [S, S]
    for (int64_t i = 0; i < S; ++i) {
      double sum = 0.0;
      std::vector<double> acc(static_cast<size_t>(D), 0.0);
      for (int64_t j = 0; j < S; ++j) {
        if (mask[static_cast<size_t>(i * S + j)] == 0) {
          continue;
        }
        const double weight = std::exp(naive_score(x, shape, bh, i, j));
        sum += weight;
        for (int64_t d = 0; d < D; ++d) {
          acc[static_cast<size_t>(d)] += weight * x.v[static_cast<size_t>((bh * S + j) * D + d)];
        }
      }
      for (int64_t d = 0; d < D; ++d) {
        result.out[static_cast<size_t>((bh * S + i) * D + d)] =
            sum > 0.0 ? static_cast<float>(acc[static_cast<size_t>(d)] / sum) : 0.0f;
      }
      result.lse[static_cast<size_t>(bh * S + i)] = sum > 0.0 ? static_cast<float>(std::log(sum)) : kNegInf;
    }
  }
  return result;
}

// Dense probabilities p_ij of one head, [S, S], computed naively (for the pooled/frame/recall checks).
std::vector<double> naive_probabilities(const Qkv& x, const AttentionShape& shape, int64_t bh) {
  const int64_t S = shape.seq_len;
  std::vector<double> p(static_cast<size_t>(S * S));  // [S, S]
  for (int64_t i = 0; i < S; ++i) {
    double sum = 0.0;
    for (int64_t j = 0; j < S; ++j) {
      p[static_cast<size_t>(i * S + j)] = std::exp(naive_score(x, shape, bh, i, j));
      sum += p[static_cast<size_t>(i * S + j)];
    }
    for (int64_t j = 0; j < S; ++j) {
      p[static_cast<size_t>(i * S + j)] /= sum;
    }
  }
  return p;
}

// ---- comparisons ---------------------------------------------------------------------------------------------

// max |a − b| relative to max |b|: the error measure on a whole tensor (elementwise relative error is
// meaningless for outputs near zero). Requires equal -inf entries to line up exactly.
double max_relative_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  double max_diff = 0.0;
  double max_ref = 0.0;
  for (size_t e = 0; e < std::min(a.size(), b.size()); ++e) {
    if (std::isnan(a[e]) || std::isnan(b[e])) {
      ADD_FAILURE() << "NaN at element " << e << " (an element never written?)";
      return std::numeric_limits<double>::infinity();
    }
    if (std::isinf(b[e]) || std::isinf(a[e])) {
      EXPECT_EQ(a[e], b[e]) << "at element " << e;
      continue;
    }
    max_diff = std::max(max_diff, std::abs(static_cast<double>(a[e]) - static_cast<double>(b[e])));
    max_ref = std::max(max_ref, std::abs(static_cast<double>(b[e])));
  }
  return max_ref == 0.0 ? max_diff : max_diff / max_ref;
}

std::vector<float> head_slice(const std::vector<float>& tensor, int64_t bh, int64_t per_head) {
  return std::vector<float>(tensor.begin() + bh * per_head, tensor.begin() + (bh + 1) * per_head);
}

Result run_dense(const Qkv& x, const AttentionShape& shape) {
  Result r{std::vector<float>(static_cast<size_t>(shape.elements())),
           std::vector<float>(static_cast<size_t>(shape.rows()))};
  dense_attention(x.q, x.k, x.v, shape, r.out, r.lse);
  return r;
}

Result run_sparse(const Qkv& x, const AttentionShape& shape, const std::vector<const BlockLayout*>& layouts) {
  Result r{std::vector<float>(static_cast<size_t>(shape.elements()), std::nanf("")),
           std::vector<float>(static_cast<size_t>(shape.rows()), std::nanf(""))};
  sparse_attention(x.q, x.k, x.v, shape, layouts, r.out, r.lse);
  return r;
}

// ---- sparse with a dense layout is dense attention -----------------------------------------------------------

struct DenseCase {
  TokenLayout layout;
  int64_t head_dim;
};

class SparseDenseLayout : public ::testing::TestWithParam<DenseCase> {};

// Several heads with different layouts in one call: the dense heads must equal dense attention, the others the
// masked computation, which shows each head reads its own layout.
TEST_P(SparseDenseLayout, DenseHeadsEqualDenseAttentionOtherHeadsTheirMask) {
  const TokenLayout tokens = GetParam().layout;
  ASSERT_NE(tokens.seq_len() % tokens.block_size, 0) << "the case must exercise a partial last block";
  const AttentionShape shape = shape_for(tokens, 2, 4, GetParam().head_dim);
  const int64_t P = tokens.tokens_per_frame();
  const BlockLayout dense = data::compile_pattern(data::make_pattern({data::dense_component()}), tokens);
  const BlockLayout window = data::compile_pattern(data::make_pattern({data::window_component(P / 2)}), tokens);
  const BlockLayout temporal = data::compile_pattern(data::make_pattern({data::temporal_component(3, 1)}), tokens);
  // Head order dense, window, dense, temporal: head 2 being dense again catches a head index mixed up with 0.
  const std::vector<const BlockLayout*> layouts = {&dense, &window, &dense, &temporal};
  const Qkv x = random_qkv(shape, 11);

  const Result reference = run_dense(x, shape);
  const Result sparse = run_sparse(x, shape, layouts);
  const Result masked = masked_attention(x, shape, layouts);
  const int64_t per_head_out = shape.head_elements();
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    const int64_t h = bh % shape.heads;
    const std::vector<float> out = head_slice(sparse.out, bh, per_head_out);
    const std::vector<float> lse = head_slice(sparse.lse, bh, shape.seq_len);
    const Result& expected = layouts[static_cast<size_t>(h)] == &dense ? reference : masked;
    EXPECT_LE(max_relative_diff(out, head_slice(expected.out, bh, per_head_out)), 1e-6) << "head " << bh;
    EXPECT_LE(max_relative_diff(lse, head_slice(expected.lse, bh, shape.seq_len)), 1e-6) << "head " << bh;
    if (h == 1) {
      // The window head must really differ from dense, or the comparison above proves nothing.
      EXPECT_GT(max_relative_diff(out, head_slice(reference.out, bh, per_head_out)), 1e-3) << "head " << bh;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SparseDenseLayout,
    ::testing::Values(DenseCase{token_layout(5, 5, 8, 0, 0, 64), 64},    // S = 200
                      DenseCase{token_layout(5, 5, 8, 0, 0, 64), 128},   // S = 200
                      DenseCase{token_layout(5, 8, 8, 13, 0, 64), 64},   // S = 333, text prefix
                      DenseCase{token_layout(5, 8, 8, 13, 0, 64), 128}),  // S = 333, text prefix
    [](const ::testing::TestParamInfo<DenseCase>& test) {
      return "S" + std::to_string(test.param.layout.seq_len()) + "_D" + std::to_string(test.param.head_dim);
    });

// ---- sparse equals the masked brute force for every kind of pattern ------------------------------------------

struct PatternCase {
  std::string name;
  TokenLayout layout;
  Pattern pattern;
  bool expect_permuted;
};

class SparseMatchesMask : public ::testing::TestWithParam<PatternCase> {};

TEST_P(SparseMatchesMask, OutputAndLseEqualMaskedDenseAttention) {
  const PatternCase& c = GetParam();
  const BlockLayout layout = data::compile_pattern(c.pattern, c.layout);
  ASSERT_EQ(layout.permuted(), c.expect_permuted) << "the case does not exercise the path it is named for";
  const AttentionShape shape = shape_for(c.layout, 2, 2, 64);
  const std::vector<const BlockLayout*> layouts = {&layout, &layout};
  const Qkv x = random_qkv(shape, 23);

  const Result sparse = run_sparse(x, shape, layouts);
  const Result masked = masked_attention(x, shape, layouts);
  EXPECT_LE(max_relative_diff(sparse.out, masked.out), 1e-6);
  EXPECT_LE(max_relative_diff(sparse.lse, masked.lse), 1e-6);
  if (layout.skip) {
    for (const float value : sparse.out) {
      ASSERT_EQ(value, 0.0f);
    }
    for (const float value : sparse.lse) {
      ASSERT_EQ(value, kNegInf);
    }
  } else {
    // Every row has keys, so lse is finite and the layout is genuinely sparse (not silently dense).
    for (const float value : sparse.lse) {
      ASSERT_TRUE(std::isfinite(value));
    }
    EXPECT_LT(layout.block_density(), 1.0);
  }
}

std::vector<PatternCase> pattern_cases() {
  using namespace svdit::data;
  std::vector<PatternCase> cases;
  const std::vector<std::pair<std::string, TokenLayout>> layouts = {
      {"", small_layout()}, {"_prefix7", prefix_layout()}, {"_suffix5", suffix_layout()}};
  for (const auto& [suffix, tokens] : layouts) {
    const int64_t P = tokens.tokens_per_frame();
    const int64_t T0 = tokens.text_prefix;
    cases.push_back({"window" + suffix, tokens, make_pattern({window_component(P / 3)}), false});
    cases.push_back({"temporal" + suffix, tokens, make_pattern({temporal_component(2, 1)}), true});
    // Frame 0 already leads frame-major order, so gathering it permutes nothing ...
    cases.push_back({"stripe_window" + suffix, tokens,
                     make_pattern({window_component(P / 4), first_frame_stripe(tokens)}), false});
    // ... while columns in the middle of the video are moved to the front.
    cases.push_back({"mid_stripe_window" + suffix, tokens,
                     make_pattern({window_component(P / 4),
                                   stripe_component({{T0 + 2 * P + 3, T0 + 2 * P + 30}, {T0 + 4 * P, T0 + 4 * P + 9}},
                                                    "top_k")}),
                     true});
    cases.push_back({"mixed" + suffix, tokens,
                     make_pattern({window_component(5), temporal_component(1, 1), first_frame_stripe(tokens)}), true});
    cases.push_back({"skip" + suffix, tokens, make_pattern({skip_component()}), false});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Patterns, SparseMatchesMask, ::testing::ValuesIn(pattern_cases()),
                         [](const ::testing::TestParamInfo<PatternCase>& test) { return test.param.name; });

// ---- the permutation is applied and undone exactly -----------------------------------------------------------

std::vector<float> gather_tokens(const std::vector<float>& x, const AttentionShape& shape,
                                 const std::vector<int32_t>& order, int64_t width) {
  std::vector<float> y(x.size());  // y[bh, l] = x[bh, order[l]]
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    for (int64_t l = 0; l < shape.seq_len; ++l) {
      const int64_t from = (bh * shape.seq_len + order[static_cast<size_t>(l)]) * width;
      std::copy_n(x.begin() + from, width, y.begin() + (bh * shape.seq_len + l) * width);
    }
  }
  return y;
}

std::vector<float> scatter_tokens(const std::vector<float>& y, const AttentionShape& shape,
                                  const std::vector<int32_t>& order, int64_t width) {
  std::vector<float> x(y.size());  // x[bh, order[l]] = y[bh, l]
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    for (int64_t l = 0; l < shape.seq_len; ++l) {
      const int64_t to = (bh * shape.seq_len + order[static_cast<size_t>(l)]) * width;
      std::copy_n(y.begin() + (bh * shape.seq_len + l) * width, width, x.begin() + to);
    }
  }
  return x;
}

TEST(SparsePermutation, PermutingInputsAndOutputsByHandGivesTheSameResultBitForBit) {
  for (const TokenLayout& tokens : {small_layout(), prefix_layout(), suffix_layout()}) {
    const Pattern pattern = data::make_pattern({data::temporal_component(2, 1), data::first_frame_stripe(tokens)});
    const BlockLayout layout = data::compile_pattern(pattern, tokens);
    ASSERT_TRUE(layout.permuted());
    BlockLayout unpermuted = layout;  // the same blocks over tokens that are already in layout order
    unpermuted.order.clear();

    const AttentionShape shape = shape_for(tokens, 1, 2, 64);
    const Qkv x = random_qkv(shape, 37);
    const int64_t D = shape.head_dim;
    const Qkv permuted{gather_tokens(x.q, shape, layout.order, D), gather_tokens(x.k, shape, layout.order, D),
                       gather_tokens(x.v, shape, layout.order, D)};

    const Result direct = run_sparse(x, shape, {&layout, &layout});
    const Result by_hand = run_sparse(permuted, shape, {&unpermuted, &unpermuted});
    // Same rows, same keys in the same order: the arithmetic is identical, so the results are too.
    EXPECT_EQ(direct.out, scatter_tokens(by_hand.out, shape, layout.order, D)) << data::describe(tokens);
    EXPECT_EQ(direct.lse, scatter_tokens(by_hand.lse, shape, layout.order, 1)) << data::describe(tokens);
  }
}

TEST(SparsePermutation, InversePermutationIsExact) {
  const TokenLayout tokens = prefix_layout();
  const BlockLayout layout = data::compile_pattern(
      data::make_pattern({data::temporal_component(1, 2), data::first_frame_stripe(tokens)}), tokens);
  ASSERT_TRUE(layout.permuted());
  const std::vector<int32_t> inverse = data::inverse_permutation(layout.order);
  ASSERT_EQ(inverse.size(), layout.order.size());
  for (size_t l = 0; l < layout.order.size(); ++l) {
    EXPECT_EQ(inverse[static_cast<size_t>(layout.order[l])], static_cast<int32_t>(l));
    EXPECT_EQ(layout.order[static_cast<size_t>(inverse[l])], static_cast<int32_t>(l));
  }
}

// ---- lse, pooled and frame maps -------------------------------------------------------------------------------

TEST(DenseAttention, LseIsLogSumExpOfScaledScores) {
  const TokenLayout tokens = token_layout(5, 8, 8, 13, 0, 64);  // S = 333
  const AttentionShape shape = shape_for(tokens, 1, 2, 128);
  const Qkv x = random_qkv(shape, 41);
  const Result dense = run_dense(x, shape);
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    for (int64_t i = 0; i < shape.seq_len; ++i) {
      double sum = 0.0;
      for (int64_t j = 0; j < shape.seq_len; ++j) {
        sum += std::exp(naive_score(x, shape, bh, i, j));
      }
      const double lse = dense.lse[static_cast<size_t>(bh * shape.seq_len + i)];
      ASSERT_NEAR(lse, std::log(sum), 1e-6 * std::abs(std::log(sum)) + 1e-6) << "row " << i;
    }
  }
}

TEST(DenseAttention, LargeScoresDoNotOverflow) {
  // Scores of several hundred would overflow exp() without the max shift; the result must stay finite and
  // equal to lse = max + log Σ exp(s − max) computed here by hand for a row with two dominant keys.
  const AttentionShape shape{1, 1, 3, 4};
  const std::vector<float> q = {20, 20, 20, 20, 0, 0, 0, 0, 0, 0, 0, 0};  // [1, 1, 3, 4]
  const std::vector<float> k = {20, 20, 20, 20, 20, 20, 20, 20, 0, 0, 0, 0};
  const std::vector<float> v = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::vector<float> out(12), lse(3);
  dense_attention(q, k, v, shape, out, lse);
  const double big = 20.0 * 20.0 * 4.0 / 2.0;  // q·k / √D = 800
  EXPECT_NEAR(lse[0], big + std::log(2.0 + std::exp(-big)), 1e-3);
  EXPECT_NEAR(out[0], 3.0, 1e-6);  // mean of v rows 0 and 1
  EXPECT_NEAR(out[3], 6.0, 1e-6);
  EXPECT_NEAR(lse[1], std::log(3.0), 1e-6);  // q = 0: uniform over the three keys
  EXPECT_NEAR(out[4], 5.0, 1e-6);
}

TEST(PooledAttention, EqualsBlockMeansOfTheProbabilitiesAndRowsSumToOne) {
  for (const TokenLayout& tokens : {small_layout(), token_layout(5, 8, 8, 13, 0, 64)}) {  // S = 480, 333
    const AttentionShape shape = shape_for(tokens, 2, 2, 64);
    const int64_t S = shape.seq_len;
    const int64_t b = tokens.block_size;
    const int64_t G = pooled_size(S, b);
    ASSERT_EQ(G, (S + b - 1) / b);
    const Qkv x = random_qkv(shape, 53);
    const Result dense = run_dense(x, shape);
    std::vector<float> pooled(static_cast<size_t>(shape.heads_total() * G * G));  // [B, H, G, G]
    pooled_attention(x.q, x.k, dense.lse, shape, b, pooled);

    for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
      const std::vector<double> p = naive_probabilities(x, shape, bh);  // [S, S]
      for (int64_t g = 0; g < G; ++g) {
        const int64_t rows = std::min(b, S - g * b);
        double row_sum = 0.0;
        for (int64_t h = 0; h < G; ++h) {
          double expected = 0.0;
          for (int64_t i = g * b; i < g * b + rows; ++i) {
            for (int64_t j = h * b; j < std::min(S, (h + 1) * b); ++j) {
              expected += p[static_cast<size_t>(i * S + j)];
            }
          }
          expected /= static_cast<double>(rows);
          const float value = pooled[static_cast<size_t>((bh * G + g) * G + h)];
          EXPECT_NEAR(value, expected, 1e-6) << "head " << bh << " block (" << g << ", " << h << ")";
          EXPECT_GE(value, 0.0f);
          row_sum += value;
        }
        EXPECT_NEAR(row_sum, 1.0, kLseTolerance) << "head " << bh << " query block " << g;
      }
    }
  }
}

TEST(FrameAttention, EqualsFrameMeansOfTheProbabilitiesWithTextLeftOut) {
  for (const TokenLayout& tokens : {small_layout(), prefix_layout(), suffix_layout()}) {
    const AttentionShape shape = shape_for(tokens, 1, 2, 64);
    const int64_t S = shape.seq_len;
    const int64_t F = tokens.frames;
    const int64_t P = tokens.tokens_per_frame();
    const int64_t T0 = tokens.text_prefix;
    const Qkv x = random_qkv(shape, 59);
    const Result dense = run_dense(x, shape);
    std::vector<float> frames(static_cast<size_t>(shape.heads_total() * F * F));  // [B, H, F, F]
    frame_attention(x.q, x.k, dense.lse, shape, tokens, frames);

    for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
      const std::vector<double> p = naive_probabilities(x, shape, bh);  // [S, S]
      for (int64_t f = 0; f < F; ++f) {
        double row_sum = 0.0;
        double text_mass = 0.0;  // mean mass the frame's rows put on text keys
        for (int64_t i = T0 + f * P; i < T0 + (f + 1) * P; ++i) {
          for (int64_t j = 0; j < S; ++j) {
            if (j < tokens.video_begin() || j >= tokens.video_end()) {
              text_mass += p[static_cast<size_t>(i * S + j)] / static_cast<double>(P);
            }
          }
        }
        for (int64_t g = 0; g < F; ++g) {
          double expected = 0.0;
          for (int64_t i = T0 + f * P; i < T0 + (f + 1) * P; ++i) {
            for (int64_t j = T0 + g * P; j < T0 + (g + 1) * P; ++j) {
              expected += p[static_cast<size_t>(i * S + j)];
            }
          }
          expected /= static_cast<double>(P);
          const float value = frames[static_cast<size_t>((bh * F + f) * F + g)];
          EXPECT_NEAR(value, expected, 1e-6) << "head " << bh << " frames (" << f << ", " << g << ")";
          row_sum += value;
        }
        EXPECT_NEAR(row_sum, 1.0 - text_mass, kLseTolerance) << data::describe(tokens) << " frame " << f;
        if (tokens.text_prefix + tokens.text_suffix > 0) {
          EXPECT_GT(text_mass, 0.0);
        }
      }
    }
  }
}

// ---- recall and relative MSE ---------------------------------------------------------------------------------

std::vector<double> recall_of(const Qkv& x, const Result& dense, const AttentionShape& shape, const BlockLayout& layout) {
  const std::vector<const BlockLayout*> layouts(static_cast<size_t>(shape.heads), &layout);
  return attention_recall(x.q, x.k, dense.lse, shape, layouts);
}

TEST(AttentionRecall, DenseIsOneSkipIsZeroAndMatchesTheMaskedMass) {
  const TokenLayout tokens = prefix_layout();
  const AttentionShape shape = shape_for(tokens, 2, 2, 64);
  const Qkv x = random_qkv(shape, 61);
  const Result dense = run_dense(x, shape);
  const BlockLayout all = data::compile_pattern(data::make_pattern({data::dense_component()}), tokens);
  const BlockLayout none = data::compile_pattern(data::make_pattern({data::skip_component()}), tokens);
  const BlockLayout mixed = data::compile_pattern(
      data::make_pattern({data::window_component(6), data::temporal_component(1, 1), data::first_frame_stripe(tokens)}),
      tokens);

  for (const double r : recall_of(x, dense, shape, all)) {
    EXPECT_NEAR(r, 1.0, kLseTolerance);
  }
  for (const double r : recall_of(x, dense, shape, none)) {
    EXPECT_EQ(r, 0.0);
  }
  const std::vector<double> recall = recall_of(x, dense, shape, mixed);
  ASSERT_EQ(static_cast<int64_t>(recall.size()), shape.heads_total());
  const std::vector<char> mask = layout_mask(mixed);  // [S, S]
  const int64_t S = shape.seq_len;
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    const std::vector<double> p = naive_probabilities(x, shape, bh);
    double kept = 0.0;
    for (int64_t e = 0; e < S * S; ++e) {
      kept += mask[static_cast<size_t>(e)] != 0 ? p[static_cast<size_t>(e)] : 0.0;
    }
    EXPECT_NEAR(recall[static_cast<size_t>(bh)], kept / static_cast<double>(S), kLseTolerance) << "head " << bh;
    EXPECT_GT(recall[static_cast<size_t>(bh)], 0.0);
    EXPECT_LT(recall[static_cast<size_t>(bh)], 1.0);
  }
}

TEST(AttentionRecall, NeverDecreasesAsTheWindowWidens) {
  const TokenLayout tokens = suffix_layout();
  const AttentionShape shape = shape_for(tokens, 1, 3, 64);
  const Qkv x = random_qkv(shape, 67);
  const Result dense = run_dense(x, shape);
  std::vector<double> previous(static_cast<size_t>(shape.heads_total()), 0.0);
  bool increased = false;
  const int64_t V = tokens.video_tokens();
  for (const int64_t w : {int64_t{0}, int64_t{4}, int64_t{16}, V / 8, V / 5, V / 3, V / 2, V}) {
    const BlockLayout layout = data::compile_pattern(data::make_pattern({data::window_component(w)}), tokens);
    const std::vector<double> recall = recall_of(x, dense, shape, layout);
    for (size_t h = 0; h < recall.size(); ++h) {
      EXPECT_GE(recall[h], previous[h] - 1e-12) << "w=" << w << " head " << h;
      EXPECT_LE(recall[h], 1.0 + kLseTolerance) << "w=" << w << " head " << h;
      increased = increased || recall[h] > previous[h] + 1e-3;
    }
    previous = recall;
  }
  EXPECT_TRUE(increased) << "the widths chosen never changed the selected blocks";
  for (const double r : previous) {
    EXPECT_NEAR(r, 1.0, kLseTolerance);  // w = V exceeds every token distance: all keys
  }
}

TEST(RelativeMse, DenseIsZeroSkipIsOneAndWindowIsTheNormalisedSquaredError) {
  const TokenLayout tokens = small_layout();
  const AttentionShape shape = shape_for(tokens, 2, 2, 64);
  const Qkv x = random_qkv(shape, 71);
  const Result dense = run_dense(x, shape);
  const BlockLayout none = data::compile_pattern(data::make_pattern({data::skip_component()}), tokens);
  const BlockLayout window = data::compile_pattern(data::make_pattern({data::window_component(8)}), tokens);
  const Result skipped = run_sparse(x, shape, {&none, &none});
  const Result windowed = run_sparse(x, shape, {&window, &window});

  for (const double e : relative_mse(dense.out, dense.out, shape)) {
    EXPECT_EQ(e, 0.0);
  }
  for (const double e : relative_mse(skipped.out, dense.out, shape)) {
    EXPECT_EQ(e, 1.0);
  }
  const std::vector<double> error = relative_mse(windowed.out, dense.out, shape);
  ASSERT_EQ(static_cast<int64_t>(error.size()), shape.heads_total());
  const int64_t n = shape.head_elements();
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    double diff = 0.0;
    double norm = 0.0;
    for (int64_t e = bh * n; e < (bh + 1) * n; ++e) {
      diff += std::pow(double{windowed.out[static_cast<size_t>(e)]} - double{dense.out[static_cast<size_t>(e)]}, 2);
      norm += std::pow(double{dense.out[static_cast<size_t>(e)]}, 2);
    }
    EXPECT_NEAR(error[static_cast<size_t>(bh)], diff / norm, 1e-12 * diff / norm) << "head " << bh;
    // No upper bound: a sparse output averages fewer values, so its norm (and the error) can exceed the dense one's.
    EXPECT_GT(error[static_cast<size_t>(bh)], 0.0);
  }
}

TEST(RelativeMse, ZeroReferenceIsZeroWhenExactAndInfiniteOtherwise) {
  const AttentionShape shape{1, 2, 2, 2};
  const std::vector<float> zero(8, 0.0f);                             // [1, 2, 2, 2]
  const std::vector<float> candidate = {0, 0, 0, 0, 0, 0.5f, 0, 0};  // head 1 differs
  const std::vector<double> error = relative_mse(candidate, zero, shape);
  EXPECT_EQ(error[0], 0.0);
  EXPECT_EQ(error[1], std::numeric_limits<double>::infinity());
}

// ---- bad arguments are refused, not guessed about -------------------------------------------------------------

TEST(ReferenceArguments, MismatchedSizesAndLayoutsThrow) {
  const TokenLayout tokens = small_layout();
  const AttentionShape shape = shape_for(tokens, 1, 2, 64);
  const Qkv x = random_qkv(shape, 73);
  std::vector<float> out(static_cast<size_t>(shape.elements()));
  std::vector<float> lse(static_cast<size_t>(shape.rows()));
  const BlockLayout layout = data::compile_pattern(data::make_pattern({data::window_component(8)}), tokens);

  const std::vector<float> short_q(x.q.begin(), x.q.end() - 1);
  EXPECT_THROW(dense_attention(short_q, x.k, x.v, shape, out, lse), std::invalid_argument);
  EXPECT_THROW(dense_attention(x.q, x.k, x.v, AttentionShape{1, 2, shape.seq_len, 0}, out, lse), std::invalid_argument);
  EXPECT_THROW(sparse_attention(x.q, x.k, x.v, shape, std::vector<const BlockLayout*>{&layout}, out, lse),
               std::invalid_argument);  // one layout for two heads
  EXPECT_THROW(sparse_attention(x.q, x.k, x.v, shape, std::vector<const BlockLayout*>{&layout, nullptr}, out, lse),
               std::invalid_argument);

  const BlockLayout other = data::compile_pattern(data::make_pattern({data::window_component(8)}), suffix_layout());
  EXPECT_THROW(sparse_attention(x.q, x.k, x.v, shape, std::vector<const BlockLayout*>{&layout, &other}, out, lse),
               std::invalid_argument);  // made for S = 245

  BlockLayout bad_order = data::compile_pattern(data::make_pattern({data::temporal_component(1, 1)}), tokens);
  ASSERT_TRUE(bad_order.permuted());
  bad_order.order[1] = bad_order.order[0];  // not a permutation any more
  EXPECT_THROW(sparse_attention(x.q, x.k, x.v, shape, std::vector<const BlockLayout*>{&layout, &bad_order}, out, lse),
               std::invalid_argument);

  BlockLayout bad_block = layout;
  bad_block.key_blocks.back() = static_cast<int32_t>(bad_block.num_blocks);  // past the last block
  EXPECT_THROW(attention_recall(x.q, x.k, lse, shape, std::vector<const BlockLayout*>{&layout, &bad_block}),
               std::invalid_argument);

  std::vector<float> frames(static_cast<size_t>(shape.heads_total() * tokens.frames * tokens.frames));
  EXPECT_THROW(frame_attention(x.q, x.k, lse, shape, suffix_layout(), frames), std::invalid_argument);
  const int64_t G = pooled_size(shape.seq_len, 64);
  std::vector<float> pooled(static_cast<size_t>(shape.heads_total() * G * G));  // [B, H, G, G]
  EXPECT_THROW(pooled_attention(x.q, x.k, lse, shape, 64, std::span<float>(pooled).first(G * G)),
               std::invalid_argument);
  EXPECT_THROW(pooled_attention(x.q, x.k, lse, shape, 0, pooled), std::invalid_argument);
}

// ---- threads change nothing ----------------------------------------------------------------------------------

TEST(ReferenceThreads, OneThreadAndManyThreadsGiveIdenticalResults) {
  const TokenLayout tokens = small_layout();
  const AttentionShape shape = shape_for(tokens, 2, 3, 64);
  const Qkv x = random_qkv(shape, 79);
  const BlockLayout window = data::compile_pattern(data::make_pattern({data::window_component(20)}), tokens);
  const std::vector<const BlockLayout*> layouts(3, &window);

  ASSERT_EQ(setenv("SVDIT_CPU_THREADS", "1", 1), 0);
  const Result serial = run_sparse(x, shape, layouts);
  ASSERT_EQ(setenv("SVDIT_CPU_THREADS", "4", 1), 0);
  const Result parallel = run_sparse(x, shape, layouts);
  ASSERT_EQ(unsetenv("SVDIT_CPU_THREADS"), 0);
  EXPECT_EQ(serial.out, parallel.out);
  EXPECT_EQ(serial.lse, parallel.lse);
}

}  // namespace
}  // namespace svdit::kernels::cpu
