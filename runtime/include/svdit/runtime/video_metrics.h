#pragma once
// Quality of a sparse run against a dense one (svdit compare): PSNR and SSIM over every 2-D plane (frame ×
// channel) of two videos or latent videos of the same shape [B, C, T, H, W].
//   data range L = max(a) − min(a) of the reference a (latents have no fixed range; pixels in [0, 1] give 1);
//   PSNR = 10·log10(L² / MSE) over all elements (+inf when equal);
//   SSIM = Wang et al. 2004 with an 11×11 Gaussian window (σ = 1.5; smaller planes: the largest odd window that
//          fits), K1 = 0.01, K2 = 0.03, valid positions only, averaged over positions and planes.

#include <ATen/core/Tensor.h>

namespace svdit::runtime {

struct VideoComparison {
  double data_range = 0;
  double mse = 0;
  double psnr = 0;  // dB
  double ssim = 0;
  double max_abs_diff = 0;
};

// Throws std::invalid_argument when the shapes differ (both shapes in the message).
VideoComparison compare_videos(const at::Tensor& reference, const at::Tensor& candidate);

}  // namespace svdit::runtime
