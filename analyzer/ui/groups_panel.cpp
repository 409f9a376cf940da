// Pattern groups: the heads of a layer that share a pattern id, with the layer's predicted time (the search's
// cost model: the whole layer is one launch). Listed for every layer at the selected step, the selected layer
// first.
#include <cmath>
#include <cstdio>
#include <string>

#include <imgui.h>

#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

std::string heads_text(const std::vector<int64_t>& heads) {
  std::string out;
  for (size_t i = 0; i < heads.size(); ++i) out += (i ? "," : "") + std::to_string(heads[i]);
  return out;
}

void layer_groups(AppState& s, int64_t layer, bool selected) {
  Document& doc = *s.doc;
  const auto groups = fused_groups(doc.plan(), sampler_step(s), layer);
  const double total = layer_time_us(doc.view(), doc.plan(), doc.index(), s.sel.step, layer);
  ImGui::PushID(static_cast<int>(layer));
  char label[96];
  std::snprintf(label, sizeof label, "L%lld: %zu pattern%s, %.1f us", static_cast<long long>(layer), groups.size(),
                groups.size() == 1 ? "" : "s", total);
  if (ImGui::Selectable(label, selected)) s.sel.layer = layer;
  for (const FusedGroup& g : groups) {
    const data::Pattern* p = g.pattern_id ? doc.pattern(*g.pattern_id) : nullptr;
    ImGui::Indent();
    const ImVec2 q = ImGui::GetCursorScreenPos();
    const float sz = ImGui::GetFontSize() * 0.7f;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(q.x, q.y + 3), ImVec2(q.x + sz, q.y + 3 + sz),
                                              to_imgui(colour_of(s, g.pattern_id)));
    ImGui::Dummy(ImVec2(sz, sz));
    ImGui::SameLine();
    ImGui::Text("heads %s: %s", heads_text(g.heads).c_str(), p ? data::describe(*p).c_str() : "dense");
    ImGui::Unindent();
  }
  ImGui::PopID();
}

}  // namespace

void draw_groups_panel(AppState& s) {
  if (!s.doc) return;
  ImGui::TextDisabled("pattern groups (one launch per layer)");
  layer_groups(s, s.sel.layer, true);
  ImGui::Separator();
  for (int64_t l = 0; l < s.doc->meta().layers; ++l) {
    if (l != s.sel.layer) layer_groups(s, l, false);
  }
}

}  // namespace svdit::analyzer::ui
