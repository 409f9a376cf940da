// CogVideoXConfig: the preset, config.json in diffusers' naming, the video → token geometry (cogvideox_config.h).

#include "svdit/runtime/cogvideox_config.h"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "config_fields.h"
#include "svdit/data/checkpoint_family.h"
#include "svdit/data/error.h"
#include "svdit/data/size_limits.h"

namespace svdit::runtime {

using data::FormatError;
using nlohmann::json;
using namespace config_fields;

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// A field whose value selects behaviour this runtime does not implement: refused, never run differently.
void require_value(const json& j, const char* field, const json& expected, const std::string& source,
                   const std::string& why) {
  const auto it = j.find(field);
  if (it != j.end() && !it->is_null() && *it != expected) {
    throw FormatError(source, field, "expected " + expected.dump() + " (" + why + "), found " + it->dump());
  }
}

}  // namespace

void validate(const CogVideoXConfig& c, const std::string& source) {
  auto in_range = [&](const char* field, int64_t value, int64_t bound) {
    if (value <= 0 || value > bound) {
      throw std::invalid_argument(source + ": " + field + ": expected 1 … " + std::to_string(bound) + ", found " +
                                  std::to_string(value));
    }
  };
  constexpr int64_t kMaxWidth = 65536, kMaxChannels = 1024, kMaxPatch = 64, kMaxTextLen = 4096;
  in_range("num_attention_heads", c.num_heads, data::kMaxHeads);
  in_range("attention_head_dim", c.head_dim, data::kMaxHeadDim);
  in_range("inner dim", c.dim(), kMaxWidth);
  in_range("in_channels", c.in_channels, kMaxChannels);
  in_range("out_channels", c.out_channels, kMaxChannels);
  in_range("time_embed_dim", c.time_embed_dim, kMaxWidth);
  in_range("text_embed_dim", c.text_embed_dim, kMaxWidth);
  in_range("max_text_seq_length", c.text_len, kMaxTextLen);
  in_range("num_layers", c.num_layers, data::kMaxLayers);
  in_range("patch_size", c.patch_size, kMaxPatch);
  in_range("patch_size_t", c.patch_size_t, kMaxPatch);
  in_range("temporal_compression_ratio", c.temporal_compression_ratio, kMaxPatch);
  in_range("spatial_compression_ratio", c.spatial_compression_ratio, kMaxPatch);
  // RoPE splits head_dim into head_dim/4 (frames) and 3·head_dim/8 twice (rows, columns), each an even width.
  if (c.head_dim % 16 != 0) {
    throw std::invalid_argument(source + ": attention_head_dim: expected a multiple of 16 (3D RoPE splits it 2:3:3 "
                                "into even widths), found " + std::to_string(c.head_dim));
  }
  if (c.dim() % 2 != 0) throw std::invalid_argument(source + ": inner dim: expected an even width (cos and sin halves)");
  if (c.freq_shift < 0 || c.freq_shift >= c.dim() / 2) {
    throw std::invalid_argument(source + ": freq_shift: expected 0 … " + std::to_string(c.dim() / 2 - 1));
  }
  if (!(c.norm_eps > 0)) throw std::invalid_argument(source + ": norm_eps: expected a positive number");
  if (!(c.rope_theta > 1)) throw std::invalid_argument(source + ": rope_theta: expected a number > 1");
  if (c.name.empty()) throw std::invalid_argument(source + ": name: expected a non-empty model name");
}

std::string default_cogvideox_name(const CogVideoXConfig& c) {
  CogVideoXConfig released = *cogvideox_preset("cogvideox1.5-5b");
  CogVideoXConfig same = c;
  same.name = released.name;
  if (same == released) return released.name;
  return "CogVideoX1.5-h" + std::to_string(c.num_heads) + "x" + std::to_string(c.head_dim) + "-l" +
         std::to_string(c.num_layers) + "-t" + std::to_string(c.time_embed_dim);
}

std::optional<CogVideoXConfig> cogvideox_preset(std::string_view name) {
  const std::string n = lower(name);
  if (n != "cogvideox1.5-5b" && n != "cogvideox1.5") return std::nullopt;
  // THUDM/CogVideoX1.5-5B transformer/config.json: 42 layers, 48 heads × 64, time 512, T5 4096 × 226, patch
  // 2 (and 2 in time), RoPE, no ofs embedding (text-to-video). The struct's defaults are these sizes.
  CogVideoXConfig c;
  c.name = "CogVideoX1.5-5B";
  return c;
}

