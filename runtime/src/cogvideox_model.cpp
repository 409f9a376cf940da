// The CogVideoX1.5 DiT: tensors, forward pass, sampling loop and registry entry (see cogvideox_model.h; every step
// follows diffusers 0.42.1's CogVideoXTransformer3DModel, CogVideoXBlock, CogVideoXAttnProcessor2_0 and
// CogVideoXPipeline._prepare_rotary_positional_embeddings).

#include "svdit/runtime/cogvideox_model.h"

#include <ATen/ATen.h>

#include <array>
#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "svdit/data/checkpoint_family.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/cogvideox_dpm_sampler.h"

namespace svdit::runtime {

namespace {

std::string shape_text(at::IntArrayRef shape) { return c10::str(shape); }

// fp32 whatever the compute dtype: the time MLP, the adaptive-norm modulation and every norm's gain and bias.
bool keep_fp32(const std::string& name) {
  return name.starts_with("time_embedding.") || name.find("norm") != std::string::npos;
}

// One LayerNorm with gain and bias over the last dim, statistics in fp32.
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return at::layer_norm(x.to(at::kFloat), {x.size(-1)}, weight, bias, eps);
}

constexpr double kQkNormEps = 1e-6;  // diffusers' Attention(qk_norm="layer_norm", eps=1e-6) in CogVideoXBlock

}  // namespace

std::vector<ExpectedKey> cogvideox_expected_tensors(const CogVideoXConfig& c) {
  const int64_t D = c.dim(), T = c.time_embed_dim, hd = c.head_dim, F = c.ffn_dim();
  const int64_t in = c.in_channels * c.patch_volume(), out = c.out_channels * c.patch_volume();
  std::vector<ExpectedKey> keys = {
      {"patch_embed.proj.weight", {D, in}},        {"patch_embed.proj.bias", {D}},
      {"patch_embed.text_proj.weight", {D, c.text_embed_dim}}, {"patch_embed.text_proj.bias", {D}},
      {"time_embedding.linear_1.weight", {T, D}},  {"time_embedding.linear_1.bias", {T}},
      {"time_embedding.linear_2.weight", {T, T}},  {"time_embedding.linear_2.bias", {T}},
  };
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string b = "transformer_blocks." + std::to_string(i) + ".";
    for (const char* n : {"norm1.", "norm2."}) {
      keys.push_back({b + n + "linear.weight", {6 * D, T}});
      keys.push_back({b + n + "linear.bias", {6 * D}});
      keys.push_back({b + n + "norm.weight", {D}});
      keys.push_back({b + n + "norm.bias", {D}});
    }
    for (const char* n : {"attn1.norm_q.", "attn1.norm_k."}) {
      keys.push_back({b + n + "weight", {hd}});
      keys.push_back({b + n + "bias", {hd}});
    }
    for (const char* n : {"attn1.to_q.", "attn1.to_k.", "attn1.to_v.", "attn1.to_out.0."}) {
      keys.push_back({b + n + "weight", {D, D}});
      keys.push_back({b + n + "bias", {D}});
    }
    keys.push_back({b + "ff.net.0.proj.weight", {F, D}});
    keys.push_back({b + "ff.net.0.proj.bias", {F}});
    keys.push_back({b + "ff.net.2.weight", {D, F}});
    keys.push_back({b + "ff.net.2.bias", {D}});
  }
  keys.push_back({"norm_final.weight", {D}});
  keys.push_back({"norm_final.bias", {D}});
  keys.push_back({"norm_out.linear.weight", {2 * D, T}});
  keys.push_back({"norm_out.linear.bias", {2 * D}});
  keys.push_back({"norm_out.norm.weight", {D}});
  keys.push_back({"norm_out.norm.bias", {D}});
  keys.push_back({"proj_out.weight", {out, D}});
  keys.push_back({"proj_out.bias", {out}});
  return keys;
}

