#pragma once
// The HunyuanVideo DiT (diffusers HunyuanVideoTransformer3DModel), one forward = one flow-velocity prediction:
//   patch embedding (Conv3d) → conditioning temb = MLP(timestep sinusoid) + MLP(guidance sinusoid) + MLP(pooled
//   CLIP vector) → token refiner of the text (its own timestep + mean-pooled-text conditioning, self-attention
//   blocks with gated residuals) → dual-stream blocks (video and text each with its own adaLN-Zero modulation,
//   projections, q/k RMSNorm per head and FFN; one joint self-attention over [video][text]) → single-stream blocks
//   (one stream [video][text], attention and MLP in parallel, one output projection) → adaLN-continuous head →
//   unpatchify. 3D RoPE rotates the video tokens' q and k only; the text comes AFTER the video.
//
// Padded text (docs/FORMATS.md "Text tokens of HunyuanVideo"): diffusers masks the padded text tokens as keys in
// every attention (the refiner's too) and pools only the valid tokens, so padded tokens never change a valid token
// or the video. This model therefore runs on the valid tokens only: `forward` takes the text cut to its valid
// rows (no mask; every self-attention is over [video][valid text], token layout T1 = valid count, through the
// AttentionBackend so a sparse plan applies), and `forward_masked` takes diffusers' padded text + mask, groups the
// batch by valid count and runs `forward` per group. The result equals diffusers' output.
//
// Precision as the Wan runtime: GEMMs and attention in the compute dtype (bf16 on GPU, fp32 on CPU); the
// conditioning MLPs, modulation, norm statistics, RoPE and the residual streams in fp32. Sinusoids and RoPE
// angles are computed in fp32 in the very order diffusers computes them (its fractional timesteps near 1000 make
// an fp64 sinusoid differ from diffusers' by ~1e-5).

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/hunyuan_video_config.h"
#include "svdit/runtime/hunyuan_video_weights.h"
#include "svdit/runtime/rope.h"
#include "svdit/runtime/model_family.h"

namespace svdit::runtime {

class HunyuanVideoModel final : public Model {
 public:
  // Checks the state dict against the config (every key, shape, device and dtype) and takes the tensors. The
  // device and the compute dtype are those of the patch embedding's weight.
  HunyuanVideoModel(HunyuanVideoConfig config, StateDict weights, std::string source = "<memory>");

  const HunyuanVideoConfig& config() const { return config_; }

