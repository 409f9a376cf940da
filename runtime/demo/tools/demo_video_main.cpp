// svdit demo-video: render the demo model's ground-truth videos (the procedural generator) as a PNG strip.

#include <cstdio>
#include <string>
#include <vector>

#include "svdit/demo/video_generator.h"
#include "svdit/runtime/cli_args.h"
#include "svdit/runtime/demo_words.h"
#include "svdit/runtime/png.h"

namespace rt = svdit::runtime;
namespace demo = svdit::demo;

namespace {

rt::ArgParser make_parser() {
  rt::ArgParser p("svdit demo-video", "svdit demo-video (--prompt \"TEXT[; TEXT…]\" | --random N) --out STRIP.png [options]",
                  "Renders videos of the demo model's procedural generator (the training data) as one PNG: a row per\n"
                  "video, its frames left to right. A prompt is: colour shape motion [colour shape motion] background\n"
                  "camera, e.g. \"red circle bounce checker static\"; the rest (positions, sizes, speeds, tones) comes\n"
                  "from --seed (row i uses seed + i).\nVocabulary: " + rt::describe_demo_vocabulary());
  p.option("prompt", "TEXT", "one or more prompts separated by ';'");
  p.option("random", "N", "N random scenes instead (their prompts are printed)");
  p.option("seed", "N", "seed of the first row", "0");
  p.option("frames", "N", "frames", "12");
  p.option("height", "PX", "height", "64");
  p.option("width", "PX", "width", "96");
  p.option("out", "FILE", "output PNG");
  return p;
}

std::vector<std::string> split_prompts(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t end = text.find(';', start);
    const std::string part = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.find_first_not_of(" \t") != std::string::npos) out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

int run(const rt::ArgParser& args) {
  if (args.has("prompt") == args.has("random")) {
    throw rt::UsageError("svdit demo-video: give exactly one of --prompt and --random");
  }
  const demo::VideoSize vs{args.get_int("frames"), args.get_int("height"), args.get_int("width")};
  if (vs.frames <= 0 || vs.height <= 0 || vs.width <= 0) {
    throw rt::UsageError("svdit demo-video: --frames, --height and --width must be positive");
  }
  const uint64_t seed = args.get_u64("seed");
  std::vector<std::vector<uint8_t>> videos;
  if (args.has("prompt")) {
    const std::vector<std::string> prompts = split_prompts(args.get("prompt"));
    if (prompts.empty()) throw rt::UsageError("svdit demo-video: --prompt: no prompt given");
    for (size_t i = 0; i < prompts.size(); ++i) {
      videos.push_back(demo::render_video(demo::scene_for_prompt(prompts[i], seed + i, vs), vs));
    }
  } else {
    const int64_t n = args.get_int("random");
    if (n <= 0) throw rt::UsageError("svdit demo-video: --random: expected a positive count");
    for (int64_t i = 0; i < n; ++i) {
      const demo::SceneSpec scene = demo::random_scene(seed + static_cast<uint64_t>(i), vs);
      std::printf("%lld: %s\n", static_cast<long long>(i), demo::scene_prompt(scene).c_str());
      videos.push_back(demo::render_video(scene, vs));
    }
  }
  const demo::Image strip = demo::video_strip(videos, vs);
  rt::write_png(args.get("out"), strip.rgb, strip.width, strip.height);
  std::fprintf(stderr, "wrote   %s (%lld×%lld, %zu videos)\n", args.get("out").c_str(),
               static_cast<long long>(strip.width), static_cast<long long>(strip.height), videos.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  rt::ArgParser args = make_parser();
  return rt::run_tool(args, argc, argv, run);
}
