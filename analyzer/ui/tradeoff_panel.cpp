// Speed against quality: the search's Pareto frontier (predicted attention time of one step against mean error
// per head), the plan being edited marked on it, and the search's knobs. With "live" on, moving a slider runs
// the search again and the plan — hence the grid — follows (one undo step per drag).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <imgui.h>

#include "svdit/analyzer/axis.h"
#include "svdit/analyzer/plan_edit.h"
#include "ui/heatmap_widget.h"
#include "ui/panels.h"

namespace svdit::analyzer::ui {

namespace {

constexpr float kMarker = 4.0f, kCurrentMarker = 7.0f;

std::string settings_key(const SearchSettings& st) {
  return std::string(to_string(st.objective)) + "/" + to_string(st.aggregate) + "/" + std::to_string(st.lambda);
}

void run_search(AppState& s, const SearchSettings& st, const std::string& label, bool merge,
                const TradeoffPoint* at = nullptr) {
  const auto t0 = std::chrono::steady_clock::now();
  s.attempt("Search", [&] {
    SearchResult r = at ? s.search->solve_at(s.doc->profile(), st, *at) : s.search->solve(s.doc->profile(), st);
    s.doc->replace_plan(std::move(r.plan), label, merge);
    s.status = r.summary;
  });
  s.last_search_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Times are shown in ms when the backend predicts µs, else in its own unit (one dense head's time).
struct TimeAxis {
  double scale = 1e-3;
  const char* label = "predicted attention time per denoising step (ms, measured kernels)";
  const char* unit = "ms";
};
TimeAxis time_axis(const TradeoffPoint& p) {
  if (p.unit == "us") return {};
  return TimeAxis{1.0, "predicted attention time per denoising step (dense heads; no measured cost)", "dense heads"};
}

}  // namespace

// Keeps the frontier and the current plan's point up to date (called every frame; cheap when nothing changed).
void update_tradeoff(AppState& s) {
  if (!s.doc || !s.search) return;
  s.settings.aggregate = s.aggregate;
  const std::string key = settings_key(s.settings);
  if (s.frontier_key != key) {
    s.frontier_key = key;
    s.frontier.clear();
    s.attempt("Computing the frontier", [&] { s.frontier = s.search->frontier(s.doc->profile(), s.settings); });
  }
  if (s.point_revision != s.doc->revision() || s.point_key != key) {
    s.point_revision = s.doc->revision();
    s.point_key = key;
    s.attempt("Evaluating the plan", [&] { s.current_point = s.search->evaluate(s.doc->profile(), s.doc->plan(), s.settings); });
  }
}

void draw_tradeoff_panel(AppState& s) {
  if (!s.doc || !s.search) return;
  Document& doc = *s.doc;
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float controls_w = std::min(340.0f, avail.x * 0.4f);
  const TimeAxis tx = time_axis(s.current_point);
  const double dense_time = s.current_point.dense_time_us * tx.scale;

  // --- plot ---
  ImGui::BeginChild("##plot", ImVec2(avail.x - controls_w - 8, avail.y), false);
  const ImVec2 region = ImGui::GetContentRegionAvail();
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const float left = ImGui::CalcTextSize("0.0000").x + 24, bottom = ImGui::GetFontSize() * 2.5f + 8, top = 10, right = 16;
  const ScreenRect plot{origin.x + left, origin.y + top, std::max(region.x - left - right, 50.0f),
                        std::max(region.y - top - bottom, 50.0f)};
  double tmin = INFINITY, tmax = -INFINITY, emin = INFINITY, emax = -INFINITY;
  auto extend = [&](double t, double e) {
    if (!std::isfinite(t) || !std::isfinite(e)) return;
    tmin = std::min(tmin, t), tmax = std::max(tmax, t), emin = std::min(emin, e), emax = std::max(emax, e);
  };
  // Plans that skip most heads reach errors near 1 at almost no time and squash the useful part of the
  // curve; unless asked for the whole frontier, the axes cover errors up to three times the current plan's.
  const double cap = s.tradeoff_whole || !std::isfinite(s.current_point.error)
                         ? INFINITY
                         : std::max(3 * s.current_point.error, 0.05);
  for (const TradeoffPoint& p : s.frontier) {
    if (p.error <= cap) extend(p.time_us * tx.scale, p.error);
  }
  extend(s.current_point.time_us * tx.scale, s.current_point.error);
  extend(dense_time, 0.0);
  const Axis xa = Axis::fit(tmin, tmax), ya = Axis::fit(std::min(emin, 0.0), emax);
  auto to_screen = [&](double t_ms, double e) {
    return ImVec2(static_cast<float>(plot.x + xa.fraction(t_ms) * plot.w), static_cast<float>(plot.y + (1 - ya.fraction(e)) * plot.h));
  };
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImU32 grid = IM_COL32(70, 70, 70, 255), text = IM_COL32(210, 210, 210, 255);
  const auto px = static_cast<float>(plot.x), py = static_cast<float>(plot.y), pw = static_cast<float>(plot.w),
             ph = static_cast<float>(plot.h);
  for (double t : xa.ticks) {
    const ImVec2 a = to_screen(t, ya.lo);
    dl->AddLine(ImVec2(a.x, py), ImVec2(a.x, py + ph), grid);
    const std::string l = tick_label(t, xa.step());
    dl->AddText(ImVec2(a.x - ImGui::CalcTextSize(l.c_str()).x / 2, py + ph + 4), text, l.c_str());
  }
  for (double e : ya.ticks) {
    const ImVec2 a = to_screen(xa.lo, e);
    dl->AddLine(ImVec2(px, a.y), ImVec2(px + pw, a.y), grid);
    const std::string l = tick_label(e, ya.step());
    dl->AddText(ImVec2(px - ImGui::CalcTextSize(l.c_str()).x - 6, a.y - ImGui::GetFontSize() / 2), text, l.c_str());
  }
  dl->AddRect(ImVec2(px, py), ImVec2(px + pw, py + ph), IM_COL32(150, 150, 150, 255));
  const char* xlabel = tx.label;
  dl->AddText(ImVec2(px + pw / 2 - ImGui::CalcTextSize(xlabel).x / 2, py + ph + ImGui::GetFontSize() + 8), text, xlabel);
  dl->AddText(ImVec2(px + 6, py + 4), text, "mean error per head");
  if (s.settings.objective == Objective::time_budget && std::isfinite(dense_time)) {
    const ImVec2 a = to_screen(s.settings.budget_fraction * dense_time, ya.lo);
    dl->AddLine(ImVec2(a.x, py), ImVec2(a.x, py + ph), IM_COL32(240, 210, 60, 200), 1.5f);
    dl->AddText(ImVec2(a.x + 4, py + 20), IM_COL32(240, 210, 60, 255), "budget");
  }

  dl->PushClipRect(ImVec2(px, py), ImVec2(px + pw, py + ph), true);
  const ImU32 front_colour = to_imgui(frontier_colour());
  nlohmann::json front_report = nlohmann::json::array();
  for (size_t i = 0; i < s.frontier.size(); ++i) {
    const ImVec2 a = to_screen(s.frontier[i].time_us * tx.scale, s.frontier[i].error);
    if (i > 0) {
      const ImVec2 b = to_screen(s.frontier[i - 1].time_us * tx.scale, s.frontier[i - 1].error);
      dl->AddLine(b, a, front_colour, 1.5f);
    }
  }
  for (const TradeoffPoint& p : s.frontier) {
    const ImVec2 a = to_screen(p.time_us * tx.scale, p.error);
    dl->AddCircleFilled(a, kMarker, front_colour, 12);
    if (plot.contains(Point{a.x, a.y})) front_report.push_back({a.x, a.y});
  }
  const ImVec2 cur = to_screen(s.current_point.time_us * tx.scale, s.current_point.error);
  const bool current_known = std::isfinite(s.current_point.time_us) && std::isfinite(s.current_point.error);
  if (current_known) {
    dl->AddCircle(cur, kCurrentMarker + 2, IM_COL32(255, 255, 255, 255), 20, 2.0f);
    dl->AddCircleFilled(cur, kCurrentMarker, to_imgui(current_plan_colour()), 20);
  }
  dl->PopClipRect();

  // Hover a frontier point to read it; click to take its plan.
  ImGui::SetCursorScreenPos(ImVec2(px, py));
  ImGui::InvisibleButton("##plot_area", ImVec2(pw, ph));
  if (ImGui::IsItemHovered()) {
    const ImVec2 m = ImGui::GetIO().MousePos;
    int best = -1;
    float best_d = 10.0f;
    for (size_t i = 0; i < s.frontier.size(); ++i) {
      const ImVec2 a = to_screen(s.frontier[i].time_us * tx.scale, s.frontier[i].error);
      const float d = std::hypot(a.x - m.x, a.y - m.y);
      if (d < best_d) best_d = d, best = static_cast<int>(i);
    }
    if (best >= 0) {
      const TradeoffPoint p = s.frontier[static_cast<size_t>(best)];
      ImGui::SetTooltip("%.3f %s per step (%.2fx faster than dense)\nmean error %.4f\n%s %.4g\nclick: take this plan",
                        p.time_us * tx.scale, tx.unit, p.dense_time_us / p.time_us, p.error,
                        s.search->name() == "svdit_search" ? "multiplier" : "eps", p.parameter);
      if (ImGui::IsMouseClicked(ImGuiMouseButton_Left)) run_search(s, s.settings, "frontier point", false, &p);
    }
  }
  ImGui::EndChild();
  s.report["tradeoff"] = {{"plot", {plot.x, plot.y, plot.w, plot.h}},
                          {"frontier", front_report},
                          {"current", current_known ? nlohmann::json{cur.x, cur.y} : nlohmann::json()},
                          {"marker", kMarker},
                          {"current_marker", kCurrentMarker}};

  // --- controls ---
  ImGui::SameLine();
  ImGui::BeginChild("##controls", ImVec2(controls_w, avail.y), true);
  ImGui::TextDisabled("search: %s", s.search->name().c_str());
  int objective = static_cast<int>(s.settings.objective);
  bool changed = ImGui::Combo("objective", &objective, "error-bound\0time-budget\0paper\0");
  s.settings.objective = static_cast<Objective>(objective);
  bool released = changed;
  float eps = static_cast<float>(s.settings.epsilon), budget = static_cast<float>(s.settings.budget_fraction),
        lambda = static_cast<float>(s.settings.lambda);
  if (s.settings.objective != Objective::time_budget) {
    changed |= ImGui::SliderFloat("eps", &eps, 1e-4f, 10.0f, "%.4g", ImGuiSliderFlags_Logarithmic);
    released |= ImGui::IsItemDeactivatedAfterEdit();
  } else {
    changed |= ImGui::SliderFloat("budget", &budget, 0.02f, 1.0f, "%.2f x dense");
    released |= ImGui::IsItemDeactivatedAfterEdit();
  }
  if (s.settings.objective == Objective::paper) {
    changed |= ImGui::SliderFloat("lambda", &lambda, 0.0f, 2.0f, "%.2f");
    released |= ImGui::IsItemDeactivatedAfterEdit();
  }
  s.settings.epsilon = eps;
  s.settings.budget_fraction = budget;
  s.settings.lambda = lambda;
  ImGui::Checkbox("live", &s.live_search);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("re-run the search as the sliders move and update the plan");
  ImGui::SameLine();
  const bool now = ImGui::Button("Search now");
  // Live while dragging when the search is fast enough to keep the frame rate; otherwise when the slider is let go.
  const bool fast = s.last_search_ms < 50.0;
  if (now || (s.live_search && ((changed && fast) || released))) {
    run_search(s, s.settings, s.live_search && !now ? "re-search (live)" : "search", s.live_search && !now);
    update_tradeoff(s);
  }
  if (s.last_search_ms > 0) {
    ImGui::TextDisabled("last search %.1f ms", s.last_search_ms);
  } else {
    ImGui::TextDisabled("no search run yet");
  }
  ImGui::Separator();
  // The backend's own figures, so the numbers match the marker on the plot.
  const TradeoffPoint& c = s.current_point;
  ImGui::TextColored(ImVec4(1.0f, 0.35f, 0.24f, 1.0f), "current plan");
  if (std::isfinite(c.time_us)) {
    ImGui::Text("attention %.3f %s / step", c.time_us * tx.scale, tx.unit);
    ImGui::Text("dense     %.3f %s / step", dense_time, tx.unit);
    ImGui::Text("speed-up  %.2fx", c.dense_time_us / c.time_us);
    ImGui::Text("mean error %.4f", c.error);
  } else {
    ImGui::TextWrapped("not on the plot: the plan uses patterns the profile did not measure");
  }
  // Once per plan revision: over every profiled (step, layer, head) it is milliseconds at Wan2.1-14B size.
  const std::string figures_key = std::to_string(doc.revision()) + "/" + to_string(s.aggregate);
  if (s.worst_error_key != figures_key) {
    s.worst_error = plan_errors(doc.view(), doc.plan(), s.aggregate).max_error;
    s.worst_error_key = figures_key;
  }
  ImGui::TextDisabled("worst head-step error %.4f (%s)", s.worst_error, to_string(s.aggregate));
  ImGui::TextColored(ImVec4(0.35f, 0.78f, 0.98f, 1.0f), "frontier: %zu plans", s.frontier.size());
  ImGui::Checkbox("whole frontier", &s.tradeoff_whole);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("include plans with errors far above the current plan's");
  ImGui::Spacing();
  ImGui::TextDisabled("hover a frontier point to read it,\nclick it to take its plan");
  ImGui::EndChild();
}

}  // namespace svdit::analyzer::ui
