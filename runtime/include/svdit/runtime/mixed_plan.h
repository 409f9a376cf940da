#pragma once
// A synthetic plan with a chosen mix of patterns over the heads, for benchmarking at real sizes without a
// profile (svdit bench e2e) and for tests. Not a search result: the heads are assigned at random (seeded), in
// exact proportions. The patterns, for a layout with P = H'·W' tokens per frame:
//   window    w = P                           (the paper's diagonal: the same and the adjacent frames' band)
//   temporal  w_s = W', w_f = F               (multi-diagonal: a spatial row either side, across all frames)
//   stripe    first-frame columns + window P/2 (vertical stripe with a local band)
//   skip      the head's output is zero
//   dense     full attention

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "svdit/data/plan.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::runtime {

struct MixEntry {
  std::string kind;  // window, temporal, stripe, skip, dense
  double weight = 0;
};

// "window=5,temporal=4,stripe=3,skip=1,dense=3" → entries. std::invalid_argument naming the bad part.
std::vector<MixEntry> parse_mix(std::string_view text);
inline constexpr const char* kDefaultMix = "window=5,temporal=4,stripe=3,skip=1,dense=3";

struct MixedPlanOptions {
  std::vector<MixEntry> mix = parse_mix(kDefaultMix);
  int64_t dense_layers = 0;  // the first layers run dense (warm-up in depth)
  int64_t dense_steps = 0;   // the first steps run dense (warm-up in time)
  int64_t steps = 1000;      // the schedule covers [0, steps)
  uint64_t seed = 0;         // head assignment
};

data::Plan make_mixed_plan(const data::PlanModel& model, const data::TokenLayout& layout,
                           const MixedPlanOptions& options);
data::Plan make_mixed_plan(const WanConfig& config, const data::TokenLayout& layout, const MixedPlanOptions& options);

}  // namespace svdit::runtime
