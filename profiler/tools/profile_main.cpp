// svdit profile: run the DiT of any registered model family over prompts and record, per profiled step, layer and head, the error and
// recall of every candidate pattern, the attention maps, and the candidates' kernel cost (docs/PROFILER.md).

#include <ATen/ATen.h>

#include <cstdio>
#include <memory>
#include <string>

#include "svdit/cli/arg_parser.h"
#include "svdit/cli/video_options.h"
#include "svdit/data/pattern.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/profile_run.h"
#include "svdit/profiler/step_selection.h"
#include "svdit/runtime/text_embeddings.h"
#include "svdit/runtime/tool_options.h"
#include "svdit/runtime/model_family.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;
namespace pr = svdit::profiler;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p(
      "svdit profile",
      "svdit profile (--weights PATH | --random-weights CONFIG) --prompt P [--prompt P …] --out PROFILE.h5 [options]",
      "Runs the DiT (any supported family: Wan2.1, CogVideoX1.5) through a normal sampling run per prompt and, at each profiled step (conditional\n"
      "branch), measures every self-attention layer on its real q, k, v: for each head and candidate pattern the\n"
      "relative MSE of the head's output and the attention mass kept, and the head's block-pooled and\n"
      "frame-to-frame attention maps; then times every candidate's kernel (CUPTI on a GPU, CPU wall clock\n"
      "otherwise). Writes a profile (docs/FORMATS.md) slice by slice into PROFILE.h5.partial and renames it over\n"
      "PROFILE.h5 when complete; --resume continues an interrupted run. Every prompt starts from the same noise\n"
      "(--seed). See docs/PROFILER.md.");
  rt::add_model_options(p);
  p.option("prompt", "PROMPT", "a prompt (repeatable): the text for a model with a text encoder (the demo model), "
                               "otherwise an embeddings file FILE[:KEY]");
  p.option("negative-prompt", "PROMPT", "the unconditional branch's prompt, same form (default: empty, zero rows)");
  cli::add_video_size_options(p, rt::kAnyFamilyVideoSize);
  rt::add_sampling_options(p, "noise seed (every prompt starts from the same noise)");
  p.option("profile-steps", "LIST", "steps measured: all, a list 0,5,10, or every:K[+O]", "all");
  p.option("map-steps", "LIST", "profiled steps that also store attention maps: all, none, a list, every:K[+O]",
           "all");
  p.option("candidates", "FILE", "candidate patterns (JSON, docs/PROFILER.md); default: the family derived from "
                                 "the token layout");
  p.option("top-k-blocks", "N", "blocks of the top_k stripe candidates (default: about one frame)");
  p.option("block-size", "B", "attention block size of the profiled layout: 64 or 128", "128");
  p.option("chunk-mb", "MB", "bound on one chunk of query rows' temporaries (default 16 on CPU, 256 on CUDA)");
  p.option("error-path", "PATH", "candidate outputs: auto (the kernel on CUDA bf16/fp16), reference, kernel", "auto");
  p.option("cost", "HOW", "kernel cost: auto (CUPTI on a GPU, else the runtime's CPU path by wall clock), cupti, "
                          "cpu (cpu-wallclock: the same, its old name)", "auto");
  p.option("cost-reps", "N", "timed launches per cost entry (default 10 on CUDA, 3 on CPU)");
  p.option("max-group", "N", "the most heads per timed launch; sizes N/4, N/2, 3N/4, N are timed (default: all heads)");
  rt::add_device_options(p);
  p.option("out", "PROFILE.h5", "the profile to write");
  p.flag("resume", "continue PROFILE.h5.partial of an interrupted run with the same settings");
  p.flag("quiet", "no progress bar and no summary");
  return p;
}

std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return text;
}

