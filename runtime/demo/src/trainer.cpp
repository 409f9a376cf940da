// Flow-matching training of the demo model (see trainer.h): data, initialisation, the optimiser step, checkpoints.

#include "svdit/demo/trainer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <mutex>
#include <numbers>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "svdit/data/atomic_file.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/demo/prompt_score.h"
#include "svdit/runtime/demo_words.h"
#include "svdit/runtime/pixel_unshuffle.h"

namespace svdit::demo {

namespace rt = svdit::runtime;
using nlohmann::json;

namespace {

// Seed streams: training batch `step` uses stream step (< 2^62); these are never reached by a step.
constexpr uint64_t kHeldOutStream = ~0ULL;
constexpr uint64_t kHeldOutNoiseStream = ~0ULL - 1;
constexpr uint64_t kSigmaSalt = 0x5167A5A17ULL;
constexpr uint64_t kNoiseSalt = 0x0150EULL;
constexpr const char* kCheckpointFormat = "svdit-demo-checkpoint";

int worker_count(int requested) {
  if (requested > 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::max(1u, hw > 1 ? hw - 1 : 1u));
}

// Runs body(i) for i in [0, n) on `threads` threads.
void parallel_for(int64_t n, int threads, const std::function<void(int64_t)>& body) {
  const int64_t workers = std::min<int64_t>(threads, n);
  if (workers <= 1) {
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  std::vector<std::thread> pool;
  for (int64_t w = 0; w < workers; ++w) {
    pool.emplace_back([&] {
      for (int64_t i = next++; i < n; i = next++) {
        try {
          body(i);
        } catch (...) {
          const std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = std::current_exception();
        }
      }
    });
  }
  for (std::thread& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

double uniform01(uint64_t& state) { return static_cast<double>(rt::splitmix64(state) >> 11) * 0x1.0p-53; }

double shifted_sigma(double u, double shift) { return shift * u / (1.0 + (shift - 1.0) * u); }

int64_t timestep_of(double sigma) { return static_cast<int64_t>(sigma * 1000.0); }  // as flow_schedule: ⌊1000σ⌋

// Renders `count` videos of the given seeds into frames [count, F, H, W, 3] and their prompt rows into context.
void render_samples(const TrainOptions& o, const std::vector<uint64_t>& seeds, const std::vector<bool>& dropped,
                    at::Tensor& frames, at::Tensor& context, std::vector<std::string>& prompts) {
  const auto B = static_cast<int64_t>(seeds.size());
  const VideoSize& v = o.video;
  frames = at::empty({B, v.frames, v.height, v.width, 3}, at::TensorOptions().dtype(at::kByte));  // [B, F, H, W, 3]
  context = at::zeros({B, o.model.text_len, o.model.text_dim}, at::TensorOptions().dtype(at::kFloat));  // [B, L, D]
  prompts.assign(static_cast<size_t>(B), "");
  uint8_t* fp = frames.mutable_data_ptr<uint8_t>();
  float* cp = context.mutable_data_ptr<float>();
  const int64_t video_bytes = v.frames * v.height * v.width * 3, rows = o.model.text_len * o.model.text_dim;
  parallel_for(B, worker_count(o.threads), [&](int64_t i) {
    const SceneSpec scene = random_scene(seeds[static_cast<size_t>(i)], v);
    render_video_into(scene, v, fp + i * video_bytes);
    if (!dropped[static_cast<size_t>(i)]) {
      prompts[static_cast<size_t>(i)] = scene_prompt(scene);
      const std::vector<float> r = rt::demo_prompt_rows(prompts[static_cast<size_t>(i)], o.model.text_len, o.model.text_dim);
      std::copy(r.begin(), r.end(), cp + i * rows);
    }
  });
}

json history_json(const std::vector<HistoryRow>& history) {
  auto number = [](double v) { return std::isfinite(v) ? json(v) : json(nullptr); };
  json a = json::array();
  for (const HistoryRow& r : history) {
    a.push_back({{"step", r.step}, {"loss", number(r.loss)}, {"lr", r.lr}, {"heldout", number(r.heldout)},
                 {"seconds", r.seconds}, {"grad_norm", number(r.grad_norm)}});
  }
  return a;
}

std::vector<HistoryRow> history_from_json(const json& a) {
  auto number = [](const json& v) { return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>(); };
  std::vector<HistoryRow> out;
  for (const json& r : a) {
    out.push_back(HistoryRow{r.at("step").get<int64_t>(), number(r.at("loss")), r.at("lr").get<double>(),
                             number(r.at("heldout")), r.at("seconds").get<double>(), number(r.at("grad_norm"))});
  }
  return out;
}

// The options that decide the trajectory: a resumed run must use the same ones.
json trajectory_options(const TrainOptions& o) {
  json j = to_json(o);
  for (const char* k : {"minutes", "schedule_minutes", "init_weights", "eval_every", "log_every", "checkpoint_every", "threads", "device", "steps"}) j.erase(k);
  return j;
}

}  // namespace

rt::WanConfig demo_model_config() {
  rt::WanConfig c;
  c.name = "svdit-demo-shapes";
  c.dim = 192;
  c.ffn_dim = 576;
  c.freq_dim = 256;
  c.text_dim = 64;
  c.text_len = 8;
  c.num_heads = 3;
  c.num_layers = 8;
  c.in_dim = 48;
  c.out_dim = 48;
  c.patch = {1, 2, 2};
  c.vae_stride = {1, 4, 4};
  c.pixel_decoder = rt::kPixelUnshuffleDecoder;
  c.text_encoder = rt::kDemoWordsEncoder;
  return c;
}

json to_json(const TrainOptions& o) {
  return json{{"model", rt::config_to_json(o.model)},
              {"video", {{"frames", o.video.frames}, {"height", o.video.height}, {"width", o.video.width}}},
              {"batch", o.batch},
              {"steps", o.steps},
              {"minutes", o.minutes},
              {"schedule_minutes", o.schedule_minutes},
              {"lr", o.lr},
              {"min_lr_fraction", o.min_lr_fraction},
              {"warmup", o.warmup},
              {"weight_decay", o.weight_decay},
              {"beta1", o.beta1},
              {"beta2", o.beta2},
              {"adam_eps", o.adam_eps},
              {"clip", o.clip},
              {"sigma_shift", o.sigma_shift},
              {"prompt_dropout", o.prompt_dropout},
              {"ema_decay", o.ema_decay},
              {"seed", o.seed},
              {"init_weights", o.init_weights.string()},
              {"heldout", o.heldout},
              {"eval_every", o.eval_every},
              {"log_every", o.log_every},
              {"checkpoint_every", o.checkpoint_every},
              {"threads", o.threads},
              {"device", o.device.str()},
              {"compute_dtype", std::string(c10::toString(o.compute_dtype))}};
}

rt::StateDict initial_state_dict(const rt::WanConfig& config, uint64_t seed) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto fp32 = at::TensorOptions().dtype(at::kFloat);
  rt::StateDict state;
  for (const rt::ExpectedTensor& e : rt::expected_tensors(config)) {
    const std::string& n = e.name;
    at::Tensor t;
    if (n.ends_with("modulation")) {
      t = at::randn(e.shape, gen, fp32) / std::sqrt(static_cast<double>(config.dim));
    } else if (n.ends_with(".bias")) {
      t = at::zeros(e.shape, fp32);
    } else if (n.find("norm") != std::string::npos) {
      t = at::ones(e.shape, fp32);  // RMSNorm / LayerNorm gains
    } else if (n.starts_with("text_embedding.") || n.starts_with("time_embedding.") || n.starts_with("head.head.")) {
      t = at::randn(e.shape, gen, fp32) * 0.02;
    } else {
      // Xavier-uniform over [out, in] (the patch embedding's kernel flattened, as Wan initialises it).
      const int64_t fan_out = e.shape[0];
      int64_t fan_in = 1;
      for (size_t i = 1; i < e.shape.size(); ++i) fan_in *= e.shape[i];
      const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
      t = (at::rand(e.shape, gen, fp32) * 2.0 - 1.0) * bound;
    }
    state.emplace(n, t);
  }
  return state;
}

HostBatch make_batch(const TrainOptions& o, int64_t step) {
  const int64_t B = o.batch;
  HostBatch b;
  b.step = step;
  std::vector<uint64_t> seeds(static_cast<size_t>(B));
  std::vector<bool> dropped(static_cast<size_t>(B));
  b.sigma = at::empty({B}, at::TensorOptions().dtype(at::kFloat));      // [B]
  b.timesteps = at::empty({B}, at::TensorOptions().dtype(at::kLong));   // [B]
  float* sigma_p = b.sigma.mutable_data_ptr<float>();
  int64_t* t_p = b.timesteps.mutable_data_ptr<int64_t>();
  for (int64_t i = 0; i < B; ++i) {
    seeds[static_cast<size_t>(i)] = mix_seed(o.seed, static_cast<uint64_t>(step), static_cast<uint64_t>(i));
    uint64_t s = mix_seed(o.seed ^ kSigmaSalt, static_cast<uint64_t>(step), static_cast<uint64_t>(i));
    const double sigma = shifted_sigma(uniform01(s), o.sigma_shift);
    dropped[static_cast<size_t>(i)] = uniform01(s) < o.prompt_dropout;
    sigma_p[i] = static_cast<float>(sigma);
    t_p[i] = timestep_of(sigma);
  }
  render_samples(o, seeds, dropped, b.frames, b.context, b.prompts);
  return b;
}

HeldOutSet make_heldout(const TrainOptions& o) {
  const int64_t N = o.heldout;
  std::vector<uint64_t> seeds(static_cast<size_t>(N));
  for (int64_t i = 0; i < N; ++i) seeds[static_cast<size_t>(i)] = mix_seed(o.seed, kHeldOutStream, static_cast<uint64_t>(i));
  at::Tensor frames, context;
  std::vector<std::string> prompts;
  render_samples(o, seeds, std::vector<bool>(static_cast<size_t>(N), false), frames, context, prompts);
  HeldOutSet h;
  const auto& vs = o.model.vae_stride;
  h.x0 = rt::pixel_unshuffle_encode(frames, vs[1], vs[2]).to(o.device);  // [N, C, T, h, w]
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(mix_seed(o.seed, kHeldOutNoiseStream, 0));
  h.noise = at::randn(h.x0.sizes(), gen, at::TensorOptions().dtype(at::kFloat)).to(o.device);  // [N, C, T, h, w]
  h.context = context.to(o.device);                                                            // [N, L, D]
  h.sigma = at::empty({N}, at::TensorOptions().dtype(at::kFloat));                             // [N]
  h.timesteps = at::empty({N}, at::TensorOptions().dtype(at::kLong));                          // [N]
  float* sigma_p = h.sigma.mutable_data_ptr<float>();
  int64_t* t_p = h.timesteps.mutable_data_ptr<int64_t>();
  for (int64_t i = 0; i < N; ++i) {
    const double sigma = (static_cast<double>(i) + 0.5) / static_cast<double>(N);
    sigma_p[i] = static_cast<float>(sigma);
    t_p[i] = timestep_of(sigma);
  }
  h.sigma = h.sigma.to(o.device);
  return h;
}

Trainer::Trainer(TrainOptions options) : options_(std::move(options)) {
  const rt::WanConfig& c = options_.model;
  rt::validate(c, "demo trainer");
  if (c.text_encoder != rt::kDemoWordsEncoder) {
    throw std::invalid_argument("demo trainer: model config text_encoder: expected \"demo-words\", found \"" +
                                c.text_encoder + "\"");
  }
  rt::PixelUnshuffleDecoder check(c);  // throws unless the channels match the pixel-unshuffle of RGB
  (void)rt::video_geometry(c, options_.video.frames, options_.video.height, options_.video.width);
  if (options_.batch <= 0) throw std::invalid_argument("demo trainer: batch: expected a positive size");

  rt::StateDict init;
  if (options_.init_weights.empty()) {
    init = initial_state_dict(c, options_.seed);
  } else {  // fp32 on the CPU, by original name; check_checkpoint names a missing key or a wrong shape
    init = rt::load_state_dict(data::SafetensorsCollection::open(options_.init_weights), c, {at::kCPU, at::kFloat});
    for (auto& [name, t] : init) t = t.to(at::kFloat);  // keep_fp32 or not: the masters are fp32
  }
  const bool copies = options_.compute_dtype != at::kFloat;
  for (const rt::ExpectedTensor& e : rt::expected_tensors(c)) {
    const at::NoGradGuard no_grad;
    names_.push_back(e.name);
    at::Tensor master = init.at(e.name).to(options_.device).contiguous();  // fp32
    at::Tensor weight;
    if (copies && !e.keep_fp32) {
      weight = master.to(options_.compute_dtype).detach();  // the bf16 copy the model computes with
    } else {
      weight = master;
    }
    weight.set_requires_grad(true);
    master_.emplace(e.name, master);
    model_weights_.emplace(e.name, weight);
    params_.push_back(master);
    model_params_.push_back(weight);
    exp_avg_.push_back(at::zeros_like(master));
    exp_avg_sq_.push_back(at::zeros_like(master));
    ema_.push_back(master.clone());
    decay_.push_back(e.shape.size() >= 2 && e.name.ends_with(".weight"));
  }
  // Built with gradients on: its reshaped view of the patch kernel must carry a grad_fn back to the weight.
  model_ = std::make_unique<rt::WanModel>(c, model_weights_, "demo trainer");
  total_steps_ = options_.steps;
}

Trainer::~Trainer() = default;

double Trainer::learning_rate(int64_t step) const {
  const TrainOptions& o = options_;
  if (step < o.warmup) return o.lr * static_cast<double>(step + 1) / static_cast<double>(o.warmup);
  if (total_steps_ <= 0) return o.lr;
  const double p = std::clamp(static_cast<double>(step - o.warmup) /
                                  static_cast<double>(std::max<int64_t>(1, total_steps_ - o.warmup)),
                              0.0, 1.0);
  return o.lr * (o.min_lr_fraction + (1 - o.min_lr_fraction) * 0.5 * (1 + std::cos(std::numbers::pi * p)));
}

at::Tensor Trainer::forward_backward(const HostBatch& batch) {
  const at::Device dev = options_.device;
  const auto& vs = options_.model.vae_stride;
  const at::Tensor x0 = rt::pixel_unshuffle_encode(batch.frames.to(dev), vs[1], vs[2]);  // [B, C, T, h, w]
  at::Tensor noise;
  const uint64_t noise_seed = mix_seed(options_.seed ^ kNoiseSalt, static_cast<uint64_t>(batch.step), 0);
  if (dev.is_cpu()) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(noise_seed);
    noise = at::randn(x0.sizes(), gen, x0.options());  // [B, C, T, h, w]
  } else {
    at::Generator gen = at::globalContext().defaultGenerator(dev);
    {
      const std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(noise_seed);
    }
    noise = at::randn(x0.sizes(), gen, x0.options());  // [B, C, T, h, w]
  }
  const int64_t B = x0.size(0);
  const at::Tensor sigma = batch.sigma.to(dev).view({B, 1, 1, 1, 1});  // [B, 1, 1, 1, 1]
  const at::Tensor x_sigma = x0 + sigma * (noise - x0);                 // (1 − σ)·x0 + σ·ε
  const at::Tensor target = noise - x0;                                 // v = ε − x0
  const at::Tensor pred = model_->forward(x_sigma, batch.timesteps, batch.context.to(dev));  // [B, C, T, h, w]
  at::Tensor loss = at::mse_loss(pred, target);
  loss.backward();
  return loss.detach();
}

std::vector<at::Tensor> Trainer::take_gradients() {
  std::vector<at::Tensor> grads;
  grads.reserve(model_params_.size());
  for (size_t i = 0; i < model_params_.size(); ++i) {
    at::Tensor& g = model_params_[i].mutable_grad();
    if (!g.defined()) {
      grads.push_back(at::zeros_like(params_[i]));
    } else {
      grads.push_back(g.scalar_type() == at::kFloat ? g : g.to(at::kFloat));
    }
    g = at::Tensor();
  }
  return grads;
}

at::Tensor Trainer::train_step(const HostBatch& batch) {
  if (batch.step != step_) {
    throw std::logic_error("demo trainer: batch of step " + std::to_string(batch.step) + " given at step " +
                           std::to_string(step_));
  }
  const at::Tensor loss = forward_backward(batch);
  std::vector<at::Tensor> grads = take_gradients();
  const at::NoGradGuard no_grad;
  const TrainOptions& o = options_;
  // Global-norm clipping, without a host synchronisation.
  const std::vector<at::Tensor> norms = at::_foreach_norm(grads, 2);
  grad_norm_ = at::stack(norms).norm();
  const at::Tensor coef = at::clamp_max(o.clip / (grad_norm_ + 1e-6), 1.0);
  at::_foreach_mul_(grads, coef);
  // AdamW.
  const double lr = learning_rate(step_);
  const double t = static_cast<double>(step_ + 1);
  const double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
  at::_foreach_lerp_(exp_avg_, grads, 1 - o.beta1);
  at::_foreach_mul_(exp_avg_sq_, o.beta2);
  at::_foreach_addcmul_(exp_avg_sq_, grads, grads, 1 - o.beta2);
  std::vector<at::Tensor> denom = at::_foreach_sqrt(exp_avg_sq_);
  at::_foreach_div_(denom, std::sqrt(bc2));
  at::_foreach_add_(denom, o.adam_eps);
  std::vector<at::Tensor> decayed;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (decay_[i]) decayed.push_back(params_[i]);
  }
  if (o.weight_decay > 0) at::_foreach_mul_(decayed, 1 - lr * o.weight_decay);
  at::_foreach_addcdiv_(params_, exp_avg_, denom, -lr / bc1);
  if (o.ema_decay > 0) {
    const double decay = std::min(o.ema_decay, (1.0 + t) / (10.0 + t));
    at::_foreach_lerp_(ema_, params_, 1 - decay);
  }
  sync_model_weights();
  ++step_;
  return loss;
}

void Trainer::use_ema_weights() {
  if (options_.ema_decay <= 0) return;
  {
    const at::NoGradGuard no_grad;
    at::_foreach_copy_(params_, ema_);
  }
  sync_model_weights();
}

void Trainer::sync_model_weights() {
  const at::NoGradGuard no_grad;
  std::vector<at::Tensor> dst, src;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!model_params_[i].is_same(params_[i])) {
      dst.push_back(model_params_[i]);
      src.push_back(params_[i]);
    }
  }
  if (!dst.empty()) at::_foreach_copy_(dst, src);
}

