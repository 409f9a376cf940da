#pragma once
// The shape of one HunyuanVideo DiT (diffusers HunyuanVideoTransformer3DModel). Every size comes from here, and this
// comes from the checkpoint's config.json (diffusers field names: the public checkpoints in safetensors are the
// diffusers ones; the original Tencent release is a PyTorch .pt file) or from the preset "hunyuan-video".

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "svdit/data/plan.h"
#include "svdit/data/token_layout.h"
#include "svdit/runtime/wan_config.h"  // VideoGeometry (the latent video and its token grid; family-neutral)

namespace svdit::runtime {

struct HunyuanVideoConfig {
  std::string name;                  // the model name plans carry ("HunyuanVideo"); see hunyuan_video_default_name()
  int64_t in_channels = 16;          // latent channels in
  int64_t out_channels = 16;         // latent channels out
  int64_t num_heads = 24;            // H (num_attention_heads)
  int64_t head_dim = 128;            // attention_head_dim
  int64_t num_layers = 20;           // dual-stream blocks (transformer_blocks)
  int64_t num_single_layers = 40;    // single-stream blocks (single_transformer_blocks)
  int64_t num_refiner_layers = 2;    // token-refiner blocks of the text
  double mlp_ratio = 4.0;            // FFN width = ⌊dim · mlp_ratio⌋ (as Python's int())
  int64_t patch_size = 2;            // spatial patch (h, w)
  int64_t patch_size_t = 1;          // temporal patch
  bool guidance_embeds = true;       // the guidance-distilled model: an embedded guidance scale
  int64_t text_embed_dim = 4096;     // the LLaVA-Llama text encoder's width
  int64_t pooled_projection_dim = 768;  // CLIP-L pooled output width
  double rope_theta = 256;           // 3D RoPE base
  std::array<int64_t, 3> rope_axes_dim = {16, 56, 56};  // RoPE channels of (frame, row, column); sum = head_dim
  // svdit's own fields (diffusers keeps them in the pipeline, not in the transformer's config):
  int64_t text_len = 256;            // max_sequence_length: the padded text length, T1 of the token layout plans
                                     // are checked against (a prompt has at most this many valid tokens)
  std::array<int64_t, 3> vae_stride = {4, 8, 8};  // (t, h, w) pixel → latent strides of HunyuanVideo's VAE

  static constexpr double kEps = 1e-6;  // every LayerNorm and RMSNorm of the model (fixed in diffusers)

  int64_t dim() const { return num_heads * head_dim; }
  int64_t mlp_dim() const { return static_cast<int64_t>(static_cast<double>(dim()) * mlp_ratio); }
  int64_t patch_volume() const { return patch_size_t * patch_size * patch_size; }
  int64_t layers() const { return num_layers + num_single_layers; }  // self-attention layers: dual, then single
  bool operator==(const HunyuanVideoConfig&) const = default;
};

// Throws std::invalid_argument naming `source` and the field unless the config is usable: positive sizes within
// svdit's bounds, rope_axes_dim even and summing to head_dim, mlp_ratio > 0.
void validate(const HunyuanVideoConfig& config, const std::string& source = "<memory>");

// "HunyuanVideo" when the sizes are exactly the released model's, otherwise a name that spells the sizes
// ("HunyuanVideo-h2x16-l1+1-r1"), so that a plan made for one shape is never applied to another.
std::string hunyuan_video_default_name(const HunyuanVideoConfig& config);

// The released model: "hunyuan-video" (also "HunyuanVideo", "hunyuanvideo"). std::nullopt for another name.
std::optional<HunyuanVideoConfig> hunyuan_video_preset(std::string_view name);

// Parses a diffusers config.json of HunyuanVideoTransformer3DModel. A config of another class (`_class_name`), an
// image-to-video variant (image_condition_type set) or qk_norm other than "rms_norm" is refused with a FormatError
// naming the field. Fields left out take diffusers' defaults (the released sizes).
HunyuanVideoConfig parse_hunyuan_video_config(const nlohmann::json& json, const std::string& source = "<memory>");
HunyuanVideoConfig read_hunyuan_video_config(const std::filesystem::path& path);

// Serialises in the diffusers naming (with `_class_name`), plus svdit's fields name, text_len, vae_stride.
nlohmann::json hunyuan_video_config_to_json(const HunyuanVideoConfig& config);

// "HunyuanVideo: dim 3072 (24 heads × 128), 20 dual + 40 single blocks, 2 refiner, mlp 12288, text 4096×256, …"
std::string describe(const HunyuanVideoConfig& config);

// The latent video and its token grid: T = (frames − 1)/stride_t + 1, H = height/stride_h, W = width/stride_w,
// grid = (T/patch_t, H/patch, W/patch). Throws std::invalid_argument naming the option when a size does not divide.
VideoGeometry hunyuan_video_geometry(const HunyuanVideoConfig& config, int64_t frames, int64_t height, int64_t width);
VideoGeometry hunyuan_video_latent_geometry(const HunyuanVideoConfig& config, int64_t latent_frames,
                                            int64_t latent_height, int64_t latent_width);

// What a plan must match: layers = dual + single blocks (in that order), heads, head_dim.
data::PlanModel plan_model(const HunyuanVideoConfig& config);
// Text after the video: T0 = 0, T1 = text_tokens. Plans are checked against T1 = config.text_len (the padded
// length); a forward runs with T1 = the prompt's valid tokens (docs/FORMATS.md "Text tokens of HunyuanVideo").
data::TokenLayout hunyuan_video_token_layout(const VideoGeometry& geometry, int64_t text_tokens,
                                             int64_t block_size = 128);

}  // namespace svdit::runtime
