#pragma once
// The shape of one Wan2.1 text-to-video DiT (reference/wan21-spec.md §1). Nothing about a model is hard-coded in
// the runtime: every size comes from here, and this comes from the checkpoint's config.json (the original WanModel
// field names or the diffusers WanTransformer3DModel ones), from the weights themselves, or from a preset.

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "svdit/data/plan.h"
#include "svdit/data/checkpoint_family.h"
#include "svdit/data/token_layout.h"
#include "svdit/runtime/video_geometry.h"

namespace svdit::data {
class SafetensorsCollection;
}

namespace svdit::runtime {

struct WanConfig {
  std::string name;            // the model name plans carry ("Wan2.1-T2V-1.3B"); see default_model_name()
  int64_t dim = 0;             // D: hidden size
  int64_t ffn_dim = 0;         // F: FFN hidden size
  int64_t freq_dim = 256;      // sinusoidal timestep embedding width
  int64_t text_dim = 4096;     // umT5-XXL output width
  int64_t text_len = 512;      // text tokens after zero padding
  int64_t num_heads = 0;       // H
  int64_t num_layers = 0;      // L
  int64_t in_dim = 16;         // latent channels in
  int64_t out_dim = 16;        // latent channels out
  std::array<int64_t, 3> patch = {1, 2, 2};       // (t, h, w) patch size
  std::array<int64_t, 3> vae_stride = {4, 8, 8};  // (t, h, w) pixel → latent strides of the model's VAE
  double eps = 1e-6;           // every LayerNorm and RMSNorm
  double rope_theta = 10000;   // 3D RoPE base
  // Name of the decoder from latents to pixels (the demo model's exact "VAE"); empty: the model declares none
  // and svdit generate writes latents only. Wan's own VAE is out of scope (README).
  std::string pixel_decoder;
  // Name of the built-in text encoder that turns a prompt's text into the context rows (the demo model's
  // "demo-words", text_embeddings.h); empty: the model takes precomputed embeddings (umT5 is out of scope).
  std::string text_encoder;

  int64_t head_dim() const { return dim / num_heads; }
  int64_t patch_volume() const { return patch[0] * patch[1] * patch[2]; }
  int64_t patch_features() const { return in_dim * patch_volume(); }  // one patch flattened (c, pt, ph, pw)
  bool operator==(const WanConfig&) const = default;
};

// Throws std::invalid_argument naming `source` and the field unless the config is usable: positive sizes, dim a
// multiple of num_heads, an even head_dim of at least 6 (three RoPE axes), positive eps.
void validate(const WanConfig& config, const std::string& source = "<memory>");

// "Wan2.1-T2V-1.3B" / "Wan2.1-T2V-14B" when the sizes are exactly a released model's, otherwise a name that spells
// the sizes ("Wan2.1-d128-l2-h2-f256"), so that a plan made for one shape is never applied to another.
std::string default_model_name(const WanConfig& config);

// Presets: "1.3B" and "14B" (also "wan2.1-1.3b", "Wan2.1-T2V-14B", …). std::nullopt for an unknown name.
std::optional<WanConfig> preset_config(std::string_view name);

// Parses a config.json of either naming: the original WanModel arguments (dim, ffn_dim, num_heads, num_layers,
// in_dim, out_dim, eps, text_len, …) or diffusers' (num_attention_heads, attention_head_dim, in_channels, …).
// Fields the reference leaves out (patch_size, text_dim for the original repo) take the released defaults.
// Refuses configs of other model types (i2v, VACE: image_dim, added_kv_proj_dim, model_type "i2v") and unsupported
// options (qk_norm other than across heads, cross_attn_norm false) with a FormatError naming the field.
WanConfig parse_config(const nlohmann::json& json, const std::string& source = "<memory>");
WanConfig read_config(const std::filesystem::path& path);

// Serialises in the original naming, plus svdit's own fields (name, vae_stride, pixel_decoder, text_encoder,
// rope_theta; the last two only when set).
nlohmann::json config_to_json(const WanConfig& config);

// The config a checkpoint's tensor shapes imply: D, F, in/out channels, patch, text and frequency widths and the
// layer count are all visible in the weights; the head count is not, so it is taken as D / 128 (the released
// models' head_dim) and an error asks for config.json when D is not a multiple of 128.
WanConfig detect_config(const data::SafetensorsCollection& weights);

// The config.json that belongs to a checkpoint path (svdit/data/checkpoint_family.h: the one in the same directory).
using data::find_config_beside;

// "Wan2.1-T2V-1.3B: dim 1536, 30 layers, 12 heads × 128, ffn 8960, text 4096×512, patch 1×2×2"
std::string describe(const WanConfig& config);

// The latent video and its token grid (video_geometry.h) for a pixel size: T = (frames − 1)/stride_t + 1, H = height/stride_h,
// W = width/stride_w, grid = (T/pt, H/ph, W/pw). Throws std::invalid_argument naming the option when a size does
// not divide (e.g. frames not 1 + 4k).
VideoGeometry video_geometry(const WanConfig& config, int64_t frames, int64_t height, int64_t width);
// The same from a latent size directly (T, H, W).
VideoGeometry latent_geometry(const WanConfig& config, int64_t latent_frames, int64_t latent_height,
                              int64_t latent_width);

// What a plan must match to run on this model and video (docs/FORMATS.md "Plan (JSON)", check_plan_matches). Wan has
// no text tokens in self-attention: T0 = T1 = 0, the layout is F' × H' × W'.
data::PlanModel plan_model(const WanConfig& config);
data::TokenLayout token_layout(const VideoGeometry& geometry, int64_t block_size = 128);

}  // namespace svdit::runtime
