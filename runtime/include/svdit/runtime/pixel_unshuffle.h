#pragma once
// The demo model's exact, invertible "VAE": pixel-unshuffle (space-to-depth). A video of N frames of H × W RGB
// pixels becomes latents of 3·sh·sw channels, N frames, H/sh × W/sw, with (sh, sw) the config's vae_stride (the
// temporal stride must be 1). Channel c = colour·sh·sw + dy·sw + dx holds pixel (y·sh + dy, x·sw + dx) of colour
// plane `colour` (0 R, 1 G, 2 B) — PyTorch's pixel_unshuffle order. Values: pixel / 127.5 − 1 ∈ [−1, 1]; decoding
// is round((v + 1)·127.5) clamped to 0…255, so uint8 frames round-trip exactly. No weights.
// A built-in pixel decoder: make_pixel_decoder() knows "pixel-unshuffle" without any registration.

#include <cstdint>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/pixel_decoder.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::runtime {

inline constexpr const char* kPixelUnshuffleDecoder = "pixel-unshuffle";

// frames [N, H, W, 3] or [B, N, H, W, 3] uint8 (any device) → latents [B, 3·sh·sw, N, H/sh, W/sw] fp32 on the
// same device (B = 1 for unbatched input). std::invalid_argument when H or W is not a multiple of the stride.
at::Tensor pixel_unshuffle_encode(const at::Tensor& frames, int64_t stride_h, int64_t stride_w);

// latents [B, 3·sh·sw, N, h, w] (any float dtype, any device) → frames [B, N, h·sh, w·sw, 3] uint8, same device.
at::Tensor pixel_unshuffle_decode(const at::Tensor& latents, int64_t stride_h, int64_t stride_w);

class PixelUnshuffleDecoder : public PixelDecoder {
 public:
  // Checks the config: temporal vae_stride 1 and out_dim = 3·sh·sw (std::invalid_argument naming the field).
  explicit PixelUnshuffleDecoder(const WanConfig& config);
  std::string name() const override { return kPixelUnshuffleDecoder; }
  at::Tensor decode(const at::Tensor& latents) const override;  // [1, C, T, h, w] → [T, H, W, 3] uint8, CPU
  at::Tensor encode(const at::Tensor& frames) const;            // [N, H, W, 3] or [B, …] → [B, C, N, h, w] fp32

 private:
  int64_t stride_h_, stride_w_;
};

}  // namespace svdit::runtime
