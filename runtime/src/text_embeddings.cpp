// Loading and saving precomputed text embeddings (see text_embeddings.h).

#include "svdit/runtime/text_embeddings.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <span>
#include <stdexcept>
#include <vector>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/demo_words.h"
#include "svdit/runtime/hunyuan_video_prompt.h"

namespace svdit::runtime {

namespace {

std::string shape_text(const std::vector<int64_t>& shape) { return c10::str(at::IntArrayRef(shape)); }

at::Tensor load_embeddings_tensor(const std::string& spec, const TextSpec& config) {
  // FILE or FILE:KEY. A path may itself contain ':', so KEY is split off only when FILE exists without it.
  std::string path = spec, key;
  if (const size_t colon = spec.rfind(':'); colon != std::string::npos && !std::filesystem::exists(spec)) {
    path = spec.substr(0, colon);
    key = spec.substr(colon + 1);
  }
  const data::SafetensorsFile file = data::SafetensorsFile::open(path);
  const data::TensorInfo* info = nullptr;
  if (key.empty()) {
    if (file.tensors().size() != 1) {
      std::string names;
      for (const auto& t : file.tensors()) names += (names.empty() ? "" : ", ") + t.name;
      throw data::FormatError(path, "<tensors>", "expected exactly one tensor (or name one as FILE:KEY), found " +
                                                     std::to_string(file.tensors().size()) + ": " + names);
    }
    info = &file.tensors().front();
  } else {
    info = &file.at(key);
  }
  std::vector<int64_t> shape = info->shape;
  if (shape.size() == 3 && shape[0] == 1) shape.erase(shape.begin());
  if (shape.size() != 2 || shape[1] != config.text_dim || shape[0] < 0 || shape[0] > config.text_len) {
    throw data::FormatError(path, info->name,
                            "expected text embeddings of shape [tokens ≤ " + std::to_string(config.text_len) + ", " +
                                std::to_string(config.text_dim) + "], found " + shape_text(info->shape));
  }
  const std::vector<float> values = data::to_float(*info, file.bytes(*info));
  at::Tensor out = at::zeros({1, config.text_len, config.text_dim}, at::TensorOptions().dtype(at::kFloat));  // [1, L, text_dim]
  if (!values.empty()) {
    const at::Tensor tokens = at::from_blob(const_cast<float*>(values.data()), shape,
                                            at::TensorOptions().dtype(at::kFloat));  // [tokens, text_dim]
    out[0].narrow(0, 0, shape[0]).copy_(tokens);
  }
  return out;
}

at::Tensor zero_embeddings_tensor(const TextSpec& config) {
  return at::zeros({1, config.text_len, config.text_dim}, at::TensorOptions().dtype(at::kFloat));  // [1, L, text_dim]
}

at::Tensor prompt_embeddings_tensor(const std::string& prompt, const TextSpec& text) {
  if (text.text_encoder.empty()) {
    if (prompt.empty()) return zero_embeddings_tensor(text);
    return load_embeddings_tensor(prompt, text);
  }
  if (text.text_encoder == kDemoWordsEncoder) {
    std::vector<float> rows = demo_prompt_rows(prompt, text.text_len, text.text_dim);  // [L, text_dim]
    return at::from_blob(rows.data(), {1, text.text_len, text.text_dim}, at::TensorOptions().dtype(at::kFloat))
        .clone();  // [1, L, text_dim]
  }
  throw std::invalid_argument("config field text_encoder: unknown encoder \"" + text.text_encoder + "\" (known: " +
                              kDemoWordsEncoder + ")");
}

}  // namespace

TextInputs load_text_inputs(const std::string& spec, const TextSpec& text) {
  if (text.pooled_dim == 0) return load_embeddings_tensor(spec, text);
  const HunyuanVideoPrompt prompt = load_hunyuan_video_prompt(spec, text);
  TextInputs inputs(prompt.text.unsqueeze(0));  // [1, N, text_dim]: the valid tokens
  inputs.pooled = prompt.pooled.unsqueeze(0);    // [1, pooled_dim]
  return inputs;
}

TextInputs zero_text_inputs(const TextSpec& text) {
  TextInputs inputs(zero_embeddings_tensor(text));  // [1, L, text_dim]
  if (text.pooled_dim > 0) inputs.pooled = at::zeros({1, text.pooled_dim}, at::TensorOptions().dtype(at::kFloat));
  return inputs;
}

TextInputs prompt_text_inputs(const std::string& prompt, const TextSpec& text) {
  if (text.pooled_dim > 0 && text.text_encoder.empty()) {
    return prompt.empty() ? zero_text_inputs(text) : load_text_inputs(prompt, text);
  }
  return prompt_embeddings_tensor(prompt, text);
}

namespace {
TextSpec spec_of(const WanConfig& config) {
  TextSpec spec;
  spec.text_len = config.text_len;
  spec.text_dim = config.text_dim;
  spec.text_encoder = config.text_encoder;
  return spec;
}
}  // namespace

at::Tensor load_text_embeddings(const std::string& spec, const WanConfig& config) {
  return load_embeddings_tensor(spec, spec_of(config));
}
at::Tensor zero_text_embeddings(const WanConfig& config) { return zero_embeddings_tensor(spec_of(config)); }
at::Tensor demo_word_embeddings(const std::string& prompt, const WanConfig& config) {
  TextSpec text = spec_of(config);
  text.text_encoder = kDemoWordsEncoder;  // whatever the config says
  return prompt_embeddings_tensor(prompt, text);
}
at::Tensor prompt_embeddings(const std::string& prompt, const WanConfig& config) {
  if (!config.text_encoder.empty() && config.text_encoder != kDemoWordsEncoder) {
    throw std::invalid_argument(config.name + ": config field text_encoder: unknown encoder \"" +
                                config.text_encoder + "\" (known: " + kDemoWordsEncoder + ")");
  }
  return prompt_embeddings_tensor(prompt, spec_of(config));
}

void save_text_embeddings(const std::string& path, const at::Tensor& embeddings, const std::string& key) {
  const at::Tensor host = embeddings.to(at::kCPU, at::kFloat).contiguous();  // [tokens, text_dim]
  data::TensorData d;
  d.name = key;
  d.dtype = data::DType::f32;
  d.shape = host.sizes().vec();
  d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(host.const_data_ptr()), host.nbytes());
  data::write_safetensors(path, std::span<const data::TensorData>(&d, 1));
}

}  // namespace svdit::runtime
