// WanConfig: presets, config.json in both namings, detection from tensor shapes, and the video → token geometry.

#include "svdit/runtime/wan_config.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/data/size_limits.h"
#include "config_fields.h"

namespace svdit::runtime {

using data::FormatError;
using nlohmann::json;
using namespace config_fields;

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Options of other Wan variants that this runtime does not implement: refuse rather than run a different model.
void refuse_if_set(const json& j, const char* field, const std::string& source, const std::string& why) {
  const auto it = j.find(field);
  if (it != j.end() && !it->is_null()) {
    throw FormatError(source, field, why + " (found " + it->dump() + "); svdit runs the text-to-video DiT only");
  }
}

}  // namespace

void validate(const WanConfig& c, const std::string& source) {
  auto positive = [&](const char* field, int64_t value) {
    if (value <= 0) {
      throw std::invalid_argument(source + ": " + field + ": expected a positive integer, found " +
                                  std::to_string(value));
    }
  };
  // Upper bounds first (data/size_limits.h): the sizes below multiply into weight shapes and buffers
  // (text_len × text_dim overflowed in the demo words path, num_layers 2^31 ran out of memory after 25 s).
  auto at_most = [&](const char* field, int64_t value, int64_t bound) {
    if (value > bound) {
      throw std::invalid_argument(source + ": " + field + ": found " + std::to_string(value) +
                                  ", which exceeds the bound " + std::to_string(bound));
    }
  };
  constexpr int64_t kMaxWidth = 65536;   // dim, ffn_dim, freq_dim, text_dim (Wan2.1-14B: 5120, 13824, 256, 4096)
  constexpr int64_t kMaxTextLen = 4096;  // text tokens (Wan2.1: 512)
  constexpr int64_t kMaxChannels = 1024, kMaxPatch = 64;
  positive("dim", c.dim);
  at_most("dim", c.dim, kMaxWidth);
  positive("ffn_dim", c.ffn_dim);
  at_most("ffn_dim", c.ffn_dim, 4 * kMaxWidth);
  positive("freq_dim", c.freq_dim);
  at_most("freq_dim", c.freq_dim, kMaxWidth);
  positive("text_dim", c.text_dim);
  at_most("text_dim", c.text_dim, kMaxWidth);
  positive("text_len", c.text_len);
  at_most("text_len", c.text_len, kMaxTextLen);
  positive("num_heads", c.num_heads);
  at_most("num_heads", c.num_heads, data::kMaxHeads);
  positive("num_layers", c.num_layers);
  at_most("num_layers", c.num_layers, data::kMaxLayers);
  positive("in_dim", c.in_dim);
  at_most("in_dim", c.in_dim, kMaxChannels);
  positive("out_dim", c.out_dim);
  at_most("out_dim", c.out_dim, kMaxChannels);
  for (int i = 0; i < 3; ++i) {
    positive("patch_size", c.patch[static_cast<size_t>(i)]);
    at_most("patch_size", c.patch[static_cast<size_t>(i)], kMaxPatch);
    positive("vae_stride", c.vae_stride[static_cast<size_t>(i)]);
    at_most("vae_stride", c.vae_stride[static_cast<size_t>(i)], kMaxPatch);
  }
  if (c.freq_dim % 2 != 0) {
    throw std::invalid_argument(source + ": freq_dim: expected an even width (cos and sin halves), found " +
                                std::to_string(c.freq_dim));
  }
  if (c.dim % c.num_heads != 0) {
    throw std::invalid_argument(source + ": num_heads: dim " + std::to_string(c.dim) + " is not a multiple of " +
                                std::to_string(c.num_heads) + " heads");
  }
  // RoPE rotates channel pairs and splits them over three axes, each needing at least one pair.
  if (c.head_dim() % 2 != 0 || c.head_dim() < 6) {
    throw std::invalid_argument(source + ": head_dim: expected an even head_dim ≥ 6 for 3D RoPE, found " +
                                std::to_string(c.head_dim()));
  }
  if (!(c.eps > 0)) throw std::invalid_argument(source + ": eps: expected a positive number");
  if (!(c.rope_theta > 1)) throw std::invalid_argument(source + ": rope_theta: expected a number > 1");
  if (c.name.empty()) throw std::invalid_argument(source + ": name: expected a non-empty model name");
}

