// One line at the bottom: the files, unsaved edits, the plan's predicted figures, the last action.
#include <cmath>

#include <imgui.h>

#include "ui/panels.h"

namespace svdit::analyzer::ui {

void draw_status_bar(AppState& s) {
  if (!s.doc) {
    ImGui::TextUnformatted(s.status.empty() ? "No profile open: File > Open profile, or drop a file here." : s.status.c_str());
    return;
  }
  const Document& doc = *s.doc;
  const std::string plan = doc.plan_path().empty() ? std::string("(unsaved plan)") : doc.plan_path().filename().string();
  ImGui::Text("%s | %s%s", doc.profile().path().filename().string().c_str(), plan.c_str(), doc.dirty() ? " *" : "");
  if (s.point_revision == doc.revision() && std::isfinite(s.current_point.time_us)) {
    ImGui::SameLine();
    if (s.current_point.unit == "us") {
      ImGui::Text("| %.3f ms attention/step (%.2fx), mean error %.4f", s.current_point.time_us / 1000.0,
                  s.current_point.dense_time_us / s.current_point.time_us, s.current_point.error);
    } else {
      ImGui::Text("| %.2fx fewer blocks, mean error %.4f", s.current_point.dense_time_us / s.current_point.time_us,
                  s.current_point.error);
    }
  }
  if (!s.status.empty()) {
    ImGui::SameLine();
    ImGui::TextDisabled("| %s", s.status.c_str());
  }
  if (!s.headless) {  // a headless run draws a few frames only: its rate means nothing
    ImGui::SameLine();
    ImGui::TextDisabled("| %.0f fps", static_cast<double>(ImGui::GetIO().Framerate));
  }
}

}  // namespace svdit::analyzer::ui