CogVideoXWeights random_cogvideox_weights(const CogVideoXConfig& config, const WeightOptions& options, uint64_t seed) {
  // One generator for the whole model, so that the weights depend on the seed alone.
  at::Generator generator = options.device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed)
                                                    : at::globalContext().defaultGenerator(options.device);
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_current_seed(seed);
  }
  const auto fp32 = at::TensorOptions().dtype(at::kFloat).device(options.device);
  CogVideoXWeights weights;
  for (const ExpectedKey& e : cogvideox_expected_tensors(config)) {
    const at::Tensor noise = at::randn(e.shape, generator, fp32);  // [shape]
    at::Tensor t;
    if (e.shape.size() == 1 && e.key.ends_with("norm.weight")) {
      t = 1.0 + 0.1 * noise;  // LayerNorm gains near 1
    } else if (e.key.ends_with("norm_q.weight") || e.key.ends_with("norm_k.weight") ||
               e.key == "norm_final.weight") {
      t = 1.0 + 0.1 * noise;
    } else if (e.key.ends_with(".bias")) {
      t = 0.02 * noise;
    } else {
      t = noise * (1.0 / std::sqrt(static_cast<double>(e.shape[1])));  // linear: N(0, 1/fan_in)
    }
    weights.emplace(e.key, t.to(keep_fp32(e.key) ? at::kFloat : options.compute_dtype));
  }
  return weights;
}

CogVideoXModel::CogVideoXModel(CogVideoXConfig config, CogVideoXWeights weights, const WeightOptions& options,
                               std::string source)
    : config_(std::move(config)), device_(options.device), dtype_(options.compute_dtype) {
  validate(config_, source);
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const ExpectedKey& e : cogvideox_expected_tensors(config_)) {
    expected.insert(e.key);
    const auto it = weights.find(e.key);
    if (it == weights.end()) {
      problems.push_back(e.key + ": missing (expected shape " + shape_text(e.shape) + ")");
    } else if (it->second.sizes().vec() != e.shape) {
      problems.push_back(e.key + ": expected shape " + shape_text(e.shape) + ", found " + shape_text(it->second.sizes()));
    }
  }
  for (const auto& [name, tensor] : weights) {
    if (!expected.contains(name)) problems.push_back(name + ": unexpected tensor of shape " + shape_text(tensor.sizes()));
  }
  if (!problems.empty()) {
    std::string what;
    for (size_t i = 0; i < problems.size() && i < 40; ++i) what += (i ? "; " : "") + problems[i];
    throw data::FormatError(source, problems.front().substr(0, problems.front().find(':')),
                            "the weights do not match " + runtime::describe(config_) + ": " + what);
  }
  // One device; fp32 where keep_fp32 says, the compute dtype elsewhere (converted here, so callers may pass any).
  for (auto& [name, tensor] : weights) {
    tensor = tensor.to(device_, keep_fp32(name) ? at::kFloat : dtype_);
  }
  weights_ = std::move(weights);

  patch_ = linear("patch_embed.proj");
  text_proj_ = linear("patch_embed.text_proj");
  time1_ = linear("time_embedding.linear_1");
  time2_ = linear("time_embedding.linear_2");
  norm_final_ = norm("norm_final");
  norm_out_linear_ = linear("norm_out.linear");
  norm_out_ = norm("norm_out.norm");
  proj_out_ = linear("proj_out");
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string b = "transformer_blocks." + std::to_string(i) + ".";
    Block block;
    block.norm1_linear = linear(b + "norm1.linear");
    block.norm1 = norm(b + "norm1.norm");
    block.norm2_linear = linear(b + "norm2.linear");
    block.norm2 = norm(b + "norm2.norm");
    block.q = linear(b + "attn1.to_q");
    block.k = linear(b + "attn1.to_k");
    block.v = linear(b + "attn1.to_v");
    block.out = linear(b + "attn1.to_out.0");
    block.norm_q = norm(b + "attn1.norm_q");
    block.norm_k = norm(b + "attn1.norm_k");
    block.ff1 = linear(b + "ff.net.0.proj");
    block.ff2 = linear(b + "ff.net.2");
    blocks_.push_back(std::move(block));
  }
}

CogVideoXModel::Linear CogVideoXModel::linear(const std::string& prefix) const {
  return Linear{weights_.at(prefix + ".weight"), weights_.at(prefix + ".bias")};
}
CogVideoXModel::Norm CogVideoXModel::norm(const std::string& prefix) const {
  return Norm{weights_.at(prefix + ".weight"), weights_.at(prefix + ".bias")};
}

