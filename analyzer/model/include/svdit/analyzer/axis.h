#pragma once
// Axes of the trade-off plot: a data range with a margin, so plotted points never sit on the frame, and tick
// values at multiples of 1, 2 or 5 × 10^k inside it, so that tick labels are short.

#include <string>
#include <vector>

namespace svdit::analyzer {

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;  // ascending, inside [lo, hi]

  // Range covering [min_value, max_value] (which may be equal, or inverted) with at most ~max_ticks ticks.
  static Axis fit(double min_value, double max_value, int max_ticks = 6);
  double fraction(double value) const { return (value - lo) / (hi - lo); }  // 0 at lo, 1 at hi
  double step() const { return ticks.size() >= 2 ? ticks[1] - ticks[0] : hi - lo; }
};

// Tick label with as many decimals as the tick step needs ("0.05", "120", "1.5e-05").
std::string tick_label(double value, double step);

}  // namespace svdit::analyzer
