#pragma once
// Edits of a plan, as pure functions on data::Plan. Every function leaves a plan that data::validate accepts
// (given one that it accepts), so that what the analyzer saves is exactly what write_plan would write for the
// same choices, and what the runtime will load.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "svdit/data/plan.h"
#include "svdit/data/profile.h"

namespace svdit::analyzer {

// The plan of the dense model for a profile's model and layout: one per-head entry over every sampler step
// with every head on the dense pattern, so the grid has cells to edit. The dense pattern takes the id of the
// profile's dense candidate when it has one (else 0).
data::Plan make_dense_plan(const data::ProfileMeta& meta, const std::vector<data::ProfileCandidate>& candidates,
                           nlohmann::json provenance);

// The id under which `plan` holds `pattern`, adding it when absent: with `preferred_id` (the profile
// candidate's id) when that id is free, else one past the largest id. `density` is recorded for a new pattern
// (it must be compile_pattern(pattern, plan.layout).block_density()).
int32_t ensure_pattern(data::Plan& plan, const data::Pattern& pattern, int32_t preferred_id, double density);

// Makes sampler step `step` covered by a per-head schedule entry and returns that entry's index:
//  - a per-head entry already covering it is returned as is;
//  - a dense entry ({"dense": true}) becomes a per-head entry with every head on the dense pattern;
//  - a step no entry covers (which runs dense) gets a new per-head, all-dense entry over the gap it lies in,
//    from the end of the previous entry (or 0) to the start of the next (or max(sampling_steps, step + 1)).
// The steps' behaviour is unchanged; only the representation is.
size_t materialise_entry(data::Plan& plan, int64_t step, int64_t sampling_steps, int32_t dense_preferred_id);

// Sets the pattern of (layer, head) in the entry covering sampler step `step` (materialised first), so the
// change applies to that entry's whole step range.
void assign_pattern(data::Plan& plan, int64_t step, int64_t layer, int64_t head, const data::Pattern& pattern,
                    int32_t preferred_id, double density, int64_t sampling_steps, int32_t dense_preferred_id);

// Splits the entry covering `step` into [begin, step) and [step, end) with the same content, so a later edit
// at `step` leaves the earlier steps alone. No-op (returns false) when no entry covers `step` or it starts there.
bool split_entry(data::Plan& plan, int64_t step);

// Removes patterns that no schedule entry refers to; returns how many.
size_t remove_unused_patterns(data::Plan& plan);

}  // namespace svdit::analyzer
