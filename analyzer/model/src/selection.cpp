#include "svdit/analyzer/selection.h"

#include <algorithm>
#include <string>

#include "svdit/analyzer/options.h"

namespace svdit::analyzer {

void Selection::clamp(const data::ProfileMeta& meta) {
  step = std::clamp<int64_t>(step, 0, std::max<int64_t>(meta.num_steps() - 1, 0));
  layer = std::clamp<int64_t>(layer, 0, std::max<int64_t>(meta.layers - 1, 0));
  head = std::clamp<int64_t>(head, 0, std::max<int64_t>(meta.heads - 1, 0));
}

void Selection::move(const data::ProfileMeta& meta, int64_t layers, int64_t heads) {
  layer += layers;
  head += heads;
  clamp(meta);
}

int64_t default_step(const data::ProfileMeta& meta, const data::Plan& plan) {
  for (int64_t s = 0; s < meta.num_steps(); ++s) {
    const data::ScheduleEntry* e = plan.entry_for(meta.steps[static_cast<size_t>(s)]);
    if (e != nullptr && !e->dense) return s;
  }
  return 0;
}

Selection initial_selection(const data::ProfileMeta& meta, const data::Plan& plan, std::optional<int64_t> sampler_step,
                            std::optional<int64_t> layer, std::optional<int64_t> head) {
  Selection sel;
  sel.step = default_step(meta, plan);
  if (sampler_step) {
    const auto it = std::find(meta.steps.begin(), meta.steps.end(), *sampler_step);
    if (it == meta.steps.end()) {
      std::string profiled;
      for (int64_t v : meta.steps) profiled += " " + std::to_string(v);
      throw UsageError("--step " + std::to_string(*sampler_step) + " was not profiled (profiled steps:" + profiled + ")");
    }
    sel.step = it - meta.steps.begin();
  }
  if (layer && (*layer < 0 || *layer >= meta.layers)) {
    throw UsageError("--layer " + std::to_string(*layer) + " is outside the model's " + std::to_string(meta.layers) +
                     " layers");
  }
  if (head && (*head < 0 || *head >= meta.heads)) {
    throw UsageError("--head " + std::to_string(*head) + " is outside the model's " + std::to_string(meta.heads) +
                     " heads");
  }
  sel.layer = layer.value_or(0);
  sel.head = head.value_or(0);
  return sel;
}

}  // namespace svdit::analyzer
