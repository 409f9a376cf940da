// The HunyuanVideo tensor set (diffusers names), checking, loading, random init and saving of state dicts.

#include "svdit/runtime/hunyuan_video_weights.h"

#include <ATen/ATen.h>

#include <cmath>
#include <mutex>
#include <set>
#include <stdexcept>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::runtime {

using data::FormatError;

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::vector<ExpectedTensor> hunyuan_video_expected_tensors(const HunyuanVideoConfig& c) {
  const int64_t D = c.dim(), M = c.mlp_dim(), Dh = c.head_dim, T = c.text_embed_dim;
  // The refiner's FFN width: FeedForward(hidden, mult=mlp_ratio) → int(hidden · mlp_ratio), the same as M.
  std::vector<ExpectedTensor> out;
  auto add = [&](std::string name, std::vector<int64_t> shape, bool fp32 = false) {
    out.push_back(ExpectedTensor{std::move(name), std::move(shape), fp32});
  };
  auto linear = [&](const std::string& p, int64_t o, int64_t i, bool fp32 = false) {
    add(p + ".weight", {o, i}, fp32);
    add(p + ".bias", {o}, fp32);
  };
  auto mlp2 = [&](const std::string& p, int64_t in, bool fp32) {  // TimestepEmbedding / PixArtAlphaTextProjection
    linear(p + ".linear_1", D, in, fp32);
    linear(p + ".linear_2", D, D, fp32);
  };
  add("x_embedder.proj.weight", {D, c.in_channels, c.patch_size_t, c.patch_size, c.patch_size});
  add("x_embedder.proj.bias", {D});
  // Token refiner: its own time + pooled-text conditioning, the text projection, the refiner blocks.
  mlp2("context_embedder.time_text_embed.timestep_embedder", 256, true);
  mlp2("context_embedder.time_text_embed.text_embedder", T, true);
  linear("context_embedder.proj_in", D, T);
  for (int64_t i = 0; i < c.num_refiner_layers; ++i) {
    const std::string b = "context_embedder.token_refiner.refiner_blocks." + std::to_string(i) + ".";
    add(b + "norm1.weight", {D}, true);
    add(b + "norm1.bias", {D}, true);
    for (const char* proj : {"attn.to_q", "attn.to_k", "attn.to_v", "attn.to_out.0"}) linear(b + proj, D, D);
    add(b + "norm2.weight", {D}, true);
    add(b + "norm2.bias", {D}, true);
    linear(b + "ff.net.0.proj", M, D);
    linear(b + "ff.net.2", D, M);
    linear(b + "norm_out.linear", 2 * D, D, true);
  }
  // The model's conditioning: timestep, pooled CLIP vector, embedded guidance.
  mlp2("time_text_embed.timestep_embedder", 256, true);
  mlp2("time_text_embed.text_embedder", c.pooled_projection_dim, true);
  if (c.guidance_embeds) mlp2("time_text_embed.guidance_embedder", 256, true);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string b = "transformer_blocks." + std::to_string(i) + ".";
    linear(b + "norm1.linear", 6 * D, D, true);
    linear(b + "norm1_context.linear", 6 * D, D, true);
    add(b + "attn.norm_q.weight", {Dh}, true);
    add(b + "attn.norm_k.weight", {Dh}, true);
    for (const char* proj : {"attn.to_q", "attn.to_k", "attn.to_v", "attn.add_q_proj", "attn.add_k_proj",
                             "attn.add_v_proj", "attn.to_out.0", "attn.to_add_out"}) {
      linear(b + proj, D, D);
    }
    add(b + "attn.norm_added_q.weight", {Dh}, true);
    add(b + "attn.norm_added_k.weight", {Dh}, true);
    linear(b + "ff.net.0.proj", M, D);
    linear(b + "ff.net.2", D, M);
    linear(b + "ff_context.net.0.proj", M, D);
    linear(b + "ff_context.net.2", D, M);
  }
  for (int64_t i = 0; i < c.num_single_layers; ++i) {
    const std::string b = "single_transformer_blocks." + std::to_string(i) + ".";
    add(b + "attn.norm_q.weight", {Dh}, true);
    add(b + "attn.norm_k.weight", {Dh}, true);
    for (const char* proj : {"attn.to_q", "attn.to_k", "attn.to_v"}) linear(b + proj, D, D);
    linear(b + "norm.linear", 3 * D, D, true);
    linear(b + "proj_mlp", M, D);
    linear(b + "proj_out", D, D + M);
  }
  linear("norm_out.linear", 2 * D, D, true);
  linear("proj_out", c.patch_volume() * c.out_channels, D);
  return out;
}

bool looks_like_hunyuan_video(const data::SafetensorsCollection& weights) {
  for (const data::TensorInfo& t : weights.tensors()) {
    if (t.name.starts_with("context_embedder.token_refiner.") || t.name.starts_with("single_transformer_blocks.")) {
      return true;
    }
  }
  return false;
}

