// The attention map of the selected head: block-pooled probabilities in original token order on a log colour
// scale, frame boundaries, and the block layout of the head's pattern overlaid (overlay.h: the fraction of each
// original-order cell's token pairs that the compiled layout computes; the contour encloses every cell with any).
#include <algorithm>
#include <cmath>
#include <vector>
#include <cstdio>
#include <string>

#include <imgui.h>

#include "svdit/data/error.h"
#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

// More contour segments than this in view are drawn as a dimming texture instead (drawing ~50 000 lines a frame
// costs more than the 33 ms a frame may take).
constexpr size_t kMaxContourSegments = 12000;

// "frame 2" / "frames 2-3" / "text" for a range of original token indices.
std::string describe_tokens(const data::TokenLayout& t, int64_t begin, int64_t end) {
  std::string out = "tokens " + std::to_string(begin) + "-" + std::to_string(end - 1);
  const int64_t vb = std::max(begin, t.video_begin()), ve = std::min(end, t.video_end());
  if (vb < ve) {
    const int64_t f0 = (vb - t.video_begin()) / t.tokens_per_frame(), f1 = (ve - 1 - t.video_begin()) / t.tokens_per_frame();
    out += f0 == f1 ? ", frame " + std::to_string(f0) : ", frames " + std::to_string(f0) + "-" + std::to_string(f1);
  }
  if (begin < t.video_begin() || end > t.video_end()) out += ", text";
  return out;
}

// Block coordinates of the frame boundaries (and the text/video boundaries), inside (0, G).
std::vector<double> frame_lines(const data::TokenLayout& t) {
  std::vector<double> lines;
  const auto b = static_cast<double>(t.block_size);
  for (int64_t f = 0; f <= t.frames; ++f) {
    const int64_t token = t.video_begin() + f * t.tokens_per_frame();
    if (token > 0 && token < t.seq_len()) lines.push_back(static_cast<double>(token) / b);
  }
  return lines;
}

}  // namespace

