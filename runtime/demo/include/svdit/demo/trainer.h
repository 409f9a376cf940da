#pragma once
// Flow-matching training of the demo model with the runtime's own WanModel (docs/DEMO_MODEL.md).
//   x0 = pixel-unshuffle(video), ε ~ N(0, I), σ = s·u/(1 + (s − 1)·u) with u ~ U(0, 1) and s = sigma_shift,
//   x_σ = (1 − σ)·x0 + σ·ε, target v = ε − x0, timestep ⌊1000·σ⌋ (what flow_schedule gives the sampler),
//   loss = mean (model(x_σ, t, prompt) − v)², prompt replaced by the empty prompt (zero rows) with probability
//   prompt_dropout (for classifier-free guidance).
// AdamW (decoupled weight decay on matrices only), linear warm-up then cosine decay, global-norm gradient clipping,
// fp32 master weights, and an exponential moving average of them (decay min(ema_decay, (1 + t)/(10 + t))) that is
// what a run exports. On the GPU the model computes in bf16 (as the runtime samples): the GEMM weights are bf16
// copies of the masters, re-copied after every update. Data is generated on CPU threads, a batch ahead.
// Deterministic: batch `step` is a pure function of (seed, step), so a resumed run sees the same data.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "svdit/demo/video_generator.h"
#include "svdit/runtime/wan_config.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::demo {

// The shipped demo model (v2): dim 192, 3 heads × 64, 8 layers, ffn 576, 48 channels (pixel-unshuffle 4×4 of RGB),
// text 8 × 64 ("demo-words"), patch 1×2×2: 20 frames of 96×128 px → 20×12×16 = 3840 tokens. Narrow and long on
// purpose: self-attention (∝ tokens²·dim) outweighs the projections and the FFN (∝ tokens·dim²) on a CPU, so a
// sparse plan speeds up the whole generation, not only the attention.
runtime::WanConfig demo_model_config();

struct TrainOptions {
  runtime::WanConfig model = demo_model_config();
  VideoSize video;                 // 20 frames of 96×128
  int64_t batch = 48;
  int64_t steps = 0;               // planned total (sets the cosine); 0: decided from the measured speed and `minutes`
  double minutes = 0;              // wall-clock limit of this run, end-of-run outputs included (0: none)
  // When steps = 0: the total is planned for this many minutes of training from the start of this run (the cosine
  // then spans several runs continued with --resume, each limited by `minutes`); 0: plan for `minutes`.
  double schedule_minutes = 0;
  double lr = 5e-4;
  double min_lr_fraction = 0.05;   // the cosine ends at lr × this
  int64_t warmup = 200;
  double weight_decay = 0.01;
  double beta1 = 0.9, beta2 = 0.99, adam_eps = 1e-8;
  double clip = 1.0;               // global gradient norm
  double sigma_shift = 3.0;
  double prompt_dropout = 0.1;
  double ema_decay = 0.999;        // exponential moving average of the weights (what is exported); 0: none
  uint64_t seed = 0;               // data, noise and initial weights
  // Start from these weights (a model.safetensors this trainer exported, bf16 or fp32; same config) instead of
  // the initialisation: a later session continues an earlier model whose checkpoint is gone. Moments start at 0.
  std::filesystem::path init_weights;
  int64_t heldout = 128;           // held-out set size
  int64_t eval_every = 250;        // held-out loss every N steps (and at the start and end)
  int64_t log_every = 10;          // training-loss rows
  int64_t checkpoint_every = 500;
  int threads = 0;                 // data-generation threads (0: hardware concurrency − 1)
  at::Device device = at::kCPU;
  at::ScalarType compute_dtype = at::kFloat;  // kBFloat16 on GPU
};
nlohmann::json to_json(const TrainOptions& options);

// Wan2.1-style initial weights (xavier-uniform linears, zero biases, unit norm gains, modulation ~ N(0, 1/dim),
// text/time embeddings ~ N(0, 0.02²), the head ~ N(0, 0.02²)), fp32 on the CPU, from `seed`.
runtime::StateDict initial_state_dict(const runtime::WanConfig& config, uint64_t seed);