void check_hunyuan_video_checkpoint(const data::SafetensorsCollection& weights, const HunyuanVideoConfig& config) {
  std::vector<std::string> problems;  // "key: what"
  std::set<std::string> expected_keys;
  for (const ExpectedTensor& e : hunyuan_video_expected_tensors(config)) {
    expected_keys.insert(e.name);
    const data::TensorInfo* t = weights.find(e.name);
    if (t == nullptr) {
      problems.push_back(e.name + ": missing (expected shape " + shape_text(e.shape) + ")");
    } else if (t->shape != e.shape) {
      problems.push_back(e.name + ": expected shape " + shape_text(e.shape) + ", found " + shape_text(t->shape));
    }
  }
  for (const data::TensorInfo& t : weights.tensors()) {
    if (!expected_keys.contains(t.name)) {
      problems.push_back(t.name + ": unexpected tensor of shape " + shape_text(t.shape) + " (not part of " +
                         config.name + ")");
    }
  }
  if (problems.empty()) return;
  constexpr size_t kListed = 40;  // a checkpoint of another model gives hundreds; the first few say what is wrong
  std::string object, what;
  for (size_t i = 0; i < problems.size() && i < kListed; ++i) {
    object += (i ? ", " : "") + problems[i].substr(0, problems[i].find(':'));
    what += (i ? "; " : "") + problems[i];
  }
  if (problems.size() > kListed) what += "; … and " + std::to_string(problems.size() - kListed) + " more";
  const std::string hint = looks_like_hunyuan_video(weights)
                               ? ""
                               : " — this does not look like a HunyuanVideoTransformer3DModel checkpoint at all";
  throw FormatError(weights.source(), object,
                    "the checkpoint does not match " + describe(config) + " (diffusers key naming)" + hint + ": " +
                        what);
}

StateDict load_hunyuan_video_state_dict(const data::SafetensorsCollection& weights, const HunyuanVideoConfig& config,
                                        const WeightOptions& options) {
  check_hunyuan_video_checkpoint(weights, config);
  StateDict state;
  for (const ExpectedTensor& e : hunyuan_video_expected_tensors(config)) {
    const data::TensorInfo& info = weights.at(e.name);
    // to_float converts F32/BF16/F16 exactly and is alignment-safe (the mmap need not be aligned to the element).
    std::vector<float> values = data::to_float(info, weights.bytes(e.name));
    const at::Tensor host = at::from_blob(values.data(), info.shape, at::TensorOptions().dtype(at::kFloat));
    const at::ScalarType dtype = e.keep_fp32 ? at::kFloat : options.compute_dtype;
    // copy=true: the CPU fp32 result would otherwise alias `values`, which dies here.
    state.emplace(e.name, host.to(options.device, dtype, /*non_blocking=*/false, /*copy=*/true));
  }
  return state;
}

StateDict random_hunyuan_video_state_dict(const HunyuanVideoConfig& config, const WeightOptions& options,
                                          uint64_t seed) {
  // One generator for the whole model, so that the weights depend on the seed alone, never on global state.
  at::Generator generator = options.device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed)
                                                    : at::globalContext().defaultGenerator(options.device);
  std::unique_lock<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  lock.unlock();

  StateDict state;
  const auto fp32 = at::TensorOptions().dtype(at::kFloat).device(options.device);
  for (const ExpectedTensor& e : hunyuan_video_expected_tensors(config)) {
    const at::Tensor noise = at::randn(e.shape, generator, fp32);  // [shape]
    at::Tensor t;
    const bool norm_gain = e.name.find("norm") != std::string::npos && e.shape.size() == 1 &&
                           e.name.find(".linear.") == std::string::npos;
    if (norm_gain && e.name.ends_with(".weight")) {
      t = 1.0 + 0.1 * noise;  // RMSNorm / LayerNorm gains near 1
    } else if (e.name.ends_with(".bias")) {
      t = 0.02 * noise;
    } else {
      int64_t fan_in = 1;
      for (size_t i = 1; i < e.shape.size(); ++i) fan_in *= e.shape[i];
      t = noise * (1.0 / std::sqrt(static_cast<double>(fan_in)));
    }
    state.emplace(e.name, t.to(e.keep_fp32 ? at::kFloat : options.compute_dtype));
  }
  return state;
}

void save_hunyuan_video_state_dict(const std::filesystem::path& path, const StateDict& state,
                                   at::ScalarType storage_dtype) {
  data::DType dtype = data::DType::f32;
  if (storage_dtype == at::kBFloat16) dtype = data::DType::bf16;
  else if (storage_dtype == at::kHalf) dtype = data::DType::f16;
  else if (storage_dtype != at::kFloat) throw std::invalid_argument("save_hunyuan_video_state_dict: storage dtype must be f32, bf16 or f16");

  std::vector<at::Tensor> host;  // keeps the bytes alive while writing
  std::vector<data::TensorData> tensors;
  host.reserve(state.size());
  tensors.reserve(state.size());
  for (const auto& [name, tensor] : state) {
    host.push_back(tensor.to(at::kCPU, storage_dtype).contiguous());
    const at::Tensor& h = host.back();
    data::TensorData d;
    d.name = name;
    d.dtype = dtype;
    d.shape = h.sizes().vec();
    d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(h.const_data_ptr()), h.nbytes());
    tensors.push_back(std::move(d));
  }
  data::write_safetensors(path, tensors, {{"format", "pt"}, {"svdit_naming", "diffusers"}});
}

}  // namespace svdit::runtime
