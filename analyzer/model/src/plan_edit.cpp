#include "svdit/analyzer/plan_edit.h"

#include <algorithm>
#include <set>
#include <stdexcept>

namespace svdit::analyzer {

namespace {

data::Pattern dense_pattern() { return data::make_pattern({data::dense_component()}); }

}  // namespace

data::Plan make_dense_plan(const data::ProfileMeta& meta, const std::vector<data::ProfileCandidate>& candidates,
                           nlohmann::json provenance) {
  data::Plan plan;
  plan.model = data::PlanModel{meta.model, meta.layers, meta.heads, meta.head_dim, meta.family};
  plan.layout = meta.layout;
  int32_t dense_id = 0;
  for (const data::ProfileCandidate& c : candidates) {
    if (c.pattern.is_dense()) {
      dense_id = c.id;
      break;
    }
  }
  plan.patterns.push_back(data::PlanPattern{dense_id, dense_pattern(), 1.0});
  data::ScheduleEntry entry;
  entry.step_begin = 0;
  entry.step_end = std::max<int64_t>(meta.sampling_steps, 1);
  entry.heads.assign(static_cast<size_t>(meta.layers * meta.heads), dense_id);
  plan.schedule.push_back(std::move(entry));
  // `{}` as a json argument is null, not an object; a plan's provenance must be an object.
  plan.provenance = provenance.is_object() ? std::move(provenance) : nlohmann::json::object();
  return plan;
}

int32_t ensure_pattern(data::Plan& plan, const data::Pattern& pattern, int32_t preferred_id, double density) {
  for (const data::PlanPattern& p : plan.patterns) {
    if (p.pattern == pattern) return p.id;
  }
  int32_t id = preferred_id;
  if (id < 0 || plan.find_pattern(id) != nullptr) {
    int32_t largest = -1;
    for (const data::PlanPattern& p : plan.patterns) largest = std::max(largest, p.id);
    id = largest + 1;
  }
  plan.patterns.push_back(data::PlanPattern{id, pattern, density});
  return id;
}

size_t materialise_entry(data::Plan& plan, int64_t step, int64_t sampling_steps, int32_t dense_preferred_id) {
  if (step < 0) throw std::out_of_range("materialise_entry: negative step " + std::to_string(step));
  const auto cells = static_cast<size_t>(plan.model.layers * plan.model.heads);
  for (size_t i = 0; i < plan.schedule.size(); ++i) {
    data::ScheduleEntry& e = plan.schedule[i];
    if (!e.covers(step)) continue;
    if (e.dense) {
      const int32_t dense_id = ensure_pattern(plan, dense_pattern(), dense_preferred_id, 1.0);
      data::ScheduleEntry& entry = plan.schedule[i];  // ensure_pattern does not touch the schedule, but be plain
      entry.dense = false;
      entry.heads.assign(cells, dense_id);
    }
    return i;
  }
  // The gap around `step`: entries are sorted and disjoint.
  int64_t begin = 0;
  int64_t end = std::max(sampling_steps, step + 1);
  size_t insert_at = plan.schedule.size();
  for (size_t i = 0; i < plan.schedule.size(); ++i) {
    const data::ScheduleEntry& e = plan.schedule[i];
    if (e.step_end <= step) begin = std::max(begin, e.step_end);
    if (e.step_begin > step) {
      end = e.step_begin;
      insert_at = i;
      break;
    }
  }
  const int32_t dense_id = ensure_pattern(plan, dense_pattern(), dense_preferred_id, 1.0);
  data::ScheduleEntry entry;
  entry.step_begin = begin;
  entry.step_end = end;
  entry.heads.assign(cells, dense_id);
  plan.schedule.insert(plan.schedule.begin() + static_cast<std::ptrdiff_t>(insert_at), std::move(entry));
  return insert_at;
}

void assign_pattern(data::Plan& plan, int64_t step, int64_t layer, int64_t head, const data::Pattern& pattern,
                    int32_t preferred_id, double density, int64_t sampling_steps, int32_t dense_preferred_id) {
  if (layer < 0 || layer >= plan.model.layers || head < 0 || head >= plan.model.heads) {
    throw std::out_of_range("assign_pattern: (layer " + std::to_string(layer) + ", head " + std::to_string(head) +
                            ") is outside the plan's model");
  }
  const size_t entry = materialise_entry(plan, step, sampling_steps, dense_preferred_id);
  const int32_t id = ensure_pattern(plan, pattern, preferred_id, density);
  plan.schedule[entry].heads[static_cast<size_t>(layer * plan.model.heads + head)] = id;
}

bool split_entry(data::Plan& plan, int64_t step) {
  for (size_t i = 0; i < plan.schedule.size(); ++i) {
    const data::ScheduleEntry& e = plan.schedule[i];
    if (!e.covers(step) || e.step_begin == step) continue;
    data::ScheduleEntry later = e;
    later.step_begin = step;
    plan.schedule[i].step_end = step;
    plan.schedule.insert(plan.schedule.begin() + static_cast<std::ptrdiff_t>(i + 1), std::move(later));
    return true;
  }
  return false;
}

size_t remove_unused_patterns(data::Plan& plan) {
  std::set<int32_t> used;
  for (const data::ScheduleEntry& e : plan.schedule) used.insert(e.heads.begin(), e.heads.end());
  const size_t before = plan.patterns.size();
  std::erase_if(plan.patterns, [&](const data::PlanPattern& p) { return !used.contains(p.id); });
  return before - plan.patterns.size();
}

}  // namespace svdit::analyzer