std::string default_model_name(const WanConfig& c) {
  for (const char* preset : {"1.3B", "14B"}) {
    WanConfig p = *preset_config(preset);
    WanConfig same = c;
    same.name = p.name;
    same.pixel_decoder = p.pixel_decoder;
    same.text_encoder = p.text_encoder;
    if (same == p) return p.name;
  }
  return "Wan2.1-d" + std::to_string(c.dim) + "-l" + std::to_string(c.num_layers) + "-h" +
         std::to_string(c.num_heads) + "-f" + std::to_string(c.ffn_dim);
}

std::optional<WanConfig> preset_config(std::string_view name) {
  const std::string n = lower(name);
  WanConfig c;
  if (n == "1.3b" || n == "wan2.1-1.3b" || n == "wan2.1-t2v-1.3b") {
    c.name = "Wan2.1-T2V-1.3B";
    c.dim = 1536;
    c.ffn_dim = 8960;
    c.num_heads = 12;
    c.num_layers = 30;
    return c;
  }
  if (n == "14b" || n == "wan2.1-14b" || n == "wan2.1-t2v-14b") {
    c.name = "Wan2.1-T2V-14B";
    c.dim = 5120;
    c.ffn_dim = 13824;
    c.num_heads = 40;
    c.num_layers = 40;
    return c;
  }
  return std::nullopt;
}

WanConfig parse_config(const json& j, const std::string& source) {
  if (!j.is_object()) throw FormatError(source, "<root>", "expected a JSON object, found " + j.dump().substr(0, 60));
  // A config of another family (CogVideoX's also has num_attention_heads) must not be read as a Wan shape.
  if (const auto family = data::family_from_config(j, source); family && family->family != "wan2.1") {
    throw FormatError(source, family->evidence.starts_with("_class_name") ? "_class_name" : "config",
                      "describes a " + family->family + " model (" + family->evidence + "), expected a Wan2.1 config");
  }
  WanConfig c;
  const bool diffusers = j.contains("num_attention_heads") || j.contains("attention_head_dim") ||
                         (j.contains("_class_name") && j["_class_name"] == "WanTransformer3DModel");
  if (diffusers) {
    int64_t head_dim = 0;
    read_int(j, "num_attention_heads", c.num_heads, source);
    read_int(j, "attention_head_dim", head_dim, source);
    if (c.num_heads <= 0 || head_dim <= 0) {
      throw FormatError(source, "num_attention_heads, attention_head_dim",
                        "expected both (diffusers naming), found " + std::to_string(c.num_heads) + " and " +
                            std::to_string(head_dim));
    }
    // Bounded before the product (found by svdit-fuzz-config: 2^62 × 2^62 overflowed).
    data::require_at_most(c.num_heads, data::kMaxHeads, source, "num_attention_heads", "attention heads per layer");
    data::require_at_most(head_dim, data::kMaxHeadDim, source, "attention_head_dim", "channels per head");
    c.dim = c.num_heads * head_dim;
    read_int(j, "in_channels", c.in_dim, source);
    read_int(j, "out_channels", c.out_dim, source);
    read_int(j, "ffn_dim", c.ffn_dim, source);
    read_int(j, "freq_dim", c.freq_dim, source);
    read_int(j, "text_dim", c.text_dim, source);
    read_int(j, "num_layers", c.num_layers, source);
    read_double(j, "eps", c.eps, source);
    read_triple(j, "patch_size", c.patch, source);
    if (const auto it = j.find("qk_norm"); it != j.end() && !it->is_null() && *it != "rms_norm_across_heads") {
      throw FormatError(source, "qk_norm", "expected \"rms_norm_across_heads\" (Wan2.1), found " + it->dump());
    }
    if (const auto it = j.find("cross_attn_norm"); it != j.end() && !it->is_null() && *it != true) {
      throw FormatError(source, "cross_attn_norm", "expected true (Wan2.1), found " + it->dump());
    }
    refuse_if_set(j, "image_dim", source, "an image-conditioning model (i2v)");
    refuse_if_set(j, "added_kv_proj_dim", source, "an image-conditioning model (i2v)");
  } else {
    read_int(j, "dim", c.dim, source);
    read_int(j, "ffn_dim", c.ffn_dim, source);
    read_int(j, "freq_dim", c.freq_dim, source);
    read_int(j, "text_dim", c.text_dim, source);
    read_int(j, "num_heads", c.num_heads, source);
    read_int(j, "num_layers", c.num_layers, source);
    read_int(j, "in_dim", c.in_dim, source);
    read_int(j, "out_dim", c.out_dim, source);
    read_double(j, "eps", c.eps, source);
    read_triple(j, "patch_size", c.patch, source);
    std::string model_type = "t2v";
    read_string(j, "model_type", model_type, source);
    if (model_type != "t2v") {
      throw FormatError(source, "model_type", "expected \"t2v\", found \"" + model_type +
                                                  "\"; svdit runs the text-to-video DiT only");
    }
    if (c.dim <= 0 || c.num_heads <= 0 || c.num_layers <= 0 || c.ffn_dim <= 0) {
      throw FormatError(source, "dim, ffn_dim, num_heads, num_layers",
                        "expected the WanModel sizes (original naming) or num_attention_heads/attention_head_dim "
                        "(diffusers naming); found neither");
    }
  }
  read_int(j, "text_len", c.text_len, source);
  // svdit's own fields (the demo model writes them; released checkpoints have none).
  read_triple(j, "vae_stride", c.vae_stride, source);
  read_string(j, "pixel_decoder", c.pixel_decoder, source);
  read_string(j, "text_encoder", c.text_encoder, source);
  read_double(j, "rope_theta", c.rope_theta, source);
  read_string(j, "name", c.name, source);
  if (c.name.empty()) c.name = default_model_name(c);
  try {
    validate(c, source);
  } catch (const std::invalid_argument& e) {
    throw FormatError(source, "config", e.what());
  }
  return c;
}