  // The model-family interface (model_family.h), family "hunyuan-video".
  std::string family() const override { return "hunyuan-video"; }
  std::string describe() const override;
  nlohmann::json config_json() const override;
  data::PlanModel plan_model() const override;
  at::Device device() const override;
  at::ScalarType compute_dtype() const override;
  VideoGeometry video_geometry(int64_t frames, int64_t height, int64_t width) const override;
  // T1 = config.text_len: what plans are checked against (a forward runs on the prompt's valid tokens).
  data::TokenLayout token_layout(const VideoGeometry& geometry, int64_t block_size = 128) const override;
  TextSpec text_spec() const override;  // pooled vector, mask and embedded guidance
  // text.embeddings the valid tokens [B, N, text_embed_dim] (or, with text.mask, diffusers' padded text:
  // forward_masked), text.pooled [B, pooled_projection_dim], text.guidance [B] or [1] (required when the config
  // embeds guidance). Refuses a sequence-parallel run (not implemented for this family).
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                     const ForwardOptions& options = {}) const override;
  std::vector<int64_t> latent_shape(const VideoGeometry& geometry) const override;  // [1, C, T, H, W]
  // hunyuan_video_sampling.h: flow-match Euler, embedded guidance (true_cfg > 1 with a negative: CFG on top).
  DenoisingLoop denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                               const SamplingOptions& options) const override;
  FlowSchedule schedule(const SamplingOptions& options) const override;
  std::string default_sampler() const override { return "euler"; }

  // latents:   [B, in_channels, T, H, W] (T a multiple of patch_size_t, H and W of patch_size), any float dtype
  // timesteps: [B] flow timesteps 1000·σ as diffusers' scheduler gives them (fractional), any numeric dtype
  // text:      [B, N, text_embed_dim]: the prompts' N VALID text tokens (1 ≤ N ≤ text_len), no padding
  // pooled:    [B, pooled_projection_dim]: the CLIP pooled prompt embedding
  // guidance:  [B] (or [1] for every row) the embedded guidance as diffusers' pipeline passes it (1000 · guidance
  //            scale, embedded_guidance_input); required when the config has guidance_embeds, undefined otherwise
  // returns the velocity [B, out_channels, T, H, W] in fp32.
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& timesteps, const at::Tensor& text,
                     const at::Tensor& pooled, const at::Tensor& guidance, const ForwardOptions& options = {}) const;

  // diffusers' inputs: text [B, L, text_embed_dim] with text_mask [B, L] (nonzero = valid; each row a prefix of
  // valid tokens, at least one — the tokenizer's right padding). Rows with the same valid count run as one batch.
  // Throws std::invalid_argument for a mask that is not a prefix (diffusers' joint attention would read it as one
  // while its refiner would not).
  at::Tensor forward_masked(const at::Tensor& latents, const at::Tensor& timesteps, const at::Tensor& text,
                            const at::Tensor& text_mask, const at::Tensor& pooled, const at::Tensor& guidance,
                            const ForwardOptions& options = {}) const;

  // The stages, public for tests and tools.
  at::Tensor timestep_sinusoid(const at::Tensor& timesteps) const;  // [B] → [B, 256] fp32 (cos first)
  const RopeTable& rope_table(const VideoGeometry& geometry) const;  // cached per grid

 private:
  struct Linear {
    at::Tensor weight;  // [out, in]
    at::Tensor bias;    // [out]
  };
  struct Mlp2 {  // linear_1 → SiLU → linear_2 (TimestepEmbedding, PixArtAlphaTextProjection)
    Linear first, second;
  };
  struct RefinerBlock {
    at::Tensor norm1_weight, norm1_bias, norm2_weight, norm2_bias;  // [D] fp32
    Linear q, k, v, o, ff1, ff2;
    Linear gates;  // norm_out.linear: [2D, D] fp32 → gate_msa, gate_mlp
  };
  struct DualBlock {
    Linear mod, mod_context;  // norm1.linear, norm1_context.linear: [6D, D] fp32
    Linear q, k, v, add_q, add_k, add_v, o, add_o;
    at::Tensor norm_q, norm_k, norm_added_q, norm_added_k;  // [Dh] fp32
    Linear ff1, ff2, ff_context1, ff_context2;
  };
  struct SingleBlock {
    Linear mod;  // norm.linear: [3D, D] fp32
    Linear q, k, v, mlp, out;
    at::Tensor norm_q, norm_k;  // [Dh] fp32
  };

  Linear linear(const std::string& prefix) const;
  Mlp2 mlp2(const std::string& prefix) const;
  at::Tensor refine_text(const at::Tensor& text, const at::Tensor& timesteps) const;  // [B, N, D] fp32
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t layer,
                    const data::TokenLayout& layout, int64_t timestep, const ForwardOptions& options) const;

  HunyuanVideoConfig config_;
  StateDict weights_;
  at::Tensor patch_weight_, patch_bias_;  // Conv3d [D, C, pt, p, p], [D]
  Mlp2 time_, guidance_, pooled_;         // the model's conditioning
  Mlp2 refiner_time_, refiner_pooled_;    // the refiner's conditioning
  Linear refiner_in_;                     // context_embedder.proj_in
  std::vector<RefinerBlock> refiner_;
  std::vector<DualBlock> dual_;
  std::vector<SingleBlock> single_;
  Linear head_mod_, head_;  // norm_out.linear [2D, D] fp32 (scale, then shift), proj_out

  mutable std::mutex rope_mutex_;
  mutable std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<RopeTable>> rope_cache_;
};

// HunyuanVideo's RoPE table for a grid, exactly as diffusers' HunyuanVideoRotaryPosEmbed computes it in fp32:
// axis a with d_a channels turns pair k by position · θ^(−2k/d_a), pairs of the three axes concatenated (frame,
// row, column), channel pairs (2j, 2j+1) interleaved — the same rotation apply_rope applies for Wan.
RopeTable make_hunyuan_video_rope_table(const HunyuanVideoConfig& config, int64_t frames, int64_t height,
                                        int64_t width, at::Device device);

// A model from a checkpoint (already opened) and its config.json (required: HunyuanVideo's sizes are not all
// visible in the tensor shapes). FormatError naming the checkpoint when the config is missing.
std::unique_ptr<HunyuanVideoModel> load_hunyuan_video_model(const CheckpointToLoad& checkpoint,
                                                            const WeightOptions& options);
// The same from a checkpoint path (file, index or directory), the config.json beside the weights.
std::unique_ptr<HunyuanVideoModel> load_hunyuan_video_model(const std::filesystem::path& weights_path,
                                                            const WeightOptions& options);

// The registry entry (model_family.cpp): preset "hunyuan-video", 129 frames of 1280×720 by default.
ModelFamily hunyuan_video_family();

}  // namespace svdit::runtime
