// Checks a screenshot of `svdit analyze --screenshot OUT.png --report OUT.json` against what the view must
// show, derived independently from the profile and plan through the analyzer's model (the same colour
// functions, not colours written down here):
//   grid      every (layer, head) cell shows the colour of the plan's pattern for that head at the step;
//   map       every cell of the attention map shows the heat colour of its pooled value on the fitted log
//             scale, the map holds many distinct values, and so does the frame-to-frame map;
//   tradeoff  the frontier's points and the current plan's marker are drawn in their colours.
// usage: svdit-analyze-check PNG REPORT PROFILE [PLAN] --view V --size WxH [--layer L --head H]
// Exit 0 when everything holds; 1 with one line per failure otherwise; 2 on a usage error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "svdit/analyzer/colormap.h"
#include "svdit/analyzer/image.h"
#include "svdit/analyzer/metrics.h"
#include "svdit/analyzer/overlay.h"
#include "svdit/analyzer/plan_edit.h"
#include "svdit/cli/arg_parser.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/plan.h"
#include "svdit/data/profile_reader.h"

using namespace svdit;
using namespace svdit::analyzer;
namespace cli = svdit::cli;
using nlohmann::json;

namespace {

int failures = 0;

void fail(const std::string& what) {
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  ++failures;
}

std::string hex(const Rgba8& c) {
  char b[16];
  std::snprintf(b, sizeof b, "#%02x%02x%02x", c.r, c.g, c.b);
  return b;
}

bool same_rgb(const Rgba8& a, const Rgba8& b) { return a.r == b.r && a.g == b.g && a.b == b.b; }

Rgba8 pixel(const Image& img, double x, double y) {
  return img.at(std::clamp(static_cast<int>(std::floor(x)), 0, img.width - 1),
                std::clamp(static_cast<int>(std::floor(y)), 0, img.height - 1));
}

void check_grid(const Image& img, const json& g, const data::ProfileReader& profile, const data::Plan& plan) {
  const ProfileView view = ProfileView::of(profile, nullptr);  // colours only: no times needed
  const CandidateIndex index(view, plan);
  const auto step = g.at("sampler_step").get<int64_t>();
  const double x = g.at("x"), y = g.at("y"), cell = g.at("cell"), gap = g.at("gap");
  if (g.at("layers") != profile.meta().layers || g.at("heads") != profile.meta().heads) fail("grid: wrong shape");
  if (cell < 8) fail("grid: cells of " + std::to_string(cell) + " px are too small to check");
  std::set<uint32_t> expected_colours;
  int checked = 0;
  for (int64_t l = 0; l < profile.meta().layers; ++l) {
    for (int64_t h = 0; h < profile.meta().heads; ++h) {
      const Rgba8 want = plan_colour(plan, index, plan.pattern_for(step, l, h));
      expected_colours.insert(want.packed());
      // Half-way across, a fifth down: clear of the selection frame, the cell gap and a skip cell's cross.
      const double px = x + static_cast<double>(h) * cell + 0.5 * (cell - gap);
      const double py = y + static_cast<double>(l) * cell + 0.2 * (cell - gap);
      const Rgba8 got = pixel(img, px, py);
      if (!same_rgb(got, want)) {
        fail("grid: layer " + std::to_string(l) + " head " + std::to_string(h) + " shows " + hex(got) + ", expected " +
             hex(want));
      }
      ++checked;
    }
  }
  std::printf("grid: %d cells checked, %zu pattern colours\n", checked, expected_colours.size());
  if (expected_colours.size() < 2) fail("grid: the step shows fewer than two patterns; nothing is really checked");
}

// Checks a heat map report against `values` (rows × cols); returns the number of distinct colours seen.
size_t check_heatmap(const Image& img, const json& m, const std::vector<float>& values, int64_t cols, int64_t rows,
                     const std::vector<double>& lines, const char* name) {
  if (m.at("cols") != cols || m.at("rows") != rows) fail(std::string(name) + ": wrong shape");
  const LogScale scale = LogScale::fit(values);
  if (std::abs(m.at("lo").get<double>() - scale.lo) > 1e-12 * scale.hi || std::abs(m.at("hi").get<double>() - scale.hi) > 1e-12 * scale.hi) {
    fail(std::string(name) + ": colour scale differs from the fitted one");
  }
  const auto v = m.at("view");
  if (v[0] != 0.0 || v[1] != 0.0 || v[2] != static_cast<double>(cols) || v[3] != static_cast<double>(rows)) {
    fail(std::string(name) + ": the screenshot should show the whole map");
  }
  const double x = m.at("x"), y = m.at("y"), w = m.at("w"), h = m.at("h");
  const double cw = w / static_cast<double>(cols), ch = h / static_cast<double>(rows);
  if (cw < 6 || ch < 6) fail(std::string(name) + ": cells too small to check");
  std::set<uint32_t> seen;
  int checked = 0;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      // A point of the cell at least 3 px from its edges and from every frame line.
      double px = -1, py = -1;
      for (double fy : {0.5, 0.3, 0.7}) {
        for (double fx : {0.5, 0.3, 0.7}) {
          const double cx = static_cast<double>(c) + fx, cy = static_cast<double>(r) + fy;
          const bool clear = std::all_of(lines.begin(), lines.end(), [&](double l) {
            return std::abs(l - cx) * cw >= 3 && std::abs(l - cy) * ch >= 3;
          });
          if (clear && px < 0) px = x + cx * cw, py = y + cy * ch;
        }
      }
      if (px < 0) continue;
      const Rgba8 want = heat_colour(scale.normalise(values[static_cast<size_t>(r * cols + c)]));
      const Rgba8 got = pixel(img, px, py);
      seen.insert(got.packed());
      if (!same_rgb(got, want)) {
        fail(std::string(name) + ": cell (" + std::to_string(r) + ", " + std::to_string(c) + ") shows " + hex(got) +
             ", expected " + hex(want));
      }
      ++checked;
    }
  }
  if (checked < cols * rows * 3 / 4) fail(std::string(name) + ": fewer than 3/4 of the cells could be checked");
  std::printf("%s: %d of %lld cells checked, %zu distinct colours\n", name, checked,
              static_cast<long long>(cols * rows), seen.size());
  return seen.size();
}

