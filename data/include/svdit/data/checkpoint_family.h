#pragma once
// Which model family a checkpoint holds, decided from its config.json or its tensor names before anything is
// loaded: `svdit inspect` names it, and the runtime's loader (svdit/runtime/model_family.h) picks the family that
// builds the model, or refuses a checkpoint of another family naming the file and what it found. Torch-free, so
// that inspect names the family in every build. The table knows every family svdit recognises, including those a
// build's runtime may not run (the runtime registers the ones it runs).

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace svdit::data {

class SafetensorsCollection;

struct FamilySignature {
  std::string_view id;    // what plans and profiles record: "wan2.1", "cogvideox1.5", "hunyuan-video"
  std::string_view name;  // for people: "Wan2.1"
  // diffusers' config.json "_class_name" of the family's transformer.
  std::vector<std::string_view> class_names;
  // config.json fields that only this family's configs have (for configs without "_class_name": the original
  // repositories' and hand-written ones).
  std::vector<std::string_view> config_fields;
  // Tensor-name prefixes that only this family's checkpoints have (in any naming the runtime reads).
  std::vector<std::string_view> tensor_prefixes;
};

// Every family svdit recognises, one line each (checkpoint_family.cpp).
std::span<const FamilySignature> family_signatures();
// nullptr for an unknown id.
const FamilySignature* find_family_signature(std::string_view id);

struct FamilyEvidence {
  std::string family;    // FamilySignature::id
  std::string evidence;  // what decided it: "_class_name \"CogVideoXTransformer3DModel\"", "tensor patch_embed.proj.weight"
};

// From a config.json object: its "_class_name" (a class svdit does not know is a FormatError naming `source`, the
// field and the known classes), else the family-only fields. std::nullopt when nothing identifies it.
std::optional<FamilyEvidence> family_from_config(const nlohmann::json& config, const std::string& source);

// From the tensor names; std::nullopt when no family's prefixes occur. A checkpoint with the prefixes of two
// families is a FormatError naming both.
std::optional<FamilyEvidence> family_from_tensors(const SafetensorsCollection& weights);

// The config.json beside a checkpoint path (a .safetensors file, an index, or a folder holding them), if any.
// Something named config.json that is not a regular file is a FormatError (never silently skipped).
std::optional<std::filesystem::path> find_config_beside(const std::filesystem::path& weights_path);

// Reads a config.json strictly (duplicate keys, out-of-range numbers refused, naming the field).
nlohmann::json read_config_json(const std::filesystem::path& path);

// The family of a checkpoint: the config.json beside it when that identifies one, else the tensor names. A
// FormatError naming the checkpoint when neither does, or when the config and the tensors disagree.
struct CheckpointFamily {
  FamilyEvidence family;
  std::optional<std::filesystem::path> config;  // the config.json beside the weights
};
CheckpointFamily identify_checkpoint(const SafetensorsCollection& weights, const std::filesystem::path& weights_path);

}  // namespace svdit::data
