// svdit demo-score: does the demo model follow its prompts? Scores videos per word category with the generator's
// own rules (runtime/demo/prompt_score.h): latents written by svdit generate, the generator's own videos (--truth,
// the check of the checks), or videos sampled here from the card's fixed prompts × seeds, dense or with a plan.

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "svdit/cli/arg_parser.h"
#include "svdit/cli/video_options.h"
#include "svdit/data/atomic_file.h"
#include "svdit/data/plan.h"
#include "svdit/demo/prompt_score.h"
#include "svdit/demo/trainer.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/pixel_unshuffle.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/sparse_plan_attention.h"
#include "svdit/runtime/text_embeddings.h"
#include "svdit/runtime/tool_options.h"
#include "svdit/runtime/wan_model.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;
namespace demo = svdit::demo;
using json = nlohmann::json;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit demo-score",
                   "svdit demo-score (LATENTS.safetensors… | --truth | --weights MODEL [--plan PLAN.json]) [options]",
                   "Scores demo videos for following their prompt, per word category (colour, shape, motion,\n"
                   "background, camera), with the procedural generator's own rules: colour masks, the best-matching\n"
                   "generator shape at each mask's centroid, centroid and size tracks, the background's tones and\n"
                   "stripe direction, and the background's frame-to-frame shift (runtime/demo/prompt_score.h).\n"
                   "Inputs: latents files of svdit generate (the prompt is read from their metadata unless --prompt\n"
                   "is given); or --truth, the generator's own videos of the fixed prompts (should score 100 %); or\n"
                   "--weights, which samples the fixed prompts × --seeds here (dense, or with --plan).");
  p.option("prompt", "TEXT", "the prompt of the latents files (default: from their metadata)");
  p.flag("truth", "score the generator's own videos of the fixed prompts × --seeds");
  rt::add_model_options(p);
  p.option("plan", "PLAN.json", "with --weights: sample with this sparse plan");
  p.option("seeds", "N", "with --truth/--weights: seeds 0 … N−1 per fixed prompt", "2");
  cli::add_video_size_options(p, {{"12", ""}, {"96", ""}, {"128", ""}});
  rt::add_sampling_options(p);
  rt::add_device_options(p);
  p.option("json", "FILE", "also write every video's result and the table as JSON");
  return p;
}

std::string mark(bool ok) { return ok ? "yes" : "NO"; }

json to_json(const demo::VideoScore& s) {
  json objects = json::array();
  for (const demo::ObjectScore& o : s.objects) {
    objects.push_back({{"colour", o.colour}, {"shape", o.shape}, {"shape_seen", o.shape_seen},
                       {"motion", o.motion}, {"motion_seen", o.motion_seen}});
  }
  return {{"objects", objects}, {"background", s.background}, {"background_seen", s.background_seen},
          {"camera", s.camera}, {"camera_seen", s.camera_seen}};
}

void print_video(const std::string& label, const std::string& prompt, const demo::VideoScore& s) {
  std::printf("%s  \"%s\"\n", label.c_str(), prompt.c_str());
  for (size_t k = 0; k < s.objects.size(); ++k) {
    const demo::ObjectScore& o = s.objects[k];
    std::printf("  object %zu: colour %s, shape %s (seen %s), motion %s (seen %s)\n", k + 1, mark(o.colour).c_str(),
                mark(o.shape).c_str(), o.shape_seen.empty() ? "-" : o.shape_seen.c_str(), mark(o.motion).c_str(),
                o.motion_seen.empty() ? "-" : o.motion_seen.c_str());
  }
  std::printf("  background %s (seen %s), camera %s (seen %s)\n", mark(s.background).c_str(),
              s.background_seen.empty() ? "-" : s.background_seen.c_str(), mark(s.camera).c_str(),
              s.camera_seen.empty() ? "-" : s.camera_seen.c_str());
}

std::vector<uint8_t> to_bytes(const at::Tensor& frames) {  // [T, H, W, 3] uint8 (B = 1 selected away)
  const at::Tensor c = frames.contiguous();
  return {c.const_data_ptr<uint8_t>(), c.const_data_ptr<uint8_t>() + c.numel()};
}