rt::StateDict Trainer::gradients(const HostBatch& batch) {
  (void)forward_backward(batch);
  const std::vector<at::Tensor> grads = take_gradients();
  rt::StateDict out;
  for (size_t i = 0; i < names_.size(); ++i) out.emplace(names_[i], grads[i]);
  return out;
}

double Trainer::last_grad_norm() const {
  return grad_norm_.defined() ? grad_norm_.item<double>() : std::numeric_limits<double>::quiet_NaN();
}

double Trainer::heldout_loss(const HeldOutSet& set) const {
  const at::NoGradGuard no_grad;
  const int64_t N = set.x0.size(0);
  at::Tensor sum = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(options_.device));
  for (int64_t s = 0; s < N; s += options_.batch) {
    const int64_t n = std::min(options_.batch, N - s);
    const at::Tensor x0 = set.x0.narrow(0, s, n), noise = set.noise.narrow(0, s, n);  // [n, C, T, h, w]
    const at::Tensor sigma = set.sigma.narrow(0, s, n).view({n, 1, 1, 1, 1});          // [n, 1, 1, 1, 1]
    const at::Tensor pred = model_->forward(x0 + sigma * (noise - x0), set.timesteps.narrow(0, s, n),
                                            set.context.narrow(0, s, n));              // [n, C, T, h, w]
    sum += (pred - (noise - x0)).pow(2).sum().to(at::kDouble);
  }
  return sum.item<double>() / static_cast<double>(set.x0.numel());
}