// One batch as generated on the host.
struct HostBatch {
  int64_t step = 0;
  at::Tensor frames;     // [B, F, H, W, 3] uint8
  at::Tensor context;    // [B, L, text_dim] fp32 (zero rows for dropped prompts)
  at::Tensor sigma;      // [B] fp32
  at::Tensor timesteps;  // [B] int64: ⌊1000·σ⌋
  std::vector<std::string> prompts;  // "" for dropped
};
// Batch `step` (pure function of the options' seed and the step).
HostBatch make_batch(const TrainOptions& options, int64_t step);
// The held-out set: `options.heldout` videos of their own seed stream, σ_i = (i + ½)/N, noise from a fixed seed.
struct HeldOutSet {
  at::Tensor x0, noise, context, sigma, timesteps;  // on the training device
};
HeldOutSet make_heldout(const TrainOptions& options);

struct HistoryRow {
  int64_t step = 0;
  double loss = 0;          // mean training loss over the rows' interval (NaN for an evaluation-only row)
  double lr = 0;
  double heldout = 0;       // held-out loss at this step (NaN when not evaluated)
  double seconds = 0;       // training time so far (all runs)
  double grad_norm = 0;     // last step's global gradient norm before clipping
};

class Trainer {
 public:
  explicit Trainer(TrainOptions options);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  const TrainOptions& options() const { return options_; }
  const runtime::WanModel& model() const { return *model_; }
  int64_t step() const { return step_; }
  int64_t total_steps() const { return total_steps_; }
  void set_total_steps(int64_t steps) { total_steps_ = steps; }
  double learning_rate(int64_t step) const;  // warm-up then cosine over total_steps (warm-up only while unknown)

  // One optimisation step on a batch; returns the loss as a device scalar (no synchronisation).
  at::Tensor train_step(const HostBatch& batch);
  double last_grad_norm() const;  // synchronises
  double heldout_loss(const HeldOutSet& set) const;

  // Master weights (fp32, by original name, on the device).
  const runtime::StateDict& master() const { return master_; }
  // One forward and backward on `batch` without an update: the fp32 gradient of every master, by name (tests).
  runtime::StateDict gradients(const HostBatch& batch);

  std::vector<HistoryRow>& history() { return history_; }
  double& seconds() { return seconds_; }

  // Replaces the weights by their moving average (the end of a run: evaluation, samples and export use it).
  void use_ema_weights();

  // Checkpoint: masters, AdamW moments, the average, step, total, history, options — written atomically.
  void save_checkpoint(const std::filesystem::path& path) const;
  void load_checkpoint(const std::filesystem::path& path);

  // The trained weights in `dtype` under original names, with config.json beside them.
  void export_model(const std::filesystem::path& weights_path, at::ScalarType dtype = at::kBFloat16) const;

 private:
  void sync_model_weights();
  at::Tensor forward_backward(const HostBatch& batch);  // the loss; leaves gradients on the model's weights
  std::vector<at::Tensor> take_gradients();            // fp32 gradients in params_ order; clears the model's

  TrainOptions options_;
  std::vector<std::string> names_;
  runtime::StateDict master_;                  // fp32, on the device
  runtime::StateDict model_weights_;           // what the model holds: the masters or their bf16 copies
  std::vector<at::Tensor> params_, model_params_, exp_avg_, exp_avg_sq_, ema_;
  std::vector<bool> decay_;
  std::unique_ptr<runtime::WanModel> model_;
  at::Tensor grad_norm_;
  int64_t step_ = 0, total_steps_ = 0;
  double seconds_ = 0;
  std::vector<HistoryRow> history_;
};

// The prompts of the model card's sample strips (one row each): score_prompts() (prompt_score.h).
std::vector<std::string> demo_prompts();

// Whole runs (svdit train-demo): train until `steps` or `minutes`, evaluating, logging and checkpointing, then
// write model.safetensors (bf16) + config.json, train_log.csv, loss_curve.png, samples.png (sampled with the
// runtime's sample_video), ground_truth.png and summary.json into `out_dir`.
struct RunOptions {
  TrainOptions train;
  std::filesystem::path out_dir;
  bool resume = false;             // continue from out_dir/checkpoint.safetensors
  int64_t sample_steps = 25;       // UniPC steps of the sample strip
  double sample_guidance = 4.0;
  double sample_shift = 3.0;
  bool progress = true;
  bool write_outputs = true;       // false: checkpoint and log only (tests)
};
struct RunSummary {
  int64_t steps = 0;
  double seconds = 0;
  double untrained_heldout = 0;
  double final_heldout = 0;      // of the exported weights (the moving average when ema_decay > 0)
  double final_heldout_raw = 0;  // of the last optimiser iterate
};
RunSummary run_training(const RunOptions& options);

}  // namespace svdit::demo
