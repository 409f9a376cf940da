// The Wan2.1 tensor set, its two namings, and loading / random init / saving of state dicts.

#include "svdit/runtime/wan_weights.h"

#include <ATen/ATen.h>

#include <cmath>
#include <mutex>
#include <stdexcept>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/checkpoint_tensors.h"

namespace svdit::runtime {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

// Original → diffusers for the parts of a name below "blocks.<i>." (or the top level), longest prefix first.
struct Rename {
  std::string_view original;
  std::string_view diffusers;
};
constexpr Rename kTopLevel[] = {
    {"text_embedding.0.", "condition_embedder.text_embedder.linear_1."},
    {"text_embedding.2.", "condition_embedder.text_embedder.linear_2."},
    {"time_embedding.0.", "condition_embedder.time_embedder.linear_1."},
    {"time_embedding.2.", "condition_embedder.time_embedder.linear_2."},
    {"time_projection.1.", "condition_embedder.time_proj."},
    {"head.modulation", "scale_shift_table"},
    {"head.head.", "proj_out."},
    {"patch_embedding.", "patch_embedding."},
};
constexpr Rename kInBlock[] = {
    {"modulation", "scale_shift_table"},
    {"self_attn.q.", "attn1.to_q."},
    {"self_attn.k.", "attn1.to_k."},
    {"self_attn.v.", "attn1.to_v."},
    {"self_attn.o.", "attn1.to_out.0."},
    {"self_attn.norm_q.", "attn1.norm_q."},
    {"self_attn.norm_k.", "attn1.norm_k."},
    {"cross_attn.q.", "attn2.to_q."},
    {"cross_attn.k.", "attn2.to_k."},
    {"cross_attn.v.", "attn2.to_v."},
    {"cross_attn.o.", "attn2.to_out.0."},
    {"cross_attn.norm_q.", "attn2.norm_q."},
    {"cross_attn.norm_k.", "attn2.norm_k."},
    {"norm3.", "norm2."},  // the cross-attention LayerNorm: diffusers renumbers the norms
    {"ffn.0.", "ffn.net.0.proj."},
    {"ffn.2.", "ffn.net.2."},
};

std::string rename(std::string_view rest, std::span<const Rename> table, std::string_view full) {
  for (const Rename& r : table) {
    if (starts_with(rest, r.original)) return std::string(r.diffusers) + std::string(rest.substr(r.original.size()));
  }
  throw std::invalid_argument("key_for: \"" + std::string(full) + "\" is not a Wan2.1 DiT tensor");
}

}  // namespace

const char* to_string(KeyNaming naming) { return naming == KeyNaming::original ? "original" : "diffusers"; }

std::vector<ExpectedTensor> expected_tensors(const WanConfig& c) {
  const int64_t D = c.dim, F = c.ffn_dim;
  std::vector<ExpectedTensor> out;
  auto add = [&](std::string name, std::vector<int64_t> shape, bool fp32 = false) {
    out.push_back(ExpectedTensor{std::move(name), std::move(shape), fp32});
  };
  add("patch_embedding.weight", {D, c.in_dim, c.patch[0], c.patch[1], c.patch[2]});
  add("patch_embedding.bias", {D});
  add("text_embedding.0.weight", {D, c.text_dim});
  add("text_embedding.0.bias", {D});
  add("text_embedding.2.weight", {D, D});
  add("text_embedding.2.bias", {D});
  add("time_embedding.0.weight", {D, c.freq_dim}, true);
  add("time_embedding.0.bias", {D}, true);
  add("time_embedding.2.weight", {D, D}, true);
  add("time_embedding.2.bias", {D}, true);
  add("time_projection.1.weight", {6 * D, D}, true);
  add("time_projection.1.bias", {6 * D}, true);
  add("head.modulation", {1, 2, D}, true);
  add("head.head.weight", {c.out_dim * c.patch_volume(), D});
  add("head.head.bias", {c.out_dim * c.patch_volume()});
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const std::string b = "blocks." + std::to_string(i) + ".";
    add(b + "modulation", {1, 6, D}, true);
    for (const char* attn : {"self_attn.", "cross_attn."}) {
      for (const char* proj : {"q.", "k.", "v.", "o."}) {
        add(b + attn + proj + "weight", {D, D});
        add(b + attn + proj + "bias", {D});
      }
      add(b + attn + "norm_q.weight", {D}, true);
      add(b + attn + "norm_k.weight", {D}, true);
    }
    add(b + "norm3.weight", {D}, true);
    add(b + "norm3.bias", {D}, true);
    add(b + "ffn.0.weight", {F, D});
    add(b + "ffn.0.bias", {F});
    add(b + "ffn.2.weight", {D, F});
    add(b + "ffn.2.bias", {D});
  }
  return out;
}

