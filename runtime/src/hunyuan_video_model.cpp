// The HunyuanVideo DiT forward pass (see hunyuan_video_model.h; every step follows diffusers'
// transformer_hunyuan_video.py, whose module names the comments use).

#include "svdit/runtime/hunyuan_video_model.h"

#include <ATen/ATen.h>

#include <cmath>
#include <set>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/hunyuan_video_prompt.h"
#include "svdit/runtime/hunyuan_video_sampling.h"

namespace svdit::runtime {

namespace {

constexpr double kEps = HunyuanVideoConfig::kEps;
constexpr int64_t kSinusoidWidth = 256;  // Timesteps(num_channels=256) of every time/guidance embedder

std::string shape_text(at::IntArrayRef shape) { return c10::str(shape); }

// nn.LayerNorm(elementwise_affine=False) in fp32.
at::Tensor plain_layer_norm(const at::Tensor& x) {
  return at::layer_norm(x.to(at::kFloat), {x.size(-1)}, {}, {}, kEps);
}

// diffusers' RMSNorm over the last dim (one head's channels), in its order: x · rsqrt(mean(x²) + ε) · gain.
at::Tensor head_rms_norm(const at::Tensor& x, const at::Tensor& weight) {
  const at::Tensor x32 = x.to(at::kFloat);
  const at::Tensor variance = x32.pow(2).mean(-1, /*keepdim=*/true);
  return x32 * at::rsqrt(variance + kEps) * weight;
}

// x · (1 + scale) + shift with [B, D] modulation broadcast over the tokens.
at::Tensor modulate(const at::Tensor& normed, const at::Tensor& shift, const at::Tensor& scale) {
  return normed * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1);
}

}  // namespace

RopeTable make_hunyuan_video_rope_table(const HunyuanVideoConfig& config, int64_t frames, int64_t height,
                                        int64_t width, at::Device device) {
  // diffusers: grid = meshgrid(arange(F), arange(H'), arange(W'), ij) in fp32; per axis
  // get_1d_rotary_pos_embed(d, grid[a].reshape(-1), θ, use_real=True): freqs = 1 / θ^(arange(0, d, 2)/d),
  // angle = outer(pos, freqs), cos/sin repeated per pair; the axes concatenated along the channels.
  const auto f32 = at::TensorOptions().dtype(at::kFloat);
  const std::vector<at::Tensor> grid = at::meshgrid({at::arange(frames, f32), at::arange(height, f32),
                                                     at::arange(width, f32)}, "ij");  // 3 × [F, H', W']
  std::vector<at::Tensor> angles;
  for (size_t a = 0; a < 3; ++a) {
    const int64_t d = config.rope_axes_dim[a];
    const at::Tensor exponent = at::arange(0, d, 2, f32) / static_cast<double>(d);                  // [d/2]
    const at::Tensor freqs = at::reciprocal(at::pow(config.rope_theta, exponent));                   // [d/2]
    angles.push_back(at::outer(grid[a].reshape(-1), freqs));                                         // [S, d/2]
  }
  const at::Tensor angle = at::cat(angles, 1);  // [S, head_dim/2]
  RopeTable table;
  table.frames = frames;
  table.height = height;
  table.width = width;
  table.cos = at::cos(angle).to(device);  // [S, head_dim/2] fp32
  table.sin = at::sin(angle).to(device);  // [S, head_dim/2] fp32
  return table;
}