std::string CogVideoXModel::describe() const { return runtime::describe(config_); }
nlohmann::json CogVideoXModel::config_json() const { return cogvideox_config_to_json(config_); }
data::PlanModel CogVideoXModel::plan_model() const { return runtime::plan_model(config_); }

VideoGeometry CogVideoXModel::video_geometry(int64_t frames, int64_t height, int64_t width) const {
  return cogvideox_video_geometry(config_, frames, height, width);
}

data::TokenLayout CogVideoXModel::token_layout(const VideoGeometry& geometry, int64_t block_size) const {
  return cogvideox_token_layout(config_, geometry, block_size);
}

TextSpec CogVideoXModel::text_spec() const {
  TextSpec spec;
  spec.text_len = config_.text_len;
  spec.text_dim = config_.text_embed_dim;
  return spec;
}

std::vector<int64_t> CogVideoXModel::latent_shape(const VideoGeometry& g) const {
  return {1, g.latent_frames, config_.in_channels, g.latent_height, g.latent_width};
}

at::Tensor CogVideoXModel::timestep_sinusoid(const at::Tensor& timesteps) const {
  // get_timestep_embedding as diffusers computes it, in fp32: exp(−ln(10⁴)·k / (half − shift)) · t, [sin | cos],
  // flipped to [cos | sin] (flip_sin_to_cos).
  const int64_t half = config_.dim() / 2;
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(timesteps.device());
  const at::Tensor exponent = at::arange(0, half, f32) * (-std::log(10000.0)) / (half - config_.freq_shift);  // [half]
  const at::Tensor angle = timesteps.to(at::kFloat).unsqueeze(1) * at::exp(exponent).unsqueeze(0);          // [B, half]
  const at::Tensor sin = at::sin(angle), cos = at::cos(angle);
  return config_.flip_sin_to_cos ? at::cat({cos, sin}, 1) : at::cat({sin, cos}, 1);                         // [B, dim]
}

const RopeTable& CogVideoXModel::rope_table(const VideoGeometry& g) const {
  const std::lock_guard<std::mutex> lock(rope_mutex_);
  auto& slot = rope_cache_[{g.grid_frames, g.grid_height, g.grid_width}];
  if (slot) return *slot;
  // get_3d_rotary_pos_embed(grid_type="slice") in fp32: the head's channels split [hd/4 | 3hd/8 | 3hd/8] over
  // (frame, row, column), pair k of an axis of width d turns by pos / θ^(2k/d), positions 0-based.
  const int64_t hd = config_.head_dim;
  const std::array<int64_t, 3> widths = {hd / 4, hd / 8 * 3, hd / 8 * 3};
  const std::array<int64_t, 3> extent = {g.grid_frames, g.grid_height, g.grid_width};
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  std::array<at::Tensor, 3> angles;
  for (size_t a = 0; a < 3; ++a) {
    const at::Tensor k = at::arange(0, widths[a], 2, f32) / widths[a];                    // [d/2]
    const at::Tensor omega = at::reciprocal(at::pow(config_.rope_theta, k));              // [d/2]
    const at::Tensor axis = at::outer(at::arange(extent[a], f32), omega);                 // [extent, d/2]
    std::vector<int64_t> view = {1, 1, 1, widths[a] / 2};
    view[a] = extent[a];
    angles[a] = axis.view(view).expand({extent[0], extent[1], extent[2], widths[a] / 2});  // [F, H, W, d/2]
  }
  const at::Tensor angle = at::cat({angles[0], angles[1], angles[2]}, -1).reshape({g.tokens(), hd / 2});  // [S, hd/2]
  auto table = std::make_unique<RopeTable>();
  table->frames = g.grid_frames;
  table->height = g.grid_height;
  table->width = g.grid_width;
  table->cos = at::cos(angle).to(device_);  // [S, hd/2] fp32
  table->sin = at::sin(angle).to(device_);
  slot = std::move(table);
  return *slot;
}

