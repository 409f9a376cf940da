// The whole model at a glance: one cell per (layer, head), coloured by the plan's pattern at the selected
// step. Hover for the head's figures, click to select, double-click to open its attention map, right-click to
// assign a candidate.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

#include <imgui.h>

#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

void head_tooltip(AppState& s, int64_t layer, int64_t head) {
  Document& doc = *s.doc;
  const HeadFigures f = head_figures(doc.view(), doc.plan(), doc.index(), s.aggregate, s.sel.step, layer, head);
  ImGui::BeginTooltip();
  ImGui::Text("layer %lld, head %lld", static_cast<long long>(layer), static_cast<long long>(head));
  if (f.pattern_id) {
    ImGui::Text("pattern %d: %s", *f.pattern_id, f.pattern ? data::describe(*f.pattern).c_str() : "?");
  } else {
    ImGui::Text("dense (this step runs the dense model)");
  }
  ImGui::Text("block density %.3f", f.density);
  if (f.candidate) {
    ImGui::Text("error %.4g, recall %.4f (%s)", f.error, f.recall, to_string(s.aggregate));
    ImGui::Text("%.1f us of its layer's launch; layer %.1f us (%lld heads on this pattern)", f.share_us, f.layer_us,
                static_cast<long long>(f.group_size));
  } else {
    ImGui::TextDisabled("not a profiled candidate: no measurements");
  }
  ImGui::EndTooltip();
}

void assign_menu(AppState& s, int64_t layer, int64_t head) {
  Document& doc = *s.doc;
  const auto rows = candidate_rows(doc.view(), s.aggregate, s.sel.step, layer, head, std::nullopt);
  if (ImGui::BeginMenu("Assign candidate")) {
    for (const CandidateRow& r : rows) {
      char label[256];
      std::snprintf(label, sizeof label, "%s   (error %.3g, %.1f us)", r.pattern.c_str(), r.error, r.time_us);
      if (ImGui::MenuItem(label)) {
        s.attempt("Assigning a candidate", [&] { doc.assign_candidate(s.sel.step, layer, head, r.candidate); });
      }
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Assign to every head of this layer")) {
    for (const CandidateRow& r : rows) {
      if (ImGui::MenuItem(r.pattern.c_str())) {
        s.attempt("Assigning a candidate", [&] { doc.assign_candidate_to_layer(s.sel.step, layer, r.candidate); });
      }
    }
    ImGui::EndMenu();
  }
  if (ImGui::MenuItem("Open attention map")) {
    s.view = View::map;
    s.view_requested = true;
  }
}

}  // namespace

