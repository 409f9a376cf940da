// The registry of model families and the family-neutral loading (see model_family.h).

#include "svdit/runtime/model_family.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "svdit/data/checkpoint_family.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/cogvideox_model.h"
#include "svdit/runtime/hunyuan_video_model.h"
#include "svdit/runtime/wan_model.h"

namespace svdit::runtime {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string family_list() {
  std::string out;
  for (const ModelFamily& f : model_families()) out += (out.empty() ? "" : ", ") + f.id;
  return out;
}

// The family of `evidence` as this build runs it; a FormatError naming `source` when the build does not.
const ModelFamily& runnable(const data::FamilyEvidence& evidence, const std::string& source) {
  const ModelFamily* family = find_model_family(evidence.family);
  if (family == nullptr) {
    throw data::FormatError(source, "<model family>",
                            "holds a " + evidence.family + " model (" + evidence.evidence +
                                "), which this build's runtime does not run (it runs: " + family_list() + ")");
  }
  return *family;
}

}  // namespace

// The registry: one line per family, each entry made in the family's own files (wan_family(): wan_family.cpp,
// cogvideox_family(): cogvideox_model.cpp, hunyuan_video_family(): hunyuan_video_model.cpp). A family adds its line
// here and its header above.
const std::vector<ModelFamily>& model_families() {
  static const std::vector<ModelFamily> families = {
      wan_family(),
      cogvideox_family(),
      hunyuan_video_family(),
  };
  return families;
}

const ModelFamily* find_model_family(std::string_view id) {
  for (const ModelFamily& f : model_families()) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const ModelFamily* family_of_preset(std::string_view preset) {
  const std::string name = lower(preset);
  for (const ModelFamily& f : model_families()) {
    for (const std::string& p : f.presets) {
      if (lower(p) == name) return &f;
    }
  }
  return nullptr;
}

Denoiser model_denoiser(const Model& model, AttentionBackend* attention, AttentionObserver* conditional_observer,
                        AttentionObserver* unconditional_observer) {
  return [&model, attention, conditional_observer, unconditional_observer](const DenoiserCall& call) {
    AttentionObserver* observer =
        call.branch == CfgBranch::conditional ? conditional_observer : unconditional_observer;
    const ForwardOptions forward{call.step, call.branch, attention, observer};
    return model.forward(call.latents, call.timestep, call.context, forward);  // the latents' shape
  };
}

OpenedModel load_model(const std::filesystem::path& weights_path, const WeightOptions& options,
                       std::string_view expected_family) {
  const data::SafetensorsCollection weights = data::SafetensorsCollection::open(weights_path);
  const data::CheckpointFamily found = data::identify_checkpoint(weights, weights_path);
  if (!expected_family.empty() && found.family.family != expected_family) {
    throw data::FormatError(weights.source(), "<model family>",
                            "holds a " + found.family.family + " model (" + found.family.evidence + "), expected " +
                                std::string(expected_family));
  }
  const ModelFamily& family = runnable(found.family, weights.source());
  OpenedModel out;
  out.model = family.load(CheckpointToLoad{weights, found.config}, options);
  out.label = weights_path.string() + " (" + family.id + ", " + family.naming(weights) + "; " +
              found.family.evidence + ")";
  return out;
}

OpenedModel random_model(const std::string& spec, const WeightOptions& options, uint64_t seed) {
  OpenedModel out;
  out.label = "random (" + spec + ", seed " + std::to_string(seed) + ")";
  if (const ModelFamily* family = family_of_preset(spec)) {
    out.model = family->random(RandomModelRequest{spec, nullptr, options, seed});
    return out;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(spec, ec)) {
    throw std::invalid_argument("--random-weights: \"" + spec + "\" is neither a preset (" + describe_presets() +
                                ") nor a config.json file");
  }
  const nlohmann::json config = data::read_config_json(spec);
  const std::optional<data::FamilyEvidence> evidence = data::family_from_config(config, spec);
  if (!evidence) {
    throw data::FormatError(spec, "_class_name",
                            "names no model family (give diffusers' _class_name, e.g. \"WanTransformer3DModel\", "
                            "\"CogVideoXTransformer3DModel\" or \"HunyuanVideoTransformer3DModel\")");
  }
  out.model = runnable(*evidence, spec).random(RandomModelRequest{spec, &config, options, seed});
  return out;
}

std::string describe_presets() {
  std::string out;
  for (const ModelFamily& f : model_families()) {
    std::string names;
    for (const std::string& p : f.presets) names += (names.empty() ? "" : ", ") + p;
    out += (out.empty() ? "" : "; ") + f.id + ": " + names;
  }
  return out;
}

}  // namespace svdit::runtime
