#pragma once
// The shape of one CogVideoX1.5 DiT (diffusers' CogVideoXTransformer3DModel with the 1.5 settings: a temporal
// patch, 3D RoPE, no learned positional embedding), read from its config.json in diffusers' field names, or a
// preset ("cogvideox1.5-5b", the released THUDM/CogVideoX1.5-5B transformer config). Configs of the other
// CogVideoX variants are refused naming the field: 1.0 (no patch_size_t, sin-cos positions), image-to-video (ofs
// embedding), learned positional embeddings.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "svdit/data/plan.h"
#include "svdit/data/token_layout.h"
#include "svdit/runtime/video_geometry.h"

namespace svdit::runtime {

struct CogVideoXConfig {
  std::string name;                    // the model name plans carry; default_cogvideox_name()
  int64_t num_heads = 48;              // num_attention_heads
  int64_t head_dim = 64;               // attention_head_dim
  int64_t in_channels = 16, out_channels = 16;
  int64_t time_embed_dim = 512;        // the timestep MLP's width (the adaptive norms' conditioning)
  int64_t text_embed_dim = 4096;       // T5-XXL's output width
  int64_t text_len = 226;              // max_text_seq_length: the text tokens before the video in self-attention
  int64_t num_layers = 42;
  int64_t patch_size = 2, patch_size_t = 2;
  int64_t temporal_compression_ratio = 4;  // the VAE's frames → latent frames (1 + 4k → 1 + k)
  int64_t spatial_compression_ratio = 8;   // the VAE's pixels → latents (the pipeline's vae_scale_factor_spatial)
  bool flip_sin_to_cos = true;             // the timestep sinusoid's order: cos first
  int64_t freq_shift = 0;
  double norm_eps = 1e-5;                  // the block and output LayerNorms (the q/k LayerNorms use 1e-6)
  double rope_theta = 10000;

  int64_t dim() const { return num_heads * head_dim; }  // inner_dim
  int64_t ffn_dim() const { return 4 * dim(); }         // diffusers' FeedForward with mult 4
  int64_t patch_volume() const { return patch_size_t * patch_size * patch_size; }
  bool operator==(const CogVideoXConfig&) const = default;
};

// Throws std::invalid_argument naming `source` and the field unless usable (positive sizes in bounds, a head_dim
// that splits into the three RoPE axes: a multiple of 8).
void validate(const CogVideoXConfig& config, const std::string& source = "<memory>");

// "CogVideoX1.5-5B" for the released sizes, else "CogVideoX1.5-h<heads>x<head_dim>-l<layers>".
std::string default_cogvideox_name(const CogVideoXConfig& config);

// "cogvideox1.5-5b" (also "CogVideoX1.5-5B"); std::nullopt for another name.
std::optional<CogVideoXConfig> cogvideox_preset(std::string_view name);

// From diffusers' config.json fields (num_attention_heads, attention_head_dim, in_channels, out_channels,
// time_embed_dim, text_embed_dim, num_layers, patch_size, patch_size_t, max_text_seq_length, norm_eps, …) plus
// svdit's own "name". Refuses another family's config and the variants above with a data::FormatError.
CogVideoXConfig parse_cogvideox_config(const nlohmann::json& json, const std::string& source = "<memory>");
nlohmann::json cogvideox_config_to_json(const CogVideoXConfig& config);  // diffusers' naming + "name"

// "CogVideoX1.5-5B: 42 layers, 48 heads × 64, time 512, text 4096×226, patch 2×2×2, channels 16→16"
std::string describe(const CogVideoXConfig& config);

// The latent video of a pixel size as CogVideoXPipeline makes it: T = (frames − 1)/4 + 1 latent frames, padded up
// to a multiple of patch_size_t (the pipeline adds the padding frames in front and drops them after decoding),
// H = height/8, W = width/8; grid (T/pt, H/p, W/p). std::invalid_argument naming the option when a size does not
// divide.
VideoGeometry cogvideox_video_geometry(const CogVideoXConfig& config, int64_t frames, int64_t height, int64_t width);

// The plan-facing shape and the self-attention layout: T0 = text_len text tokens, then the F'·H'·W' video grid.
data::PlanModel plan_model(const CogVideoXConfig& config);
data::TokenLayout cogvideox_token_layout(const CogVideoXConfig& config, const VideoGeometry& geometry,
                                         int64_t block_size = 128);

}  // namespace svdit::runtime
