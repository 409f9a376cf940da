// Which colour is which pattern, for the selected step: every pattern of the plan with its density and how
// many heads run it at this step.
#include <map>

#include <imgui.h>

#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

void swatch(const Rgba8& c, bool skip) {
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float sz = ImGui::GetFontSize();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p, ImVec2(p.x + sz, p.y + sz), to_imgui(c));
  if (skip) {
    dl->AddLine(p, ImVec2(p.x + sz, p.y + sz), IM_COL32(150, 60, 60, 255));
    dl->AddLine(ImVec2(p.x, p.y + sz), ImVec2(p.x + sz, p.y), IM_COL32(150, 60, 60, 255));
  }
  ImGui::Dummy(ImVec2(sz, sz));
  ImGui::SameLine();
}

}  // namespace

void draw_legend_panel(AppState& s) {
  if (!s.doc) return;
  const Document& doc = *s.doc;
  const data::Plan& plan = doc.plan();
  const int64_t step = sampler_step(s);
  std::map<int32_t, int64_t> heads;
  const data::ScheduleEntry* entry = plan.entry_for(step);
  const bool dense_step = entry == nullptr || entry->dense;
  if (!dense_step) {
    for (int32_t id : entry->heads) ++heads[id];
  }
  ImGui::TextDisabled("patterns (heads at step %lld)", static_cast<long long>(step));
  if (dense_step) {
    swatch(dense_colour(), false);
    ImGui::Text("dense step: every head (%lld)", static_cast<long long>(plan.model.layers * plan.model.heads));
  }
  for (const data::PlanPattern& p : plan.patterns) {
    const auto it = heads.find(p.id);
    const int64_t count = it == heads.end() ? 0 : it->second;
    swatch(colour_of(s, p.id), p.pattern.is_skip());
    if (count == 0) ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    ImGui::Text("x%lld  %d: %s, density %.2f", static_cast<long long>(count), p.id, data::describe(p.pattern).c_str(),
                p.density);
    if (count == 0) ImGui::PopStyleColor();
  }
}

}  // namespace svdit::analyzer::ui
