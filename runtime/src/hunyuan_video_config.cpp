// HunyuanVideoConfig: the preset, config.json in the diffusers naming, and the video → token geometry.

#include "svdit/runtime/hunyuan_video_config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/size_limits.h"
#include "svdit/data/strict_json.h"

namespace svdit::runtime {

using data::FormatError;
using nlohmann::json;

namespace {

constexpr const char* kClassName = "HunyuanVideoTransformer3DModel";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Optional fields: absent or null keeps diffusers' default; a present field of the wrong type is an error.
void read_int(const json& j, const char* field, int64_t& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_number_integer()) throw FormatError(source, field, "expected an integer, found " + it->dump());
  target = it->get<int64_t>();
}

void read_double(const json& j, const char* field, double& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_number()) throw FormatError(source, field, "expected a number, found " + it->dump());
  target = it->get<double>();
}

void read_bool(const json& j, const char* field, bool& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_boolean()) throw FormatError(source, field, "expected true or false, found " + it->dump());
  target = it->get<bool>();
}

void read_string(const json& j, const char* field, std::string& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_string()) throw FormatError(source, field, "expected a string, found " + it->dump());
  target = it->get<std::string>();
}

void read_triple(const json& j, const char* field, std::array<int64_t, 3>& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_array() || it->size() != 3 ||
      !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_number_integer(); })) {
    throw FormatError(source, field, "expected an array of 3 integers, found " + it->dump());
  }
  for (size_t i = 0; i < 3; ++i) target[i] = (*it)[i].get<int64_t>();
}

}  // namespace

void validate(const HunyuanVideoConfig& c, const std::string& source) {
  auto in_range = [&](const char* field, int64_t value, int64_t bound) {
    if (value <= 0 || value > bound) {
      throw std::invalid_argument(source + ": " + field + ": expected an integer in [1, " + std::to_string(bound) +
                                  "], found " + std::to_string(value));
    }
  };
  // The sizes multiply into weight shapes and buffers: bounded like Wan's (data/size_limits.h).
  constexpr int64_t kMaxWidth = 65536, kMaxChannels = 1024, kMaxPatch = 64, kMaxTextLen = 4096;
  in_range("num_attention_heads", c.num_heads, data::kMaxHeads);
  in_range("attention_head_dim", c.head_dim, data::kMaxHeadDim);
  in_range("dim (num_attention_heads × attention_head_dim)", c.dim(), kMaxWidth);
  in_range("num_layers", c.num_layers, data::kMaxLayers);
  if (c.num_single_layers < 0 || c.num_single_layers > data::kMaxLayers) {
    throw std::invalid_argument(source + ": num_single_layers: expected an integer in [0, " +
                                std::to_string(data::kMaxLayers) + "], found " + std::to_string(c.num_single_layers));
  }
  in_range("num_layers + num_single_layers", c.layers(), data::kMaxLayers);
  if (c.num_refiner_layers < 0 || c.num_refiner_layers > data::kMaxLayers) {
    throw std::invalid_argument(source + ": num_refiner_layers: expected an integer in [0, " +
                                std::to_string(data::kMaxLayers) + "], found " + std::to_string(c.num_refiner_layers));
  }
  if (!(c.mlp_ratio > 0) || !(c.mlp_ratio <= 64)) {
    throw std::invalid_argument(source + ": mlp_ratio: expected a number in (0, 64], found " +
                                std::to_string(c.mlp_ratio));
  }
  in_range("mlp width (dim × mlp_ratio)", c.mlp_dim(), 4 * kMaxWidth);
  in_range("in_channels", c.in_channels, kMaxChannels);
  in_range("out_channels", c.out_channels, kMaxChannels);
  in_range("patch_size", c.patch_size, kMaxPatch);
  in_range("patch_size_t", c.patch_size_t, kMaxPatch);
  in_range("text_embed_dim", c.text_embed_dim, kMaxWidth);
  in_range("pooled_projection_dim", c.pooled_projection_dim, kMaxWidth);
  in_range("text_len", c.text_len, kMaxTextLen);
  for (size_t i = 0; i < 3; ++i) in_range("vae_stride", c.vae_stride[i], kMaxPatch);
  // RoPE rotates channel pairs; each axis has its own even share of the head's channels.
  int64_t rope_sum = 0;
  for (const int64_t d : c.rope_axes_dim) {
    if (d <= 0 || d % 2 != 0 || d > data::kMaxHeadDim) {
      throw std::invalid_argument(source + ": rope_axes_dim: expected three positive even integers, found " +
                                  std::to_string(d));
    }
    rope_sum += d;
  }
  if (rope_sum != c.head_dim) {
    throw std::invalid_argument(source + ": rope_axes_dim: the three axes' channels sum to " + std::to_string(rope_sum) +
                                ", expected attention_head_dim " + std::to_string(c.head_dim));
  }
  if (!(c.rope_theta > 1) || !std::isfinite(c.rope_theta)) {
    throw std::invalid_argument(source + ": rope_theta: expected a finite number > 1");
  }
  if (c.name.empty()) throw std::invalid_argument(source + ": name: expected a non-empty model name");
}

