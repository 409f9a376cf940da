// PSNR and SSIM (see video_metrics.h), in fp64 on the CPU.

#include "svdit/runtime/video_metrics.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace svdit::runtime {

namespace {

// Separable normalised Gaussian, as a [1, 1, n, n] conv2d kernel.
at::Tensor gaussian_window(int64_t n, double sigma) {
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor x = at::arange(n, f64) - static_cast<double>(n - 1) / 2.0;  // [n]
  at::Tensor g = at::exp(-(x * x) / (2.0 * sigma * sigma));
  g = g / g.sum();
  return at::outer(g, g).view({1, 1, n, n});  // [1, 1, n, n]
}

}  // namespace

VideoComparison compare_videos(const at::Tensor& reference, const at::Tensor& candidate) {
  if (reference.sizes() != candidate.sizes() || reference.dim() < 2) {
    throw std::invalid_argument("compare: the two outputs differ in shape: " + c10::str(reference.sizes()) + " vs " +
                                c10::str(candidate.sizes()));
  }
  const at::Tensor a = reference.to(at::kCPU, at::kDouble);
  const at::Tensor b = candidate.to(at::kCPU, at::kDouble);
  VideoComparison r;
  r.data_range = (a.max() - a.min()).item<double>();
  const at::Tensor diff = a - b;
  r.mse = (diff * diff).mean().item<double>();
  r.max_abs_diff = diff.abs().max().item<double>();
  r.psnr = r.mse == 0 ? std::numeric_limits<double>::infinity()
                      : 10.0 * std::log10(r.data_range * r.data_range / r.mse);

  // Planes [N, 1, H, W] over all leading dims.
  const int64_t H = a.size(-2), W = a.size(-1);
  const at::Tensor pa = a.reshape({-1, 1, H, W});  // [N, 1, H, W]
  const at::Tensor pb = b.reshape({-1, 1, H, W});  // [N, 1, H, W]
  int64_t n = std::min<int64_t>({11, H, W});
  if (n % 2 == 0) --n;
  const at::Tensor w = gaussian_window(n, 1.5);
  const double L = r.data_range > 0 ? r.data_range : 1.0;
  const double c1 = (0.01 * L) * (0.01 * L), c2 = (0.03 * L) * (0.03 * L);
  const at::Tensor mu_a = at::conv2d(pa, w), mu_b = at::conv2d(pb, w);  // [N, 1, H', W']
  const at::Tensor var_a = at::conv2d(pa * pa, w) - mu_a * mu_a;
  const at::Tensor var_b = at::conv2d(pb * pb, w) - mu_b * mu_b;
  const at::Tensor cov = at::conv2d(pa * pb, w) - mu_a * mu_b;
  const at::Tensor map = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) /
                         ((mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2));  // [N, 1, H', W']
  r.ssim = map.mean().item<double>();
  return r;
}

}  // namespace svdit::runtime
