// svdit compare: PSNR and SSIM between two outputs of svdit generate (e.g. dense vs a sparse plan).

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <set>
#include <string>

#include "svdit/cli/arg_parser.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/video_metrics.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit compare", "svdit compare REFERENCE.safetensors CANDIDATE.safetensors [--json]",
                  "Compares two outputs of svdit generate (the final latents) and prints PSNR (data range = the\n"
                  "reference's max − min) and SSIM (11×11 Gaussian window per frame and channel), plus the MSE and\n"
                  "the largest absolute difference. Settings that differ between the two runs besides the\n"
                  "attention (seed, steps, model, …) are listed, since they make the comparison meaningless.");
  p.flag("json", "print one JSON object instead of text");
  return p;
}

int run(const cli::ArgParser& args) {
  if (args.positional().size() != 2) {
    throw cli::UsageError("expected two files (reference, candidate), found " +
                          std::to_string(args.positional().size()));
  }
  const rt::LatentsFile a = rt::load_latents(args.positional()[0]);
  const rt::LatentsFile b = rt::load_latents(args.positional()[1]);
  const rt::VideoComparison r = rt::compare_videos(a.latents, b.latents);

  // Settings that must agree for the numbers to measure the attention alone.
  static const std::set<std::string> kIgnored = {"attention", "seconds", "device", "format"};
  std::string differing;
  for (const auto& [key, value] : a.metadata) {
    if (kIgnored.contains(key)) continue;
    const auto it = b.metadata.find(key);
    if (it != b.metadata.end() && it->second != value) {
      differing += (differing.empty() ? "" : "; ") + key + ": " + value + " vs " + it->second;
    }
  }
  if (args.flag_set("json")) {
    std::printf("{\"psnr_db\": %s, \"ssim\": %.6f, \"mse\": %.6g, \"max_abs_diff\": %.6g, \"data_range\": %.6g}\n",
                std::isinf(r.psnr) ? "\"inf\"" : std::to_string(r.psnr).c_str(), r.ssim, r.mse, r.max_abs_diff,
                r.data_range);
  } else {
    std::printf("reference  %s  (%s)\ncandidate  %s  (%s)\n", args.positional()[0].c_str(),
                a.metadata.contains("attention") ? a.metadata.at("attention").c_str() : "?",
                args.positional()[1].c_str(), b.metadata.contains("attention") ? b.metadata.at("attention").c_str() : "?");
    std::printf("PSNR %.2f dB   SSIM %.4f   (MSE %.4g, max |diff| %.4g, data range %.4g, shape %s)\n", r.psnr,
                r.ssim, r.mse, r.max_abs_diff, r.data_range, c10::str(a.latents.sizes()).c_str());
  }
  if (!differing.empty()) std::fprintf(stderr, "warning: the runs differ in more than attention: %s\n", differing.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
