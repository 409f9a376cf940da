// Colours: the heat ramp is ordered and unambiguous, the log scale maps as documented, pattern colours are
// stable and distinct.
#include "svdit/analyzer/colormap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

using namespace svdit::analyzer;
using namespace svdit::data;

namespace {

double luminance(const Rgba8& c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }

TEST(Colormap, HeatRampIsDistinctAndBrightensMonotonically) {
  const auto& lut = heat_lut();
  std::set<uint32_t> distinct;
  for (size_t i = 0; i < lut.size(); ++i) {
    distinct.insert(lut[i].packed());
    EXPECT_EQ(lut[i].a, 255);
    if (i > 0) {
      EXPECT_GT(luminance(lut[i]), luminance(lut[i - 1])) << "entry " << i;
    }
  }
  // Every entry distinct: a heatmap pixel identifies its value bucket (the screenshot check relies on it).
  EXPECT_EQ(distinct.size(), lut.size());
  EXPECT_EQ(heat_colour(0.0), lut.front());
  EXPECT_EQ(heat_colour(1.0), lut.back());
  EXPECT_EQ(heat_colour(-3.0), lut.front());
  EXPECT_EQ(heat_colour(7.0), lut.back());
  EXPECT_EQ(heat_colour(NAN), lut.front());
  EXPECT_EQ(heat_colour(128.0 / 255.0), lut[128]);
}

TEST(Colormap, PackedIsRgbaByteOrder) {
  const Rgba8 c{1, 2, 3, 4};
  EXPECT_EQ(c.packed(), 0x04030201u);
}

TEST(LogScale, FitsMaximumAndSmallestPositiveWithinDecades) {
  const std::vector<float> values{0.0f, 0.5f, 0.01f, 0.2f, -1.0f, NAN};
  const LogScale s = LogScale::fit(values, 4);
  EXPECT_DOUBLE_EQ(s.hi, 0.5);
  EXPECT_DOUBLE_EQ(s.lo, static_cast<double>(0.01f));
  // A tiny outlier is cut off at `decades` below the maximum.
  const std::vector<float> wide{1.0f, 1e-9f};
  const LogScale w = LogScale::fit(wide, 3);
  EXPECT_DOUBLE_EQ(w.hi, 1.0);
  EXPECT_NEAR(w.lo, 1e-3, 1e-15);
  // Nothing positive: the documented default.
  const std::vector<float> zeros{0.0f, 0.0f};
  EXPECT_EQ(LogScale::fit(zeros), LogScale{});
}

TEST(LogScale, NormalisesOnALogAxis) {
  const LogScale s{1e-3, 1.0};
  EXPECT_DOUBLE_EQ(s.normalise(1.0), 1.0);
  EXPECT_DOUBLE_EQ(s.normalise(2.0), 1.0);
  EXPECT_DOUBLE_EQ(s.normalise(1e-3), 0.0);
  EXPECT_DOUBLE_EQ(s.normalise(0.0), 0.0);
  EXPECT_DOUBLE_EQ(s.normalise(NAN), 0.0);
  EXPECT_NEAR(s.normalise(1e-2), 1.0 / 3.0, 1e-12);
  EXPECT_NEAR(s.normalise(1e-1), 2.0 / 3.0, 1e-12);
}

TEST(LogScale, TicksArePowersOfTenOrTheEnds) {
  EXPECT_EQ((LogScale{1e-3, 1.0}.ticks()), (std::vector<double>{1e-3, 1e-2, 1e-1, 1.0}));
  const auto t = LogScale{0.2, 0.9}.ticks();  // no power of ten inside: both ends
  ASSERT_EQ(t.size(), 2u);
  EXPECT_DOUBLE_EQ(t[0], 0.2);
  EXPECT_DOUBLE_EQ(t[1], 0.9);
  const auto u = LogScale{0.03, 0.5}.ticks();  // one power inside: it and the ends around it
  EXPECT_EQ(u, (std::vector<double>{0.03, 0.1, 0.5}));
}

TEST(LogScale, ColouriseFollowsScaleAndRamp) {
  const LogScale s{1e-2, 1.0};
  const std::vector<float> v{1.0f, 0.1f, 0.0f};
  const auto c = colourise(v, s);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], heat_lut()[255]);
  EXPECT_EQ(c[1], heat_colour(s.normalise(0.1f)));
  EXPECT_EQ(c[2], heat_lut()[0]);
}

TEST(PatternColour, DenseAndSkipAreFixedOthersFollowTheKey) {
  const Pattern dense = make_pattern({dense_component()});
  const Pattern skip = make_pattern({skip_component()});
  const Pattern w = make_pattern({window_component(48)});
  EXPECT_EQ(pattern_colour(dense, 0), dense_colour());
  EXPECT_EQ(pattern_colour(skip, 3), skip_colour());
  EXPECT_EQ(pattern_colour(w, 0), categorical_palette()[0]);
  EXPECT_EQ(pattern_colour(w, 13), categorical_palette()[1]);  // wraps around
  std::set<uint32_t> seen{dense_colour().packed(), skip_colour().packed()};
  for (int64_t k = 0; k < static_cast<int64_t>(categorical_palette().size()); ++k) seen.insert(pattern_colour(w, k).packed());
  EXPECT_EQ(seen.size(), categorical_palette().size() + 2) << "palette entries must differ from each other and "
                                                              "from dense and skip";
}

}  // namespace
