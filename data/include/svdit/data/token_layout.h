#pragma once
// The token layout of one self-attention sequence (docs/FORMATS.md "Patterns (JSON)"):
//   [text prefix T0][video F×P tokens, frame-major][text suffix T1],   P = height × width,
// video token (f, p) sits at index T0 + f·P + p. Wan2.1 has T0 = T1 = 0, CogVideoX T0 = 226, HunyuanVideo T1 = 256.

#include <cstdint>
#include <string>

namespace svdit::data {

struct TokenLayout {
  int64_t frames = 0;        // F: latent frames after temporal patching
  int64_t height = 0;        // H': patches along the height
  int64_t width = 0;         // W': patches along the width
  int64_t text_prefix = 0;   // T0: text tokens before the video tokens
  int64_t text_suffix = 0;   // T1: text tokens after the video tokens
  int64_t block_size = 128;  // b: tokens per attention block (128, or 64)

  int64_t tokens_per_frame() const { return height * width; }                       // P
  int64_t video_tokens() const { return frames * tokens_per_frame(); }               // F·P
  int64_t seq_len() const { return text_prefix + video_tokens() + text_suffix; }    // S
  int64_t num_blocks() const { return (seq_len() + block_size - 1) / block_size; }  // ⌈S / b⌉
  int64_t video_begin() const { return text_prefix; }
  int64_t video_end() const { return text_prefix + video_tokens(); }

  bool operator==(const TokenLayout&) const = default;
};

// Throws FormatError(source, "layout", …) unless every field is in range (positive sizes, block 64 or 128,
// sequence length that fits the 32-bit indices the kernels use).
void validate(const TokenLayout& layout, const std::string& source = "<memory>");

// "F=21 H'=30 W'=52 (P=1560) T0=0 T1=0 S=32760 b=128"
std::string describe(const TokenLayout& layout);

}  // namespace svdit::data
