// The DiT tools' option groups (see tool_options.h).

#include "svdit/runtime/tool_options.h"

#include <ATen/Parallel.h>

#include <cstdio>
#include <limits>
#include <optional>

#include "svdit/runtime/device.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::runtime {

namespace {

// A default as the help shows it: 5.0 → "5", 0.5 → "0.5".
std::string shortest(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

void add_device_options(cli::ArgParser& parser, const std::string& dtypes) {
  parser.option("device", "DEV", "auto, cpu, cuda or cuda:N", "auto");
  parser.option("dtype", "TYPE", "compute dtype: auto (bf16 on GPU, fp32 on CPU), " + dtypes, "auto");
  parser.option("threads", "N", "CPU threads for LibTorch (default: its own choice)");
}

DeviceChoice device_from_args(const cli::ArgParser& args) {
  if (args.has("threads")) {
    at::set_num_threads(static_cast<int>(args.get_int("threads", 1, std::numeric_limits<int>::max())));
  }
  DeviceChoice choice;
  choice.device = parse_device(args.get("device"));
  choice.dtype = parse_dtype(args.get("dtype"), choice.device);
  return choice;
}

void add_model_options(cli::ArgParser& parser) {
  parser.option("weights", "PATH",
                "checkpoint of any supported family: .safetensors, *.safetensors.index.json or a directory (config.json\n"
                "beside it is used; its _class_name or the tensor names say the family)");
  parser.option("random-weights", "CONFIG",
                "random weights instead: a preset (" + describe_presets() + ") or a config.json");
  parser.option("weights-seed", "N", "seed of --random-weights", "0");
}

FamilyModelFromArgs family_model_from_args(const cli::ArgParser& args) {
  if (args.has("weights") == args.has("random-weights")) {
    throw cli::UsageError("give exactly one of --weights and --random-weights");
  }
  const DeviceChoice choice = device_from_args(args);
  const WeightOptions options{choice.device, choice.dtype};
  OpenedModel opened = args.has("weights") ? load_model(args.get("weights"), options)
                                           : random_model(args.get("random-weights"), options, args.get_u64("weights-seed"));
  return FamilyModelFromArgs{std::move(opened.model), std::move(opened.label), choice.device};
}

ModelFromArgs model_from_args(const cli::ArgParser& args) {
  FamilyModelFromArgs any = family_model_from_args(args);
  auto* wan = dynamic_cast<WanModel*>(any.model.get());
  if (wan == nullptr) {
    throw std::invalid_argument(any.label + ": a " + any.model->family() + " model; this tool runs Wan2.1 only");
  }
  static_cast<void>(any.model.release());  // ownership moves to the WanModel pointer below
  return ModelFromArgs{std::unique_ptr<WanModel>(wan), std::move(any.label), any.device};
}

const cli::VideoSizeDefaults kAnyFamilyVideoSize{{"", "default: the model family's, e.g. 81 for Wan2.1"},
                                                 {"", "default: the family's, e.g. 480 for Wan2.1"},
                                                 {"", "default: the family's, e.g. 832 for Wan2.1"}};

cli::VideoSize video_size_from_args(const cli::ArgParser& args, const Model& model) {
  const ModelFamily* family = find_model_family(model.family());
  auto size = [&](const char* option, const cli::VideoSizeOption& fallback) -> int64_t {
    if (args.has(option)) return args.get_int(option, 1, int64_t{1} << 20);
    if (family == nullptr || fallback.fallback.empty()) {
      throw cli::UsageError(std::string("--") + option + " is required for a " + model.family() + " model");
    }
    return std::stoll(fallback.fallback);
  };
  if (family == nullptr) return {size("frames", {}), size("height", {}), size("width", {})};
  return {size("frames", family->video_size.frames), size("height", family->video_size.height),
          size("width", family->video_size.width)};
}

void add_sampling_options(cli::ArgParser& parser, const std::string& seed_help) {
  const SamplingOptions defaults;
  parser.option("steps", "N", "sampling steps", std::to_string(defaults.steps));
  parser.option("shift", "S", "flow shift (auto: the family's; Wan2.1 5, HunyuanVideo 7)", "auto");
  parser.option("guidance", "G",
                "guidance scale, auto: the family's (Wan2.1 5 and CogVideoX1.5 6: classifier-free, 1 runs the\n"
                "conditional branch only; HunyuanVideo 6: embedded in the model input)", "auto");
  parser.option("true-cfg", "G", "HunyuanVideo: classifier-free guidance on top of the embedded guidance, with a\n"
                "negative prompt (the pipeline's true_cfg_scale; 1: off)", shortest(defaults.true_cfg));
  parser.option("seed", "N", seed_help, std::to_string(defaults.seed));
  parser.option("sampler", "NAME",
                "auto (the family's own: Wan2.1 unipc, CogVideoX1.5 cogvideox-dpm, HunyuanVideo euler), or\n"
                "Wan2.1's unipc (order 2, bh2) or euler", "auto");
}

namespace {
// --NAME as a number, or `fallback` when it says auto.
double number_or_auto(const cli::ArgParser& args, const std::string& name, double fallback) {
  return args.get(name) == "auto" ? fallback : args.get_double(name);
}
}  // namespace

SamplingOptions sampling_options_from_args(const cli::ArgParser& args) {
  SamplingOptions options;
  options.steps = args.get_int("steps", 1, std::numeric_limits<int32_t>::max());
  options.shift = number_or_auto(args, "shift", options.shift);
  options.guidance = number_or_auto(args, "guidance", options.guidance);
  options.true_cfg = args.get_double("true-cfg");
  options.seed = args.get_u64("seed");
  options.sampler = args.get("sampler");
  return options;
}

SamplingOptions sampling_options_from_args(const cli::ArgParser& args, const Model& model) {
  SamplingOptions options = sampling_options_from_args(args);
  if (const ModelFamily* family = find_model_family(model.family())) {
    options.shift = number_or_auto(args, "shift", family->default_shift);
    options.guidance = number_or_auto(args, "guidance", family->default_guidance);
  }
  if (options.sampler == "auto") options.sampler = model.default_sampler();  // what the run records
  return options;
}

}  // namespace svdit::runtime
