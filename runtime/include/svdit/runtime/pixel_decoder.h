#pragma once
// The hook from latents to pixels. A model declares its decoder by name in config.json ("pixel_decoder"); the
// demo model's exact invertible "VAE" ("pixel-unshuffle", pixel_unshuffle.h) is built in. Wan's own VAE is out of
// scope, so a released Wan checkpoint declares none and svdit generate writes latents only.

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/wan_config.h"

namespace svdit::runtime {

class PixelDecoder {
 public:
  virtual ~PixelDecoder() = default;
  virtual std::string name() const = 0;
  // latents [1, C, T, H, W] fp32 → frames [frames, height, width, 3] uint8 (CPU).
  virtual at::Tensor decode(const at::Tensor& latents) const = 0;
};

using PixelDecoderFactory = std::function<std::unique_ptr<PixelDecoder>(const WanConfig&)>;

// Registers (or replaces) the decoder for `name`.
void register_pixel_decoder(const std::string& name, PixelDecoderFactory factory);

// nullptr when the config declares no decoder; std::invalid_argument naming the config field and the known
// decoders when it declares one that is not registered.
std::unique_ptr<PixelDecoder> make_pixel_decoder(const WanConfig& config);

// Decodes and writes one PNG per frame: <prefix>_0000.png, <prefix>_0001.png, … Returns the paths written.
std::vector<std::filesystem::path> write_png_frames(const PixelDecoder& decoder, const at::Tensor& latents,
                                                    const std::filesystem::path& prefix);

}  // namespace svdit::runtime