std::optional<HunyuanVideoConfig> hunyuan_video_preset(std::string_view name) {
  const std::string n = lower(name);
  if (n == "hunyuan-video" || n == "hunyuanvideo" || n == "hunyuan_video") {
    HunyuanVideoConfig c;  // the defaults are the released sizes (hunyuanvideo-community/HunyuanVideo transformer)
    c.name = "HunyuanVideo";
    return c;
  }
  return std::nullopt;
}

std::string hunyuan_video_default_name(const HunyuanVideoConfig& c) {
  HunyuanVideoConfig released = *hunyuan_video_preset("hunyuan-video");
  HunyuanVideoConfig same = c;
  same.name = released.name;
  // vae_stride does not change the DiT; text_len does (it is T1 of the plans' layout).
  same.vae_stride = released.vae_stride;
  if (same == released) return released.name;
  return "HunyuanVideo-h" + std::to_string(c.num_heads) + "x" + std::to_string(c.head_dim) + "-l" +
         std::to_string(c.num_layers) + "+" + std::to_string(c.num_single_layers) + "-r" +
         std::to_string(c.num_refiner_layers) + "-t" + std::to_string(c.text_len);
}

HunyuanVideoConfig parse_hunyuan_video_config(const json& j, const std::string& source) {
  if (!j.is_object()) throw FormatError(source, "<root>", "expected a JSON object, found " + j.dump().substr(0, 60));
  if (const auto it = j.find("_class_name"); it != j.end() && !it->is_null() && *it != kClassName) {
    throw FormatError(source, "_class_name", std::string("expected \"") + kClassName + "\" (HunyuanVideo), found " +
                                                 it->dump() + ": the checkpoint is of another model family");
  }
  HunyuanVideoConfig c;
  read_int(j, "in_channels", c.in_channels, source);
  read_int(j, "out_channels", c.out_channels, source);
  if (const auto it = j.find("out_channels"); it != j.end() && it->is_null()) c.out_channels = c.in_channels;
  read_int(j, "num_attention_heads", c.num_heads, source);
  read_int(j, "attention_head_dim", c.head_dim, source);
  // Bounded before the product dim() (a fuzzed 2^62 × 2^62 would overflow).
  data::require_at_most(c.num_heads, data::kMaxHeads, source, "num_attention_heads", "attention heads per layer");
  data::require_at_most(c.head_dim, data::kMaxHeadDim, source, "attention_head_dim", "channels per head");
  read_int(j, "num_layers", c.num_layers, source);
  read_int(j, "num_single_layers", c.num_single_layers, source);
  read_int(j, "num_refiner_layers", c.num_refiner_layers, source);
  read_double(j, "mlp_ratio", c.mlp_ratio, source);
  read_int(j, "patch_size", c.patch_size, source);
  read_int(j, "patch_size_t", c.patch_size_t, source);
  read_bool(j, "guidance_embeds", c.guidance_embeds, source);
  read_int(j, "text_embed_dim", c.text_embed_dim, source);
  read_int(j, "pooled_projection_dim", c.pooled_projection_dim, source);
  read_double(j, "rope_theta", c.rope_theta, source);
  read_triple(j, "rope_axes_dim", c.rope_axes_dim, source);
  if (const auto it = j.find("qk_norm"); it != j.end() && !it->is_null() && *it != "rms_norm") {
    throw FormatError(source, "qk_norm", "expected \"rms_norm\" (HunyuanVideo), found " + it->dump());
  }
  if (const auto it = j.find("image_condition_type"); it != j.end() && !it->is_null()) {
    throw FormatError(source, "image_condition_type",
                      "an image-to-video model (found " + it->dump() + "); svdit runs the text-to-video DiT only");
  }
  read_int(j, "text_len", c.text_len, source);
  read_triple(j, "vae_stride", c.vae_stride, source);
  read_string(j, "name", c.name, source);
  if (c.name.empty()) {
    // The default name spells the sizes, so validate them first (an invalid size must not make a name).
    HunyuanVideoConfig named = c;
    named.name = "?";
    try {
      validate(named, source);
    } catch (const std::invalid_argument& e) {
      throw FormatError(source, "config", e.what());
    }
    c.name = hunyuan_video_default_name(c);
  }
  try {
    validate(c, source);
  } catch (const std::invalid_argument& e) {
    throw FormatError(source, "config", e.what());
  }
  return c;
}

HunyuanVideoConfig read_hunyuan_video_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw FormatError(path.string(), "<file>", "cannot read the model config: not a regular file");
  }
  std::ifstream in(path);
  if (!in) throw FormatError(path.string(), "<file>", "cannot open the model config");
  std::stringstream text;
  text << in.rdbuf();
  constexpr int kMaxConfigDepth = 8;
  const json j = data::detail::parse_json_strictly(text.str(), path.string(), "<root>", kMaxConfigDepth);
  return parse_hunyuan_video_config(j, path.string());
}

