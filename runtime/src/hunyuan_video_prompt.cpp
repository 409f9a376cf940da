// HunyuanVideo's conditioning file: prompt_embeds, prompt_attention_mask, pooled_prompt_embeds (see
// hunyuan_video_prompt.h).

#include "svdit/runtime/hunyuan_video_prompt.h"

#include <ATen/ATen.h>

#include <span>
#include <vector>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::runtime {

namespace {

constexpr const char* kText = "prompt_embeds";
constexpr const char* kMask = "prompt_attention_mask";
constexpr const char* kPooled = "pooled_prompt_embeds";

std::string shape_text(const std::vector<int64_t>& shape) { return c10::str(at::IntArrayRef(shape)); }

// The tensor as fp32 with a leading batch dimension of 1 dropped ([1, …] → […]).
at::Tensor read(const data::SafetensorsFile& file, const data::TensorInfo& info) {
  std::vector<int64_t> shape = info.shape;
  if (!shape.empty() && shape[0] == 1 && shape.size() >= 2) shape.erase(shape.begin());
  std::vector<float> values = data::to_float(info, file.bytes(info));
  return at::from_blob(values.data(), shape, at::TensorOptions().dtype(at::kFloat)).clone();
}

}  // namespace

TextSpec hunyuan_video_text_spec(const HunyuanVideoConfig& config) {
  TextSpec spec;
  spec.text_len = config.text_len;
  spec.text_dim = config.text_embed_dim;
  spec.pooled_dim = config.pooled_projection_dim;
  spec.mask = true;
  spec.embedded_guidance = config.guidance_embeds;
  return spec;
}

HunyuanVideoPrompt load_hunyuan_video_prompt(const std::filesystem::path& path, const HunyuanVideoConfig& config) {
  return load_hunyuan_video_prompt(path, hunyuan_video_text_spec(config));
}

HunyuanVideoPrompt load_hunyuan_video_prompt(const std::filesystem::path& path, const TextSpec& config) {
  const data::SafetensorsFile file = data::SafetensorsFile::open(path);
  const std::string source = path.string();
  for (const data::TensorInfo& t : file.tensors()) {
    if (t.name != kText && t.name != kMask && t.name != kPooled) {
      throw data::FormatError(source, t.name, std::string("unexpected tensor: a HunyuanVideo conditioning file holds ") +
                                                  kText + ", " + kPooled + " and optionally " + kMask);
    }
  }
  auto need = [&](const char* name) -> const data::TensorInfo& {
    const data::TensorInfo* t = file.find(name);
    if (t == nullptr) throw data::FormatError(source, name, "missing (a HunyuanVideo conditioning file needs it)");
    return *t;
  };
  const data::TensorInfo& text_info = need(kText);
  const data::TensorInfo& pooled_info = need(kPooled);
  at::Tensor text = read(file, text_info);  // [L, T]
  if (text.dim() != 2 || text.size(1) != config.text_dim || text.size(0) < 1) {
    throw data::FormatError(source, kText, "expected shape [L, " + std::to_string(config.text_dim) +
                                               "] (or [1, L, …]) with L ≥ 1, found " + shape_text(text_info.shape));
  }
  const int64_t L = text.size(0);
  int64_t valid = L;
  if (const data::TensorInfo* mask_info = file.find(kMask)) {
    const at::Tensor mask = read(file, *mask_info);  // [L]
    if (mask.dim() != 1 || mask.size(0) != L) {
      throw data::FormatError(source, kMask, "expected shape [" + std::to_string(L) + "] (or [1, " +
                                                 std::to_string(L) + "]) like " + kText + ", found " +
                                                 shape_text(mask_info->shape));
    }
    const at::Tensor keep = mask.ne(0);
    valid = keep.sum().item<int64_t>();
    const at::Tensor prefix = at::arange(L, at::TensorOptions().dtype(at::kLong)) < valid;
    if (!at::equal(keep, prefix)) {
      throw data::FormatError(source, kMask, "expected the valid tokens (nonzero) first and the padding after them "
                                             "(the tokenizer pads on the right); the mask is not a prefix");
    }
  }
  if (valid < 1 || valid > config.text_len) {
    throw data::FormatError(source, kMask, "the prompt has " + std::to_string(valid) + " valid tokens, expected 1 to " +
                                               std::to_string(config.text_len) + " (the model's text_len)");
  }
  at::Tensor pooled = read(file, pooled_info);
  if (pooled.dim() != 1 || pooled.size(0) != config.pooled_dim) {
    throw data::FormatError(source, kPooled, "expected shape [" + std::to_string(config.pooled_dim) +
                                                 "] (or [1, …]), found " + shape_text(pooled_info.shape));
  }
  return HunyuanVideoPrompt{text.narrow(0, 0, valid).contiguous(), pooled};
}

void save_hunyuan_video_prompt(const std::filesystem::path& path, const at::Tensor& text, const at::Tensor& text_mask,
                               const at::Tensor& pooled) {
  std::vector<std::pair<std::string, at::Tensor>> parts = {{kText, text}, {kPooled, pooled}};
  if (text_mask.defined()) parts.emplace_back(kMask, text_mask);
  std::vector<at::Tensor> host;  // keeps the bytes alive while writing
  std::vector<data::TensorData> tensors;
  host.reserve(parts.size());
  for (const auto& [name, t] : parts) {
    host.push_back(t.to(at::kCPU, at::kFloat).contiguous());
    const at::Tensor& h = host.back();
    data::TensorData d;
    d.name = name;
    d.dtype = data::DType::f32;
    d.shape = h.sizes().vec();
    d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(h.const_data_ptr()), h.nbytes());
    tensors.push_back(std::move(d));
  }
  data::write_safetensors(path, tensors);
}

}  // namespace svdit::runtime