HunyuanVideoModel::HunyuanVideoModel(HunyuanVideoConfig config, StateDict weights, std::string source)
    : config_(std::move(config)), weights_(std::move(weights)) {
  validate(config_, source);
  // The same key/shape rules as a checkpoint on disk, for state dicts built in memory; plus one device and the
  // dtypes the runtime keeps (fp32 where keep_fp32, the GEMM dtype elsewhere).
  const std::vector<ExpectedTensor> expected = hunyuan_video_expected_tensors(config_);
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (const ExpectedTensor& e : expected) {
    names.insert(e.name);
    const auto it = weights_.find(e.name);
    if (it == weights_.end()) {
      problems.push_back(e.name + ": missing (expected shape " + shape_text(e.shape) + ")");
    } else if (it->second.sizes().vec() != e.shape) {
      problems.push_back(e.name + ": expected shape " + shape_text(e.shape) + ", found " +
                         shape_text(it->second.sizes()));
    }
  }
  for (const auto& [name, tensor] : weights_) {
    if (!names.contains(name)) problems.push_back(name + ": unexpected tensor of shape " + shape_text(tensor.sizes()));
  }
  if (const auto pw = weights_.find("x_embedder.proj.weight"); problems.empty() && pw != weights_.end()) {
    const at::Device device = pw->second.device();
    const at::ScalarType gemm = pw->second.scalar_type();
    for (const ExpectedTensor& e : expected) {
      const at::Tensor& t = weights_.at(e.name);
      const at::ScalarType want = e.keep_fp32 ? at::kFloat : gemm;
      if (t.device() != device || t.scalar_type() != want) {
        problems.push_back(e.name + ": expected " + c10::toString(want) + " on " + device.str() + ", found " +
                           c10::toString(t.scalar_type()) + " on " + t.device().str());
      }
    }
  }
  if (!problems.empty()) {
    std::string what;
    for (size_t i = 0; i < problems.size() && i < 40; ++i) what += (i ? "; " : "") + problems[i];
    throw data::FormatError(source, problems.front().substr(0, problems.front().find(':')),
                            "the weights do not match " + runtime::describe(config_) + ": " + what);
  }

  patch_weight_ = weights_.at("x_embedder.proj.weight");
  patch_bias_ = weights_.at("x_embedder.proj.bias");
  time_ = mlp2("time_text_embed.timestep_embedder");
  pooled_ = mlp2("time_text_embed.text_embedder");
  if (config_.guidance_embeds) guidance_ = mlp2("time_text_embed.guidance_embedder");
  refiner_time_ = mlp2("context_embedder.time_text_embed.timestep_embedder");
  refiner_pooled_ = mlp2("context_embedder.time_text_embed.text_embedder");
  refiner_in_ = linear("context_embedder.proj_in");
  for (int64_t i = 0; i < config_.num_refiner_layers; ++i) {
    const std::string b = "context_embedder.token_refiner.refiner_blocks." + std::to_string(i) + ".";
    RefinerBlock r;
    r.norm1_weight = weights_.at(b + "norm1.weight");
    r.norm1_bias = weights_.at(b + "norm1.bias");
    r.norm2_weight = weights_.at(b + "norm2.weight");
    r.norm2_bias = weights_.at(b + "norm2.bias");
    r.q = linear(b + "attn.to_q");
    r.k = linear(b + "attn.to_k");
    r.v = linear(b + "attn.to_v");
    r.o = linear(b + "attn.to_out.0");
    r.ff1 = linear(b + "ff.net.0.proj");
    r.ff2 = linear(b + "ff.net.2");
    r.gates = linear(b + "norm_out.linear");
    refiner_.push_back(std::move(r));
  }
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string b = "transformer_blocks." + std::to_string(i) + ".";
    DualBlock d;
    d.mod = linear(b + "norm1.linear");
    d.mod_context = linear(b + "norm1_context.linear");
    d.q = linear(b + "attn.to_q");
    d.k = linear(b + "attn.to_k");
    d.v = linear(b + "attn.to_v");
    d.add_q = linear(b + "attn.add_q_proj");
    d.add_k = linear(b + "attn.add_k_proj");
    d.add_v = linear(b + "attn.add_v_proj");
    d.o = linear(b + "attn.to_out.0");
    d.add_o = linear(b + "attn.to_add_out");
    d.norm_q = weights_.at(b + "attn.norm_q.weight");
    d.norm_k = weights_.at(b + "attn.norm_k.weight");
    d.norm_added_q = weights_.at(b + "attn.norm_added_q.weight");
    d.norm_added_k = weights_.at(b + "attn.norm_added_k.weight");
    d.ff1 = linear(b + "ff.net.0.proj");
    d.ff2 = linear(b + "ff.net.2");
    d.ff_context1 = linear(b + "ff_context.net.0.proj");
    d.ff_context2 = linear(b + "ff_context.net.2");
    dual_.push_back(std::move(d));
  }
  for (int64_t i = 0; i < config_.num_single_layers; ++i) {
    const std::string b = "single_transformer_blocks." + std::to_string(i) + ".";
    SingleBlock s;
    s.mod = linear(b + "norm.linear");
    s.q = linear(b + "attn.to_q");
    s.k = linear(b + "attn.to_k");
    s.v = linear(b + "attn.to_v");
    s.mlp = linear(b + "proj_mlp");
    s.out = linear(b + "proj_out");
    s.norm_q = weights_.at(b + "attn.norm_q.weight");
    s.norm_k = weights_.at(b + "attn.norm_k.weight");
    single_.push_back(std::move(s));
  }
  head_mod_ = linear("norm_out.linear");
  head_ = linear("proj_out");
}