json hunyuan_video_config_to_json(const HunyuanVideoConfig& c) {
  return json{{"_class_name", kClassName},
              {"name", c.name},
              {"in_channels", c.in_channels},
              {"out_channels", c.out_channels},
              {"num_attention_heads", c.num_heads},
              {"attention_head_dim", c.head_dim},
              {"num_layers", c.num_layers},
              {"num_single_layers", c.num_single_layers},
              {"num_refiner_layers", c.num_refiner_layers},
              {"mlp_ratio", c.mlp_ratio},
              {"patch_size", c.patch_size},
              {"patch_size_t", c.patch_size_t},
              {"qk_norm", "rms_norm"},
              {"guidance_embeds", c.guidance_embeds},
              {"text_embed_dim", c.text_embed_dim},
              {"pooled_projection_dim", c.pooled_projection_dim},
              {"rope_theta", c.rope_theta},
              {"rope_axes_dim", c.rope_axes_dim},
              {"image_condition_type", nullptr},
              {"text_len", c.text_len},
              {"vae_stride", c.vae_stride}};
}

std::string describe(const HunyuanVideoConfig& c) {
  std::ostringstream s;
  s << c.name << ": dim " << c.dim() << " (" << c.num_heads << " heads × " << c.head_dim << "), " << c.num_layers
    << " dual + " << c.num_single_layers << " single blocks, " << c.num_refiner_layers << " refiner, mlp "
    << c.mlp_dim() << ", text " << c.text_embed_dim << "×" << c.text_len << ", pooled " << c.pooled_projection_dim
    << ", patch " << c.patch_size_t << "×" << c.patch_size << "×" << c.patch_size << ", rope "
    << c.rope_axes_dim[0] << "/" << c.rope_axes_dim[1] << "/" << c.rope_axes_dim[2] << " θ " << c.rope_theta
    << (c.guidance_embeds ? ", embedded guidance" : "");
  return s.str();
}

VideoGeometry hunyuan_video_latent_geometry(const HunyuanVideoConfig& c, int64_t latent_frames, int64_t latent_height,
                                            int64_t latent_width) {
  VideoGeometry g;
  g.latent_frames = latent_frames;
  g.latent_height = latent_height;
  g.latent_width = latent_width;
  const std::array<int64_t, 3> sizes = {latent_frames, latent_height, latent_width};
  const std::array<int64_t, 3> patch = {c.patch_size_t, c.patch_size, c.patch_size};
  const char* names[3] = {"latent frames", "latent height", "latent width"};
  for (size_t i = 0; i < 3; ++i) {
    if (sizes[i] <= 0 || sizes[i] % patch[i] != 0) {
      throw std::invalid_argument(std::string(names[i]) + ": expected a positive multiple of the patch size " +
                                  std::to_string(patch[i]) + ", found " + std::to_string(sizes[i]));
    }
  }
  g.grid_frames = latent_frames / patch[0];
  g.grid_height = latent_height / patch[1];
  g.grid_width = latent_width / patch[2];
  return g;
}

VideoGeometry hunyuan_video_geometry(const HunyuanVideoConfig& c, int64_t frames, int64_t height, int64_t width) {
  if (frames <= 0 || (frames - 1) % c.vae_stride[0] != 0) {
    throw std::invalid_argument("--frames: expected 1 + " + std::to_string(c.vae_stride[0]) +
                                "·k frames (the VAE's temporal stride), found " + std::to_string(frames));
  }
  const int64_t step_h = c.vae_stride[1] * c.patch_size, step_w = c.vae_stride[2] * c.patch_size;
  if (height <= 0 || height % step_h != 0) {
    throw std::invalid_argument("--height: expected a positive multiple of " + std::to_string(step_h) +
                                " (VAE stride × patch), found " + std::to_string(height));
  }
  if (width <= 0 || width % step_w != 0) {
    throw std::invalid_argument("--width: expected a positive multiple of " + std::to_string(step_w) +
                                " (VAE stride × patch), found " + std::to_string(width));
  }
  return hunyuan_video_latent_geometry(c, (frames - 1) / c.vae_stride[0] + 1, height / c.vae_stride[1],
                                       width / c.vae_stride[2]);
}

data::PlanModel plan_model(const HunyuanVideoConfig& c) {
  return data::PlanModel{c.name, c.layers(), c.num_heads, c.head_dim, "hunyuan-video"};
}

data::TokenLayout hunyuan_video_token_layout(const VideoGeometry& g, int64_t text_tokens, int64_t block_size) {
  data::TokenLayout layout;
  layout.frames = g.grid_frames;
  layout.height = g.grid_height;
  layout.width = g.grid_width;
  layout.text_prefix = 0;
  layout.text_suffix = text_tokens;
  layout.block_size = block_size;
  return layout;
}

}  // namespace svdit::runtime
