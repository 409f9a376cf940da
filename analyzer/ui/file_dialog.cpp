// A small file dialog: a path field and the listing of its folder (matching files and subfolders).
// Used to open profiles and plans, save the plan and export a view as PNG.
#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include <imgui.h>
#include <imgui_stdlib.h>

#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace fs = std::filesystem;

namespace {

const char* title_of(DialogKind k) {
  switch (k) {
    case DialogKind::open_profile: return "Open profile";
    case DialogKind::open_plan: return "Open plan";
    case DialogKind::save_plan: return "Save plan";
    case DialogKind::export_png: return "Export view as PNG";
    case DialogKind::none: break;
  }
  return "";
}

bool matches(DialogKind k, const fs::path& p) {
  const std::string ext = p.extension().string();
  switch (k) {
    case DialogKind::open_profile: return ext == ".h5" || ext == ".hdf5";
    case DialogKind::open_plan:
    case DialogKind::save_plan: return ext == ".json";
    case DialogKind::export_png: return ext == ".png";
    case DialogKind::none: break;
  }
  return false;
}

// The folder a path field points into: itself if it is one, else its parent, else the working directory.
fs::path folder_of(const std::string& text) {
  std::error_code ec;
  const fs::path p = text.empty() ? fs::current_path(ec) : fs::path(text);
  if (fs::is_directory(p, ec)) return p;
  const fs::path parent = p.parent_path();
  if (!parent.empty() && fs::is_directory(parent, ec)) return parent;
  return fs::current_path(ec);
}

void accept(AppState& s, DialogKind kind, const fs::path& path) {
  switch (kind) {
    case DialogKind::open_profile:
    case DialogKind::open_plan: open_path(s, path); break;
    case DialogKind::save_plan:
      if (s.attempt("Saving the plan to " + path.string(), [&] { s.doc->save_plan(path); })) {
        s.status = "saved " + path.string();
      }
      break;
    case DialogKind::export_png:
      s.export_request = path;
      s.export_wait = 3;
      break;
    case DialogKind::none: break;
  }
}

}  // namespace

void draw_file_dialog(AppState& s) {
  if (s.dialog == DialogKind::none) return;
  const char* title = title_of(s.dialog);
  if (!ImGui::IsPopupOpen(title)) ImGui::OpenPopup(title);
  ImGui::SetNextWindowSize(ImVec2(640, 420), ImGuiCond_Appearing);
  if (!ImGui::BeginPopupModal(title)) return;
  bool done = false, ok = false;
  ImGui::SetNextItemWidth(-1);
  if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
  ok |= ImGui::InputText("##path", &s.dialog_path, ImGuiInputTextFlags_EnterReturnsTrue);

  const fs::path folder = folder_of(s.dialog_path);
  ImGui::TextDisabled("%s", folder.string().c_str());
  ImGui::BeginChild("##listing", ImVec2(0, -ImGui::GetFrameHeightWithSpacing() - 4), true);
  std::vector<fs::directory_entry> dirs, files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(folder, fs::directory_options::skip_permission_denied, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (e.is_directory(ec)) {
      dirs.push_back(e);
    } else if (matches(s.dialog, e.path())) {
      files.push_back(e);
    }
  }
  auto by_name = [](const fs::directory_entry& a, const fs::directory_entry& b) { return a.path() < b.path(); };
  std::sort(dirs.begin(), dirs.end(), by_name);
  std::sort(files.begin(), files.end(), by_name);
  if (ImGui::Selectable("../")) s.dialog_path = (folder.has_parent_path() ? folder.parent_path() : folder).string() + "/";
  for (const auto& d : dirs) {
    if (ImGui::Selectable((d.path().filename().string() + "/").c_str())) s.dialog_path = d.path().string() + "/";
  }
  for (const auto& f : files) {
    const bool selected = fs::path(s.dialog_path) == f.path();
    if (ImGui::Selectable(f.path().filename().string().c_str(), selected, ImGuiSelectableFlags_AllowDoubleClick)) {
      s.dialog_path = f.path().string();
      if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) ok = true;
    }
  }
  ImGui::EndChild();
  ok |= ImGui::Button(s.dialog == DialogKind::save_plan || s.dialog == DialogKind::export_png ? "Save" : "Open",
                      ImVec2(100, 0));
  ImGui::SameLine();
  if (ImGui::Button("Cancel", ImVec2(100, 0)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) done = true;
  if (ok && !s.dialog_path.empty() && !fs::is_directory(s.dialog_path, ec)) {
    const DialogKind kind = s.dialog;
    s.dialog = DialogKind::none;
    ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
    accept(s, kind, s.dialog_path);
    return;
  }
  if (done) {
    s.dialog = DialogKind::none;
    ImGui::CloseCurrentPopup();
  }
  ImGui::EndPopup();
}

}  // namespace svdit::analyzer::ui
