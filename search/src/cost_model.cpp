// Group times from the measured cost table, or from block density when there is no GPU measurement.
#include "svdit/search/cost_model.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "svdit/search/input.h"

namespace svdit::search {

CostModel::CostModel(const SearchInput& input)
    : heads_(input.meta.heads), candidates_(input.num_candidates()) {
  const bool gpu_table = input.cost && input.cost->source == "cupti";
  if (gpu_table) {
    const data::CostTable& table = *input.cost;
    measured_ = true;
    source_ = "cupti";
    unit_ = "us";
    note_ = "measured kernel times (cupti on " + table.device + ", median of " + std::to_string(table.repetitions) +
            "), fusion-aware: groups of 1.." + std::to_string(table.max_group) + " heads";
    max_group_ = table.max_group;
    launch_ = table.us;
  } else {
    measured_ = false;
    source_ = "density-proportional";
    unit_ = "dense-head";
    note_ = input.cost ? "the profile's cost table was measured by " + input.cost->source +
                             ", not on the GPU kernels: cost falls back to block density (time of g heads = g x "
                             "density, in units of one dense head; no fusion benefit)"
                       : "the profile has no cost table: cost falls back to block density (time of g heads = g x "
                         "density, in units of one dense head; no fusion benefit)";
    max_group_ = heads_;
    launch_.resize(static_cast<size_t>(candidates_ * max_group_));
    for (int64_t c = 0; c < candidates_; ++c)
      for (int64_t g = 1; g <= max_group_; ++g)
        launch_[static_cast<size_t>(c * max_group_ + g - 1)] =
            static_cast<double>(g) * input.candidates[static_cast<size_t>(c)].block_density;
  }

  group_.assign(static_cast<size_t>(candidates_ * (heads_ + 1)), 0.0);
  for (int64_t c = 0; c < candidates_; ++c)
    for (int64_t n = 1; n <= heads_; ++n) {
      const int64_t full = n / max_group_, rest = n % max_group_;
      double t = static_cast<double>(full) * launch_time(c, max_group_);
      if (rest > 0) t += launch_time(c, rest);
      group_[static_cast<size_t>(c * (heads_ + 1) + n)] = t;
    }
  // Running minimum of the marginals, so that the layer solver's bound costs one lookup.
  least_marginal_.assign(group_.size(), std::numeric_limits<double>::infinity());
  for (int64_t c = 0; c < candidates_; ++c)
    for (int64_t n = 1; n <= heads_; ++n) {
      const size_t at = static_cast<size_t>(c * (heads_ + 1) + n);
      least_marginal_[at] = std::min(least_marginal_[at - 1], group_[at] - group_[at - 1]);
    }
}

double CostModel::launch_time(int64_t candidate, int64_t group_size) const {
  if (candidate < 0 || candidate >= candidates_ || group_size < 1 || group_size > max_group_)
    throw std::out_of_range("CostModel::launch_time: (candidate " + std::to_string(candidate) + ", group size " +
                            std::to_string(group_size) + ") outside [0, " + std::to_string(candidates_) + ") x [1, " +
                            std::to_string(max_group_) + "]");
  return launch_[static_cast<size_t>(candidate * max_group_ + group_size - 1)];
}

}  // namespace svdit::search