HunyuanVideoModel::Linear HunyuanVideoModel::linear(const std::string& prefix) const {
  return Linear{weights_.at(prefix + ".weight"), weights_.at(prefix + ".bias")};
}

HunyuanVideoModel::Mlp2 HunyuanVideoModel::mlp2(const std::string& prefix) const {
  return Mlp2{linear(prefix + ".linear_1"), linear(prefix + ".linear_2")};
}

at::Device HunyuanVideoModel::device() const { return patch_weight_.device(); }
at::ScalarType HunyuanVideoModel::compute_dtype() const { return patch_weight_.scalar_type(); }

at::Tensor HunyuanVideoModel::timestep_sinusoid(const at::Tensor& timesteps) const {
  // diffusers' get_timestep_embedding(t, 256, flip_sin_to_cos=True, downscale_freq_shift=0), all fp32, same order:
  // exponent = −ln(10⁴)·arange(128) / 128, ω = exp(exponent), angle = t·ω, [cos, sin].
  constexpr int64_t half = kSinusoidWidth / 2;
  const auto f32 = at::TensorOptions().dtype(at::kFloat).device(timesteps.device());
  const at::Tensor exponent = at::arange(0, half, f32) * (-std::log(10000.0)) / static_cast<double>(half);  // [128]
  const at::Tensor angle = timesteps.to(at::kFloat).unsqueeze(1) * at::exp(exponent).unsqueeze(0);          // [B, 128]
  return at::cat({at::cos(angle), at::sin(angle)}, 1);                                                       // [B, 256]
}

const RopeTable& HunyuanVideoModel::rope_table(const VideoGeometry& g) const {
  const std::lock_guard<std::mutex> lock(rope_mutex_);
  auto& slot = rope_cache_[{g.grid_frames, g.grid_height, g.grid_width}];
  if (!slot) {
    slot = std::make_unique<RopeTable>(
        make_hunyuan_video_rope_table(config_, g.grid_frames, g.grid_height, g.grid_width, device()));
  }
  return *slot;
}

namespace {

at::Tensor apply_mlp2(const at::Tensor& x, const at::Tensor& w1, const at::Tensor& b1, const at::Tensor& w2,
                      const at::Tensor& b2) {
  return at::linear(at::silu(at::linear(x, w1, b1)), w2, b2);
}

}  // namespace

