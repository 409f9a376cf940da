#include "svdit/analyzer/colormap.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace svdit::analyzer {

uint32_t Rgba8::packed() const {
  return static_cast<uint32_t>(r) | (static_cast<uint32_t>(g) << 8) | (static_cast<uint32_t>(b) << 16) |
         (static_cast<uint32_t>(a) << 24);
}

namespace {

struct Anchor {
  double t;
  double r, g, b;
};

// Dark violet → magenta → red-orange → amber → pale yellow. Every segment changes at least one channel by more
// than 50 levels, so the 256 interpolated entries are all distinct, and luminance rises along each segment.
constexpr Anchor kHeatAnchors[] = {
    {0.0, 8, 6, 28}, {0.2, 58, 12, 110}, {0.4, 140, 30, 120}, {0.6, 215, 70, 75}, {0.8, 250, 160, 40}, {1.0, 252, 250, 170},
};

uint8_t channel(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

std::array<Rgba8, 256> make_heat_lut() {
  std::array<Rgba8, 256> lut{};
  constexpr size_t n = std::size(kHeatAnchors);
  for (size_t i = 0; i < lut.size(); ++i) {
    const double t = static_cast<double>(i) / 255.0;
    size_t k = 0;
    while (k + 2 < n && t > kHeatAnchors[k + 1].t) ++k;
    const Anchor& a = kHeatAnchors[k];
    const Anchor& b = kHeatAnchors[k + 1];
    const double u = (t - a.t) / (b.t - a.t);
    lut[i] = Rgba8{channel(a.r + u * (b.r - a.r)), channel(a.g + u * (b.g - a.g)), channel(a.b + u * (b.b - a.b)), 255};
  }
  return lut;
}

}  // namespace

const std::array<Rgba8, 256>& heat_lut() {
  static const std::array<Rgba8, 256> lut = make_heat_lut();
  return lut;
}

Rgba8 heat_colour(double t) {
  if (!(t > 0)) t = 0;  // NaN → 0
  if (t > 1) t = 1;
  return heat_lut()[static_cast<size_t>(std::lround(t * 255.0))];
}

LogScale LogScale::fit(std::span<const float> values, double decades) {
  double hi = 0;
  double lo = std::numeric_limits<double>::infinity();
  for (float v : values) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    hi = std::max(hi, static_cast<double>(v));
    lo = std::min(lo, static_cast<double>(v));
  }
  if (!(hi > 0)) return LogScale{};
  lo = std::max(lo, hi * std::pow(10.0, -decades));
  return LogScale{lo, hi};
}

double LogScale::normalise(double value) const {
  if (!(value > lo)) return 0.0;  // NaN and zeros too
  if (value >= hi) return 1.0;
  return std::log10(value / lo) / std::log10(hi / lo);
}

std::vector<double> LogScale::ticks() const {
  std::vector<double> out;
  for (double e = std::ceil(std::log10(lo) - 1e-9); e <= std::floor(std::log10(hi) + 1e-9); e += 1) {
    out.push_back(std::pow(10.0, e));
  }
  if (out.size() < 2) {
    if (out.empty() || out.front() / lo > 1.0 + 1e-9) out.insert(out.begin(), lo);
    if (hi / out.back() > 1.0 + 1e-9) out.push_back(hi);
  }
  return out;
}

std::vector<Rgba8> colourise(std::span<const float> values, const LogScale& scale) {
  std::vector<Rgba8> out(values.size());
  for (size_t i = 0; i < values.size(); ++i) out[i] = heat_colour(scale.normalise(values[i]));
  return out;
}

Rgba8 dense_colour() { return Rgba8{170, 170, 170, 255}; }
Rgba8 skip_colour() { return Rgba8{40, 40, 48, 255}; }

const std::vector<Rgba8>& categorical_palette() {
  // Twelve hues picked for this project to be told apart on the dark ImGui background and from the dense
  // grey and skip near-black.
  static const std::vector<Rgba8> palette = {
      {66, 120, 200, 255}, {235, 140, 50, 255},  {70, 170, 90, 255},  {210, 70, 70, 255},
      {150, 100, 200, 255}, {160, 110, 70, 255}, {230, 120, 190, 255}, {200, 190, 110, 255},
      {60, 190, 210, 255},  {130, 150, 40, 255}, {40, 140, 130, 255},  {240, 210, 60, 255},
  };
  return palette;
}

Rgba8 pattern_colour(const data::Pattern& pattern, int64_t key) {
  if (pattern.is_dense()) return dense_colour();
  if (pattern.is_skip()) return skip_colour();
  const auto& palette = categorical_palette();
  return palette[static_cast<size_t>(std::max<int64_t>(key, 0)) % palette.size()];
}

Rgba8 frontier_colour() { return Rgba8{90, 200, 250, 255}; }
Rgba8 current_plan_colour() { return Rgba8{255, 90, 60, 255}; }

}  // namespace svdit::analyzer
