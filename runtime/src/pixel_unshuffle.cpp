// The pixel-unshuffle "VAE" of the demo model (see pixel_unshuffle.h).

#include "svdit/runtime/pixel_unshuffle.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace svdit::runtime {

at::Tensor pixel_unshuffle_encode(const at::Tensor& frames_in, int64_t sh, int64_t sw) {
  const at::Tensor frames = frames_in.dim() == 4 ? frames_in.unsqueeze(0) : frames_in;  // [B, N, H, W, 3]
  if (frames.dim() != 5 || frames.size(4) != 3 || frames.scalar_type() != at::kByte) {
    throw std::invalid_argument("pixel-unshuffle encode: expected uint8 frames [N, H, W, 3] or [B, N, H, W, 3], found " +
                                std::string(c10::toString(frames_in.scalar_type())) + " " + c10::str(frames_in.sizes()));
  }
  const int64_t B = frames.size(0), N = frames.size(1), H = frames.size(2), W = frames.size(3);
  if (sh <= 0 || sw <= 0 || H % sh != 0 || W % sw != 0) {
    throw std::invalid_argument("pixel-unshuffle encode: frame size " + std::to_string(H) + "×" + std::to_string(W) +
                                " is not a multiple of the stride " + std::to_string(sh) + "×" + std::to_string(sw));
  }
  const at::Tensor values = frames.to(at::kFloat) / 127.5 - 1.0;                        // [B, N, H, W, 3]
  return values.view({B, N, H / sh, sh, W / sw, sw, 3})                                  // [B, N, h, sh, w, sw, 3]
      .permute({0, 6, 3, 5, 1, 2, 4})                                                    // [B, 3, sh, sw, N, h, w]
      .reshape({B, 3 * sh * sw, N, H / sh, W / sw});                                     // [B, C, N, h, w]
}

at::Tensor pixel_unshuffle_decode(const at::Tensor& latents, int64_t sh, int64_t sw) {
  if (latents.dim() != 5 || latents.size(1) != 3 * sh * sw) {
    throw std::invalid_argument("pixel-unshuffle decode: expected latents [B, " + std::to_string(3 * sh * sw) +
                                ", N, h, w] for stride " + std::to_string(sh) + "×" + std::to_string(sw) +
                                ", found " + c10::str(latents.sizes()));
  }
  const int64_t B = latents.size(0), N = latents.size(2), h = latents.size(3), w = latents.size(4);
  const at::Tensor pixels = ((latents.to(at::kFloat) + 1.0) * 127.5).round().clamp(0, 255).to(at::kByte);  // [B, C, N, h, w]
  return pixels.view({B, 3, sh, sw, N, h, w})                                            // [B, 3, sh, sw, N, h, w]
      .permute({0, 4, 5, 2, 6, 3, 1})                                                    // [B, N, h, sh, w, sw, 3]
      .reshape({B, N, h * sh, w * sw, 3});                                               // [B, N, H, W, 3]
}

PixelUnshuffleDecoder::PixelUnshuffleDecoder(const WanConfig& config)
    : stride_h_(config.vae_stride[1]), stride_w_(config.vae_stride[2]) {
  if (config.vae_stride[0] != 1) {
    throw std::invalid_argument(config.name + ": config field vae_stride: the pixel-unshuffle decoder needs a temporal "
                                "stride of 1, found " + std::to_string(config.vae_stride[0]));
  }
  const int64_t channels = 3 * stride_h_ * stride_w_;
  if (config.out_dim != channels || config.in_dim != channels) {
    throw std::invalid_argument(config.name + ": config fields in_dim/out_dim: the pixel-unshuffle decoder with stride " +
                                std::to_string(stride_h_) + "×" + std::to_string(stride_w_) + " needs " +
                                std::to_string(channels) + " channels, found " + std::to_string(config.in_dim) + "/" +
                                std::to_string(config.out_dim));
  }
}

at::Tensor PixelUnshuffleDecoder::decode(const at::Tensor& latents) const {
  if (latents.dim() != 5 || latents.size(0) != 1) {
    throw std::invalid_argument("pixel-unshuffle decode: expected latents [1, C, T, h, w], found " +
                                c10::str(latents.sizes()));
  }
  return pixel_unshuffle_decode(latents, stride_h_, stride_w_)[0].to(at::kCPU).contiguous();  // [T, H, W, 3]
}

at::Tensor PixelUnshuffleDecoder::encode(const at::Tensor& frames) const {
  return pixel_unshuffle_encode(frames, stride_h_, stride_w_);
}

}  // namespace svdit::runtime
