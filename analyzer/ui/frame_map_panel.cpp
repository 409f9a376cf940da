// The frame-to-frame attention of the selected head: row f is the mean over queries of frame f of the mass on
// each key frame — where a temporal pattern's w_f must reach.
#include <string>

#include <imgui.h>

#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

void draw_frame_map_panel(AppState& s) {
  if (!s.doc) return;
  Document& doc = *s.doc;
  ImGui::Text("Frame to frame (query frame down, key frame across)");
  std::shared_ptr<const HeadMaps> maps;
  try {
    maps = doc.maps({s.sel.step, s.sel.layer, s.sel.head});
  } catch (const std::exception&) {
    // draw_map_panel shows the reason.
  }
  if (!maps) return;
  const std::string key = std::to_string(s.sel.step) + "/" + std::to_string(s.sel.layer) + "/" + std::to_string(s.sel.head) + "frames";
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const HeatmapResult r = draw_heatmap("##frames", s.frames, key, maps->frame, maps->frames, maps->frames, avail, nullptr);
  if (r.hovered && r.col >= 0) {
    ImGui::BeginTooltip();
    ImGui::Text("frame %lld -> frame %lld", static_cast<long long>(r.row), static_cast<long long>(r.col));
    ImGui::Text("attention mass %.4g", static_cast<double>(maps->frame[static_cast<size_t>(r.row * maps->frames + r.col)]));
    ImGui::EndTooltip();
  }
  s.report["frame_map"] = {{"x", r.image.x},          {"y", r.image.y},
                           {"w", r.image.w},          {"h", r.image.h},
                           {"cols", maps->frames},    {"rows", maps->frames},
                           {"view", {s.frames.view.x0(), s.frames.view.y0(), s.frames.view.x1(), s.frames.view.y1()}},
                           {"lo", s.frames.scale.lo}, {"hi", s.frames.scale.hi}};
}

}  // namespace svdit::analyzer::ui
