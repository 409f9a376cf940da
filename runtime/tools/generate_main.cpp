// svdit generate: sample a video's latents with the DiT of any registered model family (model_family.h), dense or
// with a sparse plan.

#include <ATen/ATen.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>

#include "svdit/cli/arg_parser.h"
#include "svdit/cli/video_options.h"
#include "svdit/data/plan.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/pixel_decoder.h"
#include "svdit/runtime/progress_bar.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/sparse_plan_attention.h"
#include "svdit/runtime/text_embeddings.h"
#include "svdit/runtime/tool_options.h"
#include "svdit/runtime/wan_model.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit generate",
                  "svdit generate (--weights PATH | --random-weights CONFIG) [--plan PLAN.json] [options]",
                  "Samples a video with a text-to-video DiT of any supported family (Wan2.1, CogVideoX1.5, HunyuanVideo;\n"
                  "its own sampler and guidance) and writes the final latents as safetensors (tensor \"latents\" in the\n"
                  "family's layout, Wan2.1 and HunyuanVideo [1, C, T, H, W], CogVideoX [1, T, C, H, W], fp32; settings\n"
                  "in the metadata). With --plan, self-attention runs the plan's per-head sparse patterns. Models whose\n"
                  "config declares a pixel decoder also get PNG frames (<out>_frame_NNNN.png). Text conditioning\n"
                  "comes precomputed (the text encoders are out of scope): a safetensors file with [tokens, text_dim]\n"
                  "(HunyuanVideo: prompt_embeds, pooled_prompt_embeds and optionally prompt_attention_mask); a model\n"
                  "whose config names a text encoder (the demo model: \"demo-words\") takes --prompt as text.");
  rt::add_model_options(p);
  p.option("plan", "PLAN.json", "sparse attention plan (svdit search); without it attention is dense");
  cli::add_video_size_options(p, rt::kAnyFamilyVideoSize);
  rt::add_sampling_options(p);
  p.option("prompt", "TEXT", "the prompt: its text for a model with a text encoder (the demo model's words, e.g.\n"
           "\"red circle bounce checker static\"), else an embeddings file FILE[:KEY]");
  p.option("negative-prompt", "TEXT", "the negative prompt, the same way (default: empty, all rows zero)");
  p.option("embeddings", "FILE[:KEY]", "text embeddings of the prompt (default: an empty prompt, all rows zero)");
  p.option("negative-embeddings", "FILE[:KEY]", "text embeddings of the negative prompt (default: all rows zero)");
  p.option("out", "FILE", "output latents (.safetensors)", "latents.safetensors");
  rt::add_device_options(p);
  p.flag("quiet", "no progress bar");
  return p;
}

std::string fixed(double value, int digits) {
  std::ostringstream s;
  s.precision(digits);
  s << std::fixed << value;
  return s.str();
}

