// The launch model's parameters, fitted from the profile's cost table (see cost_model.h), and the layer time.
#include "svdit/search/cost_model.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "svdit/data/block_layout.h"
#include "svdit/search/input.h"

namespace svdit::search {

namespace {

// Least-squares line through (x_i, y_i) with a non-negative intercept and slope: {intercept, slope}. Neither term
// can be negative in a real launch (a head adds work, a launch costs time); noisy timings (a loaded CPU, three group
// sizes) can tilt the free line below zero, which priced heads at negative time and plans at absurd speed-ups.
// One point: the line through it and the origin (a launch of g heads then costs g times its per-head share, with no
// fixed part known).
struct Line {
  double intercept = 0.0, slope = 0.0;
};
Line fit_line(std::span<const double> x, std::span<const double> y) {
  const auto n = static_cast<double>(x.size());
  if (x.size() == 1) return {0.0, x[0] > 0.0 ? y[0] / x[0] : 0.0};
  double mx = 0.0, my = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  double sxy = 0.0, sxx = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  const double slope = sxx > 0.0 ? sxy / sxx : 0.0;
  if (slope >= 0.0 && my - slope * mx >= 0.0) return {my - slope * mx, slope};
  // The constrained optimum lies on a boundary: the best constant (slope 0), or the best line through the origin.
  if (slope < 0.0) return {std::max(my, 0.0), 0.0};
  double sxy0 = 0.0, sxx0 = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    sxy0 += x[i] * y[i];
    sxx0 += x[i] * x[i];
  }
  return {0.0, sxx0 > 0.0 ? std::max(sxy0 / sxx0, 0.0) : 0.0};
}

std::string figure(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

}  // namespace

CostModel::CostModel(const SearchInput& input)
    : CostModel(input.meta, input.candidates, input.cost ? &*input.cost : nullptr) {}

CostModel::CostModel(const data::ProfileMeta& meta, const std::vector<data::ProfileCandidate>& profile_candidates,
                     const data::CostTable* cost)
    : heads_(meta.heads) {
  const auto candidates = profile_candidates.size();
  head_.assign(candidates, 0.0);
  last_.assign(candidates, 0.0);
  permuted_.assign(candidates, 0);
  dense_.assign(candidates, 0);
  skip_.assign(candidates, 0);
  for (size_t c = 0; c < candidates; ++c) {
    const data::Pattern& pattern = profile_candidates[c].pattern;
    dense_[c] = pattern.is_dense() ? 1 : 0;
    skip_[c] = pattern.is_skip() ? 1 : 0;
    // A permuted layout (temporal, or stripe columns gathered out of place) makes the kernel run the pre-pass.
    permuted_[c] = !skip_[c] && !dense_[c] && data::compile_pattern(pattern, meta.layout).permuted() ? 1 : 0;
  }
  const auto dense = static_cast<size_t>(std::find(dense_.begin(), dense_.end(), 1) - dense_.begin());
  if (dense == candidates) throw std::invalid_argument("CostModel: the candidates include no dense one");

  const bool usable = cost && (cost->source == "cupti" || cost->source == "cpu-aten");
  if (!usable) {
    measured_ = false;
    source_ = "density-proportional";
    unit_ = "dense-head";
    const std::string why = cost ? "the profile's cost table was timed by " + cost->source +
                                             " (the fp64 CPU reference, not the runtime)"
                                       : "the profile has no cost table";
    note_ = why + ": cost falls back to block density (a layer costs the sum of its heads' densities, in units of "
                  "one dense head; no launch, tail or pre-pass terms)";
    caveat_ = note_;
    for (size_t c = 0; c < candidates; ++c) head_[c] = skip_[c] ? 0.0 : profile_candidates[c].block_density;
    dense_layer_ = static_cast<double>(heads_);
    skip_layer_ = 0.0;
    return;
  }

  const data::CostTable& table = *cost;
  measured_ = true;
  source_ = table.source;
  device_ = table.device;
  unit_ = "us";
  const int64_t sizes = table.num_sizes();
  std::vector<double> g(static_cast<size_t>(sizes)), t(g.size()), p(g.size());
  for (int64_t i = 0; i < sizes; ++i) g[static_cast<size_t>(i)] = static_cast<double>(table.group_size_at(i));
  double permute_sum = 0.0;
  int64_t permute_count = 0;
  for (size_t c = 0; c < candidates; ++c) {
    for (int64_t i = 0; i < sizes; ++i) {
      const size_t at = c * static_cast<size_t>(sizes) + static_cast<size_t>(i);
      t[static_cast<size_t>(i)] = table.us[at];
      p[static_cast<size_t>(i)] = table.permute_us.empty() ? 0.0 : table.permute_us[at];
    }
    const Line whole = fit_line(g, t), prepass = fit_line(g, p);
    head_[c] = whole.slope;  // the pre-pass's rows of a permuted head are part of its share
    // Both intercepts are non-negative, but their difference can come out below zero when the pre-pass's is the
    // larger by noise (measured −3.8 µs at the 14B shape, 2026-12-03); a launch's fixed part is never negative.
    last_[c] = std::max(whole.intercept - prepass.intercept, 0.0);
    if (permuted_[c] && !table.permute_us.empty()) {
      permute_sum += prepass.intercept;
      ++permute_count;
    }
  }
  permute_launch_ = permute_count > 0 ? permute_sum / static_cast<double>(permute_count) : 0.0;

  std::string sizes_text;
  for (int64_t i = 0; i < sizes; ++i) sizes_text += (i ? "," : "") + std::to_string(table.group_size_at(i));
  note_ = "one-launch model fitted to measured launches (" + table.source + " on " + table.device + ", median of " +
          std::to_string(table.repetitions) + ", group sizes " + sizes_text + "; " +
          (table.source == "cpu-aten" ? "the runtime's CPU path: for CPU plans" : "GPU launches timed back to back") + ")";
  if (table.version >= 2) {
    dense_layer_ = table.dense_layer_us;
    skip_layer_ = table.skip_layer_us;
  } else {
    // A version-1 table: skip launched nothing (its entries are 0), the dense path and the pre-pass were not
    // measured apart. The all-dense layer is priced as the sparse kernel running every head dense.
    dense_layer_ = static_cast<double>(heads_) * head_[dense] + last_[dense];
    skip_layer_ = 0.0;
    caveat_ = "the cost table is from a profile-version-1 file (one launch per group of heads), converted: skip "
              "heads cost 0, the all-dense layer is priced as the sparse kernel's and the permute pre-pass is not "
              "separated; re-profile for the measured version-2 terms";
    note_ += "; " + caveat_;
  }
  if (sizes == 1) {
    const std::string one = "only one group size (" + figure(g[0]) + " heads) was measured, so the model has no launch "
                            "or tail term";
    caveat_ += (caveat_.empty() ? "" : "; ") + one;
    note_ += "; " + one;
  }
}

void CostModel::check_choice(std::span<const int32_t> choice, const char* caller) const {
  if (static_cast<int64_t>(choice.size()) != heads_)
    throw std::invalid_argument(std::string(caller) + ": " + std::to_string(choice.size()) + " choices for " +
                                std::to_string(heads_) + " heads");
  for (const int32_t c : choice)
    if (c < 0 || static_cast<size_t>(c) >= head_.size())
      throw std::out_of_range(std::string(caller) + ": candidate " + std::to_string(c) + " outside [0, " +
                              std::to_string(head_.size()) + ")");
}

double CostModel::launch_time(std::span<const int32_t> choice, const std::span<const int32_t>* heads) const {
  bool any_permuted = false;
  double t = 0.0;
  const size_t count = heads ? heads->size() : choice.size();
  for (size_t i = 0; i < count; ++i) {
    const auto at = static_cast<size_t>(choice[heads ? static_cast<size_t>((*heads)[i]) : i]);
    any_permuted = any_permuted || permuted_[at];
    t += head_[at];
  }
  const int32_t last_head = heads ? heads->back() : static_cast<int32_t>(choice.size() - 1);
  return t + last_[static_cast<size_t>(choice[static_cast<size_t>(last_head)])] +
         (any_permuted ? permute_launch_ : 0.0);
}

double CostModel::layer_time(std::span<const int32_t> choice) const {
  check_choice(choice, "CostModel::layer_time");
  bool all_dense = true, all_skip = true;
  for (const int32_t c : choice) {
    all_dense = all_dense && dense_[static_cast<size_t>(c)];
    all_skip = all_skip && skip_[static_cast<size_t>(c)];
  }
  if (all_dense) return dense_layer_;
  if (all_skip) return skip_layer_;
  return launch_time(choice, nullptr);
}

double CostModel::heads_time(std::span<const int32_t> choice, std::span<const int32_t> heads) const {
  check_choice(choice, "CostModel::heads_time");
  for (size_t i = 0; i < heads.size(); ++i)
    if (heads[i] < 0 || heads[i] >= heads_ || (i > 0 && heads[i] <= heads[i - 1]))
      throw std::invalid_argument("CostModel::heads_time: heads must be ascending and in [0, " +
                                  std::to_string(heads_) + "), found head " + std::to_string(heads[i]) +
                                  " at position " + std::to_string(i));
  if (heads.empty()) return 0.0;
  bool all_dense = true, all_skip = true, these_skip = true;
  for (const int32_t c : choice) {
    all_dense = all_dense && dense_[static_cast<size_t>(c)];
    all_skip = all_skip && skip_[static_cast<size_t>(c)];
  }
  for (const int32_t h : heads) these_skip = these_skip && skip_[static_cast<size_t>(choice[static_cast<size_t>(h)])];
  const double share = static_cast<double>(heads.size()) / static_cast<double>(heads_);
  if (all_dense) return dense_layer_ * share;
  if (all_skip || these_skip) return skip_layer_ * share;
  return launch_time(choice, &heads);
}

}  // namespace svdit::search
