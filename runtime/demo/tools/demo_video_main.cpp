// svdit demo-video: render the demo model's ground-truth videos (the procedural generator) as a PNG strip.

#include <cstdio>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/cli/video_options.h"
#include "svdit/data/png.h"
#include "svdit/demo/video_generator.h"
#include "svdit/runtime/demo_words.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;
namespace demo = svdit::demo;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit demo-video", "svdit demo-video (--prompt \"TEXT[; TEXT…]\" | --random N) --out STRIP.png [options]",
                  "Renders videos of the demo model's procedural generator (the training data) as one PNG: a row per\n"
                  "video, its frames left to right. A prompt is: colour shape motion [colour shape motion] background\n"
                  "camera, e.g. \"red circle bounce checker static\"; the rest (positions, sizes, speeds, tones) comes\n"
                  "from --seed (row i uses seed + i).\nVocabulary: " + rt::describe_demo_vocabulary());
  p.option("prompt", "TEXT", "one or more prompts separated by ';'");
  p.option("random", "N", "N random scenes instead (their prompts are printed)");
  p.option("seed", "N", "seed of the first row", "0");
  cli::add_video_size_options(p, {{"12", ""}, {"96", ""}, {"128", ""}});  // the demo model's training videos
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

int run(const cli::ArgParser& args) {
  if (args.has("prompt") == args.has("random")) throw cli::UsageError("give exactly one of --prompt and --random");
  const cli::VideoSize size = cli::video_size_from_args(args);
  const demo::VideoSize vs{size.frames, size.height, size.width};
  const uint64_t seed = args.get_u64("seed");
  std::vector<std::vector<uint8_t>> videos;
  if (args.has("prompt")) {
    const std::vector<std::string> prompts = split_prompts(args.get("prompt"));
    if (prompts.empty()) throw cli::UsageError("--prompt: no prompt given");
    for (size_t i = 0; i < prompts.size(); ++i) {
      videos.push_back(demo::render_video(demo::scene_for_prompt(prompts[i], seed + i, vs), vs));
    }
  } else {
    const int64_t n = args.get_int("random");
    if (n <= 0) throw cli::UsageError("--random: expected a positive count");
    for (int64_t i = 0; i < n; ++i) {
      const demo::SceneSpec scene = demo::random_scene(seed + static_cast<uint64_t>(i), vs);
      std::printf("%lld: %s\n", static_cast<long long>(i), demo::scene_prompt(scene).c_str());
      videos.push_back(demo::render_video(scene, vs));
    }
  }
  const demo::Image strip = demo::video_strip(videos, vs);
  svdit::data::write_png(args.get("out"), strip.rgb, strip.width, strip.height);
  std::fprintf(stderr, "wrote   %s (%lld×%lld, %zu videos)\n", args.get("out").c_str(),
               static_cast<long long>(strip.width), static_cast<long long>(strip.height), videos.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