at::Tensor CogVideoXModel::forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                                   const ForwardOptions& options) const {
  const CogVideoXConfig& c = config_;
  if (latents.dim() != 5 || latents.size(2) != c.in_channels) {
    throw std::invalid_argument("CogVideoXModel::forward: latents: expected [B, T, " + std::to_string(c.in_channels) +
                                ", H, W], found " + shape_text(latents.sizes()));
  }
  const int64_t B = latents.size(0), T = latents.size(1), H = latents.size(3), W = latents.size(4);
  const int64_t p = c.patch_size, pt = c.patch_size_t, D = c.dim();
  if (T % pt != 0 || H % p != 0 || W % p != 0) {
    throw std::invalid_argument("CogVideoXModel::forward: latents " + shape_text(latents.sizes()) +
                                ": T must be a multiple of " + std::to_string(pt) + ", H and W of " + std::to_string(p));
  }
  if (timesteps.dim() != 1 || timesteps.size(0) != B) {
    throw std::invalid_argument("CogVideoXModel::forward: timesteps: expected [" + std::to_string(B) + "], found " +
                                shape_text(timesteps.sizes()));
  }
  const at::Tensor& context = text.embeddings;
  if (!context.defined() || context.dim() != 3 || context.size(0) != B || context.size(1) != c.text_len ||
      context.size(2) != c.text_embed_dim) {
    throw std::invalid_argument("CogVideoXModel::forward: text embeddings: expected [" + std::to_string(B) + ", " +
                                std::to_string(c.text_len) + ", " + std::to_string(c.text_embed_dim) + "], found " +
                                (context.defined() ? shape_text(context.sizes()) : std::string("none")));
  }
  VideoGeometry g;
  g.latent_frames = T;
  g.latent_height = H;
  g.latent_width = W;
  g.grid_frames = T / pt;
  g.grid_height = H / p;
  g.grid_width = W / p;
  const data::TokenLayout layout = token_layout(g);
  const int64_t S = g.tokens();

  // Time embedding, fp32: emb [B, time_embed_dim].
  const at::Tensor t_emb = timestep_sinusoid(timesteps.to(device_));                                       // [B, D]
  const at::Tensor emb = at::linear(at::silu(at::linear(t_emb, time1_.weight, time1_.bias)), time2_.weight, time2_.bias);  // [B, T]

  // Patch embedding: a Linear over (c, pt, ph, pw) patches in (f, h, w) order; text projection. fp32 streams.
  const at::Tensor patches =
      latents.to(device_, dtype_)
          .reshape({B, g.grid_frames, pt, c.in_channels, g.grid_height, p, g.grid_width, p})  // [B, F, pt, C, H', p, W', p]
          .permute({0, 1, 4, 6, 3, 2, 5, 7})                                                   // [B, F, H', W', C, pt, p, p]
          .reshape({B, S, c.in_channels * c.patch_volume()});                                  // [B, S, C·pt·p·p]
  at::Tensor video = at::linear(patches, patch_.weight, patch_.bias).to(at::kFloat);                        // [B, S, D]
  at::Tensor txt = at::linear(context.to(device_, dtype_), text_proj_.weight, text_proj_.bias).to(at::kFloat);  // [B, L, D]

  const RopeTable& rope = rope_table(g);
  const int64_t timestep = timesteps.numel() > 0 ? timesteps[0].item<int64_t>() : 0;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    run_block(blocks_[static_cast<size_t>(i)], i, video, txt, emb, rope, layout, timestep, options);
  }

  // Output: final LayerNorm, then AdaLayerNorm with (shift, scale) in that order (chunk_dim 1), projection.
  video = layer_norm(video, norm_final_.weight, norm_final_.bias, c.norm_eps);                              // [B, S, D]
  const at::Tensor mod = at::linear(at::silu(emb), norm_out_linear_.weight, norm_out_linear_.bias);         // [B, 2D]
  const at::Tensor shift = mod.narrow(1, 0, D).unsqueeze(1), scale = mod.narrow(1, D, D).unsqueeze(1);     // [B, 1, D]
  video = layer_norm(video, norm_out_.weight, norm_out_.bias, c.norm_eps) * (1 + scale) + shift;            // [B, S, D]
  const at::Tensor out = at::linear(video.to(dtype_), proj_out_.weight, proj_out_.bias).to(at::kFloat);     // [B, S, C·pt·p·p]
  // Channel-major patches (c, pt, ph, pw) back to [B, T, C, H, W].
  return out.reshape({B, g.grid_frames, g.grid_height, g.grid_width, c.out_channels, pt, p, p})  // [B, F, H', W', C, pt, p, p]
      .permute({0, 1, 5, 4, 2, 6, 3, 7})                                                          // [B, F, pt, C, H', p, W', p]
      .reshape({B, T, c.out_channels, H, W});                                                     // [B, T, C, H, W]
}

