#pragma once
// The CogVideoX1.5 text-to-video DiT (diffusers' CogVideoXTransformer3DModel with the 1.5 settings), one forward =
// one v-prediction:
//   patch embedding (a Linear over (c, pt, ph, pw) patches of latents [B, T, C, H, W]) and text projection →
//   time embedding (sinusoid, Linear–SiLU–Linear) → L blocks, each: expert adaptive LayerNorm (one LayerNorm, separate
//   shift/scale/gate for the text and the video tokens from the time embedding), joint self-attention over
//   [text (T0 = 226) | video] with per-head q/k LayerNorm and 3D RoPE on the video tokens only, gated residuals, the
//   same for the GELU-tanh FFN → final LayerNorm, AdaLayerNorm (shift, scale) → projection → unpatchify.
// The self-attention of every block goes through the AttentionBackend, text rows and columns included, so a plan
// with T0 = text_len applies (its text rows and columns are dense in every pattern).
// Precision: GEMMs and attention in the compute dtype (fp32 on CPU); LayerNorm statistics, the modulation and the
// residual streams in fp32. The timestep sinusoid and the RoPE tables are computed in fp32 with diffusers' exact
// operations, so that fp32 runs agree with diffusers to rounding.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/checkpoint_tensors.h"
#include "svdit/runtime/cogvideox_config.h"
#include "svdit/runtime/model_family.h"
#include "svdit/runtime/rope.h"

namespace svdit::runtime {

// The CogVideoX1.5 family's registry entry (model_family.h).
ModelFamily cogvideox_family();

// Tensors by diffusers name ("transformer_blocks.3.attn1.to_q.weight").
using CogVideoXWeights = std::map<std::string, at::Tensor>;

// The diffusers tensors of a config with their shapes, top level first, then block by block.
std::vector<ExpectedKey> cogvideox_expected_tensors(const CogVideoXConfig& config);

// Random weights (linear ~ N(0, 1/fan_in), norm gains ≈ 1, biases small), on the device, from `seed`.
CogVideoXWeights random_cogvideox_weights(const CogVideoXConfig& config, const WeightOptions& options, uint64_t seed);

class CogVideoXModel final : public Model {
 public:
  // Checks the tensor set (every key, every shape) and takes the tensors; norm gains/biases, the time MLP and the
  // modulation linears are kept in fp32, the rest in the compute dtype of `options`.
  CogVideoXModel(CogVideoXConfig config, CogVideoXWeights weights, const WeightOptions& options,
                 std::string source = "<memory>");

  const CogVideoXConfig& config() const { return config_; }

  std::string family() const override { return "cogvideox1.5"; }
  std::string describe() const override;
  nlohmann::json config_json() const override;
  data::PlanModel plan_model() const override;
  at::Device device() const override { return device_; }
  at::ScalarType compute_dtype() const override { return dtype_; }
  VideoGeometry video_geometry(int64_t frames, int64_t height, int64_t width) const override;
  data::TokenLayout token_layout(const VideoGeometry& geometry, int64_t block_size = 128) const override;
  TextSpec text_spec() const override;
  // latents [B, T, C, H, W] (T a multiple of patch_size_t), timesteps [B], text.embeddings [B, text_len,
  // text_embed_dim]; returns the v-prediction [B, T, out_channels, H, W] fp32.
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                     const ForwardOptions& options = {}) const override;
  std::vector<int64_t> latent_shape(const VideoGeometry& geometry) const override;  // [1, T, C, H, W]
  // Noise from a CPU generator seeded with options.seed, then the CogVideoX DPM sampler drawing its per-step noise
  // from the same generator (as CogVideoXPipeline with one generator), classifier-free guidance.
  DenoisingLoop denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                               const SamplingOptions& options) const override;
  FlowSchedule schedule(const SamplingOptions& options) const override;
  std::string default_sampler() const override { return "cogvideox-dpm"; }

  // The stages, public for tests.
  at::Tensor timestep_sinusoid(const at::Tensor& timesteps) const;   // [B] → [B, dim] fp32
  const RopeTable& rope_table(const VideoGeometry& geometry) const;  // [S_video, head_dim/2], cached per grid

 private:
  struct Linear {
    at::Tensor weight, bias;
  };
  struct Norm {
    at::Tensor weight, bias;  // fp32
  };
  struct Block {
    Linear norm1_linear, norm2_linear;  // [6D, time] fp32: the expert adaptive LayerNorms' modulation
    Norm norm1, norm2;
    Linear q, k, v, out;
    Norm norm_q, norm_k;  // [head_dim]
    Linear ff1, ff2;
  };
  Linear linear(const std::string& prefix) const;
  Norm norm(const std::string& prefix) const;
  void run_block(const Block& block, int64_t layer, at::Tensor& video, at::Tensor& text, const at::Tensor& emb,
                 const RopeTable& rope, const data::TokenLayout& layout, int64_t timestep,
                 const ForwardOptions& options) const;

  CogVideoXConfig config_;
  CogVideoXWeights weights_;
  at::Device device_ = at::kCPU;
  at::ScalarType dtype_ = at::kFloat;
  Linear patch_, text_proj_, time1_, time2_, norm_out_linear_, proj_out_;
  Norm norm_final_, norm_out_;
  std::vector<Block> blocks_;

  mutable std::mutex rope_mutex_;
  mutable std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<RopeTable>> rope_cache_;
};

// A checkpoint's model (diffusers names; the config from config.json beside it, which a CogVideoX checkpoint must
// have: the head count is not in the weights).
std::unique_ptr<CogVideoXModel> load_cogvideox_model(const CheckpointToLoad& checkpoint, const WeightOptions& options);

}  // namespace svdit::runtime
