#pragma once
// The analyzer's panels, one file each. Each draws into the current ImGui window or child region.

#include "ui/app_state.h"

namespace svdit::analyzer::ui {

void draw_menu_bar(AppState& s);        // menu_bar.cpp: File, Edit, View
void draw_step_panel(AppState& s);      // step_panel.cpp: profiled step selector and the plan's schedule
void draw_legend_panel(AppState& s);    // legend_panel.cpp: pattern colours of the selected step
void draw_groups_panel(AppState& s);    // groups_panel.cpp: fused head groups per layer
void draw_head_panel(AppState& s);      // head_panel.cpp: figures of the selected head
void draw_grid_panel(AppState& s);      // grid_panel.cpp: layer × head grid
void draw_map_panel(AppState& s);       // map_panel.cpp: pooled attention map with the layout overlay
void draw_frame_map_panel(AppState& s); // frame_map_panel.cpp: frame-to-frame attention
void draw_candidate_panel(AppState& s); // candidate_panel.cpp: candidates of the selected head, assign
void draw_tradeoff_panel(AppState& s);  // tradeoff_panel.cpp: frontier, current plan, live re-search
void draw_status_bar(AppState& s);      // status_bar.cpp
void draw_file_dialog(AppState& s);     // file_dialog.cpp: path input dialog for open/save/export
void draw_error_dialog(AppState& s);    // error_dialog.cpp: modal error messages

// Shortcuts (Ctrl+Z, Ctrl+Y, Ctrl+S, Ctrl+O) handled once per frame (menu_bar.cpp).
void handle_shortcuts(AppState& s);
// Asks before unsaved plan edits are lost, on quitting (sets s.quit once confirmed) or on opening another
// profile (menu_bar.cpp).
void draw_quit_dialog(AppState& s);
// Keeps the trade-off view's frontier and current point up to date (tradeoff_panel.cpp); every frame.
void update_tradeoff(AppState& s);
// Saves to the plan's own file, or asks for one (menu_bar.cpp).
void save_plan(AppState& s);

}  // namespace svdit::analyzer::ui
