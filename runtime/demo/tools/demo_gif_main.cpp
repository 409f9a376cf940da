// svdit demo-gif: the demo's side-by-side animation — dense | sparse | magnified difference — as a looping GIF,
// from two latents files of svdit generate (the demo model's pixel-unshuffle "VAE" decodes them exactly).

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/demo/gif.h"
#include "svdit/demo/trainer.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/pixel_unshuffle.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;
namespace demo = svdit::demo;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit demo-gif", "svdit demo-gif DENSE.safetensors SPARSE.safetensors --out SIDE.gif [options]",
                   "Writes a looping animated GIF of two demo-model videos side by side with their difference:\n"
                   "left the first (dense), middle the second (sparse), right |first − second| per channel times\n"
                   "--magnify (clipped to 255), so that small differences show. Frames are decoded with the demo\n"
                   "model's pixel-unshuffle VAE; each panel is scaled up by --scale (nearest neighbour).");
  p.option("out", "FILE", "output GIF");
  p.option("magnify", "K", "factor of the difference panel", "4");
  p.option("scale", "N", "pixel scale of every panel", "2");
  p.option("delay", "MS", "per frame", "250");
  return p;
}

int run(const cli::ArgParser& args) {
  if (args.positional().size() != 2) {
    throw cli::UsageError("expected two latents files (dense, sparse), got " + std::to_string(args.positional().size()));
  }
  const rt::WanConfig config = demo::demo_model_config();
  std::vector<at::Tensor> videos;  // [T, H, W, 3] uint8
  for (const std::string& path : args.positional()) {
    videos.push_back(rt::pixel_unshuffle_decode(rt::load_latents(path).latents, config.vae_stride[1],
                                                config.vae_stride[2])[0].contiguous());
  }
  if (videos[0].sizes() != videos[1].sizes()) {
    throw cli::UsageError("the videos differ in size: " + c10::str(videos[0].sizes()) + " and " +
                          c10::str(videos[1].sizes()));
  }
  const double magnify = args.get_double("magnify");
  const int64_t scale = args.get_int("scale", 1, 8), delay = args.get_int("delay", 10, 10000);
  const int64_t T = videos[0].size(0), H = videos[0].size(1), W = videos[0].size(2), gap = 4;
  const at::Tensor diff = at::clamp(
      (videos[0].to(at::kFloat) - videos[1].to(at::kFloat)).abs() * magnify, 0, 255).round().to(at::kByte);
  const std::vector<at::Tensor> panels = {videos[0], videos[1], diff};
  const int64_t w = 3 * W * scale + 2 * gap, h = H * scale;
  std::vector<std::vector<uint8_t>> frames;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<uint8_t> f(static_cast<size_t>(w * h * 3), 255);  // white gaps
    for (size_t k = 0; k < panels.size(); ++k) {
      const uint8_t* src = panels[k][t].contiguous().const_data_ptr<uint8_t>();
      const int64_t x0 = static_cast<int64_t>(k) * (W * scale + gap);
      for (int64_t y = 0; y < h; ++y) {
        for (int64_t x = 0; x < W * scale; ++x) {
          const uint8_t* p = src + ((y / scale) * W + x / scale) * 3;
          std::copy(p, p + 3, f.data() + (y * w + x0 + x) * 3);
        }
      }
    }
    frames.push_back(std::move(f));
  }
  demo::write_gif(args.get("out"), frames, w, h, {.delay_cs = static_cast<int>(delay / 10), .loop = true});
  std::fprintf(stderr, "wrote   %s (%lld×%lld, %lld frames: dense | sparse | |difference| × %g)\n",
               args.get("out").c_str(), static_cast<long long>(w), static_cast<long long>(h),
               static_cast<long long>(T), magnify);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
