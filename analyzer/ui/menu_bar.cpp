// File, Edit and View menus, their keyboard shortcuts, and the unsaved-edits question on quit.
#include <GLFW/glfw3.h>
#include <imgui.h>

#include "ui/panels.h"

namespace svdit::analyzer::ui {

void save_plan(AppState& s) {
  if (!s.doc) return;
  if (s.doc->plan_path().empty()) {
    s.dialog = DialogKind::save_plan;
    s.dialog_path = "plan.json";
    return;
  }
  const auto path = s.doc->plan_path();
  if (s.attempt("Saving the plan to " + path.string(), [&] { s.doc->save_plan(path); })) {
    s.status = "saved " + path.string();
  }
}

namespace {

void undo(AppState& s) {
  if (s.doc && s.doc->can_undo()) {
    s.status = "undid: " + s.doc->undo_label();
    s.doc->undo();
  }
}

void redo(AppState& s) {
  if (s.doc && s.doc->can_redo()) {
    s.status = "redid: " + s.doc->redo_label();
    s.doc->redo();
  }
}

void select_view(AppState& s, View v) {
  s.view = v;
  s.view_requested = true;
}

}  // namespace

void handle_shortcuts(AppState& s) {
  const ImGuiIO& io = ImGui::GetIO();
  if (!io.KeyCtrl || io.WantTextInput) return;
  // ImGui 1.86 indexes keys by the backend's codes (GLFW_KEY_*).
  if (ImGui::IsKeyPressed(GLFW_KEY_Z, false)) io.KeyShift ? redo(s) : undo(s);
  if (ImGui::IsKeyPressed(GLFW_KEY_Y, false)) redo(s);
  if (ImGui::IsKeyPressed(GLFW_KEY_S, false)) save_plan(s);
  if (ImGui::IsKeyPressed(GLFW_KEY_O, false)) {
    s.dialog = DialogKind::open_profile;
    s.dialog_path.clear();
  }
}

void draw_menu_bar(AppState& s) {
  if (!ImGui::BeginMenuBar()) return;
  const bool open = s.doc != nullptr;
  if (ImGui::BeginMenu("File")) {
    if (ImGui::MenuItem("Open profile...", "Ctrl+O")) {
      s.dialog = DialogKind::open_profile;
      s.dialog_path.clear();
    }
    if (ImGui::MenuItem("Open plan...", nullptr, false, open)) {
      s.dialog = DialogKind::open_plan;
      s.dialog_path.clear();
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Save plan", "Ctrl+S", false, open)) save_plan(s);
    if (ImGui::MenuItem("Save plan as...", nullptr, false, open)) {
      s.dialog = DialogKind::save_plan;
      s.dialog_path = s.doc->plan_path().empty() ? "plan.json" : s.doc->plan_path().string();
    }
    if (ImGui::MenuItem("Export view as PNG...", nullptr, false, open)) {
      s.dialog = DialogKind::export_png;
      s.dialog_path = std::string("svdit-") + to_string(s.view) + ".png";
    }
    ImGui::Separator();
    if (ImGui::MenuItem("Quit")) {
      if (s.doc && s.doc->dirty()) {
        s.confirm_quit = true;
      } else {
        s.quit = true;
      }
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Edit", open)) {
    const std::string u = "Undo " + s.doc->undo_label(), r = "Redo " + s.doc->redo_label();
    if (ImGui::MenuItem(u.c_str(), "Ctrl+Z", false, s.doc->can_undo())) undo(s);
    if (ImGui::MenuItem(r.c_str(), "Ctrl+Y", false, s.doc->can_redo())) redo(s);
    ImGui::Separator();
    if (ImGui::MenuItem("Give this step its own schedule entry")) {
      s.attempt("Splitting the schedule", [&] { s.doc->isolate_step(s.sel.step); });
    }
    if (ImGui::MenuItem("Remove unused patterns")) {
      s.attempt("Removing unused patterns", [&] { s.status = std::to_string(s.doc->remove_unused_patterns()) + " patterns removed"; });
    }
    if (ImGui::MenuItem("New dense plan")) s.attempt("New plan", [&] { s.doc->new_dense_plan(); });
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View", open)) {
    if (ImGui::MenuItem("Grid", nullptr, s.view == View::grid)) select_view(s, View::grid);
    if (ImGui::MenuItem("Attention map", nullptr, s.view == View::map)) select_view(s, View::map);
    if (ImGui::MenuItem("Trade-off", nullptr, s.view == View::tradeoff)) select_view(s, View::tradeoff);
    ImGui::Separator();
    if (ImGui::MenuItem("Errors: worst prompt", nullptr, s.aggregate == PromptAggregate::worst)) s.aggregate = PromptAggregate::worst;
    if (ImGui::MenuItem("Errors: mean of prompts", nullptr, s.aggregate == PromptAggregate::mean)) s.aggregate = PromptAggregate::mean;
    ImGui::Separator();
    ImGui::MenuItem("Layout overlay", nullptr, &s.show_overlay);
    ImGui::MenuItem("Frame boundaries", nullptr, &s.show_frame_lines);
    ImGui::EndMenu();
  }
  ImGui::EndMenuBar();
}

void draw_quit_dialog(AppState& s) {
  if (s.pending_open) {
    if (!ImGui::IsPopupOpen("Unsaved plan edits")) ImGui::OpenPopup("Unsaved plan edits");
    if (ImGui::BeginPopupModal("Unsaved plan edits", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
      ImGui::Text("Opening %s closes the current profile;", s.pending_open->filename().string().c_str());
      ImGui::TextUnformatted("the plan has edits that are not saved.");
      if (ImGui::Button("Discard and open")) {
        const auto path = *s.pending_open;
        s.pending_open.reset();
        ImGui::CloseCurrentPopup();
        open_path(s, path, true);
      }
      ImGui::SameLine();
      if (ImGui::Button("Cancel")) {
        s.pending_open.reset();
        ImGui::CloseCurrentPopup();
      }
      ImGui::EndPopup();
    }
  }
  if (!s.confirm_quit) return;
  if (!ImGui::IsPopupOpen("Unsaved plan")) ImGui::OpenPopup("Unsaved plan");
  if (ImGui::BeginPopupModal("Unsaved plan", nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::TextUnformatted("The plan has edits that are not saved.");
    if (ImGui::Button("Save")) {
      save_plan(s);
      s.confirm_quit = false;
      s.quit = s.doc && !s.doc->dirty();
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Discard and quit")) {
      s.quit = true;
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button("Cancel")) {
      s.confirm_quit = false;
      ImGui::CloseCurrentPopup();
    }
    ImGui::EndPopup();
  }
}

}  // namespace svdit::analyzer::ui