at::Tensor HunyuanVideoModel::refine_text(const at::Tensor& text, const at::Tensor& timesteps) const {
  // HunyuanVideoTokenRefiner on the valid tokens only: diffusers' mask keeps exactly these as keys of every
  // valid query (its always-true key 0 is a valid token), and pools exactly these.
  const at::ScalarType dt = compute_dtype();
  const int64_t B = text.size(0), N = text.size(1), D = config_.dim(), H = config_.num_heads, Dh = config_.head_dim;
  const at::Tensor text32 = text.to(at::kFloat);                                          // [B, N, T]
  const at::Tensor pooled = text32.sum(1) / static_cast<double>(N);                       // [B, T]
  const at::Tensor t_emb = apply_mlp2(timestep_sinusoid(timesteps), refiner_time_.first.weight, refiner_time_.first.bias,
                                      refiner_time_.second.weight, refiner_time_.second.bias);  // [B, D]
  const at::Tensor p_emb = apply_mlp2(pooled, refiner_pooled_.first.weight, refiner_pooled_.first.bias,
                                      refiner_pooled_.second.weight, refiner_pooled_.second.bias);  // [B, D]
  const at::Tensor temb = t_emb + p_emb;                                                  // [B, D] fp32
  at::Tensor h = at::linear(text.to(dt), refiner_in_.weight, refiner_in_.bias).to(at::kFloat);  // [B, N, D]
  for (const RefinerBlock& r : refiner_) {
    const at::Tensor n1 = at::layer_norm(h, {D}, r.norm1_weight, r.norm1_bias, kEps).to(dt);   // [B, N, D]
    const at::Tensor q = at::linear(n1, r.q.weight, r.q.bias).view({B, N, H, Dh});
    const at::Tensor k = at::linear(n1, r.k.weight, r.k.bias).view({B, N, H, Dh});
    const at::Tensor v = at::linear(n1, r.v.weight, r.v.bias).view({B, N, H, Dh});
    const at::Tensor attn = dense_attention(q, k, v).reshape({B, N, D});                   // [B, N, D]
    const at::Tensor o = at::linear(attn, r.o.weight, r.o.bias).to(at::kFloat);            // [B, N, D]
    const at::Tensor gates = at::linear(at::silu(temb), r.gates.weight, r.gates.bias);     // [B, 2D]
    const at::Tensor gate_msa = gates.narrow(1, 0, D).unsqueeze(1), gate_mlp = gates.narrow(1, D, D).unsqueeze(1);
    h = h + o * gate_msa;
    const at::Tensor n2 = at::layer_norm(h, {D}, r.norm2_weight, r.norm2_bias, kEps).to(dt);
    const at::Tensor ff = at::linear(at::silu(at::linear(n2, r.ff1.weight, r.ff1.bias)), r.ff2.weight, r.ff2.bias);
    h = h + ff.to(at::kFloat) * gate_mlp;
  }
  return h;  // [B, N, D] fp32
}

at::Tensor HunyuanVideoModel::attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t layer,
                                     const data::TokenLayout& layout, int64_t timestep,
                                     const ForwardOptions& options) const {
  const SelfAttentionCall call{options.step, layer, options.branch, &layout};
  const at::Tensor out = options.attention ? options.attention->self_attention(q, k, v, call)
                                           : dense_attention(q, k, v);  // [B, S + N, H, Dh]
  if (options.observer) options.observer->on_self_attention(SelfAttentionEvent{call, timestep, q, k, v, out});
  return out;
}

