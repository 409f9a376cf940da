// The loss-curve rasteriser (see plot.h).

#include "svdit/demo/plot.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>

namespace svdit::demo {

namespace {

// 3×5 glyphs, one row per entry, bit 2 = left column.
struct Glyph {
  char c;
  std::array<uint8_t, 5> rows;
};
constexpr std::array<Glyph, 15> kFont = {{
    {'0', {7, 5, 5, 5, 7}}, {'1', {2, 6, 2, 2, 7}}, {'2', {7, 1, 7, 4, 7}}, {'3', {7, 1, 7, 1, 7}},
    {'4', {5, 5, 7, 1, 1}}, {'5', {7, 4, 7, 1, 7}}, {'6', {7, 4, 7, 5, 7}}, {'7', {7, 1, 1, 1, 1}},
    {'8', {7, 5, 7, 5, 7}}, {'9', {7, 5, 7, 1, 7}}, {'.', {0, 0, 0, 0, 2}}, {'-', {0, 0, 7, 0, 0}},
    {'e', {0, 7, 7, 4, 7}}, {'%', {5, 1, 2, 4, 5}}, {' ', {0, 0, 0, 0, 0}},
}};

void put(Image& img, int64_t x, int64_t y, Rgb c) {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  uint8_t* p = img.rgb.data() + (y * img.width + x) * 3;
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

void line(Image& img, double x0, double y0, double x1, double y1, Rgb c, int thickness = 1) {
  const double len = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  const int64_t n = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(len)));
  for (int64_t i = 0; i <= n; ++i) {
    const double t = static_cast<double>(i) / static_cast<double>(n);
    const auto x = static_cast<int64_t>(std::lround(x0 + (x1 - x0) * t));
    const auto y = static_cast<int64_t>(std::lround(y0 + (y1 - y0) * t));
    for (int dy = 0; dy < thickness; ++dy) {
      for (int dx = 0; dx < thickness; ++dx) put(img, x + dx - thickness / 2, y + dy - thickness / 2, c);
    }
  }
}

std::string number_text(double v) {
  char buf[32];
  if (v != 0 && (std::abs(v) < 1e-3 || std::abs(v) >= 1e6)) {
    std::snprintf(buf, sizeof buf, "%.0e", v);
  } else {
    std::snprintf(buf, sizeof buf, "%g", v);
  }
  return buf;
}

// Ticks for a linear axis: about `count` multiples of 1, 2 or 5 × 10^k within [lo, hi].
std::vector<double> linear_ticks(double lo, double hi, int count) {
  const double raw = (hi - lo) / std::max(count, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) ticks.push_back(t);
  return ticks;
}

}  // namespace

int64_t text_width(const std::string& text, int64_t scale) {
  return text.empty() ? 0 : static_cast<int64_t>(text.size()) * 4 * scale - scale;
}

void draw_text(Image& img, const std::string& text, int64_t x, int64_t y, Rgb colour, int64_t scale) {
  for (size_t i = 0; i < text.size(); ++i) {
    const auto g = std::find_if(kFont.begin(), kFont.end(), [&](const Glyph& f) { return f.c == text[i]; });
    if (g == kFont.end()) continue;
    for (int64_t r = 0; r < 5; ++r) {
      for (int64_t col = 0; col < 3; ++col) {
        if (((g->rows[static_cast<size_t>(r)] >> (2 - col)) & 1) == 0) continue;
        for (int64_t sy = 0; sy < scale; ++sy) {
          for (int64_t sx = 0; sx < scale; ++sx) {
            put(img, x + static_cast<int64_t>(i) * 4 * scale + col * scale + sx, y + r * scale + sy, colour);
          }
        }
      }
    }
  }
}

