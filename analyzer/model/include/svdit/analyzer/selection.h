#pragma once
// What the views show: a profiled step and one head. Kept inside the profile whatever the input (clicks, arrow
// keys, a newly opened profile of another size), and started from the command line's options.

#include <cstdint>
#include <optional>

#include "svdit/data/plan.h"
#include "svdit/data/profile.h"

namespace svdit::analyzer {

struct Selection {
  int64_t step = 0;   // profiled step index (into meta.steps), not a sampler step
  int64_t layer = 0;
  int64_t head = 0;

  // Brings every index inside the profile (nearest valid value).
  void clamp(const data::ProfileMeta& meta);
  // Moves the head by (layers, heads), stopping at the edges (the grid's arrow keys).
  void move(const data::ProfileMeta& meta, int64_t layers, int64_t heads);
  int64_t sampler_step(const data::ProfileMeta& meta) const { return meta.steps.at(static_cast<size_t>(step)); }
  bool operator==(const Selection&) const = default;
};

// The profiled step the views start on: the first one that a per-head schedule entry covers (a dense step has
// nothing to show in the grid), else 0.
int64_t default_step(const data::ProfileMeta& meta, const data::Plan& plan);

// The selection for the command line's --step (a sampler step, which must be a profiled one), --layer and
// --head, each defaulting as above (layer and head 0). Throws UsageError (options.h) naming the option and,
// for a step, the profiled steps.
Selection initial_selection(const data::ProfileMeta& meta, const data::Plan& plan, std::optional<int64_t> sampler_step,
                            std::optional<int64_t> layer, std::optional<int64_t> head);

}  // namespace svdit::analyzer