at::Tensor HunyuanVideoModel::forward(const at::Tensor& latents, const at::Tensor& timesteps, const at::Tensor& text,
                                      const at::Tensor& pooled, const at::Tensor& guidance,
                                      const ForwardOptions& options) const {
  const HunyuanVideoConfig& c = config_;
  const std::string where = "HunyuanVideoModel::forward: ";
  if (latents.dim() != 5 || latents.size(1) != c.in_channels) {
    throw std::invalid_argument(where + "latents: expected [B, " + std::to_string(c.in_channels) + ", T, H, W], found " +
                                shape_text(latents.sizes()));
  }
  const int64_t B = latents.size(0);
  if (timesteps.dim() != 1 || timesteps.size(0) != B) {
    throw std::invalid_argument(where + "timesteps: expected [" + std::to_string(B) + "], found " +
                                shape_text(timesteps.sizes()));
  }
  if (text.dim() != 3 || text.size(0) != B || text.size(2) != c.text_embed_dim || text.size(1) < 1 ||
      text.size(1) > c.text_len) {
    throw std::invalid_argument(where + "text: expected [" + std::to_string(B) + ", N, " +
                                std::to_string(c.text_embed_dim) + "] with 1 ≤ N ≤ text_len " +
                                std::to_string(c.text_len) + " valid tokens, found " + shape_text(text.sizes()));
  }
  if (pooled.dim() != 2 || pooled.size(0) != B || pooled.size(1) != c.pooled_projection_dim) {
    throw std::invalid_argument(where + "pooled: expected [" + std::to_string(B) + ", " +
                                std::to_string(c.pooled_projection_dim) + "], found " + shape_text(pooled.sizes()));
  }
  if (c.guidance_embeds != guidance.defined() || (guidance.defined() && (guidance.dim() != 1 || guidance.size(0) != B))) {
    throw std::invalid_argument(where + "guidance: " +
                                (c.guidance_embeds ? "the model embeds a guidance scale: expected [" +
                                                         std::to_string(B) + "] (1000 · scale)"
                                                   : std::string("the model has no guidance embedder: expected none")) +
                                ", found " + (guidance.defined() ? shape_text(guidance.sizes()) : "none"));
  }
  const VideoGeometry g = hunyuan_video_latent_geometry(c, latents.size(2), latents.size(3), latents.size(4));
  const int64_t S = g.tokens(), N = text.size(1), D = c.dim(), H = c.num_heads, Dh = c.head_dim;
  const data::TokenLayout layout = hunyuan_video_token_layout(g, N);
  const at::ScalarType dt = compute_dtype();
  const at::Device dev = device();
  const int64_t timestep = static_cast<int64_t>(timesteps[0].item<double>());  // for observers: its integer part

  // 1. Conditioning: temb = time + guidance + pooled text, fp32 [B, D].
  const at::Tensor t = timesteps.to(dev);
  at::Tensor temb = apply_mlp2(timestep_sinusoid(t), time_.first.weight, time_.first.bias, time_.second.weight,
                               time_.second.bias);                                                    // [B, D]
  if (c.guidance_embeds) {
    temb = temb + apply_mlp2(timestep_sinusoid(guidance.to(dev)), guidance_.first.weight, guidance_.first.bias,
                             guidance_.second.weight, guidance_.second.bias);
  }
  temb = temb + apply_mlp2(pooled.to(dev, at::kFloat), pooled_.first.weight, pooled_.first.bias,
                           pooled_.second.weight, pooled_.second.bias);                               // [B, D]
  const at::Tensor temb_act = at::silu(temb);                                                         // [B, D]

  // 2. Patch embedding (Conv3d, kernel = stride), tokens frame-major; the refined text.
  const std::vector<int64_t> stride = {c.patch_size_t, c.patch_size, c.patch_size};
  at::Tensor x = at::conv3d(latents.to(dev, dt), patch_weight_, patch_bias_, stride)  // [B, D, F', H', W']
                     .flatten(2).transpose(1, 2).to(at::kFloat);                      // [B, S, D]
  at::Tensor ctx = refine_text(text.to(dev), t);                                      // [B, N, D]
  const RopeTable& rope = rope_table(g);

  auto lin = [&](const at::Tensor& h, const Linear& l) { return at::linear(h, l.weight, l.bias); };
  auto heads = [&](const at::Tensor& h) { return h.view({B, h.size(1), H, Dh}); };
  auto chunk = [](const at::Tensor& m, int64_t i, int64_t d) { return m.narrow(1, i * d, d); };  // [B, D]

  // 3. Dual-stream blocks: separate weights per stream, one joint attention over [video][text].
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const DualBlock& blk = dual_[static_cast<size_t>(i)];
    const at::Tensor m = lin(temb_act, blk.mod), mc = lin(temb_act, blk.mod_context);  // [B, 6D] fp32
    const at::Tensor nx = modulate(plain_layer_norm(x), chunk(m, 0, D), chunk(m, 1, D)).to(dt);     // [B, S, D]
    const at::Tensor nc = modulate(plain_layer_norm(ctx), chunk(mc, 0, D), chunk(mc, 1, D)).to(dt);  // [B, N, D]
    const at::Tensor q = apply_rope(head_rms_norm(heads(lin(nx, blk.q)), blk.norm_q), rope).to(dt);  // [B, S, H, Dh]
    const at::Tensor k = apply_rope(head_rms_norm(heads(lin(nx, blk.k)), blk.norm_k), rope).to(dt);
    const at::Tensor v = heads(lin(nx, blk.v));
    const at::Tensor tq = head_rms_norm(heads(lin(nc, blk.add_q)), blk.norm_added_q).to(dt);  // [B, N, H, Dh]
    const at::Tensor tk = head_rms_norm(heads(lin(nc, blk.add_k)), blk.norm_added_k).to(dt);
    const at::Tensor tv = heads(lin(nc, blk.add_v));
    const at::Tensor attn = attend(at::cat({q, tq}, 1), at::cat({k, tk}, 1), at::cat({v, tv}, 1), i, layout,
                                   timestep, options)
                                .reshape({B, S + N, D});                                                    // [B, S + N, D]
    x = x + lin(attn.narrow(1, 0, S), blk.o).to(at::kFloat) * chunk(m, 2, D).unsqueeze(1);
    ctx = ctx + lin(attn.narrow(1, S, N), blk.add_o).to(at::kFloat) * chunk(mc, 2, D).unsqueeze(1);
    const at::Tensor fx = modulate(plain_layer_norm(x), chunk(m, 3, D), chunk(m, 4, D)).to(dt);
    const at::Tensor fc = modulate(plain_layer_norm(ctx), chunk(mc, 3, D), chunk(mc, 4, D)).to(dt);
    x = x + chunk(m, 5, D).unsqueeze(1) * lin(at::gelu(lin(fx, blk.ff1), "tanh"), blk.ff2).to(at::kFloat);
    ctx = ctx + chunk(mc, 5, D).unsqueeze(1) * lin(at::gelu(lin(fc, blk.ff_context1), "tanh"), blk.ff_context2).to(at::kFloat);
  }

  // 4. Single-stream blocks over [video][text]: attention and MLP from one modulated input, one output projection.
  at::Tensor h = at::cat({x, ctx}, 1);  // [B, S + N, D] fp32
  for (int64_t i = 0; i < c.num_single_layers; ++i) {
    const SingleBlock& blk = single_[static_cast<size_t>(i)];
    const at::Tensor m = lin(temb_act, blk.mod);                                                    // [B, 3D]
    const at::Tensor nh = modulate(plain_layer_norm(h), chunk(m, 0, D), chunk(m, 1, D)).to(dt);    // [B, S + N, D]
    const at::Tensor mlp = at::gelu(lin(nh, blk.mlp), "tanh");                                     // [B, S + N, M]
    const at::Tensor q = head_rms_norm(heads(lin(nh, blk.q)), blk.norm_q);                         // [B, S + N, H, Dh] fp32
    const at::Tensor k = head_rms_norm(heads(lin(nh, blk.k)), blk.norm_k);
    const at::Tensor v = heads(lin(nh, blk.v));
    // RoPE on the video tokens only.
    const at::Tensor qr = at::cat({apply_rope(q.narrow(1, 0, S), rope), q.narrow(1, S, N)}, 1).to(dt);
    const at::Tensor kr = at::cat({apply_rope(k.narrow(1, 0, S), rope), k.narrow(1, S, N)}, 1).to(dt);
    const at::Tensor attn = attend(qr, kr, v, c.num_layers + i, layout, timestep, options).reshape({B, S + N, D});
    const at::Tensor y = lin(at::cat({attn.to(dt), mlp}, 2), blk.out).to(at::kFloat);             // [B, S + N, D]
    h = chunk(m, 2, D).unsqueeze(1) * y + h;
  }
  x = h.narrow(1, 0, S);  // [B, S, D]

  // 5. Head: AdaLayerNormContinuous (scale first, then shift), projection, unpatchify with (c, pt, ph, pw) per token.
  const at::Tensor hm = lin(temb_act, head_mod_);                                                  // [B, 2D]
  const at::Tensor out = lin(modulate(plain_layer_norm(x), chunk(hm, 1, D), chunk(hm, 0, D)).to(dt), head_)
                             .to(at::kFloat);                                                      // [B, S, C·pt·p·p]
  const int64_t pt = c.patch_size_t, p = c.patch_size;
  return out.reshape({B, g.grid_frames, g.grid_height, g.grid_width, c.out_channels, pt, p, p})  // [B, F', H', W', C, pt, p, p]
      .permute({0, 4, 1, 5, 2, 6, 3, 7})                                                          // [B, C, F', pt, H', p, W', p]
      .reshape({B, c.out_channels, g.latent_frames, g.latent_height, g.latent_width});           // [B, C, T, H, W]
}

