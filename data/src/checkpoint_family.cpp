// The families svdit recognises and how a checkpoint is matched to one (see checkpoint_family.h).

#include "svdit/data/checkpoint_family.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/data/strict_json.h"

namespace svdit::data {

namespace {

// One line per family. Wan's original checkpoints name the patch embedding "patch_embedding.*" in both namings;
// CogVideoX's diffusers checkpoints carry the text projection in the patch embedding; HunyuanVideo's have the token
// refiner and the single-stream blocks.
const std::vector<FamilySignature> kFamilies = {
    // Wan2.1: diffusers' class and the original repository's ("WanModel").
    {"wan2.1", "Wan2.1", {"WanTransformer3DModel", "WanModel"}, {"dim", "model_type", "ffn_dim", "freq_dim"},
     {"patch_embedding."}},
    {"cogvideox1.5", "CogVideoX1.5", {"CogVideoXTransformer3DModel"},
     {"time_embed_dim", "text_embed_dim", "max_text_seq_length", "patch_size_t"}, {"patch_embed.text_proj."}},
    {"hunyuan-video", "HunyuanVideo", {"HunyuanVideoTransformer3DModel"},
     {"num_single_layers", "num_refiner_layers", "pooled_projection_dim"},
     {"context_embedder.token_refiner.", "single_transformer_blocks."}},
};

std::string known_classes() {
  std::string out;
  for (const FamilySignature& f : kFamilies) {
    for (const std::string_view c : f.class_names) out += (out.empty() ? "" : ", ") + std::string(c) + " (" + std::string(f.name) + ")";
  }
  return out;
}

}  // namespace

std::span<const FamilySignature> family_signatures() { return kFamilies; }

const FamilySignature* find_family_signature(std::string_view id) {
  for (const FamilySignature& f : kFamilies) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

std::optional<FamilyEvidence> family_from_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object()) throw FormatError(source, "<root>", "expected a JSON object (a model config)");
  if (const auto it = config.find("_class_name"); it != config.end() && !it->is_null()) {
    if (!it->is_string()) throw FormatError(source, "_class_name", "expected a string, found " + it->dump());
    const std::string name = it->get<std::string>();
    for (const FamilySignature& f : kFamilies) {
      for (const std::string_view c : f.class_names) {
        if (c == name) return FamilyEvidence{std::string(f.id), "_class_name \"" + name + "\""};
      }
    }
    throw FormatError(source, "_class_name",
                      "\"" + name + "\" is not a model svdit runs (known: " + known_classes() + ")");
  }
  for (const FamilySignature& f : kFamilies) {
    for (const std::string_view field : f.config_fields) {
      if (config.contains(field)) return FamilyEvidence{std::string(f.id), "config field \"" + std::string(field) + "\""};
    }
  }
  return std::nullopt;
}

std::optional<FamilyEvidence> family_from_tensors(const SafetensorsCollection& weights) {
  std::optional<FamilyEvidence> found;
  for (const FamilySignature& f : kFamilies) {
    for (const TensorInfo& t : weights.tensors()) {
      const auto prefix = std::find_if(f.tensor_prefixes.begin(), f.tensor_prefixes.end(),
                                       [&](std::string_view p) { return t.name.starts_with(p); });
      if (prefix == f.tensor_prefixes.end()) continue;
      if (found) {
        throw FormatError(weights.source(), t.name,
                          "has tensors of two model families: " + found->evidence + " (" + found->family +
                              ") and tensor " + t.name + " (" + std::string(f.id) + ")");
      }
      found = FamilyEvidence{std::string(f.id), "tensor " + t.name};
      break;
    }
  }
  return found;
}

std::optional<std::filesystem::path> find_config_beside(const std::filesystem::path& weights_path) {
  std::error_code ec;
  const std::filesystem::path dir =
      std::filesystem::is_directory(weights_path, ec) ? weights_path : weights_path.parent_path();
  const std::filesystem::path candidate = (dir.empty() ? std::filesystem::path(".") : dir) / "config.json";
  if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  // Something named config.json that is no file (a directory, a dangling link) is a mistake to report, not a
  // reason to fall back silently to what the tensor names say.
  const std::filesystem::file_status link = std::filesystem::symlink_status(candidate, ec);
  if (!ec && std::filesystem::exists(link)) {
    const bool dangling = std::filesystem::is_symlink(link) && !std::filesystem::exists(candidate, ec);
    throw FormatError(candidate.string(), "<file>",
                      dangling ? "is a link to nothing; the model config beside the weights must be a JSON file"
                               : "is not a regular file; the model config beside the weights must be a JSON file");
  }
  return std::nullopt;
}

nlohmann::json read_config_json(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw FormatError(path.string(), "<file>", "cannot read the model config: not a regular file");
  }
  std::ifstream in(path);
  if (!in) throw FormatError(path.string(), "<file>", "cannot open the model config");
  std::stringstream text;
  text << in.rdbuf();
  constexpr int kMaxConfigDepth = 8;  // configs are flat objects with a few small arrays
  return detail::parse_json_strictly(text.str(), path.string(), "<root>", kMaxConfigDepth);
}

CheckpointFamily identify_checkpoint(const SafetensorsCollection& weights, const std::filesystem::path& weights_path) {
  CheckpointFamily out;
  out.config = find_config_beside(weights_path);
  std::optional<FamilyEvidence> from_config;
  if (out.config) from_config = family_from_config(read_config_json(*out.config), out.config->string());
  const std::optional<FamilyEvidence> from_tensors = family_from_tensors(weights);
  if (from_config && from_tensors && from_config->family != from_tensors->family) {
    throw FormatError(weights.source(), from_tensors->evidence.substr(from_tensors->evidence.find(' ') + 1),
                      "the weights are a " + from_tensors->family + " checkpoint (" + from_tensors->evidence +
                          ") but " + out.config->string() + " describes a " + from_config->family + " model (" +
                          from_config->evidence + ")");
  }
  if (from_config) {
    out.family = *from_config;
    out.family.evidence = out.config->filename().string() + " " + out.family.evidence;
  } else if (from_tensors) {
    out.family = *from_tensors;
  } else {
    std::string known;
    for (const FamilySignature& f : kFamilies) known += (known.empty() ? "" : ", ") + std::string(f.name);
    throw FormatError(weights.source(), "<tensors>",
                      "not a checkpoint of a model family svdit knows (" + known +
                          "): no config.json beside it names one and no tensor name identifies one");
  }
  return out;
}

}  // namespace svdit::data
