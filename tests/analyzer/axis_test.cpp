// Axes of the trade-off plot.
#include "svdit/analyzer/axis.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace svdit::analyzer;

namespace {

bool nice(double step) {
  const double m = step / std::pow(10.0, std::floor(std::log10(step) + 1e-12));
  return std::abs(m - 1) < 1e-9 || std::abs(m - 2) < 1e-9 || std::abs(m - 5) < 1e-9 || std::abs(m - 10) < 1e-9;
}

TEST(Axis, CoversTheDataWithNiceTicks) {
  for (auto [lo, hi] : {std::pair{0.0, 1.0}, {123.0, 4567.0}, {0.0012, 0.0071}, {-3.0, 7.5}, {250.0, 251.0}}) {
    const Axis a = Axis::fit(lo, hi);
    EXPECT_LT(a.lo, lo) << lo << ".." << hi;  // data stays off the frame
    EXPECT_GT(a.hi, hi);
    ASSERT_GE(a.ticks.size(), 2u);
    EXPECT_LE(a.ticks.size(), 12u);
    EXPECT_TRUE(nice(a.step())) << a.step();
    EXPECT_GE(a.ticks.front(), a.lo);
    EXPECT_LE(a.ticks.back(), a.hi);
    EXPECT_LT(a.ticks.front() - a.step(), a.lo);  // no tick left out at either end
    EXPECT_GT(a.ticks.back() + a.step(), a.hi);
    for (size_t i = 1; i < a.ticks.size(); ++i) EXPECT_NEAR(a.ticks[i] - a.ticks[i - 1], a.step(), a.step() * 1e-9);
    EXPECT_GE(a.fraction(lo), 0.0);
    EXPECT_LE(a.fraction(hi), 1.0);
  }
}

TEST(Axis, HandlesDegenerateRanges) {
  const Axis one = Axis::fit(5, 5);
  EXPECT_LT(one.lo, 5);
  EXPECT_GT(one.hi, 5);
  const Axis zero = Axis::fit(0, 0);
  EXPECT_LT(zero.lo, 0);
  EXPECT_GT(zero.hi, 0);
  const Axis swapped = Axis::fit(10, 1);
  EXPECT_LT(swapped.lo, 1);
  EXPECT_GT(swapped.hi, 10);
  const Axis bad = Axis::fit(NAN, INFINITY);
  EXPECT_TRUE(std::isfinite(bad.lo) && std::isfinite(bad.hi));
}

TEST(Axis, LabelsUseTheDecimalsTheStepNeeds) {
  EXPECT_EQ(tick_label(0.05, 0.05), "0.05");
  EXPECT_EQ(tick_label(120, 20), "120");
  EXPECT_EQ(tick_label(0.5, 0.1), "0.5");
  EXPECT_EQ(tick_label(0, 0.1), "0");
  EXPECT_EQ(tick_label(1.5e-5, 5e-6), "1.5e-05");
}

}  // namespace