CogVideoXConfig parse_cogvideox_config(const json& j, const std::string& source) {
  if (!j.is_object()) throw FormatError(source, "<root>", "expected a JSON object");
  if (const auto family = data::family_from_config(j, source); !family || family->family != "cogvideox1.5") {
    throw FormatError(source, "_class_name",
                      "expected a CogVideoXTransformer3DModel config, found " +
                          (family ? "a " + family->family + " one (" + family->evidence + ")" : std::string("none")));
  }
  CogVideoXConfig c;
  read_int(j, "num_attention_heads", c.num_heads, source);
  read_int(j, "attention_head_dim", c.head_dim, source);
  read_int(j, "in_channels", c.in_channels, source);
  read_int(j, "out_channels", c.out_channels, source);
  read_int(j, "time_embed_dim", c.time_embed_dim, source);
  read_int(j, "text_embed_dim", c.text_embed_dim, source);
  read_int(j, "max_text_seq_length", c.text_len, source);
  read_int(j, "num_layers", c.num_layers, source);
  read_int(j, "patch_size", c.patch_size, source);
  read_int(j, "temporal_compression_ratio", c.temporal_compression_ratio, source);
  read_bool(j, "flip_sin_to_cos", c.flip_sin_to_cos, source);
  read_int(j, "freq_shift", c.freq_shift, source);
  read_double(j, "norm_eps", c.norm_eps, source);
  // patch_size_t absent or null is CogVideoX 1.0 (a 2D patch and sin-cos positions): another model.
  if (const auto it = j.find("patch_size_t"); it == j.end() || it->is_null()) {
    throw FormatError(source, "patch_size_t",
                      "missing: a CogVideoX 1.0 config (no temporal patch); svdit runs CogVideoX1.5 (patch_size_t 2)");
  }
  read_int(j, "patch_size_t", c.patch_size_t, source);
  require_value(j, "use_rotary_positional_embeddings", true, source, "CogVideoX1.5 uses 3D RoPE");
  if (const auto it = j.find("use_rotary_positional_embeddings"); it == j.end()) {
    throw FormatError(source, "use_rotary_positional_embeddings", "missing; expected true (CogVideoX1.5 uses 3D RoPE)");
  }
  require_value(j, "use_learned_positional_embeddings", false, source, "CogVideoX1.5 text-to-video has none");
  require_value(j, "ofs_embed_dim", nullptr, source, "an image-to-video model; svdit runs the text-to-video DiT");
  require_value(j, "activation_fn", "gelu-approximate", source, "the released FFN");
  require_value(j, "timestep_activation_fn", "silu", source, "the released time MLP");
  require_value(j, "norm_elementwise_affine", true, source, "the released LayerNorms have gains and biases");
  require_value(j, "attention_bias", true, source, "the released q/k/v projections have biases");
  read_string(j, "name", c.name, source);
  if (c.name.empty()) c.name = default_cogvideox_name(c);
  try {
    validate(c, source);
  } catch (const std::invalid_argument& e) {
    throw FormatError(source, "config", e.what());
  }
  return c;
}

json cogvideox_config_to_json(const CogVideoXConfig& c) {
  return json{{"_class_name", "CogVideoXTransformer3DModel"},
              {"name", c.name},
              {"num_attention_heads", c.num_heads},
              {"attention_head_dim", c.head_dim},
              {"in_channels", c.in_channels},
              {"out_channels", c.out_channels},
              {"time_embed_dim", c.time_embed_dim},
              {"text_embed_dim", c.text_embed_dim},
              {"max_text_seq_length", c.text_len},
              {"num_layers", c.num_layers},
              {"patch_size", c.patch_size},
              {"patch_size_t", c.patch_size_t},
              {"temporal_compression_ratio", c.temporal_compression_ratio},
              {"flip_sin_to_cos", c.flip_sin_to_cos},
              {"freq_shift", c.freq_shift},
              {"norm_eps", c.norm_eps},
              {"use_rotary_positional_embeddings", true},
              {"use_learned_positional_embeddings", false}};
}

std::string describe(const CogVideoXConfig& c) {
  std::ostringstream s;
  s << c.name << ": " << c.num_layers << " layers, " << c.num_heads << " heads × " << c.head_dim << ", time "
    << c.time_embed_dim << ", text " << c.text_embed_dim << "×" << c.text_len << " (before the video), patch "
    << c.patch_size_t << "×" << c.patch_size << "×" << c.patch_size << ", channels " << c.in_channels << "→"
    << c.out_channels;
  return s.str();
}

VideoGeometry cogvideox_video_geometry(const CogVideoXConfig& c, int64_t frames, int64_t height, int64_t width) {
  const int64_t t = c.temporal_compression_ratio, s = c.spatial_compression_ratio;
  if (frames <= 0 || (frames - 1) % t != 0) {
    throw std::invalid_argument("--frames: expected 1 + " + std::to_string(t) +
                                "·k frames (the VAE's temporal stride), found " + std::to_string(frames));
  }
  const int64_t step = s * c.patch_size;
  if (height <= 0 || height % step != 0) {
    throw std::invalid_argument("--height: expected a positive multiple of " + std::to_string(step) +
                                " (VAE stride × patch), found " + std::to_string(height));
  }
  if (width <= 0 || width % step != 0) {
    throw std::invalid_argument("--width: expected a positive multiple of " + std::to_string(step) +
                                " (VAE stride × patch), found " + std::to_string(width));
  }
  VideoGeometry g;
  const int64_t latent = (frames - 1) / t + 1;
  g.latent_frames = (latent + c.patch_size_t - 1) / c.patch_size_t * c.patch_size_t;  // the pipeline's padding
  g.latent_height = height / s;
  g.latent_width = width / s;
  g.grid_frames = g.latent_frames / c.patch_size_t;
  g.grid_height = g.latent_height / c.patch_size;
  g.grid_width = g.latent_width / c.patch_size;
  return g;
}

data::PlanModel plan_model(const CogVideoXConfig& c) {
  return data::PlanModel{c.name, c.num_layers, c.num_heads, c.head_dim, "cogvideox1.5"};
}

data::TokenLayout cogvideox_token_layout(const CogVideoXConfig& c, const VideoGeometry& g, int64_t block_size) {
  data::TokenLayout layout;
  layout.frames = g.grid_frames;
  layout.height = g.grid_height;
  layout.width = g.grid_width;
  layout.text_prefix = c.text_len;  // CogVideoX attends [text][video] jointly
  layout.text_suffix = 0;
  layout.block_size = block_size;
  return layout;
}

}  // namespace svdit::runtime