void CogVideoXModel::run_block(const Block& blk, int64_t layer, at::Tensor& video, at::Tensor& text,
                               const at::Tensor& emb, const RopeTable& rope, const data::TokenLayout& layout,
                               int64_t timestep, const ForwardOptions& options) const {
  const CogVideoXConfig& c = config_;
  const int64_t B = video.size(0), L = text.size(1), N = L + video.size(1), H = c.num_heads, hd = c.head_dim;
  const int64_t D = c.dim();
  // Expert adaptive LayerNorm: one LayerNorm, (shift, scale, gate) for the video and another for the text. The
  // modulation shift + norm·(1 + scale) is computed in fp32 and written once, rounded, into the compute-dtype
  // [text | video] buffer the projections read (one pass over the stream instead of mul, add, cat and cast: at
  // 45k tokens those elementwise passes were what made the dense forward slower than diffusers').
  auto modulate = [&](const Linear& lin, const Norm& n) {
    const at::Tensor m = at::linear(at::silu(emb), lin.weight, lin.bias);  // [B, 6D] fp32
    auto part = [&](int64_t i) { return m.narrow(1, i * D, D).unsqueeze(1); };  // [B, 1, D]
    at::Tensor x = at::empty({B, N, D}, video.options().dtype(dtype_));  // [B, N, D]: [text | video]
    at::Tensor x_text = x.narrow(1, 0, L), x_video = x.narrow(1, L, N - L);
    at::addcmul_out(x_video, part(0), layer_norm(video, n.weight, n.bias, c.norm_eps), 1 + part(1));  // [B, S, D]
    at::addcmul_out(x_text, part(3), layer_norm(text, n.weight, n.bias, c.norm_eps), 1 + part(4));    // [B, L, D]
    return std::tuple{x, part(2), part(5)};  // [text | video], gates
  };

  // Joint self-attention over [text | video]: per-head q/k LayerNorm, RoPE on the video tokens only.
  {
    const auto [x, gate, text_gate] = modulate(blk.norm1_linear, blk.norm1);                                  // [B, N, D]
    const at::Tensor q = layer_norm(at::linear(x, blk.q.weight, blk.q.bias).view({B, N, H, hd}), blk.norm_q.weight,
                                    blk.norm_q.bias, kQkNormEps);                                              // [B, N, H, hd] fp32
    const at::Tensor k = layer_norm(at::linear(x, blk.k.weight, blk.k.bias).view({B, N, H, hd}), blk.norm_k.weight,
                                    blk.norm_k.bias, kQkNormEps);                                              // [B, N, H, hd] fp32
    const at::Tensor v = at::linear(x, blk.v.weight, blk.v.bias).view({B, N, H, hd});                        // [B, N, H, hd]
    const at::Tensor qr = at::cat({q.narrow(1, 0, L), apply_rope(q.narrow(1, L, N - L), rope)}, 1).to(dtype_);  // [B, N, H, hd]
    const at::Tensor kr = at::cat({k.narrow(1, 0, L), apply_rope(k.narrow(1, L, N - L), rope)}, 1).to(dtype_);  // [B, N, H, hd]
    const SelfAttentionCall call{options.step, layer, options.branch, &layout};
    const at::Tensor attn = options.attention ? options.attention->self_attention(qr, kr, v, call)
                                              : dense_attention(qr, kr, v);                                    // [B, N, H, hd]
    if (options.observer) options.observer->on_self_attention(SelfAttentionEvent{call, timestep, qr, kr, v, attn});
    const at::Tensor o = at::linear(attn.reshape({B, N, D}), blk.out.weight, blk.out.bias);  // [B, N, D] compute dtype
    // Gated residuals in place, in fp32 (the streams' dtype): one pass each.
    video.addcmul_(gate, o.narrow(1, L, N - L));
    text.addcmul_(text_gate, o.narrow(1, 0, L));
  }

  // FFN (GELU-tanh) over [text | video], gated per part.
  {
    const auto [x, gate, text_gate] = modulate(blk.norm2_linear, blk.norm2);                                  // [B, N, D]
    const at::Tensor y = at::linear(at::gelu(at::linear(x, blk.ff1.weight, blk.ff1.bias), "tanh"), blk.ff2.weight,
                                    blk.ff2.bias);                                                             // [B, N, D]
    video.addcmul_(gate, y.narrow(1, L, N - L));
    text.addcmul_(text_gate, y.narrow(1, 0, L));
  }
}

