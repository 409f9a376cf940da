// Wan2.1 behind the model-family interface (model_family.h): the WanModel's interface methods and the family's
// registry entry. The numerics are WanModel::forward's (wan_model.cpp); nothing here computes.

#include <nlohmann/json.hpp>

#include "svdit/runtime/sampling.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::runtime {

std::string WanModel::describe() const { return runtime::describe(config_); }
nlohmann::json WanModel::config_json() const { return config_to_json(config_); }

data::PlanModel WanModel::plan_model() const { return runtime::plan_model(config_); }

VideoGeometry WanModel::video_geometry(int64_t frames, int64_t height, int64_t width) const {
  return runtime::video_geometry(config_, frames, height, width);
}

data::TokenLayout WanModel::token_layout(const VideoGeometry& geometry, int64_t block_size) const {
  return runtime::token_layout(geometry, block_size);
}

TextSpec WanModel::text_spec() const {
  TextSpec spec;
  spec.text_len = config_.text_len;
  spec.text_dim = config_.text_dim;
  spec.text_encoder = config_.text_encoder;
  return spec;
}

at::Tensor WanModel::forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                             const ForwardOptions& options) const {
  return forward(latents, timesteps, text.embeddings, options);  // Wan2.1 takes the embeddings only
}

std::vector<int64_t> WanModel::latent_shape(const VideoGeometry& g) const {
  return {1, config_.in_dim, g.latent_frames, g.latent_height, g.latent_width};
}

DenoisingLoop WanModel::denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                                       const SamplingOptions& options) const {
  return make_denoising_loop(config_, geometry, std::move(conditioning), options, device());
}

FlowSchedule WanModel::schedule(const SamplingOptions& options) const {
  return make_flow_schedule(options.steps, options.shift);
}

ModelFamily wan_family() {
  ModelFamily f;
  f.id = "wan2.1";
  f.name = "Wan2.1";
  f.presets = {"1.3B", "14B"};
  // Wan2.1's VAE maps 1 + 4k frames to 1 + k latent frames; 81 frames of 832×480 is the 1.3B model's native size.
  f.video_size = {{"81", "1 + 4k for Wan's VAE"}, {"480", ""}, {"832", ""}};
  f.load = [](const CheckpointToLoad& checkpoint, const WeightOptions& options) -> std::unique_ptr<Model> {
    return load_wan_model(checkpoint, options);
  };
  f.naming = [](const data::SafetensorsCollection& weights) {
    return std::string(to_string(detect_naming(weights))) + " names";
  };
  f.random = [](const RandomModelRequest& request) -> std::unique_ptr<Model> {
    const WanConfig config = request.config ? parse_config(*request.config, request.spec) : *preset_config(request.spec);
    return std::make_unique<WanModel>(config, random_state_dict(config, request.options, request.seed),
                                      "random weights (" + request.spec + ")");
  };
  return f;
}

}  // namespace svdit::runtime
