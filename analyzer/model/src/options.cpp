#include "svdit/analyzer/options.h"

#include <cstdint>
#include <cstring>
#include <fstream>

namespace svdit::analyzer {

const char* to_string(View v) {
  switch (v) {
    case View::grid: return "grid";
    case View::map: return "map";
    case View::tradeoff: return "tradeoff";
  }
  return "?";
}

namespace {

constexpr const char* kDescription =
    "Opens a profile (and a plan for it) in the interactive analyzer: the layer x head grid of the plan's\n"
    "patterns, each head's attention map with its pattern's block layout, the candidates' error and cost,\n"
    "manual edits with undo/redo, the speed/quality trade-off with live re-search, and export.\n"
    "Without a plan the analyzer starts from the dense plan of the profile's model.\n"
    "\n"
    "The headless mode (--screenshot) renders one frame, writes a PNG and exits; it needs an X display,\n"
    "e.g. xvfb-run -a.";

}  // namespace

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit analyze", "svdit analyze [PROFILE.h5] [PLAN.json] [options]", kDescription);
  p.option("screenshot", "OUT.png", "headless: the PNG to write");
  const Options defaults;
  p.option("view", "grid|map|tradeoff", "which view", to_string(defaults.view));
  p.option("step", "N", "sampler step to show (a profiled one; default: the first the plan runs sparse)");
  p.option("layer", "L", "the layer of the head the map view shows (default 0)");
  p.option("head", "H", "the head the map view shows (default 0)");
  p.option("size", "WxH", "frame size in pixels",
           std::to_string(defaults.width) + "x" + std::to_string(defaults.height));
  p.option("report", "OUT.json", "headless: also write where the view drew what (used by the screenshot tests)");
  p.option("frames", "N", "headless: frames rendered before the capture; prints the mean frame time",
           std::to_string(defaults.frames));
  p.epilogue("exit status: 0 on success, 1 when a file is unreadable or invalid (the message names the file and the\n"
             "object), 2 on a usage error.");
  return p;
}

Options options_from_args(const cli::ArgParser& args) {
  constexpr int64_t kAny = INT64_MAX;
  Options o;
  if (args.has("screenshot")) o.screenshot = args.get("screenshot");
  if (args.has("report")) o.report = args.get("report");
  const std::string view = args.get("view");
  if (view == "grid") {
    o.view = View::grid;
  } else if (view == "map") {
    o.view = View::map;
  } else if (view == "tradeoff") {
    o.view = View::tradeoff;
  } else {
    throw UsageError("--view: expected grid, map or tradeoff, found \"" + view + "\"");
  }
  if (args.has("step")) o.step = args.get_int("step", 0, kAny);
  if (args.has("layer")) o.layer = args.get_int("layer", 0, kAny);
  if (args.has("head")) o.head = args.get_int("head", 0, kAny);
  o.frames = static_cast<int>(args.get_int("frames", 1, 100000));
  const cli::PixelSize size = cli::parse_pixel_size("--size", args.get("size"), 8192);
  if (size.width < 320 || size.height < 240) {
    throw UsageError("--size: expected at least 320x240, found " + args.get("size"));
  }
  o.width = static_cast<int>(size.width);
  o.height = static_cast<int>(size.height);
  for (const std::string& file : args.positional()) {
    const std::filesystem::path f = file;
    const FileKind kind = detect_file_kind(f);
    // An unreadable or unrecognised file: the first goes as the profile, the second as the plan, and their
    // openers report what is wrong with them (naming the file) — better than a usage error that hides why.
    const bool as_profile = kind == FileKind::profile || (kind == FileKind::unknown && !o.profile);
    auto& slot = as_profile ? o.profile : o.plan;
    if (slot) {
      throw UsageError(std::string("two ") + (as_profile ? "profiles" : "plans") + " given: " + slot->string() +
                       " and " + f.string());
    }
    slot = f;
  }
  if (o.report && !o.screenshot) throw UsageError("--report needs --screenshot");
  return o;
}

Options parse_options(const std::vector<std::string>& args) {
  cli::ArgParser parser = make_parser();
  if (!parser.parse(args)) {
    Options o;
    o.help = true;
    return o;
  }
  return options_from_args(parser);
}

FileKind detect_file_kind(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileKind::unknown;
  char head[8] = {};
  in.read(head, sizeof head);
  const auto got = static_cast<size_t>(in.gcount());
  static constexpr char kHdf5[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  if (got == 8 && std::memcmp(head, kHdf5, 8) == 0) return FileKind::profile;
  size_t i = 0;
  if (got >= 3 && std::memcmp(head, "\xEF\xBB\xBF", 3) == 0) i = 3;
  in.clear();
  in.seekg(static_cast<std::streamoff>(i));
  char c = 0;
  while (in.get(c)) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{' ? FileKind::plan : FileKind::unknown;
  }
  return FileKind::unknown;
}

}  // namespace svdit::analyzer