void Trainer::save_checkpoint(const std::filesystem::path& path) const {
  std::vector<at::Tensor> host;
  std::vector<data::TensorData> tensors;
  host.reserve(3 * names_.size());
  auto add = [&](const std::string& name, const at::Tensor& t) {
    host.push_back(t.detach().to(at::kCPU, at::kFloat).contiguous());
    const at::Tensor& h = host.back();
    data::TensorData d;
    d.name = name;
    d.dtype = data::DType::f32;
    d.shape = h.sizes().vec();
    d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(h.const_data_ptr()), h.nbytes());
    tensors.push_back(std::move(d));
  };
  for (size_t i = 0; i < names_.size(); ++i) {
    add("master/" + names_[i], params_[i]);
    add("exp_avg/" + names_[i], exp_avg_[i]);
    add("exp_avg_sq/" + names_[i], exp_avg_sq_[i]);
    add("ema/" + names_[i], ema_[i]);
  }
  const std::map<std::string, std::string> meta = {
      {"format", kCheckpointFormat},
      {"step", std::to_string(step_)},
      {"total_steps", std::to_string(total_steps_)},
      {"seconds", std::to_string(seconds_)},
      {"options", trajectory_options(options_).dump()},
      {"history", history_json(history_).dump()},
  };
  data::write_safetensors(path, tensors, meta);  // atomic (temporary sibling, fsync, rename)
}

