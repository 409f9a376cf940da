// UniPC (order 2, bh2, data prediction) on the flow schedule, step for step as Wan2.1's
// FlowUniPCMultistepScheduler (see flow_sampler.h). Coefficients are scalars computed in double; only the
// combinations of tensors touch the latents.

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "svdit/runtime/flow_sampler.h"

namespace svdit::runtime {

namespace {

// The B(h)-weighted coefficients b_k of UniPC for the nodes r_1..r_{order−1}, 1 (Zhao et al., eq. for "bh2"):
// h_phi_1 = e^{hh} − 1, h_phi_k recursion, b_k = h_phi_k · k! / B(h), with hh = −h for data prediction.
struct Coefficients {
  double h_phi_1 = 0;  // e^{hh} − 1
  double b_h = 0;      // B(h) = e^{hh} − 1 (bh2)
  double b[2] = {0, 0};
};

Coefficients coefficients(double h, int order) {
  Coefficients c;
  const double hh = -h;
  c.h_phi_1 = std::expm1(hh);
  c.b_h = std::expm1(hh);
  double h_phi_k = c.h_phi_1 / hh - 1.0;
  double factorial = 1.0;
  for (int k = 1; k <= order; ++k) {
    c.b[k - 1] = h_phi_k * factorial / c.b_h;
    factorial *= static_cast<double>(k + 1);
    h_phi_k = h_phi_k / hh - 1.0 / factorial;
  }
  return c;
}

}  // namespace

double UniPcSampler::lambda(int64_t i) const {
  const double sigma = schedule_.sigmas[static_cast<size_t>(i)];
  return std::log(1.0 - sigma) - std::log(sigma);  // +inf at σ = 0: the formulas below then give x0̂ exactly
}

at::Tensor UniPcSampler::predict(const at::Tensor& x, int order) const {
  const int64_t i = index_;
  const double sigma_t = schedule_.sigmas[static_cast<size_t>(i + 1)];
  const double sigma_s0 = schedule_.sigmas[static_cast<size_t>(i)];
  const double alpha_t = 1.0 - sigma_t;
  const double h = lambda(i + 1) - lambda(i);
  const Coefficients c = coefficients(h, order);
  const at::Tensor& m0 = x0_previous_;  // x0̂ at step i (already pushed into the history)
  at::Tensor x_t = (sigma_t / sigma_s0) * x - (alpha_t * c.h_phi_1) * m0;  // [B, C, T, H, W]
  if (order == 2) {
    // One earlier node: r = (λ_{i−1} − λ_i)/h, D1 = (m_{i−1} − m0)/r, ρ_p = ½ (UniP-2's fixed choice).
    const double r = (lambda(i - 1) - lambda(i)) / h;
    x_t = x_t - (alpha_t * c.b_h * 0.5 / r) * (x0_before_previous_ - m0);
  }
  return x_t;
}

at::Tensor UniPcSampler::correct(const at::Tensor& x0_now, int order) const {
  const int64_t i = index_;  // correcting the sample at sigmas[i], predicted from sigmas[i − 1]
  const double sigma_t = schedule_.sigmas[static_cast<size_t>(i)];
  const double sigma_s0 = schedule_.sigmas[static_cast<size_t>(i - 1)];
  const double alpha_t = 1.0 - sigma_t;
  const double h = lambda(i) - lambda(i - 1);
  const Coefficients c = coefficients(h, order);
  const at::Tensor& m0 = x0_previous_;  // x0̂ at step i − 1 (the history before this step's push)
  const at::Tensor& x = last_sample_;
  at::Tensor x_t = (sigma_t / sigma_s0) * x - (alpha_t * c.h_phi_1) * m0;  // [B, C, T, H, W]
  double rho_last = 0.5;                                                  // UniC-1's fixed choice
  if (order == 2) {
    // Solve [[1, 1], [r, 1]] · ρ = b for the nodes (r, 1).
    const double r = (lambda(i - 2) - lambda(i - 1)) / h;
    const double rho0 = (c.b[0] - c.b[1]) / (1.0 - r);
    rho_last = c.b[0] - rho0;
    x_t = x_t - (alpha_t * c.b_h * rho0 / r) * (x0_before_previous_ - m0);
  }
  return x_t - (alpha_t * c.b_h * rho_last) * (x0_now - m0);
}

at::Tensor UniPcSampler::step(const at::Tensor& velocity, const at::Tensor& sample_in) {
  const int64_t n = schedule_.steps();
  if (index_ >= n) {
    throw std::logic_error("UniPcSampler: step " + std::to_string(index_) + " beyond the schedule's " +
                           std::to_string(n) + " steps");
  }
  const double sigma = schedule_.sigmas[static_cast<size_t>(index_)];
  const at::Tensor x0 = sample_in - sigma * velocity;  // data prediction x0̂ = x − σ·v  [B, C, T, H, W]
  at::Tensor sample = sample_in;
  if (index_ > 0) sample = correct(x0, last_order_);   // UniC with the model output at the new point

  x0_before_previous_ = x0_previous_;
  x0_previous_ = x0;
  // Order 2 once there is history (warm-up) and never on the last step (lower_order_final).
  const int order = static_cast<int>(std::min<int64_t>({2, n - index_, std::min<int64_t>(index_, 2) + 1}));
  last_sample_ = sample;
  at::Tensor next = predict(sample, order);
  last_order_ = order;
  ++index_;
  return next;
}

}  // namespace svdit::runtime