// The layout overlay: every contour segment of the head's pattern (computed here from the plan, overlay.h) must
// be drawn where the report's map rectangle puts it — its midpoint pixel cyan, a hue the heat ramp and the
// white frame lines never take.
void check_overlay(const Image& img, const json& m, const data::Plan& plan, const data::ProfileMeta& meta) {
  const auto step = meta.steps.at(static_cast<size_t>(m.at("step").get<int64_t>()));
  const auto id = plan.pattern_for(step, m.at("layer").get<int64_t>(), m.at("head").get<int64_t>());
  const data::Pattern pattern = id ? plan.find_pattern(*id)->pattern : data::make_pattern({data::dense_component()});
  const PatternOverlay overlay = make_overlay(data::compile_pattern(pattern, meta.layout));
  const double x = m.at("x"), y = m.at("y"), w = m.at("w"), h = m.at("h");
  const double cw = w / static_cast<double>(overlay.blocks), ch = h / static_cast<double>(overlay.blocks);
  int cyan = 0, total = 0;
  for (const Segment& seg : overlay.contour) {
    // The line is 2 px wide across the edge, and clipped to the map: look on both sides of the edge.
    const bool vertical = seg.x0 == seg.x1;
    bool found = false;
    for (double d : {-1.0, 0.0, 1.0}) {
      const Rgba8 c = pixel(img, x + 0.5 * (seg.x0 + seg.x1) * cw + (vertical ? d : 0.0),
                            y + 0.5 * (seg.y0 + seg.y1) * ch + (vertical ? 0.0 : d));
      found = found || (c.g > c.r + 60 && c.b > c.r + 60);
    }
    ++total;
    if (found) ++cyan;
  }
  std::printf("overlay of %s: %d of %d contour segments drawn\n", data::describe(pattern).c_str(), cyan, total);
  if (total == 0 || cyan < total * 9 / 10) fail("map: the layout overlay is not where the pattern's blocks are");
}

void check_tradeoff(const Image& img, const json& t) {
  const auto& front = t.at("frontier");
  if (front.size() < 3) fail("tradeoff: fewer than 3 frontier points visible");
  if (t.at("current").is_null()) {
    fail("tradeoff: no current plan marker");
    return;
  }
  const double cx = t.at("current")[0], cy = t.at("current")[1], r = t.at("current_marker");
  if (!same_rgb(pixel(img, cx, cy), current_plan_colour())) {
    fail("tradeoff: current plan marker shows " + hex(pixel(img, cx, cy)) + ", expected " + hex(current_plan_colour()));
  }
  int checked = 0;
  for (const auto& p : front) {
    const double px = p[0], py = p[1];
    if (std::hypot(px - cx, py - cy) < r + 6) continue;  // under the current plan's marker
    const Rgba8 got = pixel(img, px, py);
    if (!same_rgb(got, frontier_colour())) {
      fail("tradeoff: frontier point at (" + std::to_string(px) + ", " + std::to_string(py) + ") shows " + hex(got));
    }
    ++checked;
  }
  std::printf("tradeoff: %d frontier points checked, current plan marker checked\n", checked);
  if (checked < 3) fail("tradeoff: fewer than 3 frontier points could be checked");
}

