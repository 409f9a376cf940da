// The shifted flow-matching sigma schedule (see flow_schedule.h).

#include "svdit/runtime/flow_schedule.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace svdit::runtime {

FlowSchedule make_flow_schedule(int64_t steps, double shift) {
  if (steps < 1) throw std::invalid_argument("--steps: expected at least 1, found " + std::to_string(steps));
  if (!(shift > 0)) throw std::invalid_argument("--shift: expected a positive number, found " + std::to_string(shift));
  FlowSchedule s;
  s.sigmas.reserve(static_cast<size_t>(steps) + 1);
  for (int64_t i = 0; i < steps; ++i) {
    // linspace(σ_max, 0, N + 1) without its last point, as numpy computes it: start + i·(stop − start)/N.
    const double sigma = kSigmaMax + static_cast<double>(i) * (0.0 - kSigmaMax) / static_cast<double>(steps);
    const double shifted = shift * sigma / (1.0 + (shift - 1.0) * sigma);
    s.sigmas.push_back(shifted);
    s.timesteps.push_back(static_cast<int64_t>(shifted * static_cast<double>(kTrainTimesteps)));
  }
  s.sigmas.push_back(0.0);
  return s;
}

}  // namespace svdit::runtime
