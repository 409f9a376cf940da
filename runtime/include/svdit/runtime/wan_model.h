#pragma once
// The Wan2.1 text-to-video DiT (reference/wan21-spec.md §2), one forward pass = one velocity prediction:
//   patch embedding → time embedding (sinusoid, MLP, 6-way projection) and text embedding → L blocks
//   (adaLN-modulated self-attention with RMSNorm over all heads and 3D RoPE, cross-attention on the text,
//   GELU-tanh FFN, gated fp32 residuals) → modulated head → unpatchify.
// Precision as in the reference: GEMMs and attention in the compute dtype (bf16 on GPU, fp32 on CPU); the time
// MLP, modulation, LayerNorm/RMSNorm statistics and the residual stream in fp32.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/model_family.h"
#include "svdit/runtime/rope.h"
#include "svdit/runtime/wan_config.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::runtime {

// The Wan2.1 family behind the model-family interface (model_family.h): its registry entry (wan_family.cpp).
ModelFamily wan_family();

class WanModel final : public Model {
 public:
  // Checks the state dict against the config (every key, every shape) and takes the tensors. The device and the
  // compute dtype are those of the state dict's GEMM weights.
  WanModel(WanConfig config, StateDict weights, std::string source = "<memory>");

  const WanConfig& config() const { return config_; }
  at::Device device() const override;
  at::ScalarType compute_dtype() const override;
  const StateDict& weights() const { return weights_; }

  // The model-family interface (wan_family.cpp); forward(…, TextInputs) is forward(…, text.embeddings).
  std::string family() const override { return "wan2.1"; }
  std::string describe() const override;
  nlohmann::json config_json() const override;
  data::PlanModel plan_model() const override;
  VideoGeometry video_geometry(int64_t frames, int64_t height, int64_t width) const override;
  data::TokenLayout token_layout(const VideoGeometry& geometry, int64_t block_size = 128) const override;
  TextSpec text_spec() const override;
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                     const ForwardOptions& options = {}) const override;
  std::vector<int64_t> latent_shape(const VideoGeometry& geometry) const override;  // [1, in_dim, T, H, W]
  DenoisingLoop denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                               const SamplingOptions& options) const override;
  FlowSchedule schedule(const SamplingOptions& options) const override;
  std::string default_sampler() const override { return "unipc"; }

  // latents:  [B, in_dim, T, H, W] (T, H, W multiples of the patch), any float dtype
  // timesteps: [B] integer timesteps 0..999 (as the schedule gives them), any numeric dtype
  // context:  [B, text_len, text_dim] text embeddings, zero-padded to text_len
  // returns the velocity [B, out_dim, T, H, W] in fp32.
  at::Tensor forward(const at::Tensor& latents, const at::Tensor& timesteps, const at::Tensor& context,
                     const ForwardOptions& options = {}) const;
  using Model::forward;

  // The stages, public for tests and tools.
  at::Tensor patchify(const at::Tensor& latents) const;  // [B, C, T, H, W] → [B, S, C·pt·ph·pw]
  at::Tensor unpatchify(const at::Tensor& tokens, const VideoGeometry& geometry) const;  // [B, S, out·p] → [B, out, T, H, W]
  at::Tensor timestep_sinusoid(const at::Tensor& timesteps) const;  // [B] → [B, freq_dim] fp32 (cos first)
  const RopeTable& rope_table(const VideoGeometry& geometry) const;  // cached per grid

 private:
  struct Linear {
    at::Tensor weight;  // [out, in]
    at::Tensor bias;    // [out]
  };
  struct Block {
    at::Tensor modulation;  // [1, 6, D] fp32
    Linear self_q, self_k, self_v, self_o;
    at::Tensor self_norm_q, self_norm_k;  // [D] fp32
    Linear cross_q, cross_k, cross_v, cross_o;
    at::Tensor cross_norm_q, cross_norm_k;  // [D] fp32
    at::Tensor norm3_weight, norm3_bias;    // [D] fp32: the cross-attention LayerNorm
    Linear ffn1, ffn2;
  };

  Linear linear(const std::string& prefix) const;
  at::Tensor run_block(const Block& block, int64_t layer, const at::Tensor& x, const at::Tensor& e0,
                       const at::Tensor& context, const RopeTable& rope, const data::TokenLayout& layout,
                       int64_t timestep, const ForwardOptions& options) const;

  WanConfig config_;
  StateDict weights_;
  at::Tensor patch_weight_;  // [D, C·pt·ph·pw]: the Conv3d kernel as a GEMM over flattened patches
  at::Tensor patch_bias_;    // [D]
  Linear text1_, text2_, time1_, time2_, time_proj_, head_;
  at::Tensor head_modulation_;  // [1, 2, D] fp32
  std::vector<Block> blocks_;

  mutable std::mutex rope_mutex_;
  mutable std::map<std::tuple<int64_t, int64_t, int64_t>, std::unique_ptr<RopeTable>> rope_cache_;
};

// A model ready to run, from a checkpoint path (file, index or directory): the config from the config.json
// beside the weights when there is one, else detected from the tensor shapes; then the weights.
struct LoadedModel {
  std::unique_ptr<WanModel> model;
  KeyNaming naming = KeyNaming::original;
  std::string config_source;  // the config.json read, or "detected from <weights>"
};
// Refuses a checkpoint of another family (data::FormatError naming the file and what it holds).
LoadedModel load_wan_model(const std::filesystem::path& weights_path, const WeightOptions& options);
// The same from a checkpoint already opened and identified (the family registry's loader).
std::unique_ptr<WanModel> load_wan_model(const CheckpointToLoad& checkpoint, const WeightOptions& options);

}  // namespace svdit::runtime