WanConfig read_config(const std::filesystem::path& path) {
  // Strictly (svdit/data/strict_json.h): a duplicate key or a number like 1e999 is refused naming the field.
  return parse_config(data::read_config_json(path), path.string());
}

json config_to_json(const WanConfig& c) {
  json j{{"model_type", "t2v"},
              {"name", c.name},
              {"dim", c.dim},
              {"ffn_dim", c.ffn_dim},
              {"freq_dim", c.freq_dim},
              {"text_dim", c.text_dim},
              {"text_len", c.text_len},
              {"num_heads", c.num_heads},
              {"num_layers", c.num_layers},
              {"in_dim", c.in_dim},
              {"out_dim", c.out_dim},
              {"patch_size", c.patch},
              {"vae_stride", c.vae_stride},
              {"eps", c.eps},
              {"rope_theta", c.rope_theta},
              {"pixel_decoder", c.pixel_decoder}};
  if (!c.text_encoder.empty()) j["text_encoder"] = c.text_encoder;
  return j;
}

WanConfig detect_config(const data::SafetensorsCollection& weights) {
  const std::string& source = weights.source();
  const bool diffusers = weights.find("condition_embedder.time_proj.weight") != nullptr;
  auto need = [&](const std::string& key, size_t rank) -> const std::vector<int64_t>& {
    const data::TensorInfo* t = weights.find(key);
    if (t == nullptr) {
      throw FormatError(source, key, "missing; it is needed to detect the model's sizes (or give a config.json)");
    }
    if (t->shape.size() != rank) {
      throw FormatError(source, key, "expected a rank-" + std::to_string(rank) + " tensor, found shape " +
                                         shape_text(t->shape));
    }
    return t->shape;
  };
  WanConfig c;
  const auto& patch = need("patch_embedding.weight", 5);  // [D, in, pt, ph, pw]
  c.dim = patch[0];
  c.in_dim = patch[1];
  c.patch = {patch[2], patch[3], patch[4]};
  const auto& text = need(diffusers ? "condition_embedder.text_embedder.linear_1.weight" : "text_embedding.0.weight", 2);
  c.text_dim = text[1];
  const auto& time = need(diffusers ? "condition_embedder.time_embedder.linear_1.weight" : "time_embedding.0.weight", 2);
  c.freq_dim = time[1];
  const auto& ffn = need(diffusers ? "blocks.0.ffn.net.0.proj.weight" : "blocks.0.ffn.0.weight", 2);
  c.ffn_dim = ffn[0];
  const auto& head = need(diffusers ? "proj_out.weight" : "head.head.weight", 2);
  if (head[0] % c.patch_volume() != 0) {
    throw FormatError(source, diffusers ? "proj_out.weight" : "head.head.weight",
                      "output rows " + std::to_string(head[0]) + " are not a multiple of the patch volume " +
                          std::to_string(c.patch_volume()));
  }
  c.out_dim = head[0] / c.patch_volume();
  // Layers: the highest block index present, +1 (missing blocks in between are reported by the key check).
  int64_t layers = 0;
  for (const data::TensorInfo& t : weights.tensors()) {
    if (t.name.rfind("blocks.", 0) != 0) continue;
    const size_t dot = t.name.find('.', 7);
    try {
      layers = std::max<int64_t>(layers, std::stoll(t.name.substr(7, dot - 7)) + 1);
    } catch (const std::exception&) {
      throw FormatError(source, t.name, "expected blocks.<index>.…");
    }
  }
  c.num_layers = layers;
  if (c.dim % 128 != 0) {
    throw FormatError(source, "config.json",
                      "the head count is not stored in the weights and dim " + std::to_string(c.dim) +
                          " is not a multiple of the released head_dim 128: put the model's config.json beside the "
                          "weights");
  }
  c.num_heads = c.dim / 128;
  c.name = default_model_name(c);
  try {
    validate(c, source);
  } catch (const std::invalid_argument& e) {
    throw FormatError(source, "detected config", e.what());
  }
  return c;
}