int check(const cli::ArgParser& args) {
  const std::vector<std::string>& positional = args.positional();
  if (positional.size() < 3 || positional.size() > 4) {
    throw cli::UsageError("expected PNG REPORT PROFILE [PLAN], found " + std::to_string(positional.size()) + " files");
  }
  const std::string view = args.get("view");
  if (view != "grid" && view != "map" && view != "tradeoff") {
    throw cli::UsageError("--view: expected grid, map or tradeoff, found \"" + view + "\"");
  }
  const cli::PixelSize size = cli::parse_pixel_size("--size", args.get("size"));
  const auto width = static_cast<int>(size.width), height = static_cast<int>(size.height);
  const int64_t layer = args.has("layer") ? args.get_int("layer") : -1;
  const int64_t head = args.has("head") ? args.get_int("head") : -1;
  try {
    const Image img = read_png(positional[0]);
    std::ifstream in(positional[1]);
    const json report = json::parse(in);
    const data::ProfileReader profile = data::ProfileReader::open(positional[2]);
    const data::Plan plan = positional.size() == 4
                                ? data::read_plan(positional[3])
                                : make_dense_plan(profile.meta(), profile.candidates(), json::object());

    if (img.width != width || img.height != height) {
      fail("image is " + std::to_string(img.width) + "x" + std::to_string(img.height) + ", expected " +
           std::to_string(width) + "x" + std::to_string(height));
    }
    if (report.at("size") != json{width, height}) fail("report size differs");
    if (report.at("view") != view) fail("report is of view " + report.at("view").dump() + ", expected " + view);
    std::set<uint32_t> all;
    for (size_t i = 0; i + 3 < img.rgba.size(); i += 4) all.insert(Rgba8{img.rgba[i], img.rgba[i + 1], img.rgba[i + 2], 255}.packed());
    std::printf("image %dx%d, %zu distinct colours\n", img.width, img.height, all.size());
    if (all.size() < 16) fail("the image is nearly blank");

    if (view == "grid") {
      if (!report.contains("grid")) fail("no grid drawn");
      else check_grid(img, report["grid"], profile, plan);
    } else if (view == "map") {
      if (!report.contains("map") || !report.contains("frame_map")) {
        fail("no attention map or frame map drawn");
      } else {
        const json& m = report["map"];
        if (layer >= 0 && (m.at("layer") != layer || m.at("head") != head)) fail("the map shows another head");
        const auto s = m.at("step").get<int64_t>(), l = m.at("layer").get<int64_t>(), h = m.at("head").get<int64_t>();
        const auto lines = m.at("frame_lines").get<std::vector<double>>();
        const size_t distinct = check_heatmap(img, m, profile.pooled_map(s, l, h), profile.num_blocks(),
                                              profile.num_blocks(), lines, "map");
        const auto g = profile.num_blocks();
        if (distinct < static_cast<size_t>(std::min<int64_t>(g * g / 2, 40))) {
          fail("map: only " + std::to_string(distinct) + " distinct values shown");
        }
        if (m.at("overlay") == "contour") {
          check_overlay(img, m, plan, profile.meta());
        } else {
          fail("map: expected the overlay drawn as a contour at this size, the report says " + m.at("overlay").dump());
        }
        const int64_t f = profile.meta().layout.frames;
        check_heatmap(img, report["frame_map"], profile.frame_map(s, l, h), f, f, {}, "frame map");
      }
    } else {  // tradeoff
      if (!report.contains("tradeoff")) fail("no trade-off plot drawn");
      else check_tradeoff(img, report["tradeoff"]);
    }
  } catch (const std::exception& e) {
    fail(e.what());
  }
  if (failures > 0) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args("svdit-analyze-check", "svdit-analyze-check PNG REPORT PROFILE [PLAN] --view V --size WxH "
                      "[--layer L --head H]",
                      "Checks a screenshot of svdit analyze --screenshot PNG --report REPORT against what the\n"
                      "view must show, derived from PROFILE and PLAN (default: the profile's dense plan) through\n"
                      "the analyzer's model. Exit 0 when everything holds; 1 with one line per failure otherwise;\n"
                      "2 on a usage error.");
  args.option("view", "V", "the view the screenshot shows: grid, map or tradeoff");
  args.option("size", "WxH", "the screenshot's size in pixels");
  args.option("layer", "L", "map view: the layer of the head it must show");
  args.option("head", "H", "map view: the head it must show");
  return cli::run_tool(args, argc, argv, check);
}