std::string key_for(std::string_view name, KeyNaming naming) {
  if (naming == KeyNaming::original) return std::string(name);
  if (starts_with(name, "blocks.")) {
    const size_t dot = name.find('.', 7);
    if (dot == std::string_view::npos) throw std::invalid_argument("key_for: \"" + std::string(name) + "\"");
    return std::string(name.substr(0, dot + 1)) + rename(name.substr(dot + 1), kInBlock, name);
  }
  return rename(name, kTopLevel, name);
}

KeyNaming detect_naming(const data::SafetensorsCollection& weights) {
  for (const data::TensorInfo& t : weights.tensors()) {
    const std::string& n = t.name;
    if (starts_with(n, "condition_embedder.") || n == "scale_shift_table" || starts_with(n, "proj_out.") ||
        (starts_with(n, "blocks.") && (n.find(".attn1.") != std::string::npos || n.find(".attn2.") != std::string::npos))) {
      return KeyNaming::diffusers;
    }
  }
  return KeyNaming::original;
}

void check_checkpoint(const data::SafetensorsCollection& weights, const WanConfig& config, KeyNaming naming) {
  std::vector<ExpectedKey> expected;
  for (const ExpectedTensor& e : expected_tensors(config)) expected.push_back({key_for(e.name, naming), e.shape});
  check_tensor_set(weights, expected, describe(config) + " (" + to_string(naming) + " key naming)");
}

StateDict load_state_dict(const data::SafetensorsCollection& weights, const WanConfig& config,
                          const WeightOptions& options) {
  const KeyNaming naming = detect_naming(weights);
  check_checkpoint(weights, config, naming);
  StateDict state;
  for (const ExpectedTensor& e : expected_tensors(config)) {
    const data::TensorInfo& info = weights.at(key_for(e.name, naming));
    const at::ScalarType dtype = e.keep_fp32 ? at::kFloat : options.compute_dtype;
    // copy=true: a CPU fp32 tensor would otherwise alias the temporary.
    state.emplace(e.name, read_tensor(weights, info).to(options.device, dtype, /*non_blocking=*/false,
                                                             /*copy=*/true));
  }
  return state;
}

StateDict random_state_dict(const WanConfig& config, const WeightOptions& options, uint64_t seed) {
  // One generator for the whole model, so that the weights depend on the seed alone, never on global state.
  at::Generator generator = options.device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(seed)
                                                    : at::globalContext().defaultGenerator(options.device);
  std::unique_lock<std::mutex> lock(generator.mutex());
  generator.set_current_seed(seed);
  lock.unlock();

  StateDict state;
  const auto fp32 = at::TensorOptions().dtype(at::kFloat).device(options.device);
  for (const ExpectedTensor& e : expected_tensors(config)) {
    const std::string& n = e.name;
    at::Tensor noise = at::randn(e.shape, generator, fp32);  // [shape]
    at::Tensor t;
    if (n.ends_with("modulation")) {
      t = noise * (1.0 / std::sqrt(static_cast<double>(config.dim)));
    } else if (n.find("norm") != std::string::npos && n.ends_with(".weight")) {
      t = 1.0 + 0.1 * noise;  // RMSNorm / LayerNorm gains near 1
    } else if (n.ends_with(".bias")) {
      t = 0.02 * noise;
    } else {
      const int64_t fan_in = e.shape.size() == 5 ? e.shape[1] * e.shape[2] * e.shape[3] * e.shape[4] : e.shape[1];
      t = noise * (1.0 / std::sqrt(static_cast<double>(fan_in)));
    }
    state.emplace(n, t.to(e.keep_fp32 ? at::kFloat : options.compute_dtype));
  }
  return state;
}

void save_state_dict(const std::filesystem::path& path, const StateDict& state, KeyNaming naming,
                     at::ScalarType storage_dtype) {
  data::DType dtype = data::DType::f32;
  if (storage_dtype == at::kBFloat16) dtype = data::DType::bf16;
  else if (storage_dtype == at::kHalf) dtype = data::DType::f16;
  else if (storage_dtype != at::kFloat) throw std::invalid_argument("save_state_dict: storage dtype must be f32, bf16 or f16");

  std::vector<at::Tensor> host;  // keeps the bytes alive while writing
  std::vector<data::TensorData> tensors;
  host.reserve(state.size());
  tensors.reserve(state.size());
  for (const auto& [name, tensor] : state) {
    host.push_back(tensor.to(at::kCPU, storage_dtype).contiguous());
    const at::Tensor& h = host.back();
    data::TensorData d;
    d.name = key_for(name, naming);
    d.dtype = dtype;
    d.shape = h.sizes().vec();
    d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(h.const_data_ptr()), h.nbytes());
    tensors.push_back(std::move(d));
  }
  data::write_safetensors(path, tensors, {{"format", "pt"}, {"svdit_naming", to_string(naming)}});
}

}  // namespace svdit::runtime
