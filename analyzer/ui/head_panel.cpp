// The selected head in words: its pattern, the measured figures, and its fused group.
#include <imgui.h>

#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

void draw_head_panel(AppState& s) {
  if (!s.doc) return;
  Document& doc = *s.doc;
  const HeadFigures f = head_figures(doc.view(), doc.plan(), doc.index(), s.aggregate, s.sel.step, s.sel.layer, s.sel.head);
  ImGui::TextDisabled("selected head");
  ImGui::Text("layer %lld, head %lld", static_cast<long long>(s.sel.layer), static_cast<long long>(s.sel.head));
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float sz = ImGui::GetFontSize();
  ImGui::GetWindowDrawList()->AddRectFilled(p, ImVec2(p.x + sz, p.y + sz), to_imgui(colour_of(s, f.pattern_id)));
  ImGui::Dummy(ImVec2(sz, sz));
  ImGui::SameLine();
  if (f.pattern_id) {
    ImGui::TextWrapped("pattern %d: %s", *f.pattern_id, f.pattern ? data::describe(*f.pattern).c_str() : "?");
  } else {
    ImGui::TextWrapped("dense step");
  }
  ImGui::Text("block density %.3f", f.density);
  if (f.candidate) {
    ImGui::Text("error %.4g  recall %.4f", f.error, f.recall);
    ImGui::Text("%.1f us of the layer's launch; layer %.1f us (%lld heads on this pattern)", f.share_us, f.layer_us,
                static_cast<long long>(f.group_size));
  } else {
    ImGui::TextDisabled("no profile candidate has this pattern");
  }
}

}  // namespace svdit::analyzer::ui