at::Tensor HunyuanVideoModel::forward_masked(const at::Tensor& latents, const at::Tensor& timesteps,
                                             const at::Tensor& text, const at::Tensor& text_mask,
                                             const at::Tensor& pooled, const at::Tensor& guidance,
                                             const ForwardOptions& options) const {
  const std::string where = "HunyuanVideoModel::forward_masked: ";
  if (text.dim() != 3 || text_mask.dim() != 2 || text_mask.size(0) != text.size(0) ||
      text_mask.size(1) != text.size(1)) {
    throw std::invalid_argument(where + "expected text [B, L, D] and text_mask [B, L], found " +
                                shape_text(text.sizes()) + " and " + shape_text(text_mask.sizes()));
  }
  const int64_t B = text.size(0), L = text.size(1);
  const at::Tensor keep = text_mask.to(at::kCPU).ne(0);                  // [B, L] bool
  const at::Tensor counts = keep.sum(1).to(at::kLong);                   // [B]
  const at::Tensor prefix = at::arange(L, at::TensorOptions().dtype(at::kLong)).unsqueeze(0) < counts.unsqueeze(1);
  std::map<int64_t, std::vector<int64_t>> groups;  // valid count → batch rows
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = counts[b].item<int64_t>();
    if (n < 1 || !at::equal(keep[b], prefix[b])) {
      throw std::invalid_argument(where + "text_mask row " + std::to_string(b) +
                                  ": expected a prefix of at least one valid token followed by padding, found " +
                                  std::to_string(n) + " valid tokens " + (n < 1 ? "" : "not all at the front"));
    }
    groups[n].push_back(b);
  }
  if (groups.size() == 1) {
    const int64_t n = groups.begin()->first;
    return forward(latents, timesteps, text.narrow(1, 0, n), pooled, guidance, options);
  }
  at::Tensor out;
  for (const auto& [n, rows] : groups) {
    const at::Tensor index = at::tensor(rows, at::TensorOptions().dtype(at::kLong));
    auto pick = [&](const at::Tensor& t) { return t.defined() ? t.index_select(0, index.to(t.device())) : t; };
    const at::Tensor part = forward(pick(latents), pick(timesteps), pick(text).narrow(1, 0, n), pick(pooled),
                                    pick(guidance), options);  // [rows, C, T, H, W]
    if (!out.defined()) out = at::empty({B, part.size(1), part.size(2), part.size(3), part.size(4)}, part.options());
    out.index_copy_(0, index.to(out.device()), part);
  }
  return out;
}

