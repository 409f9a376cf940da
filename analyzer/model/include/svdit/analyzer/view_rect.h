#pragma once
// Zoom and pan of a heatmap: which part of a W×H grid of cells a widget shows, and the mapping between cell
// coordinates and screen pixels. GUI-free so that zooming about the cursor and clamping are unit-tested.

#include <cstdint>

namespace svdit::analyzer {

struct Point {
  double x = 0, y = 0;
};

// Screen rectangle of a widget, in pixels.
struct ScreenRect {
  double x = 0, y = 0, w = 0, h = 0;
  bool contains(Point p) const { return p.x >= x && p.y >= y && p.x < x + w && p.y < y + h; }
};

// The visible window [x0, x1) × [y0, y1) in cell units of a cols × rows grid; x across (key blocks), y down
// (query blocks). It never leaves the grid and never shows less than min_span cells across.
class ViewRect {
 public:
  ViewRect() = default;
  ViewRect(double cols, double rows);  // the whole grid

  double x0() const { return x0_; }
  double y0() const { return y0_; }
  double x1() const { return x1_; }
  double y1() const { return y1_; }
  double cols() const { return cols_; }
  double rows() const { return rows_; }
  double zoom() const { return cols_ / (x1_ - x0_); }  // 1 = whole grid
  bool whole() const;

  // Zoom by `factor` (> 1 zooms in) keeping the cell point `anchor` where it is on screen.
  void zoom_about(Point anchor, double factor);
  // Move the window by (dx, dy) cells, stopping at the grid's edges.
  void pan(double dx, double dy);
  void reset();

  // Cell coordinates of a screen pixel inside `rect`, and back.
  Point to_cells(const ScreenRect& rect, Point screen) const;
  Point to_screen(const ScreenRect& rect, Point cells) const;
  // The cell under a screen pixel, or {-1, -1} outside the grid.
  void cell_at(const ScreenRect& rect, Point screen, int64_t& col, int64_t& row) const;

  static constexpr double kMinSpan = 2.0;

 private:
  void clamp();
  double cols_ = 1, rows_ = 1;
  double x0_ = 0, y0_ = 0, x1_ = 1, y1_ = 1;
};

}  // namespace svdit::analyzer
