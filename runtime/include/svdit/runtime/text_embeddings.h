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

// The same for any family, by its TextSpec (text_len, text_dim, text_encoder; model_family.h). The WanConfig forms
// above are these with the config's spec.
at::Tensor load_text_embeddings(const std::string& spec, const TextSpec& text);
at::Tensor zero_text_embeddings(const TextSpec& text);
at::Tensor prompt_embeddings(const std::string& prompt, const TextSpec& text);

// Writes one prompt's embeddings ([tokens, text_dim]) as a safetensors file with the tensor name `key`.
void save_text_embeddings(const std::string& path, const at::Tensor& embeddings, const std::string& key = "context");

}  // namespace svdit::runtime