std::string HunyuanVideoModel::describe() const { return runtime::describe(config_); }
nlohmann::json HunyuanVideoModel::config_json() const { return hunyuan_video_config_to_json(config_); }
data::PlanModel HunyuanVideoModel::plan_model() const { return runtime::plan_model(config_); }

VideoGeometry HunyuanVideoModel::video_geometry(int64_t frames, int64_t height, int64_t width) const {
  return hunyuan_video_geometry(config_, frames, height, width);
}

data::TokenLayout HunyuanVideoModel::token_layout(const VideoGeometry& geometry, int64_t block_size) const {
  return hunyuan_video_token_layout(geometry, config_.text_len, block_size);
}

TextSpec HunyuanVideoModel::text_spec() const { return hunyuan_video_text_spec(config_); }

at::Tensor HunyuanVideoModel::forward(const at::Tensor& latents, const at::Tensor& timesteps, const TextInputs& text,
                                      const ForwardOptions& options) const {
  if (options.sequence_parallel != nullptr) {
    throw std::invalid_argument("HunyuanVideo: sequence-parallel runs are not implemented for this family yet");
  }
  if (!text.pooled.defined()) {
    throw std::invalid_argument("HunyuanVideoModel::forward: the text inputs carry no pooled vector (CLIP's pooled "
                                "prompt embedding, [B, " + std::to_string(config_.pooled_projection_dim) + "])");
  }
  // One embedded guidance for the whole batch ([1], as the loop gives it) is every row's.
  const int64_t B = latents.dim() > 0 ? latents.size(0) : 1;
  const at::Tensor guidance =
      text.guidance.defined() && text.guidance.numel() == 1 && B > 1 ? text.guidance.reshape({1}).expand({B})
                                                                     : text.guidance;
  if (text.mask.defined()) {
    return forward_masked(latents, timesteps, text.embeddings, text.mask, text.pooled, guidance, options);
  }
  return forward(latents, timesteps, text.embeddings, text.pooled, guidance, options);
}

