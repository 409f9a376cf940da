#pragma once
// A zoomable heat map with a logarithmic colour bar, shared by the attention map and the frame map.
// Mouse wheel zooms about the cursor, dragging pans, double-click shows the whole map again.

#include <functional>
#include <string>
#include <vector>

#include <imgui.h>

#include "ui/app_state.h"

namespace svdit::analyzer::ui {

struct HeatmapResult {
  ScreenRect image;  // where the map was drawn
  bool hovered = false;
  int64_t col = -1, row = -1;  // cell under the mouse
};

using OverlayFn = std::function<void(ImDrawList*, const ScreenRect&, const ViewRect&)>;

// Draws rows × cols `values` within `size` (colour bar included). The texture is re-uploaded and the scale
// refitted only when `key` changes.
HeatmapResult draw_heatmap(const char* id, HeatmapState& st, const std::string& key, const std::vector<float>& values,
                           int64_t cols, int64_t rows, ImVec2 size, const OverlayFn& overlay);

inline ImU32 to_imgui(const Rgba8& c) { return IM_COL32(c.r, c.g, c.b, c.a); }
inline ImVec2 to_imvec(const Point& p) { return ImVec2(static_cast<float>(p.x), static_cast<float>(p.y)); }

}  // namespace svdit::analyzer::ui