int run(const cli::ArgParser& args) {
  const bool truth = args.flag_set("truth"), sample = args.has("weights") || args.has("random-weights");
  const bool files = !args.positional().empty();
  if (static_cast<int>(truth) + static_cast<int>(sample) + static_cast<int>(files) != 1) {
    throw cli::UsageError("give exactly one of: latents files, --truth, --weights");
  }
  if (args.has("plan") && !sample) throw cli::UsageError("--plan needs --weights");
  demo::ScoreTally tally;
  json videos = json::array();
  auto record = [&](const std::string& label, const std::string& prompt, const demo::VideoScore& s) {
    print_video(label, prompt, s);
    tally.add(s);
    json j = to_json(s);
    j["video"] = label;
    j["prompt"] = prompt;
    videos.push_back(j);
  };

  if (files) {
    const rt::WanConfig config = demo::demo_model_config();
    for (const std::string& path : args.positional()) {
      const rt::LatentsFile f = rt::load_latents(path);
      std::string prompt = args.has("prompt") ? args.get("prompt") : "";
      if (prompt.empty()) {
        const auto it = f.metadata.find("embeddings");
        if (it == f.metadata.end() || !it->second.starts_with("prompt: ")) {
          throw cli::UsageError(path + ": metadata field \"embeddings\" holds no \"prompt: …\" (not written by svdit "
                                "generate --prompt); give --prompt");
        }
        prompt = it->second.substr(8);
      }
      const at::Tensor frames = rt::pixel_unshuffle_decode(f.latents, config.vae_stride[1], config.vae_stride[2])[0];
      const demo::VideoSize vs{frames.size(0), frames.size(1), frames.size(2)};
      record(path, prompt, demo::score_video(to_bytes(frames), vs, prompt));
    }
  } else {
    const cli::VideoSize size = cli::video_size_from_args(args);
    const demo::VideoSize vs{size.frames, size.height, size.width};
    const int64_t seeds = args.get_int("seeds", 1, 1000);
    std::unique_ptr<rt::WanModel> model;
    std::unique_ptr<rt::SparsePlanAttention> sparse;
    rt::SamplingOptions so;
    rt::VideoGeometry geometry;
    if (sample) {
      rt::ModelFromArgs loaded = rt::model_from_args(args);
      model = std::move(loaded.model);
      geometry = rt::video_geometry(model->config(), vs.frames, vs.height, vs.width);
      if (args.has("plan")) {
        sparse = std::make_unique<rt::SparsePlanAttention>(svdit::data::read_plan(args.get("plan")), model->config(),
                                                           rt::token_layout(geometry), args.get("plan"));
      }
      so = rt::sampling_options_from_args(args);
      std::fprintf(stderr, "sampling %lld prompts × %lld seeds, %s, %lld steps, guidance %g\n",
                   static_cast<long long>(demo::score_prompts().size()), static_cast<long long>(seeds),
                   sparse ? ("plan " + args.get("plan")).c_str() : "dense", static_cast<long long>(so.steps),
                   so.guidance);
    }
    const uint64_t seed0 = sample ? so.seed : 0;
    for (const std::string& prompt : demo::score_prompts()) {
      for (int64_t i = 0; i < seeds; ++i) {
        const uint64_t seed = seed0 + static_cast<uint64_t>(i);
        std::vector<uint8_t> video;
        if (sample) {
          rt::SamplingOptions o = so;
          o.seed = seed;
          rt::SamplingHooks hooks;
          hooks.attention = sparse.get();
          const rt::WanConfig& c = model->config();
          const at::Tensor latents = rt::sample_video(*model, geometry, rt::prompt_embeddings(prompt, c),
                                                      rt::prompt_embeddings("", c), o, hooks);
          video = to_bytes(rt::pixel_unshuffle_decode(latents.cpu(), c.vae_stride[1], c.vae_stride[2])[0]);
        } else {
          video = demo::render_video(demo::scene_for_prompt(prompt, seed, vs), vs);
        }
        record("seed " + std::to_string(seed), prompt, demo::score_video(video, vs, prompt));
      }
    }
  }

  std::printf("\nprompt following (%zu videos):", videos.size());
  json table;
  for (int c = 0; c < demo::kScoreCategories; ++c) {
    const auto cat = static_cast<demo::ScoreCategory>(c);
    const double pct = tally.percent(cat);
    std::printf("  %s %.0f%% (%lld/%lld)", demo::to_string(cat), pct, static_cast<long long>(tally.passed[c]),
                static_cast<long long>(tally.total[c]));
    table[demo::to_string(cat)] = {{"percent", std::isfinite(pct) ? json(pct) : json(nullptr)},
                                   {"passed", tally.passed[c]}, {"total", tally.total[c]}};
  }
  std::printf("\n");
  if (args.has("json")) {
    svdit::data::write_file_atomically(args.get("json"), json{{"table", table}, {"videos", videos}}.dump(2) + "\n");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