void Trainer::load_checkpoint(const std::filesystem::path& path) {
  const data::SafetensorsFile file = data::SafetensorsFile::open(path);
  const auto& meta = file.metadata();
  auto field = [&](const char* key) -> const std::string& {
    const auto it = meta.find(key);
    if (it == meta.end()) throw data::FormatError(path.string(), std::string("__metadata__.") + key, "missing");
    return it->second;
  };
  if (field("format") != kCheckpointFormat) {
    throw data::FormatError(path.string(), "__metadata__.format",
                            std::string("expected \"") + kCheckpointFormat + "\", found \"" + field("format") + "\"");
  }
  const json saved = json::parse(field("options"));
  const json mine = trajectory_options(options_);
  for (const auto& [key, value] : mine.items()) {
    if (!saved.contains(key) || saved[key] != value) {
      throw data::FormatError(path.string(), "__metadata__.options." + key,
                              "the checkpoint was trained with " + (saved.contains(key) ? saved[key].dump() : "none") +
                                  ", this run has " + value.dump() + " (resume with the same options)");
    }
  }
  const at::NoGradGuard no_grad;
  auto load = [&](const std::string& name, at::Tensor& target) {
    const data::TensorInfo& info = file.at(name);
    if (info.shape != target.sizes().vec()) {
      throw data::FormatError(path.string(), name, "expected shape " + c10::str(target.sizes()) + ", found " +
                                                       c10::str(at::IntArrayRef(info.shape)));
    }
    std::vector<float> values = data::to_float(info, file.bytes(info));
    target.copy_(at::from_blob(values.data(), info.shape, at::TensorOptions().dtype(at::kFloat)));
  };
  for (size_t i = 0; i < names_.size(); ++i) {
    load("master/" + names_[i], params_[i]);
    load("exp_avg/" + names_[i], exp_avg_[i]);
    load("exp_avg_sq/" + names_[i], exp_avg_sq_[i]);
    load("ema/" + names_[i], ema_[i]);
  }
  sync_model_weights();
  step_ = std::stoll(field("step"));
  total_steps_ = std::stoll(field("total_steps"));
  seconds_ = std::stod(field("seconds"));
  history_ = history_from_json(json::parse(field("history")));
}

void Trainer::export_model(const std::filesystem::path& weights_path, at::ScalarType dtype) const {
  rt::save_state_dict(weights_path, master_, rt::KeyNaming::original, dtype);
  const std::filesystem::path config_path =
      (weights_path.has_parent_path() ? weights_path.parent_path() : std::filesystem::path(".")) / "config.json";
  data::write_file_atomically(config_path, rt::config_to_json(options_.model).dump(2) + "\n");
}

std::vector<std::string> demo_prompts() { return score_prompts(); }

}  // namespace svdit::demo
