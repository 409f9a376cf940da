// The model options shared by the DiT tools (see model_args.h).

#include "svdit/runtime/model_args.h"

#include <optional>

namespace svdit::runtime {

void add_model_options(ArgParser& parser) {
  parser.option("weights", "PATH",
                "checkpoint: .safetensors, *.safetensors.index.json or a directory (config.json beside it is used)");
  parser.option("random-weights", "CONFIG", "random weights instead: a preset (1.3B, 14B) or a config.json");
  parser.option("weights-seed", "N", "seed of --random-weights", "0");
}

ModelFromArgs model_from_args(const ArgParser& args, const WeightOptions& options) {
  if (args.has("weights") == args.has("random-weights")) {
    throw UsageError(args.program() + ": give exactly one of --weights and --random-weights");
  }
  ModelFromArgs out;
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

}  // namespace svdit::runtime
