// Which step the views show, and the plan's schedule. The profile measured only some sampler steps (its
// "profiled steps"); the views show those, and the plan's schedule entry covering the step is what edits change.
#include <cstdio>

#include <imgui.h>

#include "ui/panels.h"

namespace svdit::analyzer::ui {

void draw_step_panel(AppState& s) {
  if (!s.doc) return;
  Document& doc = *s.doc;
  const auto& meta = doc.meta();
  const data::Plan& plan = doc.plan();
  ImGui::TextDisabled("profiled steps (of %lld sampler steps)", static_cast<long long>(meta.sampling_steps));
  for (int64_t i = 0; i < meta.num_steps(); ++i) {
    const int64_t step = meta.steps[static_cast<size_t>(i)];
    const data::ScheduleEntry* e = plan.entry_for(step);
    char label[128];
    if (e == nullptr) {
      std::snprintf(label, sizeof label, "step %lld  t=%.0f  (no entry: dense)", static_cast<long long>(step),
                    meta.timesteps[static_cast<size_t>(i)]);
    } else {
      std::snprintf(label, sizeof label, "step %lld  t=%.0f  [%lld, %lld) %s", static_cast<long long>(step),
                    meta.timesteps[static_cast<size_t>(i)], static_cast<long long>(e->step_begin),
                    static_cast<long long>(e->step_end), e->dense ? "dense" : "per head");
    }
    if (ImGui::Selectable(label, s.sel.step == i)) s.sel.step = i;
  }
  const data::ScheduleEntry* current = plan.entry_for(sampler_step(s));
  // A step shares its entry with other profiled steps: offer to give it one of its own.
  int64_t sharing = 0;
  for (int64_t i = 0; i < meta.num_steps(); ++i) {
    if (current != nullptr && plan.entry_for(meta.steps[static_cast<size_t>(i)]) == current) ++sharing;
  }
  if (sharing > 1) {
    if (ImGui::Button("Give this step its own schedule entry")) {
      s.attempt("Splitting the schedule", [&] { doc.isolate_step(s.sel.step); });
    }
    if (ImGui::IsItemHovered()) {
      ImGui::SetTooltip("Splits [%lld, %lld) so that edits at this step leave the other profiled steps alone.",
                        static_cast<long long>(current->step_begin), static_cast<long long>(current->step_end));
    }
  }
  ImGui::Spacing();
  ImGui::TextDisabled("schedule (%zu entr%s; uncovered steps run dense)", plan.schedule.size(),
                      plan.schedule.size() == 1 ? "y" : "ies");
  for (const data::ScheduleEntry& e : plan.schedule) {
    ImGui::BulletText("[%lld, %lld) %s", static_cast<long long>(e.step_begin), static_cast<long long>(e.step_end),
                      e.dense ? "dense" : "per head");
  }
}

}  // namespace svdit::analyzer::ui
