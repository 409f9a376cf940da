// Errors (a bad file, a refused plan, a failed save) are shown in a modal dialog, one at a time, never crash.
#include <imgui.h>

#include "ui/panels.h"

namespace svdit::analyzer::ui {

void draw_error_dialog(AppState& s) {
  if (s.errors.empty()) return;
  if (!ImGui::IsPopupOpen("Error")) ImGui::OpenPopup("Error");
  const ImVec2 centre = ImGui::GetMainViewport()->GetCenter();
  ImGui::SetNextWindowPos(centre, ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
  ImGui::SetNextWindowSizeConstraints(ImVec2(360, 0), ImVec2(900, 600));
  if (ImGui::BeginPopupModal("Error", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::PushTextWrapPos(ImGui::GetFontSize() * 50.0f);
    ImGui::TextUnformatted(s.errors.front().c_str());
    ImGui::PopTextWrapPos();
    if (ImGui::Button("OK", ImVec2(120, 0)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter))) {
      s.errors.erase(s.errors.begin());
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

}  // namespace svdit::analyzer::ui
