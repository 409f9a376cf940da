#include "svdit/analyzer/axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace svdit::analyzer {

namespace {

double nice_step(double span, int max_ticks) {
  const double raw = span / std::max(max_ticks - 1, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * magnitude >= raw * (1 - 1e-9)) return m * magnitude;
  }
  return 10 * magnitude;
}

}  // namespace

Axis Axis::fit(double min_value, double max_value, int max_ticks) {
  if (!std::isfinite(min_value) || !std::isfinite(max_value)) min_value = max_value = 0;
  if (min_value > max_value) std::swap(min_value, max_value);
  double span = max_value - min_value;
  if (span <= std::abs(max_value) * 1e-12) {
    // A single value: show a window around it (±10 %, or ±1 around 0).
    const double pad = max_value != 0 ? std::abs(max_value) * 0.1 : 1.0;
    min_value -= pad;
    max_value += pad;
    span = max_value - min_value;
  }
  const double step = nice_step(span, max_ticks);
  Axis axis;
  // A margin of 4 % keeps the data off the frame; ticks are the multiples of the step inside the range.
  axis.lo = min_value - 0.04 * span;
  axis.hi = max_value + 0.04 * span;
  for (double k = std::ceil(axis.lo / step - 1e-9); k * step <= axis.hi + step * 1e-9; k += 1) {
    const double t = k * step;
    axis.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return axis;
}

std::string tick_label(double value, double step) {
  char buffer[32];
  const double mag = std::abs(step);
  if (value == 0) return "0";
  if (mag >= 1e-3 && std::abs(value) < 1e6) {
    const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(mag) - 1e-9)));
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2g", value);
  }
  return buffer;
}

}  // namespace svdit::analyzer
