// Pattern compilation: the fast compiler against the pair-by-pair definition, hand-computed densities, the
// layout order (temporal permutation, gathered stripe columns) and its inverse.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"

namespace svdit::data {
namespace {

void expect_same_layout(const BlockLayout& a, const BlockLayout& b, const std::string& what) {
  EXPECT_EQ(a.skip, b.skip) << what;
  EXPECT_EQ(a.order, b.order) << what;
  EXPECT_EQ(a.row_begin, b.row_begin) << what;
  EXPECT_EQ(a.key_blocks, b.key_blocks) << what;
}

double brute_force_token_density(const Pattern& pattern, const TokenLayout& layout) {
  int64_t kept = 0;
  for (int64_t i = 0; i < layout.seq_len(); ++i) {
    for (int64_t j = 0; j < layout.seq_len(); ++j) kept += attends(pattern, layout, i, j) ? 1 : 0;
  }
  return static_cast<double>(kept) / static_cast<double>(layout.seq_len() * layout.seq_len());
}

TEST(BlockLayout, WindowTwoFramesAtWan480pMatchesHandComputation) {
  // Wan2.1-1.3B 480p: F=21, H'=30, W'=52 → P=1560, S=32760, b=128 → 256 blocks (the last one 120 tokens).
  // w = 2P = 3120. Query block q covers tokens [128q, 128q+127]; it reaches keys [128q−3120, 128q+3247], i.e. key
  // blocks ⌊(128q−3120)/128⌋ = q−25 … ⌊(128q+3247)/128⌋ = q+25, clipped to [0, 255]:
  //   q in [25, 230]: 51 blocks each        → 206·51          = 10506
  //   q in [0, 24]:   q+26 blocks           → Σ(q+26)          =   950
  //   q in [231,255]: 281−q blocks          → Σ_{k=26}^{50} k  =   950
  // total 12406 of 256² = 65536 blocks.
  const TokenLayout layout{.frames = 21, .height = 30, .width = 52, .block_size = 128};
  const BlockLayout compiled = compile_pattern(make_pattern({window_component(2 * 1560)}), layout);
  EXPECT_EQ(compiled.num_blocks, 256);
  EXPECT_FALSE(compiled.permuted());
  EXPECT_EQ(compiled.computed_blocks(), 12406);
  EXPECT_DOUBLE_EQ(compiled.block_density(), 12406.0 / 65536.0);
  ASSERT_EQ(compiled.keys_of(100).size(), 51u);
  EXPECT_EQ(compiled.keys_of(100).front(), 75);
  EXPECT_EQ(compiled.keys_of(100).back(), 125);
}

TEST(BlockLayout, DenseAndSkip) {
  const TokenLayout layout{.frames = 3, .height = 5, .width = 7, .text_prefix = 9, .block_size = 64};
  const BlockLayout dense = compile_pattern(make_pattern({dense_component()}), layout);
  EXPECT_EQ(dense.computed_blocks(), dense.num_blocks * dense.num_blocks);
  EXPECT_DOUBLE_EQ(dense.block_density(), 1.0);
  EXPECT_DOUBLE_EQ(token_density(make_pattern({dense_component()}), layout), 1.0);
  const BlockLayout skip = compile_pattern(make_pattern({skip_component()}), layout);
  EXPECT_TRUE(skip.skip);
  EXPECT_EQ(skip.computed_blocks(), 0);
  EXPECT_DOUBLE_EQ(token_density(make_pattern({skip_component()}), layout), 0.0);
}

TEST(BlockLayout, TemporalPermutationIsPositionMajorAndInvertible) {
  const TokenLayout layout{.frames = 4, .height = 3, .width = 5, .text_prefix = 2, .text_suffix = 3, .block_size = 64};
  const BlockLayout compiled = compile_pattern(make_pattern({temporal_component(2, 1)}), layout);
  ASSERT_TRUE(compiled.permuted());
  const int64_t frames = 4, positions = 15;
  ASSERT_EQ(static_cast<int64_t>(compiled.order.size()), layout.seq_len());
  for (int64_t l = 0; l < layout.seq_len(); ++l) {
    int64_t expected = l;  // text keeps its place
    if (l >= 2 && l < 2 + frames * positions) {
      const int64_t c = l - 2, p = c / frames, f = c % frames;  // layout order is p·F + f
      expected = 2 + f * positions + p;
    }
    EXPECT_EQ(compiled.token_at(l), expected) << "layout position " << l;
  }
  const std::vector<int32_t> inverse = inverse_permutation(compiled.order);
  for (size_t l = 0; l < compiled.order.size(); ++l) {
    EXPECT_EQ(inverse[static_cast<size_t>(compiled.order[l])], static_cast<int32_t>(l));
  }
}

TEST(BlockLayout, StripeColumnsAreGatheredInFrontOfTheBody) {
  const TokenLayout layout{.frames = 3, .height = 4, .width = 4, .block_size = 64};
  // Columns 5..6 and 20 (frame 1, p=4) are gathered to the front, in ascending order.
  const Pattern pattern = make_pattern({window_component(3), stripe_component({{5, 7}, {20, 21}}, "top_k")});
  const BlockLayout compiled = compile_pattern(pattern, layout);
  ASSERT_TRUE(compiled.permuted());
  EXPECT_EQ(compiled.token_at(0), 5);
  EXPECT_EQ(compiled.token_at(1), 6);
  EXPECT_EQ(compiled.token_at(2), 20);
  EXPECT_EQ(compiled.token_at(3), 0);
  EXPECT_EQ(compiled.token_at(7), 4);
  EXPECT_EQ(compiled.token_at(8), 7);
  // First-frame columns are already in front in frame-major order: no permutation needed.
  EXPECT_FALSE(compile_pattern(make_pattern({window_component(3), first_frame_stripe(layout)}), layout).permuted());
}

// Random patterns on small layouts: the fast compiler must select exactly the blocks that hold a kept pair, and the
// interval-arithmetic token density must equal the pair count.
TEST(BlockLayout, MatchesBruteForceOnRandomPatterns) {
  std::mt19937 rng(1234);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  int sparse_cases = 0;
  for (int trial = 0; trial < 120; ++trial) {
    TokenLayout layout{.frames = uniform(1, 10), .height = uniform(3, 10), .width = uniform(3, 16),
                       .text_prefix = uniform(0, 3) == 0 ? uniform(1, 20) : 0,
                       .text_suffix = uniform(0, 3) == 0 ? uniform(1, 9) : 0,
                       .block_size = 64};
    const int64_t positions = layout.tokens_per_frame(), video = layout.video_tokens();
    std::vector<Component> components;
    if (uniform(0, 2) > 0) components.push_back(window_component(uniform(0, positions / 2 + 3)));
    if (uniform(0, 2) > 0) {
      components.push_back(temporal_component(uniform(0, positions / 4), uniform(0, layout.frames / 2 + 1)));
    }
    if (uniform(0, 2) == 0) {
      std::vector<TokenRange> columns;
      int64_t t = layout.video_begin() + uniform(0, std::max<int64_t>(0, video - 1));
      while (t < layout.video_end() && columns.size() < 4) {
        const int64_t end = std::min(layout.video_end(), t + uniform(1, 9));
        columns.push_back({t, end});
        t = end + uniform(1, 30);
      }
      components.push_back(stripe_component(columns, "test"));
    }
    if (components.empty()) components.push_back(window_component(uniform(0, 5)));
    const Pattern pattern = make_pattern(components);
    const std::string what = describe(pattern) + " at " + describe(layout);
    const BlockLayout compiled = compile_pattern(pattern, layout);
    expect_same_layout(compiled, compile_pattern_brute_force(pattern, layout), what);
    EXPECT_NEAR(token_density(pattern, layout), brute_force_token_density(pattern, layout), 1e-12) << what;
    if (HasFailure()) return;
    sparse_cases += compiled.block_density() < 0.75 ? 1 : 0;
  }
  // The comparison means little if every random pattern covers every block.
  EXPECT_GT(sparse_cases, 40);
}

TEST(BlockLayout, LargerLayoutWithBlock128MatchesBruteForce) {
  // Enough tokens that blocks straddle frames and runs straddle blocks, with F < b and P > b.
  const TokenLayout layout{.frames = 5, .height = 9, .width = 20, .text_prefix = 13, .block_size = 128};
  const std::vector<Pattern> patterns = {
      make_pattern({window_component(180)}),
      make_pattern({temporal_component(45, 4)}),
      make_pattern({temporal_component(30, 1), window_component(50)}),
      make_pattern({window_component(90), first_frame_stripe(layout)}),
      make_pattern({temporal_component(20, 4), first_frame_stripe(layout)}),
  };
  for (const Pattern& pattern : patterns) {
    expect_same_layout(compile_pattern(pattern, layout), compile_pattern_brute_force(pattern, layout),
                       describe(pattern));
  }
}

// Corner cases of the interval arithmetic that random small layouts rarely reach.
TEST(BlockLayout, CornerCasesMatchBruteForce) {
  struct Case {
    TokenLayout layout;
    Pattern pattern;
  };
  const TokenLayout many_frames{.frames = 70, .height = 1, .width = 3, .block_size = 64};  // F > b
  const TokenLayout small{.frames = 12, .height = 6, .width = 5, .text_suffix = 3, .block_size = 64};  // P = 30
  const std::vector<Case> cases = {
      // Position-major pieces farther apart than a block: each must be marked on its own.
      {many_frames, make_pattern({temporal_component(1, 2)})},
      {many_frames, make_pattern({temporal_component(0, 31)})},
      // A single gathered stripe column, alone and with other components.
      {small, make_pattern({stripe_component({{47, 48}}, "top_k")})},
      {small, make_pattern({window_component(2), stripe_component({{47, 48}}, "top_k")})},
      {many_frames, make_pattern({temporal_component(0, 1), stripe_component({{100, 101}}, "top_k")})},
  };
  for (const Case& c : cases) {
    const std::string what = describe(c.pattern) + " at " + describe(c.layout);
    const BlockLayout compiled = compile_pattern(c.pattern, c.layout);
    expect_same_layout(compiled, compile_pattern_brute_force(c.pattern, c.layout), what);
    EXPECT_LT(compiled.block_density(), 1.0) << what;  // a case covering everything would test nothing
  }
}

TEST(Pattern, JsonRoundTrip) {
  const TokenLayout layout{.frames = 3, .height = 4, .width = 4, .block_size = 64};
  const Pattern pattern = make_pattern({window_component(7), temporal_component(2, 1), first_frame_stripe(layout)});
  const nlohmann::json j = to_json(pattern);
  EXPECT_EQ(j.dump(), R"([{"type":"window","w":7},{"type":"temporal","w_f":1,"w_s":2},)"
                      R"({"columns":[[0,16]],"rule":"first_frame","type":"stripe"}])");
  EXPECT_EQ(pattern_from_json(j), pattern);
}

TEST(Pattern, RejectsBadInputNamingTheField) {
  const TokenLayout layout{.frames = 3, .height = 4, .width = 4, .block_size = 64};
  auto message_of = [&](const std::string& text) {
    try {
      validate(pattern_from_json(nlohmann::json::parse(text), "plan.json", "patterns[0].components"), layout,
               "plan.json", "patterns[0].components");
    } catch (const FormatError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message_of(R"([{"type":"window"}])"),
            "plan.json: patterns[0].components[0].w: missing (expected an integer)");
  EXPECT_EQ(message_of(R"([{"type":"window","w":-1}])"),
            "plan.json: patterns[0].components[0].w: expected >= 0, got -1");
  EXPECT_EQ(message_of(R"([{"type":"window","w":1.5}])"),
            "plan.json: patterns[0].components[0].w: expected an integer, got number");
  EXPECT_EQ(message_of(R"([{"type":"diagonal","w":1}])"),
            "plan.json: patterns[0].components[0].type: expected one of dense, skip, window, temporal, stripe, got "
            "\"diagonal\"");
  EXPECT_EQ(message_of(R"([{"type":"skip"},{"type":"window","w":1}])"),
            "plan.json: patterns[0].components: \"skip\" must be the only component, got 2 components");
  EXPECT_EQ(message_of(R"([{"type":"window","w":1},{"type":"window","w":2}])"),
            "plan.json: patterns[0].components[1].type: a pattern holds at most one \"window\" component");
  EXPECT_EQ(message_of(R"([{"type":"stripe","columns":[[0,60]]}])"),
            "plan.json: patterns[0].components[0].columns[0]: expected a non-empty range inside [0, 48), got [0, 60)");
  EXPECT_EQ(message_of(R"([{"type":"stripe","columns":[[5,9],[7,12]]}])"),
            "plan.json: patterns[0].components[0].columns[1]: expected ranges sorted and disjoint; starts at 7 before "
            "the previous range ends at 9");
  EXPECT_EQ(message_of(R"([])"),
            "plan.json: patterns[0].components: expected at least one component (use \"skip\" for a head that "
            "computes nothing)");
  EXPECT_EQ(message_of(R"({"type":"dense"})"),
            "plan.json: patterns[0].components: expected an array of components, got object");
}

TEST(TokenLayout, RejectsBadSizes) {
  EXPECT_THROW(validate(TokenLayout{.frames = 0, .height = 1, .width = 1}), FormatError);
  EXPECT_THROW(validate(TokenLayout{.frames = 1, .height = 1, .width = 1, .block_size = 96}), FormatError);
  EXPECT_THROW(validate(TokenLayout{.frames = 1, .height = 1, .width = 1, .text_prefix = -2}), FormatError);
  EXPECT_NO_THROW(validate(TokenLayout{.frames = 21, .height = 30, .width = 52}));
}

}  // namespace
}  // namespace svdit::data