std::string describe(const WanConfig& c) {
  std::ostringstream s;
  s << c.name << ": dim " << c.dim << ", " << c.num_layers << " layers, " << c.num_heads << " heads × "
    << c.head_dim() << ", ffn " << c.ffn_dim << ", text " << c.text_dim << "×" << c.text_len << ", patch "
    << c.patch[0] << "×" << c.patch[1] << "×" << c.patch[2] << ", channels " << c.in_dim << "→" << c.out_dim;
  return s.str();
}

VideoGeometry latent_geometry(const WanConfig& c, int64_t latent_frames, int64_t latent_height,
                              int64_t latent_width) {
  VideoGeometry g;
  g.latent_frames = latent_frames;
  g.latent_height = latent_height;
  g.latent_width = latent_width;
  const std::array<int64_t, 3> sizes = {latent_frames, latent_height, latent_width};
  const char* names[3] = {"latent frames", "latent height", "latent width"};
  for (size_t i = 0; i < 3; ++i) {
    if (sizes[i] <= 0 || sizes[i] % c.patch[i] != 0) {
      throw std::invalid_argument(std::string(names[i]) + ": expected a positive multiple of the patch size " +
                                  std::to_string(c.patch[i]) + ", found " + std::to_string(sizes[i]));
    }
  }
  g.grid_frames = latent_frames / c.patch[0];
  g.grid_height = latent_height / c.patch[1];
  g.grid_width = latent_width / c.patch[2];
  return g;
}

VideoGeometry video_geometry(const WanConfig& c, int64_t frames, int64_t height, int64_t width) {
  if (frames <= 0 || (frames - 1) % c.vae_stride[0] != 0) {
    throw std::invalid_argument("--frames: expected 1 + " + std::to_string(c.vae_stride[0]) +
                                "·k frames (the VAE's temporal stride), found " + std::to_string(frames));
  }
  const int64_t step_h = c.vae_stride[1] * c.patch[1], step_w = c.vae_stride[2] * c.patch[2];
  if (height <= 0 || height % step_h != 0) {
    throw std::invalid_argument("--height: expected a positive multiple of " + std::to_string(step_h) +
                                " (VAE stride × patch), found " + std::to_string(height));
  }
  if (width <= 0 || width % step_w != 0) {
    throw std::invalid_argument("--width: expected a positive multiple of " + std::to_string(step_w) +
                                " (VAE stride × patch), found " + std::to_string(width));
  }
  const int64_t latent_frames = (frames - 1) / c.vae_stride[0] + 1;
  if (latent_frames % c.patch[0] != 0) {
    throw std::invalid_argument("--frames: " + std::to_string(latent_frames) +
                                " latent frames are not a multiple of the temporal patch " + std::to_string(c.patch[0]));
  }
  return latent_geometry(c, latent_frames, height / c.vae_stride[1], width / c.vae_stride[2]);
}

data::PlanModel plan_model(const WanConfig& c) {
  return data::PlanModel{c.name, c.num_layers, c.num_heads, c.head_dim(), "wan2.1"};
}

data::TokenLayout token_layout(const VideoGeometry& g, int64_t block_size) {
  data::TokenLayout layout;
  layout.frames = g.grid_frames;
  layout.height = g.grid_height;
  layout.width = g.grid_width;
  layout.text_prefix = 0;
  layout.text_suffix = 0;
  layout.block_size = block_size;
  return layout;
}

}  // namespace svdit::runtime