void draw_map_panel(AppState& s) {
  if (!s.doc) return;
  Document& doc = *s.doc;
  const data::ProfileMeta& meta = doc.meta();
  const HeadFigures fig = head_figures(doc.view(), doc.plan(), doc.index(), s.aggregate, s.sel.step, s.sel.layer, s.sel.head);
  const data::Pattern dense = data::make_pattern({data::dense_component()});
  const data::Pattern& pattern = fig.pattern ? *fig.pattern : dense;

  ImGui::Text("Layer %lld, head %lld  |  step %lld (t=%.0f)  |  %s", static_cast<long long>(s.sel.layer),
              static_cast<long long>(s.sel.head), static_cast<long long>(sampler_step(s)),
              meta.timesteps[static_cast<size_t>(s.sel.step)], data::describe(pattern).c_str());
  ImGui::Checkbox("layout overlay", &s.show_overlay);
  if (ImGui::IsItemHovered()) {
    ImGui::SetTooltip("The cyan contour encloses the blocks the pattern's compiled layout computes, mapped back to\n"
                      "original token order (a permuted layout covers some cells in part: hover for the fraction).");
  }
  ImGui::SameLine();
  ImGui::Checkbox("frame boundaries", &s.show_frame_lines);
  ImGui::SameLine();
  if (ImGui::Button("whole map")) s.pooled.view.reset();
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("wheel: zoom about the cursor, drag: pan, double-click: whole map");

  std::shared_ptr<const HeadMaps> maps;
  std::string failure;
  try {
    maps = doc.maps({s.sel.step, s.sel.layer, s.sel.head});
  } catch (const std::exception& e) {
    failure = e.what();
  }
  if (!maps) {
    ImGui::TextWrapped("%s", failure.empty() ? "The profile does not store this head's maps (incomplete profile)."
                                             : failure.c_str());
    return;
  }
  const auto overlay = doc.overlays().get(pattern);
  const auto lines = frame_lines(meta.layout);
  const char* key_suffix = "pooled";
  const std::string key = std::to_string(s.sel.step) + "/" + std::to_string(s.sel.layer) + "/" + std::to_string(s.sel.head) + key_suffix;

  const ImVec2 avail = ImGui::GetContentRegionAvail();
  bool contour_mode = false;
  const HeatmapResult r = draw_heatmap(
      "##pooled", s.pooled, key, maps->pooled, maps->blocks, maps->blocks, avail,
      [&](ImDrawList* dl, const ScreenRect& rect, const ViewRect& view) {
        if (s.show_frame_lines) {
          for (double v : lines) {
            const Point a = view.to_screen(rect, {v, 0}), b = view.to_screen(rect, {v, view.rows()});
            dl->AddLine(to_imvec(a), to_imvec(b), IM_COL32(255, 255, 255, 80), 1.0f);
            const Point c = view.to_screen(rect, {0, v}), d = view.to_screen(rect, {view.cols(), v});
            dl->AddLine(to_imvec(c), to_imvec(d), IM_COL32(255, 255, 255, 80), 1.0f);
          }
        }
        if (!s.show_overlay) return;
        // Contour lines while cells are big enough to see them and few enough to draw at frame rate;
        // otherwise (a whole 591 × 591 map, a temporal layout's ragged outline) one texture that dims the
        // cells the layout does not compute, in proportion.
        const double cell_px = rect.w / (view.x1() - view.x0());
        std::vector<const Segment*> visible;
        if (cell_px >= 4) {
          for (const Segment& seg : overlay->contour) {
            if (std::max(seg.x0, seg.x1) < view.x0() || std::min(seg.x0, seg.x1) > view.x1() ||
                std::max(seg.y0, seg.y1) < view.y0() || std::min(seg.y0, seg.y1) > view.y1()) {
              continue;
            }
            visible.push_back(&seg);
            if (visible.size() > kMaxContourSegments) break;
          }
        }
        if (cell_px >= 4 && visible.size() <= kMaxContourSegments) {
          // Lines on the map's own edges move 1 px inwards, or the clip would cut off half of them.
          auto inside = [&](Point p) {
            return ImVec2(static_cast<float>(std::clamp(p.x, rect.x + 1, rect.x + rect.w - 1)),
                          static_cast<float>(std::clamp(p.y, rect.y + 1, rect.y + rect.h - 1)));
          };
          for (const Segment* seg : visible) {
            const Point a = view.to_screen(rect, {seg->x0, seg->y0}), b = view.to_screen(rect, {seg->x1, seg->y1});
            dl->AddLine(inside(a), inside(b), IM_COL32(80, 230, 255, 230), 2.0f);
          }
          contour_mode = true;
          return;
        }
        const std::string okey = data::describe(pattern) + "@" + std::to_string(overlay->blocks);
        if (s.overlay_key != okey) {
          s.overlay_key = okey;
          std::vector<Rgba8> texels(overlay->coverage.size());
          for (size_t i = 0; i < texels.size(); ++i) {
            texels[i] = Rgba8{0, 0, 0, static_cast<uint8_t>(std::lround(170.0 * (1.0 - overlay->coverage[i])))};
          }
          s.overlay_texture.upload(static_cast<int>(overlay->blocks), static_cast<int>(overlay->blocks), texels);
        }
        const auto g = static_cast<double>(overlay->blocks);
        dl->AddImage(s.overlay_texture.imgui_id(), ImVec2(static_cast<float>(rect.x), static_cast<float>(rect.y)),
                     ImVec2(static_cast<float>(rect.x + rect.w), static_cast<float>(rect.y + rect.h)),
                     ImVec2(static_cast<float>(view.x0() / g), static_cast<float>(view.y0() / g)),
                     ImVec2(static_cast<float>(view.x1() / g), static_cast<float>(view.y1() / g)));
      });

  if (r.hovered && r.col >= 0) {
    const auto b = meta.layout.block_size, seq = meta.layout.seq_len();
    const float value = maps->pooled[static_cast<size_t>(r.row * maps->blocks + r.col)];
    ImGui::BeginTooltip();
    ImGui::Text("query block %lld (%s)", static_cast<long long>(r.row),
                describe_tokens(meta.layout, r.row * b, std::min(seq, (r.row + 1) * b)).c_str());
    ImGui::Text("key block %lld (%s)", static_cast<long long>(r.col),
                describe_tokens(meta.layout, r.col * b, std::min(seq, (r.col + 1) * b)).c_str());
    ImGui::Text("mean attention mass %.4g", static_cast<double>(value));
    ImGui::Text("computed by %s: %.0f%% of the token pairs", data::describe(pattern).c_str(),
                100.0 * static_cast<double>(overlay->at(r.row, r.col)));
    ImGui::EndTooltip();
  }
  s.report["map"] = {{"x", r.image.x},          {"y", r.image.y},
                     {"w", r.image.w},          {"h", r.image.h},
                     {"cols", maps->blocks},    {"rows", maps->blocks},
                     {"view", {s.pooled.view.x0(), s.pooled.view.y0(), s.pooled.view.x1(), s.pooled.view.y1()}},
                     {"lo", s.pooled.scale.lo}, {"hi", s.pooled.scale.hi},
                     {"step", s.sel.step},          {"layer", s.sel.layer},
                     {"head", s.sel.head},          {"frame_lines", lines},
                     {"overlay", !s.show_overlay ? "off" : (contour_mode ? "contour" : "dim")}};
}

}  // namespace svdit::analyzer::ui
