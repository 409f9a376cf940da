#pragma once
// The model-family interface: what the tools (svdit generate, profile, bench e2e), the denoising loop and the
// profiler need of a video DiT, whatever its architecture — Wan2.1, CogVideoX1.5, HunyuanVideo — and the registry
// of the families this build runs.
//
// A family provides (docs/RUNTIME.md "Model families"): its config (from config.json, diffusers field names), its
// weights (safetensors), one forward = one prediction of the denoiser, the self-attention token layout it produces
// (data::TokenLayout: T0 text tokens, the F'·H'·W' video grid, T1 text tokens), the conditioning it takes
// (TextSpec), and its sampler and guidance rule (denoising_loop()). Everything outside the family's own files sees
// only this interface, token layouts and heads.
//
// The registry (model_families()) is one list in model_family.cpp; a family adds itself with one line there. Which
// family a checkpoint holds is decided before anything is read (svdit/data/checkpoint_family.h), so a checkpoint of
// another family is refused naming the file and what was found.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "svdit/cli/video_options.h"
#include "svdit/data/plan.h"
#include "svdit/data/token_layout.h"
#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/guidance.h"
#include "svdit/runtime/video_geometry.h"

namespace svdit::data {
class SafetensorsCollection;
}

namespace svdit::runtime {

class SequenceParallel;  // sequence_parallel.h

// How one forward runs: the step and branch (plans and observers are keyed by them) and the attention hooks.
struct ForwardOptions {
  int64_t step = 0;  // denoising step index: the plan's schedule and the observer are keyed by it
  CfgBranch branch = CfgBranch::conditional;
  AttentionBackend* attention = nullptr;  // null: dense
  AttentionObserver* observer = nullptr;  // null: none
  // Non-null: this rank of a sequence-parallel group computes its token shard and self-attention runs through it
  // (it holds the inner backend, so `attention` must then be null); the result is the whole video on every rank.
  // Only the Wan2.1 family shards its tokens today; the others refuse it.
  SequenceParallel* sequence_parallel = nullptr;
};

// Where the weights go.
struct WeightOptions {
  at::Device device = at::kCPU;
  at::ScalarType compute_dtype = at::kFloat;  // bf16 on GPU, fp32 on CPU (see device.h)
};

// The options of one sampling run, for any family; each family reads what its sampler uses.
struct SamplingOptions {
  int64_t steps = 50;
  double shift = 5.0;     // flow shift s (flow-matching samplers: Wan2.1, HunyuanVideo)
  // CFG scale g; 1 (or no negative conditioning) runs the conditional branch only. HunyuanVideo: the EMBEDDED
  // guidance scale (TextInputs::guidance), one forward per step.
  double guidance = 5.0;
  double true_cfg = 1.0;  // HunyuanVideo: classifier-free guidance on top (the pipeline's true_cfg_scale); 1: off
  uint64_t seed = 0;
  std::string sampler = "unipc";  // a sampler of the family, or "auto": the family's own (Model::default_sampler)
};

// The text conditioning a family takes (TextInputs): embeddings [1, text_len, text_dim], and when pooled_dim > 0 a
// pooled vector, when mask a validity mask.
struct TextSpec {
  int64_t text_len = 0;
  int64_t text_dim = 0;
  int64_t pooled_dim = 0;     // 0: no pooled vector
  bool mask = false;          // the family honours a text mask (valid tokens only; TextInputs::mask)
  bool embedded_guidance = false;  // the family takes an embedded guidance input (TextInputs::guidance)
  std::string text_encoder;   // a built-in encoder of prompt text ("demo-words"), empty: precomputed embeddings
};

class Model {
 public:
  virtual ~Model() = default;

  virtual std::string family() const = 0;    // its data::FamilySignature id: "wan2.1", "cogvideox1.5", "hunyuan-video"
  virtual std::string describe() const = 0;  // one line: name and sizes
  virtual nlohmann::json config_json() const = 0;  // the config in the family's config.json naming
  // What a plan must match (its name, layers, heads, head_dim and family).
  virtual data::PlanModel plan_model() const = 0;
  virtual at::Device device() const = 0;
  virtual at::ScalarType compute_dtype() const = 0;

  // The latent video for a pixel size (throws std::invalid_argument naming --frames/--height/--width when a size
  // does not fit the VAE strides and patches), and the self-attention token layout of that video.
  virtual VideoGeometry video_geometry(int64_t frames, int64_t height, int64_t width) const = 0;
  virtual data::TokenLayout token_layout(const VideoGeometry& geometry, int64_t block_size = 128) const = 0;