std::vector<int64_t> HunyuanVideoModel::latent_shape(const VideoGeometry& g) const {
  return {1, config_.in_channels, g.latent_frames, g.latent_height, g.latent_width};
}

DenoisingLoop HunyuanVideoModel::denoising_loop(const VideoGeometry& geometry, Conditioning conditioning,
                                                const SamplingOptions& options) const {
  return make_hunyuan_video_loop(config_, geometry, std::move(conditioning), options, device());
}

FlowSchedule HunyuanVideoModel::schedule(const SamplingOptions& options) const {
  return hunyuan_video_schedule(options.steps, options.shift);
}

std::unique_ptr<HunyuanVideoModel> load_hunyuan_video_model(const CheckpointToLoad& checkpoint,
                                                            const WeightOptions& options) {
  if (!checkpoint.config) {
    throw data::FormatError(checkpoint.weights.source(), "config.json",
                            "missing: a HunyuanVideo checkpoint needs the config.json beside its weights (the head "
                            "count and the RoPE split are not visible in the tensor shapes)");
  }
  HunyuanVideoConfig config = read_hunyuan_video_config(*checkpoint.config);
  StateDict state = load_hunyuan_video_state_dict(checkpoint.weights, config, options);
  return std::make_unique<HunyuanVideoModel>(std::move(config), std::move(state), checkpoint.weights.source());
}

std::unique_ptr<HunyuanVideoModel> load_hunyuan_video_model(const std::filesystem::path& weights_path,
                                                            const WeightOptions& options) {
  const data::SafetensorsCollection weights = data::SafetensorsCollection::open(weights_path);
  return load_hunyuan_video_model(CheckpointToLoad{weights, find_config_beside(weights_path)}, options);
}

ModelFamily hunyuan_video_family() {
  ModelFamily f;
  f.id = "hunyuan-video";
  f.name = "HunyuanVideo";
  f.presets = {"hunyuan-video"};
  // HunyuanVideoPipeline's defaults: 129 frames of 1280×720 (33 latent frames: 118,800 video tokens).
  f.video_size = {{"129", "1 + 4k for the VAE"}, {"720", ""}, {"1280", ""}};
  f.default_shift = kHunyuanVideoShift;
  f.default_guidance = kHunyuanVideoGuidance;
  f.load = [](const CheckpointToLoad& checkpoint, const WeightOptions& options) -> std::unique_ptr<Model> {
    return load_hunyuan_video_model(checkpoint, options);
  };
  f.naming = [](const data::SafetensorsCollection&) { return std::string("diffusers names"); };
  f.random = [](const RandomModelRequest& request) -> std::unique_ptr<Model> {
    const HunyuanVideoConfig config = request.config ? parse_hunyuan_video_config(*request.config, request.spec)
                                                     : *hunyuan_video_preset(request.spec);
    return std::make_unique<HunyuanVideoModel>(
        config, random_hunyuan_video_state_dict(config, request.options, request.seed),
        "random weights (" + request.spec + ")");
  };
  return f;
}

}  // namespace svdit::runtime
