#pragma once
// HunyuanVideo's precomputed conditioning of one prompt (the LLaVA-Llama and CLIP text encoders are out of scope),
// one safetensors file (docs/FORMATS.md "HunyuanVideo conditioning"), tensor names as diffusers'
// HunyuanVideoPipeline calls its arguments:
//   prompt_embeds          [L, text_embed_dim] or [1, L, text_embed_dim]  the text encoder's output (padded or not)
//   prompt_attention_mask  [L] or [1, L], optional                          1 = valid token, 0 = padding; the valid
//                                                                          tokens a prefix (the tokenizer pads right);
//                                                                          absent: every row is valid
//   pooled_prompt_embeds   [pooled_projection_dim] or [1, pooled_projection_dim]   CLIP's pooled output
// F32, BF16 or F16 (the mask too: 0/1 values). The runtime keeps the valid rows only (see hunyuan_video_model.h).

#include <cstdint>
#include <filesystem>
#include <string>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/hunyuan_video_config.h"
#include "svdit/runtime/model_family.h"  // TextSpec

namespace svdit::runtime {

struct HunyuanVideoPrompt {
  at::Tensor text;    // [N, text_embed_dim] fp32 CPU: the valid tokens only, 1 ≤ N ≤ text_len
  at::Tensor pooled;  // [pooled_projection_dim] fp32 CPU
};

// Reads and checks the file: FormatError naming the file, the tensor and the expected versus found shape (or the
// mask row that is not a prefix of ones, or a prompt with no valid token or more than text_len).
HunyuanVideoPrompt load_hunyuan_video_prompt(const std::filesystem::path& path, const HunyuanVideoConfig& config);
// The conditioning a HunyuanVideo config takes: text_len × text_embed_dim, the pooled vector, the mask, and the
// embedded guidance when the config has it (HunyuanVideoModel::text_spec).
TextSpec hunyuan_video_text_spec(const HunyuanVideoConfig& config);

// The same for any family with a pooled vector, by its TextSpec (text_len, text_dim, pooled_dim).
HunyuanVideoPrompt load_hunyuan_video_prompt(const std::filesystem::path& path, const TextSpec& text);

// Writes the three tensors (the mask only when defined), fp32, atomically. text [L, D], text_mask [L], pooled [P].
void save_hunyuan_video_prompt(const std::filesystem::path& path, const at::Tensor& text, const at::Tensor& text_mask,
                               const at::Tensor& pooled);

}  // namespace svdit::runtime