  virtual TextSpec text_spec() const = 0;

  // One prediction of the denoiser for one branch: latents in the family's layout (latent_shape()), timesteps
  // [B] as the sampler gives them, the branch's text. Returns the prediction in the latents' shape, fp32.
  virtual at::Tensor forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                             const ForwardOptions& options = {}) const = 0;
  // The shape of the latents forward() takes for a video: [1, C, T, H, W] (Wan2.1, HunyuanVideo) or [1, T, C, H, W]
  // (CogVideoX).
  virtual std::vector<int64_t> latent_shape(const VideoGeometry& geometry) const = 0;

  // The sampling loop of one video: the family's initial noise (from `options.seed`), sampler and guidance rule.
  virtual DenoisingLoop denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                                       const SamplingOptions& options) const = 0;
  // The schedule that loop would run (the profiler records its timesteps before sampling).
  virtual FlowSchedule schedule(const SamplingOptions& options) const = 0;
  virtual std::string default_sampler() const = 0;  // what --sampler auto means
};

// The Model as the denoising loop's denoiser: each call one model.forward with the call's step and branch, the
// given attention backend (null: dense) and that branch's observer (null: none). All must outlive the function.
Denoiser model_denoiser(const Model& model, AttentionBackend* attention, AttentionObserver* conditional_observer,
                        AttentionObserver* unconditional_observer);

// A checkpoint to build a model from: the weights (already opened) and the config.json beside them, if any.
struct CheckpointToLoad {
  const data::SafetensorsCollection& weights;
  std::optional<std::filesystem::path> config;
};

// How random weights are asked for: a preset name of the family, or a config.json (already read).
struct RandomModelRequest {
  std::string spec;                  // the preset name or the config file, for labels and errors
  const nlohmann::json* config;      // the config.json's content; null for a preset
  WeightOptions options;
  uint64_t seed = 0;
};

struct ModelFamily {
  std::string id;    // = its data::FamilySignature id
  std::string name;  // "Wan2.1"
  std::vector<std::string> presets;  // --random-weights names ("1.3B", "14B"), case-insensitive
  cli::VideoSizeDefaults video_size;  // the tools' --frames/--height/--width defaults for this family
  // The tools' --shift and --guidance defaults (--shift auto, --guidance auto): the released pipeline's.
  double default_shift = 5.0;
  double default_guidance = 5.0;
  // A model from a checkpoint already identified as this family's. Throws data::FormatError naming the file.
  std::function<std::unique_ptr<Model>(const CheckpointToLoad&, const WeightOptions&)> load;
  // Random weights (benchmarks at full size, tests). `request.config` null: `request.spec` is one of `presets`.
  std::function<std::unique_ptr<Model>(const RandomModelRequest&)> random;
  // The key naming a checkpoint of this family uses, for the tools' labels ("diffusers names").
  std::function<std::string(const data::SafetensorsCollection&)> naming;
};

// The families this build runs, in the order the registry lists them (model_family.cpp).
const std::vector<ModelFamily>& model_families();
// nullptr when the build does not run `id`.
const ModelFamily* find_model_family(std::string_view id);
// The family a preset name belongs to (nullptr: no family has it).
const ModelFamily* family_of_preset(std::string_view preset);

// A loaded model and where it came from.
struct OpenedModel {
  std::unique_ptr<Model> model;
  std::string label;  // "PATH (cogvideox1.5, diffusers names; config.json _class_name …)" or "random (1.3B, seed 0)"
};

// A checkpoint (a .safetensors file, a *.safetensors.index.json, or a folder with config.json): its family from
// config.json or its tensor names, then that family's loader. `expected_family` (an id) refuses a checkpoint of any
// other family with a data::FormatError naming the file, what it holds and what was expected; empty: any family
// this build runs.
OpenedModel load_model(const std::filesystem::path& weights_path, const WeightOptions& options,
                       std::string_view expected_family = {});

// Random weights: `spec` a preset of a registered family ("1.3B", "cogvideox1.5-5b") or a config.json (its family
// from _class_name or its fields). std::invalid_argument for an unknown preset that is no file either.
OpenedModel random_model(const std::string& spec, const WeightOptions& options, uint64_t seed);

// "wan2.1 (1.3B, 14B), cogvideox1.5 (cogvideox1.5-5b)": what the tools' help lists.
std::string describe_presets();

}  // namespace svdit::runtime
