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
                "checkpoint: .safetensors, *.safetensors.index.json or a directory (config.json beside it is used)");
  parser.option("random-weights", "CONFIG", "random weights instead: a preset (1.3B, 14B) or a config.json");
  parser.option("weights-seed", "N", "seed of --random-weights", "0");
}

ModelFromArgs model_from_args(const cli::ArgParser& args) {
  if (args.has("weights") == args.has("random-weights")) {
    throw cli::UsageError("give exactly one of --weights and --random-weights");
  }
  const DeviceChoice choice = device_from_args(args);
  const WeightOptions options{choice.device, choice.dtype};
  ModelFromArgs out;
  out.device = choice.device;
  if (args.has("weights")) {
    LoadedModel loaded = load_wan_model(args.get("weights"), options);
    out.model = std::move(loaded.model);
    out.label = args.get("weights") + " (" + to_string(loaded.naming) + " names, config " + loaded.config_source + ")";
    return out;
  }
  const std::string spec = args.get("random-weights");
  const std::optional<WanConfig> preset = preset_config(spec);
  const WanConfig config = preset ? *preset : read_config(spec);
  const uint64_t seed = args.get_u64("weights-seed");
  out.model = std::make_unique<WanModel>(config, random_state_dict(config, options, seed), "random weights (" + spec + ")");
  out.label = "random (" + spec + ", seed " + std::to_string(seed) + ")";
  return out;
}

void add_sampling_options(cli::ArgParser& parser, const std::string& seed_help) {
  const SamplingOptions defaults;
  parser.option("steps", "N", "sampling steps", std::to_string(defaults.steps));
  parser.option("shift", "S", "flow shift", shortest(defaults.shift));
  parser.option("guidance", "G", "classifier-free guidance scale (1: conditional branch only)",
                shortest(defaults.guidance));
  parser.option("seed", "N", seed_help, std::to_string(defaults.seed));
  parser.option("sampler", "NAME", "unipc (order 2, bh2) or euler", defaults.sampler);
}

SamplingOptions sampling_options_from_args(const cli::ArgParser& args) {
  SamplingOptions options;
  options.steps = args.get_int("steps", 1, std::numeric_limits<int32_t>::max());
  options.shift = args.get_double("shift");
  options.guidance = args.get_double("guidance");
  options.seed = args.get_u64("seed");
  options.sampler = args.get("sampler");
  return options;
}

}  // namespace svdit::runtime
