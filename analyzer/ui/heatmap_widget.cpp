#include "ui/heatmap_widget.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace svdit::analyzer::ui {

namespace {

constexpr float kBarWidth = 16.0f;
constexpr float kBarLabels = 58.0f;  // room for "1e-04" beside the bar

void draw_colour_bar(ImDrawList* dl, const LogScale& scale, ImVec2 top_left, float height) {
  const auto& lut = heat_lut();
  const float step = height / static_cast<float>(lut.size());
  for (size_t i = 0; i < lut.size(); ++i) {
    // Brightest at the top.
    const float y0 = top_left.y + height - static_cast<float>(i + 1) * step;
    dl->AddRectFilled(ImVec2(top_left.x, y0), ImVec2(top_left.x + kBarWidth, y0 + step + 0.5f), to_imgui(lut[i]));
  }
  dl->AddRect(top_left, ImVec2(top_left.x + kBarWidth, top_left.y + height), IM_COL32(200, 200, 200, 255));
  for (double t : scale.ticks()) {
    const float y = top_left.y + height - static_cast<float>(scale.normalise(t)) * height;
    dl->AddLine(ImVec2(top_left.x + kBarWidth, y), ImVec2(top_left.x + kBarWidth + 4, y), IM_COL32(220, 220, 220, 255));
    char label[32];
    std::snprintf(label, sizeof label, "%.2g", t);
    dl->AddText(ImVec2(top_left.x + kBarWidth + 6, y - ImGui::GetFontSize() * 0.5f), IM_COL32(220, 220, 220, 255), label);
  }
}

}  // namespace

HeatmapResult draw_heatmap(const char* id, HeatmapState& st, const std::string& key, const std::vector<float>& values,
                           int64_t cols, int64_t rows, ImVec2 size, const OverlayFn& overlay) {
  HeatmapResult out;
  if (st.key != key) {
    st.key = key;
    st.scale = LogScale::fit(values);
    st.texture.upload(static_cast<int>(cols), static_cast<int>(rows), colourise(values, st.scale));
    if (st.view.cols() != static_cast<double>(cols) || st.view.rows() != static_cast<double>(rows)) {
      st.view = ViewRect(static_cast<double>(cols), static_cast<double>(rows));
    }
  }
  // Square cells: the map keeps the grid's aspect ratio inside the space left of the colour bar.
  const float avail_w = std::max(size.x - kBarWidth - kBarLabels - 8, 32.0f);
  // Half a line below the map for the colour bar's lowest label.
  const float avail_h = std::max(size.y - ImGui::GetFontSize() * 0.6f, 32.0f);
  const float cell = std::min(avail_w / static_cast<float>(cols), avail_h / static_cast<float>(rows));
  const ImVec2 map_size(cell * static_cast<float>(cols), cell * static_cast<float>(rows));
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  out.image = ScreenRect{p0.x, p0.y, map_size.x, map_size.y};

  ImGui::InvisibleButton(id, map_size);
  const bool hovered = ImGui::IsItemHovered();
  ImGuiIO& io = ImGui::GetIO();
  if (hovered && io.MouseWheel != 0) {
    const Point anchor = st.view.to_cells(out.image, Point{io.MousePos.x, io.MousePos.y});
    st.view.zoom_about(anchor, std::pow(1.25, static_cast<double>(io.MouseWheel)));
  }
  if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 0.0f)) {
    const ImVec2 d = io.MouseDelta;
    st.view.pan(-d.x / out.image.w * (st.view.x1() - st.view.x0()), -d.y / out.image.h * (st.view.y1() - st.view.y0()));
  }
  if (hovered && ImGui::IsMouseDoubleClicked(ImGuiMouseButton_Left)) st.view.reset();

  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p1(p0.x + map_size.x, p0.y + map_size.y);
  const auto c = static_cast<double>(cols), r = static_cast<double>(rows);
  dl->AddImage(st.texture.imgui_id(), p0, p1,
               ImVec2(static_cast<float>(st.view.x0() / c), static_cast<float>(st.view.y0() / r)),
               ImVec2(static_cast<float>(st.view.x1() / c), static_cast<float>(st.view.y1() / r)));
  dl->PushClipRect(p0, p1, true);
  if (overlay) overlay(dl, out.image, st.view);
  dl->PopClipRect();
  dl->AddRect(ImVec2(p0.x - 1, p0.y - 1), ImVec2(p1.x + 1, p1.y + 1), IM_COL32(120, 120, 120, 255));

  draw_colour_bar(dl, st.scale, ImVec2(p1.x + 8, p0.y), map_size.y);

  if (hovered) {
    out.hovered = true;
    st.view.cell_at(out.image, Point{io.MousePos.x, io.MousePos.y}, out.col, out.row);
  }
  return out;
}

}  // namespace svdit::analyzer::ui
