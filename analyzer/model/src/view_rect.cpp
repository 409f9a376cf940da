#include "svdit/analyzer/view_rect.h"

#include <algorithm>
#include <cmath>

namespace svdit::analyzer {

ViewRect::ViewRect(double cols, double rows)
    : cols_(std::max(cols, 1.0)), rows_(std::max(rows, 1.0)), x1_(cols_), y1_(rows_) {}

bool ViewRect::whole() const { return x0_ == 0 && y0_ == 0 && x1_ == cols_ && y1_ == rows_; }

void ViewRect::reset() {
  x0_ = y0_ = 0;
  x1_ = cols_;
  y1_ = rows_;
}

void ViewRect::zoom_about(Point anchor, double factor) {
  if (!(factor > 0) || !std::isfinite(factor)) return;
  // The span shrinks by `factor` on both axes (aspect is kept), but not below kMinSpan cells nor beyond the grid.
  const double w = x1_ - x0_, h = y1_ - y0_;
  double scale = 1.0 / factor;
  const double min_span = std::min({kMinSpan, cols_, rows_});
  scale = std::max(scale, min_span / std::min(w, h));
  scale = std::min(scale, std::min(cols_ / w, rows_ / h));
  // Keep `anchor` at the same fraction of the window.
  const double fx = (anchor.x - x0_) / w, fy = (anchor.y - y0_) / h;
  const double nw = w * scale, nh = h * scale;
  x0_ = anchor.x - fx * nw;
  y0_ = anchor.y - fy * nh;
  x1_ = x0_ + nw;
  y1_ = y0_ + nh;
  clamp();
}

void ViewRect::pan(double dx, double dy) {
  x0_ += dx;
  x1_ += dx;
  y0_ += dy;
  y1_ += dy;
  clamp();
}

void ViewRect::clamp() {
  // Shift (never shrink) back inside the grid; the span is already at most the grid's.
  const double w = std::min(x1_ - x0_, cols_), h = std::min(y1_ - y0_, rows_);
  x0_ = std::clamp(x0_, 0.0, cols_ - w);
  y0_ = std::clamp(y0_, 0.0, rows_ - h);
  x1_ = x0_ + w;
  y1_ = y0_ + h;
}

Point ViewRect::to_cells(const ScreenRect& rect, Point screen) const {
  return Point{x0_ + (screen.x - rect.x) / rect.w * (x1_ - x0_), y0_ + (screen.y - rect.y) / rect.h * (y1_ - y0_)};
}

Point ViewRect::to_screen(const ScreenRect& rect, Point cells) const {
  return Point{rect.x + (cells.x - x0_) / (x1_ - x0_) * rect.w, rect.y + (cells.y - y0_) / (y1_ - y0_) * rect.h};
}

void ViewRect::cell_at(const ScreenRect& rect, Point screen, int64_t& col, int64_t& row) const {
  col = row = -1;
  if (!rect.contains(screen)) return;
  const Point c = to_cells(rect, screen);
  const double fc = std::floor(c.x), fr = std::floor(c.y);
  if (fc < 0 || fr < 0 || fc >= std::ceil(cols_) || fr >= std::ceil(rows_)) return;
  col = static_cast<int64_t>(fc);
  row = static_cast<int64_t>(fr);
}

}  // namespace svdit::analyzer
