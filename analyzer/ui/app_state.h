#pragma once
// What the panels share: the open document, the selection, view settings, cached figures and the requests a
// panel makes of the application (open a dialog, export a PNG, show an error). Panels are free functions in
// one file each (panels.h) that read and change this state; app.cpp owns the window and the frame loop.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "svdit/analyzer/colormap.h"
#include "svdit/analyzer/document.h"
#include "svdit/analyzer/options.h"
#include "svdit/analyzer/search_backend.h"
#include "svdit/analyzer/view_rect.h"
#include "ui/gl_texture.h"

namespace svdit::analyzer::ui {

// A heatmap widget's persistent state: what it shows (key), its texture, scale and zoom.
struct HeatmapState {
  std::string key;  // identifies the values uploaded; a new key re-uploads
  Texture texture;
  LogScale scale;
  ViewRect view;
};

enum class DialogKind { none, open_profile, open_plan, save_plan, export_png };

struct AppState {
  std::unique_ptr<Document> doc;  // null until a profile is open
  Options options;
  bool headless = false;

  Selection sel;  // the profiled step and head the views show
  PromptAggregate aggregate = PromptAggregate::worst;
  View view = View::grid;
  bool view_requested = true;  // select the tab of `view` on the next frame

  // Map view.
  HeatmapState pooled, frames;
  bool show_overlay = true;
  Texture overlay_texture;  // dims the cells a pattern does not compute, for maps too fine for contours
  std::string overlay_key;
  bool show_frame_lines = true;

  // Trade-off view.
  std::unique_ptr<SearchBackend> search;
  SearchSettings settings;
  bool live_search = true;
  bool tradeoff_whole = false;  // axes over the whole frontier, not just around the current plan
  std::vector<TradeoffPoint> frontier;
  std::string frontier_key;       // settings the frontier was computed for
  uint64_t point_revision = ~0ull;  // revision the current point was computed for
  std::string point_key;
  TradeoffPoint current_point;
  double last_search_ms = 0;
  double worst_error = 0;       // of the current plan, for the trade-off view
  std::string worst_error_key;  // revision and aggregate it was computed for

  // Requests to the application.
  DialogKind dialog = DialogKind::none;
  std::string dialog_path;
  std::vector<std::string> errors;  // shown one at a time in a modal dialog
  std::string status;               // last action, for the status bar
  std::optional<std::filesystem::path> export_request;  // PNG of the active view's region...
  int export_wait = 0;  // ...taken this many frames later, once the dialog that asked for it has faded out
  ScreenRect view_rect;             // the active view's region this frame
  bool quit = false;
  bool confirm_quit = false;  // the window was asked to close with unsaved edits
  std::optional<std::filesystem::path> pending_open;  // a profile to open once unsaved edits may be dropped

  // Headless report of where each view drew what (--report): the screenshot checker reads it.
  nlohmann::json report = nlohmann::json::object();

  void error(std::string message) { errors.push_back(std::move(message)); }
  // Runs an action that may throw (file access, edits), turning exceptions into an error dialog.
  bool attempt(const std::string& what, const std::function<void()>& action);
};

// Opens a profile (replacing the document) or a plan (into the document, undoable), by content; errors go to
// the dialog. Replacing a document with unsaved edits asks first (pending_open) unless `discard` is set.
void open_path(AppState& s, const std::filesystem::path& path, bool discard = false);
// Sampler step of the selected profiled step.
int64_t sampler_step(const AppState& s);

// One colour per plan pattern (see colormap.h), and for a dense step.
Rgba8 colour_of(const AppState& s, std::optional<int32_t> pattern_id);

}  // namespace svdit::analyzer::ui