int run(const cli::ArgParser& args) {
  const rt::FamilyModelFromArgs loaded = rt::family_model_from_args(args);
  const rt::Model& model = *loaded.model;
  const cli::VideoSize video = rt::video_size_from_args(args, model);
  const rt::VideoGeometry geometry = model.video_geometry(video.frames, video.height, video.width);

  std::unique_ptr<rt::SparsePlanAttention> sparse;
  if (args.has("plan")) {
    sparse = std::make_unique<rt::SparsePlanAttention>(svdit::data::read_plan(args.get("plan")), model.plan_model(),
                                                       model.token_layout(geometry), args.get("plan"));
  }

  if (args.has("prompt") && args.has("embeddings")) {
    throw cli::UsageError("give at most one of --prompt and --embeddings");
  }
  if (args.has("negative-prompt") && args.has("negative-embeddings")) {
    throw cli::UsageError("give at most one of --negative-prompt and --negative-embeddings");
  }
  const bool has_prompt = args.has("prompt") || args.has("embeddings");
  const bool has_negative = args.has("negative-prompt") || args.has("negative-embeddings");
  const rt::TextSpec text = model.text_spec();
  const rt::TextInputs context = args.has("prompt")       ? rt::prompt_text_inputs(args.get("prompt"), text)
                                 : args.has("embeddings") ? rt::load_text_inputs(args.get("embeddings"), text)
                                                          : rt::zero_text_inputs(text);
  // Without a negative prompt, classifier-free guidance conditions the unconditional branch on zero rows (Wan2.1,
  // CogVideoX1.5); a guidance-distilled family (HunyuanVideo) then runs its embedded guidance alone, as its
  // pipeline does without a negative prompt.
  const rt::TextInputs negative =
      args.has("negative-prompt")       ? rt::prompt_text_inputs(args.get("negative-prompt"), text)
      : args.has("negative-embeddings") ? rt::load_text_inputs(args.get("negative-embeddings"), text)
      : text.embedded_guidance          ? rt::TextInputs()
                                        : rt::zero_text_inputs(text);

  const rt::SamplingOptions options = rt::sampling_options_from_args(args, model);

  std::fprintf(stderr, "model   %s\nweights %s\ndevice  %s, compute %s\nvideo   %lld frames %lld×%lld → latents %lld×%lld×%lld, %lld tokens\n",
               model.describe().c_str(), loaded.label.c_str(), loaded.device.str().c_str(),
               c10::toString(model.compute_dtype()), static_cast<long long>(video.frames),
               static_cast<long long>(video.height), static_cast<long long>(video.width),
               static_cast<long long>(geometry.latent_frames), static_cast<long long>(geometry.latent_height),
               static_cast<long long>(geometry.latent_width), static_cast<long long>(geometry.tokens()));
  const bool classifier_free = text.embedded_guidance ? options.true_cfg > 1.0 && has_negative : options.guidance != 1.0;
  std::fprintf(stderr, "attention %s\nsampler %s, %lld steps, shift %g, %s %g%s, seed %llu%s%s\n",
               sparse ? ("sparse plan " + args.get("plan") + ", mean block density at step 0: " +
                         fixed(sparse->step_block_density(0), 3)).c_str()
                      : "dense",
               options.sampler.c_str(), static_cast<long long>(options.steps), options.shift,
               text.embedded_guidance ? "embedded guidance" : "guidance", options.guidance,
               text.embedded_guidance && classifier_free ? (", true CFG " + fixed(options.true_cfg, 2)).c_str() : "",
               static_cast<unsigned long long>(options.seed),
               has_prompt ? "" : "\nnote    no --prompt/--embeddings: conditioning on an empty prompt (zero rows)",
               has_negative || !classifier_free
                   ? ""
                   : "\nnote    no --negative-prompt/--negative-embeddings: the unconditional branch uses zero rows");

  rt::ProgressBar bar(options.steps, "step");
  rt::SamplingHooks hooks;
  hooks.attention = sparse.get();
  if (!args.flag_set("quiet")) {
    hooks.on_step = [&](const rt::StepReport& r) {
      bar.update(r.step + 1, r.seconds, "σ " + fixed(r.sigma, 3) + ", t " + std::to_string(r.timestep));
    };
  }
  const auto started = std::chrono::steady_clock::now();
  const at::Tensor latents =
      rt::sample_video(model, geometry, rt::Conditioning{context, negative}, options, hooks);  // the family's layout
  rt::synchronize(loaded.device);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!args.flag_set("quiet")) bar.finish();

  const std::filesystem::path out = args.get("out");
  std::map<std::string, std::string> meta = {
      {"model", model.plan_model().name},
      {"family", model.family()},
      {"weights", loaded.label},
      {"frames", std::to_string(video.frames)},
      {"height", std::to_string(video.height)},
      {"width", std::to_string(video.width)},
      {"steps", std::to_string(options.steps)},
      {"shift", fixed(options.shift, 6)},
      {"guidance", fixed(options.guidance, 6)},
      {"true_cfg", fixed(options.true_cfg, 6)},
      {"seed", std::to_string(options.seed)},
      {"sampler", options.sampler},
      {"attention", sparse ? "plan " + args.get("plan") : "dense"},
      {"embeddings", args.has("prompt")       ? "prompt: " + args.get("prompt")
                     : args.has("embeddings") ? args.get("embeddings")
                                              : "(empty prompt)"},
      {"device", loaded.device.str()},
      {"dtype", c10::toString(model.compute_dtype())},
      {"seconds", fixed(seconds, 3)},
  };
  rt::save_latents(out, latents, meta);
  std::fprintf(stderr, "wrote   %s (%s) in %.2f s (%.3f s/step)\n", out.c_str(), c10::str(latents.sizes()).c_str(),
               seconds, seconds / static_cast<double>(options.steps));

  const auto* wan = dynamic_cast<const rt::WanModel*>(&model);  // pixel decoders are declared by Wan configs only
  if (const std::unique_ptr<rt::PixelDecoder> decoder = wan ? rt::make_pixel_decoder(wan->config()) : nullptr) {
    std::filesystem::path prefix = out;
    prefix.replace_extension();
    const auto frames = rt::write_png_frames(*decoder, latents, prefix.string() + "_frame");
    std::fprintf(stderr, "wrote   %zu PNG frames (%s … ) with the %s decoder\n", frames.size(),
                 frames.empty() ? "" : frames.front().c_str(), decoder->name().c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
