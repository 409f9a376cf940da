#include "ui/app_state.h"

#include <algorithm>
#include <exception>

#include "svdit/data/error.h"

namespace svdit::analyzer::ui {

bool AppState::attempt(const std::string& what, const std::function<void()>& action) {
  try {
    action();
    return true;
  } catch (const std::exception& e) {
    error(what + " failed:\n" + e.what());
    return false;
  }
}

int64_t sampler_step(const AppState& s) { return s.sel.sampler_step(s.doc->meta()); }

void open_path(AppState& s, const std::filesystem::path& path, bool discard) {
  const FileKind kind = detect_file_kind(path);
  if (kind == FileKind::plan) {
    if (!s.doc) {
      s.error("Open a profile first: a plan is shown against the profile it was searched from.\n(" + path.string() + ")");
      return;
    }
    if (s.attempt("Opening plan " + path.string(), [&] { s.doc->load_plan(path); })) {
      s.sel.step = default_step(s.doc->meta(), s.doc->plan());
      s.status = "opened plan " + path.string();
    }
    return;
  }
  // A profile, or something unrecognised: the profile reader says precisely what is wrong with it.
  if (s.doc && s.doc->dirty() && !discard) {
    s.pending_open = path;  // draw_quit_dialog asks
    return;
  }
  s.attempt("Opening profile " + path.string(), [&] {
    auto doc = Document::open(path);
    s.doc = std::move(doc);
    s.sel = Selection{default_step(s.doc->meta(), s.doc->plan()), 0, 0};
    s.pooled = HeatmapState{};
    s.frames = HeatmapState{};
    s.frontier.clear();
    s.frontier_key.clear();
    s.point_revision = ~0ull;
    s.worst_error_key.clear();
    s.overlay_key.clear();
    s.status = "opened profile " + path.string();
  });
}

Rgba8 colour_of(const AppState& s, std::optional<int32_t> pattern_id) {
  return plan_colour(s.doc->plan(), s.doc->index(), pattern_id);
}

}  // namespace svdit::analyzer::ui
