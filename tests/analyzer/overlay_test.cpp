// The overlay of a block layout on the original-order attention map: exact 0/1 on unpermuted layouts, and
// on permuted ones the fraction of token pairs computed, checked against counting every (i, j) pair.
#include "svdit/analyzer/overlay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <tuple>

using namespace svdit::analyzer;
using namespace svdit::data;

namespace {

TokenLayout sample_layout() { return TokenLayout{6, 8, 12, 0, 0, 64}; }  // S = 576, G = 9

// Coverage by brute force: for each original pair (i, j), computed iff the layout blocks of i and j are a
// selected (query block, key block) pair.
std::vector<double> brute_force_coverage(const BlockLayout& bl) {
  const int64_t s = bl.seq_len, b = bl.block_size, g = bl.num_blocks;
  std::vector<int32_t> pos(static_cast<size_t>(s));
  for (int64_t l = 0; l < s; ++l) pos[static_cast<size_t>(bl.token_at(l))] = static_cast<int32_t>(l);
  std::set<std::pair<int64_t, int64_t>> selected;
  for (int64_t q = 0; q < g; ++q)
    for (int32_t k : bl.keys_of(q)) selected.emplace(q, k);
  std::vector<double> count(static_cast<size_t>(g * g), 0.0);
  for (int64_t i = 0; i < s; ++i)
    for (int64_t j = 0; j < s; ++j)
      if (selected.contains({pos[static_cast<size_t>(i)] / b, pos[static_cast<size_t>(j)] / b}))
        count[static_cast<size_t>((i / b) * g + j / b)] += 1;
  for (int64_t qb = 0; qb < g; ++qb)
    for (int64_t kb = 0; kb < g; ++kb) {
      const double rows = static_cast<double>(std::min(s, (qb + 1) * b) - qb * b);
      const double cols = static_cast<double>(std::min(s, (kb + 1) * b) - kb * b);
      count[static_cast<size_t>(qb * g + kb)] /= rows * cols;
    }
  return count;
}

TEST(Overlay, UnpermutedLayoutIsExactlyItsBlocks) {
  const Pattern w = make_pattern({window_component(48)});
  const BlockLayout bl = compile_pattern(w, sample_layout());
  ASSERT_FALSE(bl.permuted());
  const PatternOverlay o = make_overlay(bl);
  EXPECT_EQ(o.blocks, 9);
  EXPECT_FALSE(o.permuted);
  EXPECT_DOUBLE_EQ(o.block_density, bl.block_density());
  for (int64_t q = 0; q < 9; ++q) {
    const auto keys = bl.keys_of(q);
    for (int64_t k = 0; k < 9; ++k) {
      const bool sel = std::find(keys.begin(), keys.end(), k) != keys.end();
      EXPECT_EQ(o.at(q, k), sel ? 1.0f : 0.0f) << q << "," << k;
    }
  }
}

TEST(Overlay, PermutedLayoutsMatchPairCounting) {
  for (const Pattern& p : {make_pattern({temporal_component(24, 5)}), make_pattern({temporal_component(48, 2)}),
                           make_pattern({stripe_component({{200, 260}, {400, 420}}, "top_k"), window_component(48)})}) {
    const BlockLayout bl = compile_pattern(p, sample_layout());
    ASSERT_TRUE(bl.permuted()) << describe(p);
    const PatternOverlay o = make_overlay(bl);
    EXPECT_TRUE(o.permuted);
    const auto expected = brute_force_coverage(bl);
    bool fractional = false;
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_NEAR(o.coverage[i], expected[i], 1e-6) << describe(p) << " cell " << i;
      fractional = fractional || (expected[i] > 0 && expected[i] < 1);
    }
    if (p.find(ComponentKind::temporal)) {
      EXPECT_TRUE(fractional) << "a temporal layout mixes original blocks";
    }
  }
}

TEST(Overlay, PartialLastBlockAndText) {
  // S = 20 + 2·5·7 + 13 = 103 with b = 64: a partial last block, and text rows/columns kept dense.
  const TokenLayout layout{2, 5, 7, 20, 13, 64};
  const Pattern p = make_pattern({temporal_component(1, 0)});
  const BlockLayout bl = compile_pattern(p, layout);
  const PatternOverlay o = make_overlay(bl);
  const auto expected = brute_force_coverage(bl);
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(o.coverage[i], expected[i], 1e-6) << i;
}

TEST(Overlay, SkipCoversNothingAndDenseEverything) {
  const PatternOverlay skip = make_overlay(compile_pattern(make_pattern({skip_component()}), sample_layout()));
  EXPECT_TRUE(skip.skip);
  EXPECT_TRUE(std::all_of(skip.coverage.begin(), skip.coverage.end(), [](float v) { return v == 0; }));
  EXPECT_TRUE(skip.contour.empty());
  const PatternOverlay dense = make_overlay(compile_pattern(make_pattern({dense_component()}), sample_layout()));
  EXPECT_TRUE(std::all_of(dense.coverage.begin(), dense.coverage.end(), [](float v) { return v == 1; }));
  EXPECT_EQ(dense.contour.size(), 4u * 9u);  // only the grid's outline
}

TEST(Overlay, ContourSeparatesCoveredFromUncovered) {
  const PatternOverlay o = make_overlay(compile_pattern(make_pattern({window_component(48)}), sample_layout()));
  // Each segment lies on a cell edge with a covered cell on exactly one side.
  auto covered = [&](int64_t r, int64_t c) { return r >= 0 && c >= 0 && r < 9 && c < 9 && o.at(r, c) > 0; };
  ASSERT_FALSE(o.contour.empty());
  for (const Segment& s : o.contour) {
    if (s.y0 == s.y1) {  // horizontal: cells above and below
      const auto r = static_cast<int64_t>(s.y0), c = static_cast<int64_t>(s.x0);
      EXPECT_NE(covered(r - 1, c), covered(r, c));
    } else {
      const auto r = static_cast<int64_t>(s.y0), c = static_cast<int64_t>(s.x0);
      EXPECT_NE(covered(r, c - 1), covered(r, c));
    }
  }
}

TEST(Overlay, CacheCompilesOncePerPattern) {
  OverlayCache cache(sample_layout());
  const Pattern w = make_pattern({window_component(96)});
  auto a = cache.get(w);
  auto b = cache.get(make_pattern({window_component(96)}));
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(cache.get(make_pattern({window_component(48)})).get(), a.get());
  EXPECT_DOUBLE_EQ(cache.block_density(w), compile_pattern(w, sample_layout()).block_density());
}

}  // namespace
