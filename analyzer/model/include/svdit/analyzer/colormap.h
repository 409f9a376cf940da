#pragma once
// Colours of the analyzer's views, computed here (not in the UI) so that tests — the screenshot checker among
// them — derive the colours a view must show from the same functions that chose them.
//
// Heat map: attention probabilities span many decades (a local head puts ~1 on the diagonal and 1e-5 far
// away), so values go through a logarithmic scale before the colour ramp; a linear scale would show one bright
// diagonal on black.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "svdit/data/pattern.h"

namespace svdit::analyzer {

struct Rgba8 {
  uint8_t r = 0, g = 0, b = 0, a = 255;
  bool operator==(const Rgba8&) const = default;
  uint32_t packed() const;  // 0xAABBGGRR, the byte order of an RGBA8 texel and of ImGui's IM_COL32
};

// 256 colours from dark to bright whose luminance strictly increases, so that a heatmap still reads correctly
// in greyscale or to a colour-blind reader. Interpolated between a few anchor colours chosen for this project.
const std::array<Rgba8, 256>& heat_lut();
Rgba8 heat_colour(double t);  // t ∈ [0, 1] (clamped) → heat_lut()[round(255 t)]

// Maps values to [0, 1] on a log10 axis between lo and hi (both > 0). Values ≤ lo (zeros included) map to 0.
struct LogScale {
  double lo = 1e-4;
  double hi = 1.0;

  // hi = the largest value; lo = the smallest positive value, but at most `decades` decades below hi, so that a
  // single tiny entry does not wash out the rest. Without positive values: [1e-4, 1].
  static LogScale fit(std::span<const float> values, double decades = 4.0);
  double normalise(double value) const;
  // Tick values for a colour bar: the powers of ten inside [lo, hi], plus lo and hi themselves when the range
  // holds fewer than two powers.
  std::vector<double> ticks() const;
  bool operator==(const LogScale&) const = default;
};

// Row-major RGBA8 texels of `values` through `scale` and the heat ramp.
std::vector<Rgba8> colourise(std::span<const float> values, const LogScale& scale);

// Pattern colours of the grid and legend. Dense and skip have fixed colours (grey, near-black); the others
// take a categorical palette entry by a key: the profile candidate the pattern is — so a pattern keeps its
// colour across re-searches and plans — or, for a pattern no candidate has, its position in the plan after
// the candidates (see plan_colour in metrics.h, which computes the key).
Rgba8 dense_colour();
Rgba8 skip_colour();
const std::vector<Rgba8>& categorical_palette();
// The key of a candidate is its rank among the candidates that are neither dense nor skip, so that the first
// sparse candidates take the first (most distinct) palette entries (CandidateIndex::colour_key).
Rgba8 pattern_colour(const data::Pattern& pattern, int64_t key);

// Trade-off plot: the search's frontier and the plan being edited.
Rgba8 frontier_colour();
Rgba8 current_plan_colour();

}  // namespace svdit::analyzer
