#pragma once
// A tiny line-plot rasteriser for the demo model's loss curve (no plotting dependency): axes, grid lines at "nice"
// values (decades and 2, 5 between them on a log axis), numeric tick labels in a built-in 3×5 digit font, lines
// and point markers. The result goes to data::write_png.

#include <cstdint>
#include <string>
#include <vector>

#include "svdit/demo/video_generator.h"

namespace svdit::demo {

struct PlotSeries {
  std::vector<double> x, y;  // same length; non-finite (or, on a log axis, non-positive) points are skipped
  Rgb colour;
  bool markers = false;  // draw a small square at each point (and lines between them)
};

struct PlotOptions {
  int64_t width = 720, height = 420;
  bool log_y = true;
  Rgb background = {255, 255, 255};
  Rgb axes = {40, 40, 40};
  Rgb grid = {220, 220, 220};
};

Image line_plot(const std::vector<PlotSeries>& series, const PlotOptions& options = {});

// Draws `text` (digits, '.', '-', 'e', '%', ' ') with its top-left corner at (x, y), each font pixel `scale` px.
void draw_text(Image& image, const std::string& text, int64_t x, int64_t y, Rgb colour, int64_t scale = 2);
int64_t text_width(const std::string& text, int64_t scale = 2);

}  // namespace svdit::demo