Image line_plot(const std::vector<PlotSeries>& series, const PlotOptions& o) {
  Image img;
  img.width = o.width;
  img.height = o.height;
  img.rgb.resize(static_cast<size_t>(o.width * o.height * 3));
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    img.rgb[i] = o.background.r;
    img.rgb[i + 1] = o.background.g;
    img.rgb[i + 2] = o.background.b;
  }
  auto usable = [&](double x, double y) { return std::isfinite(x) && std::isfinite(y) && (!o.log_y || y > 0); };
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const PlotSeries& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.x[i], s.y[i])) continue;
      xmin = std::min(xmin, s.x[i]);
      xmax = std::max(xmax, s.x[i]);
      ymin = std::min(ymin, s.y[i]);
      ymax = std::max(ymax, s.y[i]);
    }
  }
  if (!std::isfinite(xmin)) {
    xmin = 0, xmax = 1, ymin = o.log_y ? 0.1 : 0, ymax = 1;
  }
  if (xmax <= xmin) xmax = xmin + 1;
  auto fy = [&](double y) { return o.log_y ? std::log10(y) : y; };
  double lo = fy(ymin), hi = fy(ymax);
  if (o.log_y) {
    lo = std::floor(lo * 10) / 10 - 0.02;
    hi = std::ceil(hi * 10) / 10 + 0.02;
  } else {
    const double pad = 0.05 * std::max(hi - lo, 1e-9);
    lo -= pad;
    hi += pad;
  }
  if (hi <= lo) hi = lo + 1;

  const int64_t left = 70, right = 20, top = 20, bottom = 40;
  const double pw = static_cast<double>(o.width - left - right), ph = static_cast<double>(o.height - top - bottom);
  auto px = [&](double x) { return static_cast<double>(left) + (x - xmin) / (xmax - xmin) * pw; };
  auto py = [&](double y) { return static_cast<double>(top) + (hi - fy(y)) / (hi - lo) * ph; };

  // Grid and tick labels.
  std::vector<double> yticks;
  if (o.log_y) {
    for (int e = static_cast<int>(std::floor(lo)) - 1; e <= static_cast<int>(std::ceil(hi)); ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) >= lo && std::log10(v) <= hi) yticks.push_back(v);
      }
    }
    if (yticks.size() < 3) {  // a narrow range: every integer multiple of the decade
      yticks.clear();
      for (int e = static_cast<int>(std::floor(lo)) - 1; e <= static_cast<int>(std::ceil(hi)); ++e) {
        for (int m = 1; m <= 9; ++m) {
          const double v = m * std::pow(10.0, e);
          if (std::log10(v) >= lo && std::log10(v) <= hi) yticks.push_back(v);
        }
      }
    }
  } else {
    yticks = linear_ticks(lo, hi, 6);
  }
  for (double v : yticks) {
    const double y = py(v);
    line(img, static_cast<double>(left), y, static_cast<double>(o.width - right), y, o.grid);
    const std::string label = number_text(v);
    draw_text(img, label, left - 8 - text_width(label), static_cast<int64_t>(y) - 5, o.axes);
  }
  for (double v : linear_ticks(xmin, xmax, 8)) {
    const double x = px(v);
    line(img, x, static_cast<double>(top), x, static_cast<double>(o.height - bottom), o.grid);
    const std::string label = number_text(v);
    draw_text(img, label, static_cast<int64_t>(x) - text_width(label) / 2, o.height - bottom + 8, o.axes);
  }
  // Axes box.
  line(img, left, top, left, static_cast<double>(o.height - bottom), o.axes);
  line(img, left, static_cast<double>(o.height - bottom), static_cast<double>(o.width - right),
       static_cast<double>(o.height - bottom), o.axes);

  for (const PlotSeries& s : series) {
    bool have = false;
    double lx = 0, ly = 0;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!usable(s.x[i], s.y[i])) continue;
      const double x = px(s.x[i]), y = py(s.y[i]);
      if (have) line(img, lx, ly, x, y, s.colour, s.markers ? 1 : 2);
      if (s.markers) {
        for (int64_t dy = -2; dy <= 2; ++dy) {
          for (int64_t dx = -2; dx <= 2; ++dx) put(img, std::lround(x) + dx, std::lround(y) + dy, s.colour);
        }
      }
      have = true;
      lx = x;
      ly = y;
    }
  }
  return img;
}

}  // namespace svdit::demo