void draw_grid_panel(AppState& s) {
  if (!s.doc) return;
  Document& doc = *s.doc;
  const auto& meta = doc.meta();
  const int64_t step = sampler_step(s);
  const data::ScheduleEntry* entry = doc.plan().entry_for(step);
  if (entry == nullptr) {
    ImGui::Text("Step %lld: no schedule entry covers it, so it runs dense. Assigning a pattern creates one.",
                static_cast<long long>(step));
  } else {
    ImGui::Text("Step %lld (t=%.0f): schedule entry [%lld, %lld) %s; edits apply to all of its steps.",
                static_cast<long long>(step), meta.timesteps[static_cast<size_t>(s.sel.step)],
                static_cast<long long>(entry->step_begin), static_cast<long long>(entry->step_end),
                entry->dense ? "runs dense" : "per head");
  }

  const float label_w = ImGui::CalcTextSize("L000").x + 6;
  const float label_h = ImGui::GetFontSize() + 4;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const auto layers = static_cast<float>(meta.layers), heads = static_cast<float>(meta.heads);
  const float cell = std::clamp(std::floor(std::min((avail.x - label_w) / heads, (avail.y - label_h) / layers)), 3.0f, 120.0f);
  const float gap = cell >= 12 ? 2.0f : (cell >= 6 ? 1.0f : 0.0f);
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 grid0(origin.x + label_w, origin.y + label_h);
  ImDrawList* dl = ImGui::GetWindowDrawList();

  // Axis labels, thinned so they do not overlap.
  const int64_t head_every = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(ImGui::CalcTextSize("00 ").x / cell)));
  for (int64_t h = 0; h < meta.heads; h += head_every) {
    const std::string t = std::to_string(h);
    const float x = grid0.x + (static_cast<float>(h) + 0.5f) * cell - ImGui::CalcTextSize(t.c_str()).x * 0.5f;
    dl->AddText(ImVec2(x, origin.y), IM_COL32(200, 200, 200, 255), t.c_str());
  }
  const int64_t layer_every = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(ImGui::GetFontSize() / cell)));
  for (int64_t l = 0; l < meta.layers; l += layer_every) {
    const std::string t = "L" + std::to_string(l);
    const float y = grid0.y + (static_cast<float>(l) + 0.5f) * cell - ImGui::GetFontSize() * 0.5f;
    dl->AddText(ImVec2(origin.x, y), IM_COL32(200, 200, 200, 255), t.c_str());
  }

  for (int64_t l = 0; l < meta.layers; ++l) {
    for (int64_t h = 0; h < meta.heads; ++h) {
      const std::optional<int32_t> id = doc.plan().pattern_for(step, l, h);
      const ImVec2 a(grid0.x + static_cast<float>(h) * cell, grid0.y + static_cast<float>(l) * cell);
      const ImVec2 b(a.x + cell - gap, a.y + cell - gap);
      dl->AddRectFilled(a, b, to_imgui(colour_of(s, id)));
      const data::Pattern* p = id ? doc.pattern(*id) : nullptr;
      if (p != nullptr && p->is_skip() && cell >= 8) {
        // A cross marks heads that compute nothing.
        dl->AddLine(a, b, IM_COL32(150, 60, 60, 255), 1.0f);
        dl->AddLine(ImVec2(a.x, b.y), ImVec2(b.x, a.y), IM_COL32(150, 60, 60, 255), 1.0f);
      }
    }
  }
  const ImVec2 sel(grid0.x + static_cast<float>(s.sel.head) * cell, grid0.y + static_cast<float>(s.sel.layer) * cell);
  dl->AddRect(ImVec2(sel.x - 1, sel.y - 1), ImVec2(sel.x + cell - gap + 1, sel.y + cell - gap + 1),
              IM_COL32(255, 255, 255, 255), 0.0f, 0, 2.0f);

  // Input over the grid.
  ImGui::SetCursorScreenPos(grid0);
  ImGui::InvisibleButton("##grid", ImVec2(cell * heads, cell * layers),
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  static int64_t menu_layer = 0, menu_head = 0;
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    const auto h = static_cast<int64_t>((m.x - grid0.x) / cell), l = static_cast<int64_t>((m.y - grid0.y) / cell);
    if (l >= 0 && l < meta.layers && h >= 0 && h < meta.heads) {
      head_tooltip(s, l, h);
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left) || ImGui::IsMouseClicked(ImGuiMouseButton_Right)) {
        s.sel.layer = l;
        s.sel.head = h;
      }
      if (ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) {
        s.view = View::map;
        s.view_requested = true;
      }
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Right)) {
        menu_layer = l;
        menu_head = h;
        ImGui::OpenPopup("##grid_menu");
      }
    }
  }
  if (ImGui::BeginPopup("##grid_menu")) {
    ImGui::TextDisabled("layer %lld, head %lld", static_cast<long long>(menu_layer), static_cast<long long>(menu_head));
    assign_menu(s, menu_layer, menu_head);
    ImGui::EndPopup();
  }
  // Arrow keys move the selection while the grid's window has focus.
  if (ImGui::IsWindowFocused(ImGuiFocusedFlags_RootAndChildWindows) && !ImGui::GetIO().WantTextInput) {
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) s.sel.move(meta, 0, -1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) s.sel.move(meta, 0, 1);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) s.sel.move(meta, -1, 0);
    if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) s.sel.move(meta, 1, 0);
  }

  s.report["grid"] = {{"x", grid0.x},      {"y", grid0.y},          {"cell", cell},
                      {"gap", gap},        {"layers", meta.layers}, {"heads", meta.heads},
                      {"step", s.sel.step},    {"sampler_step", step}};
}

}  // namespace svdit::analyzer::ui
