#include "svdit/analyzer/options.h"

#include <charconv>
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

const char* const kUsage =
    "usage: svdit analyze [PROFILE.h5] [PLAN.json] [options]\n"
    "\n"
    "Opens a profile (and a plan for it) in the interactive analyzer: the layer x head grid of the plan's\n"
    "patterns, each head's attention map with its pattern's block layout, the candidates' error and cost,\n"
    "manual edits with undo/redo, the speed/quality trade-off with live re-search, and export.\n"
    "Without a plan the analyzer starts from the dense plan of the profile's model.\n"
    "\n"
    "headless (renders one frame, writes a PNG and exits; needs an X display, e.g. xvfb-run -a):\n"
    "  --screenshot OUT.png   the PNG to write\n"
    "  --view grid|map|tradeoff   which view (default grid)\n"
    "  --step N               sampler step to show (a profiled one; default: the first the plan runs sparse)\n"
    "  --layer L --head H     the head the map view shows (default 0 0)\n"
    "  --size WxH             frame size in pixels (default 1280x800)\n"
    "  --report OUT.json      also write where the view drew what (used by the screenshot tests)\n"
    "  --frames N             frames rendered before the capture (default 3); prints the mean frame time\n"
    "\n"
    "  -h, --help             this text\n"
    "\n"
    "exit status: 0 on success, 1 when a file is unreadable or invalid (the message names the file and the\n"
    "object), 2 on a usage error.\n";

namespace {

int64_t parse_int(const std::string& option, const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) {
    throw UsageError(option + " expects an integer, got '" + text + "'");
  }
  if (v < min || v > max) {
    throw UsageError(option + " must be in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + text);
  }
  return v;
}

}  // namespace

Options parse_options(const std::vector<std::string>& args) {
  Options o;
  auto value = [&](size_t& i) -> const std::string& {
    if (i + 1 >= args.size()) throw UsageError(args[i] + " needs a value");
    return args[++i];
  };
  std::vector<std::filesystem::path> files;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "--screenshot") {
      o.screenshot = value(i);
    } else if (a == "--report") {
      o.report = value(i);
    } else if (a == "--view") {
      const std::string& v = value(i);
      if (v == "grid") {
        o.view = View::grid;
      } else if (v == "map") {
        o.view = View::map;
      } else if (v == "tradeoff") {
        o.view = View::tradeoff;
      } else {
        throw UsageError("--view expects grid, map or tradeoff, got '" + v + "'");
      }
    } else if (a == "--step") {
      o.step = parse_int(a, value(i), 0, INT64_MAX);
    } else if (a == "--layer") {
      o.layer = parse_int(a, value(i), 0, INT64_MAX);
    } else if (a == "--head") {
      o.head = parse_int(a, value(i), 0, INT64_MAX);
    } else if (a == "--frames") {
      o.frames = static_cast<int>(parse_int(a, value(i), 1, 100000));
    } else if (a == "--size") {
      const std::string& v = value(i);
      const size_t x = v.find('x');
      if (x == std::string::npos) throw UsageError("--size expects WxH, e.g. 1280x800, got '" + v + "'");
      o.width = static_cast<int>(parse_int("--size width", v.substr(0, x), 320, 8192));
      o.height = static_cast<int>(parse_int("--size height", v.substr(x + 1), 240, 8192));
    } else if (!a.empty() && a.front() == '-') {
      throw UsageError("unknown option " + a);
    } else {
      files.emplace_back(a);
    }
  }
  for (const auto& f : files) {
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
