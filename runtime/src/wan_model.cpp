// The Wan2.1 DiT forward pass (see wan_model.h; every step follows reference/wan21-spec.md §2).

#include "svdit/runtime/wan_model.h"

#include <ATen/ATen.h>

#include <stdexcept>

#include "svdit/data/checkpoint_family.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/sequence_parallel.h"

namespace svdit::runtime {

namespace {

std::string shape_text(at::IntArrayRef shape) { return c10::str(shape); }

// LayerNorm over the last dim without affine parameters, in fp32 (the residual stream is fp32 already).
at::Tensor plain_layer_norm(const at::Tensor& x, int64_t dim, double eps) {
  return at::layer_norm(x.to(at::kFloat), {dim}, {}, {}, eps);
}

// RMSNorm over the whole hidden dim (all heads jointly), statistics in fp32, times the fp32 gain.
at::Tensor rms_norm_all_heads(const at::Tensor& x, const at::Tensor& weight, double eps) {
  return at::rms_norm(x.to(at::kFloat), {x.size(-1)}, weight, eps);
}

}  // namespace

WanModel::WanModel(WanConfig config, StateDict weights, std::string source)
    : config_(std::move(config)), weights_(std::move(weights)) {
  validate(config_, source);
  // The same key/shape rules as a checkpoint on disk, for state dicts built in memory.
  std::vector<std::string> problems;
  std::set<std::string> expected;
  for (const ExpectedTensor& e : expected_tensors(config_)) {
    expected.insert(e.name);
    const auto it = weights_.find(e.name);
    if (it == weights_.end()) {
      problems.push_back(e.name + ": missing (expected shape " + shape_text(e.shape) + ")");
    } else if (it->second.sizes().vec() != e.shape) {
      problems.push_back(e.name + ": expected shape " + shape_text(e.shape) + ", found " +
                         shape_text(it->second.sizes()));
    }
  }
  for (const auto& [name, tensor] : weights_) {
    if (!expected.contains(name)) problems.push_back(name + ": unexpected tensor of shape " + shape_text(tensor.sizes()));
  }
  // One device; fp32 where the reference keeps fp32, the GEMM dtype (the patch embedding's) everywhere else.
  if (const auto pw = weights_.find("patch_embedding.weight"); problems.empty() && pw != weights_.end()) {
    const at::Device device = pw->second.device();
    const at::ScalarType gemm = pw->second.scalar_type();
    for (const ExpectedTensor& e : expected_tensors(config_)) {
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

  const at::Tensor& pw = weights_.at("patch_embedding.weight");
  patch_weight_ = pw.reshape({config_.dim, config_.patch_features()});  // [D, C·pt·ph·pw]
  patch_bias_ = weights_.at("patch_embedding.bias");
  text1_ = linear("text_embedding.0");
  text2_ = linear("text_embedding.2");
  time1_ = linear("time_embedding.0");
  time2_ = linear("time_embedding.2");
  time_proj_ = linear("time_projection.1");
  head_ = linear("head.head");
  head_modulation_ = weights_.at("head.modulation");
  blocks_.reserve(static_cast<size_t>(config_.num_layers));
  for (int64_t i = 0; i < config_.num_layers; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    Block block;
    block.modulation = weights_.at(b + "modulation");
    block.self_q = linear(b + "self_attn.q");
    block.self_k = linear(b + "self_attn.k");
    block.self_v = linear(b + "self_attn.v");
    block.self_o = linear(b + "self_attn.o");
    block.self_norm_q = weights_.at(b + "self_attn.norm_q.weight");
    block.self_norm_k = weights_.at(b + "self_attn.norm_k.weight");
    block.cross_q = linear(b + "cross_attn.q");
    block.cross_k = linear(b + "cross_attn.k");
    block.cross_v = linear(b + "cross_attn.v");
    block.cross_o = linear(b + "cross_attn.o");
    block.cross_norm_q = weights_.at(b + "cross_attn.norm_q.weight");
    block.cross_norm_k = weights_.at(b + "cross_attn.norm_k.weight");
    block.norm3_weight = weights_.at(b + "norm3.weight");
    block.norm3_bias = weights_.at(b + "norm3.bias");
    block.ffn1 = linear(b + "ffn.0");
    block.ffn2 = linear(b + "ffn.2");
    blocks_.push_back(std::move(block));
  }
}

WanModel::Linear WanModel::linear(const std::string& prefix) const {
  return Linear{weights_.at(prefix + ".weight"), weights_.at(prefix + ".bias")};
}

at::Device WanModel::device() const { return patch_weight_.device(); }
at::ScalarType WanModel::compute_dtype() const { return patch_weight_.scalar_type(); }

at::Tensor WanModel::patchify(const at::Tensor& latents) const {
  const int64_t B = latents.size(0), C = latents.size(1);
  const auto [pt, ph, pw] = config_.patch;
  const VideoGeometry g = latent_geometry(config_, latents.size(2), latents.size(3), latents.size(4));
  // (c, pt, ph, pw) fastest within a patch, patches in (f, h, w) order: Conv3d with kernel = stride as a GEMM.
  return latents.reshape({B, C, g.grid_frames, pt, g.grid_height, ph, g.grid_width, pw})  // [B, C, F, pt, H', ph, W', pw]
      .permute({0, 2, 4, 6, 1, 3, 5, 7})                                                     // [B, F, H', W', C, pt, ph, pw]
      .reshape({B, g.tokens(), C * pt * ph * pw});                                           // [B, S, C·p]
}

at::Tensor WanModel::unpatchify(const at::Tensor& tokens, const VideoGeometry& g) const {
  const int64_t B = tokens.size(0), C = config_.out_dim;
  const auto [pt, ph, pw] = config_.patch;
  // The head's 64-vector is ordered (pt, ph, pw, c): channel fastest.
  return tokens.reshape({B, g.grid_frames, g.grid_height, g.grid_width, pt, ph, pw, C})  // [B, F, H', W', pt, ph, pw, C]
      .permute({0, 7, 1, 4, 2, 5, 3, 6})                                                  // [B, C, F, pt, H', ph, W', pw]
      .reshape({B, C, g.latent_frames, g.latent_height, g.latent_width});                 // [B, C, T, H, W]
}

at::Tensor WanModel::timestep_sinusoid(const at::Tensor& timesteps) const {
  const int64_t half = config_.freq_dim / 2;
  const auto f64 = at::TensorOptions().dtype(at::kDouble).device(timesteps.device());
  const at::Tensor omega = at::pow(10000.0, -at::arange(half, f64) / static_cast<double>(half));  // [half]
  const at::Tensor angle = at::outer(timesteps.to(at::kDouble), omega);                            // [B, half]
  return at::cat({at::cos(angle), at::sin(angle)}, 1).to(at::kFloat);                             // [B, freq_dim]
}

const RopeTable& WanModel::rope_table(const VideoGeometry& g) const {
  const std::lock_guard<std::mutex> lock(rope_mutex_);
  auto& slot = rope_cache_[{g.grid_frames, g.grid_height, g.grid_width}];
  if (!slot) {
    slot = std::make_unique<RopeTable>(make_rope_table(config_.head_dim(), g.grid_frames, g.grid_height,
                                                       g.grid_width, config_.rope_theta, device()));
  }
  return *slot;
}

at::Tensor WanModel::forward(const at::Tensor& latents, const at::Tensor& timesteps, const at::Tensor& context,
                             const ForwardOptions& options) const {
  const WanConfig& c = config_;
  if (latents.dim() != 5 || latents.size(1) != c.in_dim) {
    throw std::invalid_argument("WanModel::forward: latents: expected [B, " + std::to_string(c.in_dim) +
                                ", T, H, W], found " + shape_text(latents.sizes()));
  }
  const int64_t B = latents.size(0);
  if (timesteps.dim() != 1 || timesteps.size(0) != B) {
    throw std::invalid_argument("WanModel::forward: timesteps: expected [" + std::to_string(B) + "], found " +
                                shape_text(timesteps.sizes()));
  }
  if (context.dim() != 3 || context.size(0) != B || context.size(1) != c.text_len || context.size(2) != c.text_dim) {
    throw std::invalid_argument("WanModel::forward: context: expected [" + std::to_string(B) + ", " +
                                std::to_string(c.text_len) + ", " + std::to_string(c.text_dim) + "], found " +
                                shape_text(context.sizes()));
  }
  const VideoGeometry g = latent_geometry(c, latents.size(2), latents.size(3), latents.size(4));
  const data::TokenLayout layout = token_layout(g);
  const at::ScalarType dt = compute_dtype();
  const at::Device dev = device();
  SequenceParallel* const sp = options.sequence_parallel;
  if (sp != nullptr && (options.attention != nullptr || options.observer != nullptr)) {
    throw std::invalid_argument("WanModel::forward: with sequence_parallel, the attention backend is its inner one "
                                "and observers (which see whole layers) are not supported");
  }

  // Patch embedding: [B, S, D], fp32 from here on (the residual stream).
  const at::Tensor patches = patchify(latents.to(dev, dt));                                      // [B, S, C·p]
  at::Tensor x = at::linear(patches, patch_weight_, patch_bias_).to(at::kFloat);                 // [B, S, D]
  // Sequence parallel: from here to the head every step is per token except self-attention, so this rank keeps
  // its token shard (and the RoPE rows of those tokens) and gathers the head's output.
  RopeTable shard_rope = rope_table(g);
  if (sp != nullptr) {
    const auto [begin, end] = sp->token_range(g.tokens());
    x = x.narrow(1, begin, end - begin);                                                         // [B, S_r, D]
    shard_rope.cos = shard_rope.cos.narrow(0, begin, end - begin);
    shard_rope.sin = shard_rope.sin.narrow(0, begin, end - begin);
  }

  // Time embedding, all fp32: e [B, D] for the head, e0 [B, 6, D] shared by every block.
  const at::Tensor sinusoid = timestep_sinusoid(timesteps.to(dev));                              // [B, freq_dim]
  const at::Tensor e = at::linear(at::silu(at::linear(sinusoid, time1_.weight, time1_.bias)), time2_.weight, time2_.bias);  // [B, D]
  const at::Tensor e0 = at::linear(at::silu(e), time_proj_.weight, time_proj_.bias).view({B, 6, c.dim});  // [B, 6, D]

  // Text embedding: [B, text_len, D] in the compute dtype (the pad rows are attended, as in the reference).
  const at::Tensor ctx = at::linear(at::gelu(at::linear(context.to(dev, dt), text1_.weight, text1_.bias), "tanh"),
                                    text2_.weight, text2_.bias);                                 // [B, L, D]

  const RopeTable& rope = shard_rope;
  const int64_t timestep = timesteps.numel() > 0 ? timesteps[0].item<int64_t>() : 0;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    x = run_block(blocks_[static_cast<size_t>(i)], i, x, e0, ctx, rope, layout, timestep, options);  // [B, S, D]
  }

  // Head: modulated by e (not e0), then the per-token patch of out_dim channels.
  const at::Tensor mod = head_modulation_ + e.unsqueeze(1);                                      // [B, 2, D]
  const at::Tensor shift = mod.select(1, 0).unsqueeze(1), scale = mod.select(1, 1).unsqueeze(1);  // [B, 1, D]
  const at::Tensor h = plain_layer_norm(x, c.dim, c.eps) * (1 + scale) + shift;                 // [B, S, D]
  at::Tensor out = at::linear(h.to(dt), head_.weight, head_.bias).to(at::kFloat);              // [B, S, out·p]
  if (sp != nullptr) out = sp->gather_tokens(out, g.tokens(), "the head's output");
  return unpatchify(out, g);                                                     // [B, out, T, H, W]
}

at::Tensor WanModel::run_block(const Block& blk, int64_t layer, const at::Tensor& x_in, const at::Tensor& e0,
                               const at::Tensor& ctx, const RopeTable& rope, const data::TokenLayout& layout,
                               int64_t timestep, const ForwardOptions& options) const {
  const WanConfig& c = config_;
  const at::ScalarType dt = compute_dtype();
  const int64_t B = x_in.size(0), S = x_in.size(1), H = c.num_heads, Dh = c.head_dim();
  at::Tensor x = x_in;  // [B, S, D] fp32

  // adaLN: modulation table + time projection, fp32, six [B, 1, D] slices.
  const at::Tensor m = blk.modulation + e0;  // [B, 6, D]
  auto part = [&](int64_t i) { return m.select(1, i).unsqueeze(1); };  // [B, 1, D]
  const at::Tensor shift_sa = part(0), scale_sa = part(1), gate_sa = part(2);
  const at::Tensor shift_ff = part(3), scale_ff = part(4), gate_ff = part(5);

  // Self-attention.
  {
    const at::Tensor h = (plain_layer_norm(x, c.dim, c.eps) * (1 + scale_sa) + shift_sa).to(dt);           // [B, S, D]
    const at::Tensor q = rms_norm_all_heads(at::linear(h, blk.self_q.weight, blk.self_q.bias), blk.self_norm_q, c.eps);  // [B, S, D] fp32
    const at::Tensor k = rms_norm_all_heads(at::linear(h, blk.self_k.weight, blk.self_k.bias), blk.self_norm_k, c.eps);  // [B, S, D] fp32
    const at::Tensor v = at::linear(h, blk.self_v.weight, blk.self_v.bias).view({B, S, H, Dh});             // [B, S, H, Dh]
    const at::Tensor qr = apply_rope(q.view({B, S, H, Dh}), rope).to(dt);                                   // [B, S, H, Dh]
    const at::Tensor kr = apply_rope(k.view({B, S, H, Dh}), rope).to(dt);                                   // [B, S, H, Dh]
    const SelfAttentionCall call{options.step, layer, options.branch, &layout};
    AttentionBackend* const backend = options.sequence_parallel ? options.sequence_parallel : options.attention;
    const at::Tensor attn = backend ? backend->self_attention(qr, kr, v, call) : dense_attention(qr, kr, v);                                 // [B, S, H, Dh]
    if (options.observer) {
      options.observer->on_self_attention(SelfAttentionEvent{call, timestep, qr, kr, v, attn});
    }
    const at::Tensor o = at::linear(attn.reshape({B, S, c.dim}), blk.self_o.weight, blk.self_o.bias);     // [B, S, D]
    x = x + o.to(at::kFloat) * gate_sa;
  }

  // Cross-attention on the text: LayerNorm with affine, no modulation, no gate, no RoPE.
  {
    const int64_t L = ctx.size(1);
    const at::Tensor hc = at::layer_norm(x, {c.dim}, blk.norm3_weight, blk.norm3_bias, c.eps).to(dt);      // [B, S, D]
    const at::Tensor q = rms_norm_all_heads(at::linear(hc, blk.cross_q.weight, blk.cross_q.bias), blk.cross_norm_q, c.eps).to(dt);  // [B, S, D]
    const at::Tensor k = rms_norm_all_heads(at::linear(ctx, blk.cross_k.weight, blk.cross_k.bias), blk.cross_norm_k, c.eps).to(dt);  // [B, L, D]
    const at::Tensor v = at::linear(ctx, blk.cross_v.weight, blk.cross_v.bias);                                                        // [B, L, D]
    const at::Tensor attn = dense_attention(q.view({B, S, H, Dh}), k.view({B, L, H, Dh}), v.view({B, L, H, Dh}));  // [B, S, H, Dh]
    const at::Tensor o = at::linear(attn.reshape({B, S, c.dim}), blk.cross_o.weight, blk.cross_o.bias);   // [B, S, D]
    x = x + o.to(at::kFloat);
  }

  // FFN.
  {
    const at::Tensor h = (plain_layer_norm(x, c.dim, c.eps) * (1 + scale_ff) + shift_ff).to(dt);           // [B, S, D]
    const at::Tensor y = at::linear(at::gelu(at::linear(h, blk.ffn1.weight, blk.ffn1.bias), "tanh"),
                                    blk.ffn2.weight, blk.ffn2.bias);                                        // [B, S, D]
    x = x + y.to(at::kFloat) * gate_ff;
  }
  return x;
}

std::unique_ptr<WanModel> load_wan_model(const CheckpointToLoad& checkpoint, const WeightOptions& options) {
  WanConfig config = checkpoint.config ? read_config(*checkpoint.config) : detect_config(checkpoint.weights);
  StateDict state = load_state_dict(checkpoint.weights, config, options);
  return std::make_unique<WanModel>(std::move(config), std::move(state), checkpoint.weights.source());
}

LoadedModel load_wan_model(const std::filesystem::path& weights_path, const WeightOptions& options) {
  const data::SafetensorsCollection weights = data::SafetensorsCollection::open(weights_path);
  // A checkpoint of another family is refused here, naming what it holds, before its tensors are read as Wan's.
  const data::CheckpointFamily found = data::identify_checkpoint(weights, weights_path);
  if (found.family.family != "wan2.1") {
    throw data::FormatError(weights.source(), "<model family>",
                            "holds a " + found.family.family + " model (" + found.family.evidence +
                                "), expected a Wan2.1 checkpoint");
  }
  LoadedModel loaded;
  loaded.config_source = found.config ? found.config->string() : "detected from " + weights.source();
  loaded.naming = detect_naming(weights);
  loaded.model = load_wan_model(CheckpointToLoad{weights, found.config}, options);
  return loaded;
}

}  // namespace svdit::runtime