int run(const cli::ArgParser& args) {
  if (!args.positional().empty()) throw cli::UsageError("unexpected argument " + args.positional()[0]);
  if (!args.has("out")) throw cli::UsageError("--out PROFILE.h5 is required");
  const std::vector<std::string> prompt_specs = args.get_all("prompt");
  if (prompt_specs.empty()) throw cli::UsageError("give at least one --prompt");

  const rt::FamilyModelFromArgs loaded = rt::family_model_from_args(args);
  const rt::Model& model = *loaded.model;
  const svdit::data::PlanModel shape = model.plan_model();
  const cli::VideoSize video = rt::video_size_from_args(args, model);
  const rt::VideoGeometry geometry = model.video_geometry(video.frames, video.height, video.width);

  pr::ProfileRunOptions options;
  options.out = args.get("out");
  options.resume = args.flag_set("resume");
  options.block_size = args.get_int("block-size");
  if (options.block_size != 64 && options.block_size != 128) {
    throw cli::UsageError("--block-size: expected 64 or 128, found " + std::to_string(options.block_size));
  }
  options.sampling = rt::sampling_options_from_args(args, model);
  try {
    options.profile_steps = pr::parse_steps(args.get("profile-steps"), options.sampling.steps, "profile-steps");
    const std::vector<int64_t> maps = pr::parse_steps(args.get("map-steps"), options.sampling.steps, "map-steps");
    for (const int64_t s : options.profile_steps) {
      if (std::binary_search(maps.begin(), maps.end(), s)) options.map_steps.push_back(s);
    }
  } catch (const std::invalid_argument& e) {
    throw cli::UsageError(e.what());
  }
  if (options.profile_steps.empty()) throw cli::UsageError("--profile-steps: selects no step");
  const svdit::data::TokenLayout layout = model.token_layout(geometry, options.block_size);
  if (args.has("candidates")) options.candidates = pr::read_candidates_file(args.get("candidates"), layout);
  if (args.has("top-k-blocks")) {
    options.top_k_blocks = args.get_int("top-k-blocks");
    if (options.top_k_blocks < 1 || options.top_k_blocks >= layout.num_blocks()) {
      throw cli::UsageError("--top-k-blocks: expected 1 … " + std::to_string(layout.num_blocks() - 1) + ", found " +
                           std::to_string(options.top_k_blocks));
    }
  }
  const bool cuda = loaded.device.is_cuda();
  const int64_t chunk_mb = args.has("chunk-mb") ? args.get_int("chunk-mb") : (cuda ? 256 : 16);
  if (chunk_mb < 1) throw cli::UsageError("--chunk-mb: expected >= 1");
  options.measure.chunk_bytes = chunk_mb << 20;
  const std::string error_path = args.get("error-path");
  if (error_path == "auto") options.measure.error_path = pr::ErrorPath::automatic;
  else if (error_path == "reference") options.measure.error_path = pr::ErrorPath::reference;
  else if (error_path == "kernel") options.measure.error_path = pr::ErrorPath::kernel;
  else throw cli::UsageError("--error-path: expected auto, reference or kernel, found " + error_path);
  options.cost = args.get("cost");
  if (options.cost == "cpu-wallclock") options.cost = "cpu";  // the old name; the CPU is now timed on the runtime's path
  if (options.cost != "auto" && options.cost != "cupti" && options.cost != "cpu") {
    throw cli::UsageError("--cost: expected auto, cupti or cpu, found " + options.cost);
  }
  const bool gpu_cost = options.cost != "cpu" && cuda;
  options.cost_repetitions = args.has("cost-reps") ? args.get_int("cost-reps") : (gpu_cost ? 10 : 3);
  options.cost_warmup = gpu_cost ? 2 : 1;
  options.max_group = args.has("max-group") ? args.get_int("max-group") : 0;
  if (options.cost_repetitions < 1) throw cli::UsageError("--cost-reps: expected >= 1");
  if (options.max_group < 0 || options.max_group > shape.heads) {
    throw cli::UsageError("--max-group: expected 1 … " + std::to_string(shape.heads));
  }
  options.quiet = args.flag_set("quiet");

  std::vector<pr::PromptInput> prompts;
  const rt::TextSpec text = model.text_spec();
  for (const std::string& spec : prompt_specs) {
    rt::TextInputs inputs = rt::prompt_text_inputs(spec, text);
    // A family that runs on the valid text tokens only (HunyuanVideo) is profiled at the token layout plans are
    // checked against, T1 = text_len; a shorter prompt would give maps of another size.
    if (text.mask && inputs.embeddings.size(1) != text.text_len) {
      throw cli::UsageError("--prompt " + spec + ": " + std::to_string(inputs.embeddings.size(1)) +
                            " valid text tokens; profiling " + model.family() + " needs all " +
                            std::to_string(text.text_len) + " valid (an unpadded prompt_embeds, or no mask)");
    }
    prompts.push_back({spec, std::move(inputs)});
  }
  const rt::TextInputs negative =
      args.has("negative-prompt") ? rt::prompt_text_inputs(args.get("negative-prompt"), text)
      : text.embedded_guidance    ? rt::TextInputs()  // the embedded guidance alone, as the pipeline without one
                                  : rt::zero_text_inputs(text);

  if (!options.quiet) {
    std::fprintf(stderr,
                 "model   %s\nweights %s\ndevice  %s, compute %s\nlayout  %s\nrun     %lld steps (%s), profiled "
                 "%zu, maps at %zu, %zu prompt(s), guidance %g, seed %llu\n",
                 model.describe().c_str(), loaded.label.c_str(), loaded.device.str().c_str(),
                 c10::toString(model.compute_dtype()), svdit::data::describe(layout).c_str(),
                 static_cast<long long>(options.sampling.steps), options.sampling.sampler.c_str(),
                 options.profile_steps.size(), options.map_steps.size(), prompts.size(), options.sampling.guidance,
                 static_cast<unsigned long long>(options.sampling.seed));
    std::fprintf(stderr, "candidates %s\n",
                 options.candidates ? (std::to_string(options.candidates->size()) + " from " + args.get("candidates")).c_str()
                                    : "the default family (top_k stripes calibrated at the first profiled step)");
  }
  const pr::ProfileRunReport report = pr::run_profile(model, geometry, prompts, negative, options);
  if (!options.quiet) {
    const double per_step = static_cast<double>(options.profile_steps.size() * prompts.size());
    std::fprintf(stderr,
                 "wrote   %s in %.2f s: %lld slices measured (%lld already there), %lld head maps, measurement "
                 "%.2f s (%.2f s per profiled step and prompt), cost %s %.2f s\n",
                 report.out.c_str(), report.seconds, static_cast<long long>(report.slices_measured),
                 static_cast<long long>(report.slices_skipped), static_cast<long long>(report.maps_written),
                 report.measure_seconds, report.measure_seconds / per_step,
                 report.cost_measured ? report.cost_source.c_str() : "(already there)", report.cost_seconds);
    std::fprintf(stderr, "memory  peak RSS %s%s; %lld query rows per chunk (--chunk-mb %lld)\n",
                 mib(report.peak_rss_bytes).c_str(),
                 report.device_peak_bytes >= 0 ? (", CUDA peak allocated " + mib(report.device_peak_bytes)).c_str() : "",
                 static_cast<long long>(report.chunk_rows), static_cast<long long>(chunk_mb));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
