#pragma once
// Precomputed text conditioning (the umT5 encoder is out of scope): a safetensors file holding the encoder output
// of one prompt, [tokens, text_dim] (or [1, tokens, text_dim]), F32/BF16/F16. `FILE` alone needs a file with
// exactly one tensor; `FILE:KEY` picks the tensor KEY. As in the reference, the real tokens are zero-padded to
// text_len rows and the pad rows are attended (no mask).

#include <cstdint>
#include <string>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/model_family.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::runtime {

// Returns [1, text_len, text_dim] fp32 on the CPU. Errors (data::FormatError) name the file, the tensor and the
// expected versus found shape.
at::Tensor load_text_embeddings(const std::string& spec, const WanConfig& config);

// The conditioning of an empty token list: all text_len rows zero ([1, text_len, text_dim] fp32, CPU).
at::Tensor zero_text_embeddings(const WanConfig& config);

// The conditioning of one prompt as the tools take it (--prompt): for a model whose config names a text encoder
// (the demo model's word encoder), the prompt's text; otherwise an embeddings file FILE[:KEY] as above. An empty
// prompt gives zero_text_embeddings(). Returns [1, text_len, text_dim] fp32 on the CPU.
// Throws std::invalid_argument for an unknown text_encoder or (demo-words) an unknown word, naming it.
at::Tensor prompt_embeddings(const std::string& prompt, const WanConfig& config);

// The demo model's word encoder (demo_words.h) whatever the config says: [1, text_len, text_dim] fp32, CPU.
at::Tensor demo_word_embeddings(const std::string& prompt, const WanConfig& config);

// The same for any family, by its TextSpec (model_family.h), as the TextInputs its forward takes. A family with a
// pooled vector (TextSpec::pooled_dim > 0: HunyuanVideo) reads its conditioning file instead, FILE holding
// prompt_embeds, pooled_prompt_embeds and optionally prompt_attention_mask (hunyuan_video_prompt.h): embeddings are
// the valid tokens only [1, N, text_dim] (no mask: every row is valid), pooled [1, pooled_dim]. The zero
// conditioning of such a family is text_len zero rows, all valid, and a zero pooled vector. The embedded guidance
// (TextInputs::guidance) is left undefined: the family's denoising_loop() sets it. The WanConfig forms above are
// these with the config's spec, embeddings only.
TextInputs load_text_inputs(const std::string& spec, const TextSpec& text);
TextInputs zero_text_inputs(const TextSpec& text);
TextInputs prompt_text_inputs(const std::string& prompt, const TextSpec& text);

// Writes one prompt's embeddings ([tokens, text_dim]) as a safetensors file with the tensor name `key`.
void save_text_embeddings(const std::string& path, const at::Tensor& embeddings, const std::string& key = "context");

}  // namespace svdit::runtime