DenoisingLoop CogVideoXModel::denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                                             const SamplingOptions& options) const {
  if (options.sampler != "auto" && options.sampler != "cogvideox-dpm") {
    throw std::invalid_argument("--sampler: CogVideoX1.5 samples with cogvideox-dpm (its pipeline's scheduler), found \"" +
                                options.sampler + "\"");
  }
  if (config_.in_channels != config_.out_channels) {
    throw std::invalid_argument("sampling: in_channels " + std::to_string(config_.in_channels) + " ≠ out_channels " +
                                std::to_string(config_.out_channels) + ": the prediction cannot update the latents");
  }
  // One CPU generator for the noise and every sampler step, as the pipeline with one generator: same seed, same run.
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const at::Tensor noise = at::randn(latent_shape(geometry), generator, at::TensorOptions().dtype(at::kFloat));  // [1, T, C, H, W]
  std::unique_ptr<Guidance> guidance = make_guidance(options.guidance, conditioning.negative_context.defined());
  return DenoisingLoop(noise.to(device_), std::move(conditioning),
                       std::make_unique<CogVideoXDpmSampler>(options.steps, generator), std::move(guidance));
}

FlowSchedule CogVideoXModel::schedule(const SamplingOptions& options) const {
  return CogVideoXDpmSampler(options.steps, at::make_generator<at::CPUGeneratorImpl>(options.seed)).schedule();
}

std::unique_ptr<CogVideoXModel> load_cogvideox_model(const CheckpointToLoad& checkpoint, const WeightOptions& options) {
  const std::string& source = checkpoint.weights.source();
  if (!checkpoint.config) {
    throw data::FormatError(source, "config.json",
                            "a CogVideoX checkpoint needs its config.json beside the weights (the head count and "
                            "patch sizes are not in the tensors)");
  }
  const CogVideoXConfig config = parse_cogvideox_config(data::read_config_json(*checkpoint.config),
                                                        checkpoint.config->string());
  const std::vector<ExpectedKey> expected = cogvideox_expected_tensors(config);
  check_tensor_set(checkpoint.weights, expected, runtime::describe(config) + " (diffusers key naming)");
  CogVideoXWeights weights;
  for (const ExpectedKey& e : expected) {
    const at::ScalarType dtype = keep_fp32(e.key) ? at::kFloat : options.compute_dtype;
    // copy=true: a CPU fp32 tensor would otherwise alias the temporary.
    weights.emplace(e.key, read_tensor(checkpoint.weights, checkpoint.weights.at(e.key))
                               .to(options.device, dtype, /*non_blocking=*/false, /*copy=*/true));
  }
  return std::make_unique<CogVideoXModel>(config, std::move(weights), options, source);
}

ModelFamily cogvideox_family() {
  ModelFamily f;
  f.id = "cogvideox1.5";
  f.name = "CogVideoX1.5";
  f.presets = {"cogvideox1.5-5b"};
  // CogVideoXPipeline's defaults for 1.5: 81 frames of 1360×768 (21 latent frames, padded to 22: 45,106 tokens).
  f.video_size = {{"81", "1 + 4k for the VAE"}, {"768", ""}, {"1360", ""}};
  f.default_guidance = 6.0;  // CogVideoXPipeline's guidance_scale
  f.load = [](const CheckpointToLoad& checkpoint, const WeightOptions& options) -> std::unique_ptr<Model> {
    return load_cogvideox_model(checkpoint, options);
  };
  f.naming = [](const data::SafetensorsCollection&) { return std::string("diffusers names"); };
  f.random = [](const RandomModelRequest& request) -> std::unique_ptr<Model> {
    const CogVideoXConfig config =
        request.config ? parse_cogvideox_config(*request.config, request.spec) : *cogvideox_preset(request.spec);
    return std::make_unique<CogVideoXModel>(config, random_cogvideox_weights(config, request.options, request.seed),
                                            request.options, "random weights (" + request.spec + ")");
  };
  return f;
}

}  // namespace svdit::runtime
