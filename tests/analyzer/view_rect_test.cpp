// Zoom and pan of the heatmap: zooming keeps the point under the cursor, the window stays in the grid.
#include "svdit/analyzer/view_rect.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace svdit::analyzer;

namespace {

TEST(ViewRect, StartsWholeAndMapsCorners) {
  ViewRect v(9, 9);
  EXPECT_TRUE(v.whole());
  EXPECT_DOUBLE_EQ(v.zoom(), 1.0);
  const ScreenRect r{100, 50, 450, 450};
  const Point tl = v.to_screen(r, {0, 0});
  EXPECT_DOUBLE_EQ(tl.x, 100);
  EXPECT_DOUBLE_EQ(tl.y, 50);
  const Point br = v.to_screen(r, {9, 9});
  EXPECT_DOUBLE_EQ(br.x, 550);
  EXPECT_DOUBLE_EQ(br.y, 500);
  int64_t col = 0, row = 0;
  v.cell_at(r, {100 + 50 * 3 + 1, 50 + 50 * 7 + 1}, col, row);
  EXPECT_EQ(col, 3);
  EXPECT_EQ(row, 7);
  v.cell_at(r, {99, 60}, col, row);
  EXPECT_EQ(col, -1);
  EXPECT_EQ(row, -1);
}

TEST(ViewRect, ZoomKeepsTheAnchorInPlace) {
  ViewRect v(100, 100);
  const ScreenRect r{0, 0, 400, 400};
  const Point anchor_screen{300, 100};
  const Point anchor = v.to_cells(r, anchor_screen);
  v.zoom_about(anchor, 4.0);
  EXPECT_NEAR(v.zoom(), 4.0, 1e-12);
  const Point back = v.to_screen(r, anchor);
  EXPECT_NEAR(back.x, anchor_screen.x, 1e-9);
  EXPECT_NEAR(back.y, anchor_screen.y, 1e-9);
  EXPECT_NEAR(v.x1() - v.x0(), 25.0, 1e-12);
}

TEST(ViewRect, ZoomIsBoundedByMinimumSpanAndWholeGrid) {
  ViewRect v(100, 50);
  v.zoom_about({50, 25}, 1e6);
  EXPECT_NEAR(std::min(v.x1() - v.x0(), v.y1() - v.y0()), ViewRect::kMinSpan, 1e-9);
  v.zoom_about({50, 25}, 1e-6);
  EXPECT_TRUE(v.whole());
  // Zooming out near an edge shifts back inside instead of showing outside the grid.
  ViewRect w(100, 100);
  w.zoom_about({99, 99}, 10);
  w.zoom_about({1, 1}, 0.5);
  EXPECT_GE(w.x0(), 0);
  EXPECT_LE(w.x1(), 100);
  EXPECT_GE(w.y0(), 0);
  EXPECT_LE(w.y1(), 100);
}

TEST(ViewRect, PanStopsAtEdges) {
  ViewRect v(10, 10);
  v.zoom_about({5, 5}, 2);  // [2.5, 7.5)
  v.pan(100, -100);
  EXPECT_DOUBLE_EQ(v.x1(), 10);
  EXPECT_DOUBLE_EQ(v.y0(), 0);
  EXPECT_NEAR(v.x1() - v.x0(), 5, 1e-12);
  v.pan(-1, 1);
  EXPECT_DOUBLE_EQ(v.x0(), 4);
  EXPECT_DOUBLE_EQ(v.y0(), 1);
  v.reset();
  EXPECT_TRUE(v.whole());
}

TEST(ViewRect, IgnoresNonsenseFactors) {
  ViewRect v(10, 10);
  v.zoom_about({5, 5}, 0);
  v.zoom_about({5, 5}, -2);
  v.zoom_about({5, 5}, NAN);
  EXPECT_TRUE(v.whole());
}

}  // namespace
