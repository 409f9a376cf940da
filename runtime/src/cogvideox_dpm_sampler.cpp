// CogVideoXDPMScheduler step for step (see cogvideox_dpm_sampler.h).

#include "svdit/runtime/cogvideox_dpm_sampler.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace svdit::runtime {

namespace {

// The released CogVideoX1.5 scheduler_config.json.
constexpr int64_t kTrainSteps = 1000;
constexpr double kBetaStart = 0.00085, kBetaEnd = 0.012;
constexpr double kSnrShiftScale = 1.0;

// λ = log √(ᾱ/(1 − ᾱ)): −∞ at ᾱ = 0 (the zero-SNR first timestep), +∞ at ᾱ = 1 (the final one); the formulas
// below take both limits as the scheduler's tensors do (e^{−∞} = 0).
double lambda_of(double alpha) { return std::log(std::sqrt(alpha / (1.0 - alpha))); }

}  // namespace

CogVideoXDpmSchedule make_cogvideox_dpm_schedule(int64_t steps) {
  if (steps < 1 || steps > kTrainSteps) {
    throw std::invalid_argument("--steps: expected 1 … " + std::to_string(kTrainSteps) +
                                " for the CogVideoX DPM scheduler, found " + std::to_string(steps));
  }
  CogVideoXDpmSchedule s;
  // "scaled_linear": betas = linspace(√β0, √β1, 1000)² in fp64, as torch.linspace computes it (from the nearer end).
  const double a = std::sqrt(kBetaStart), b = std::sqrt(kBetaEnd);
  const double step = (b - a) / static_cast<double>(kTrainSteps - 1);
  s.alphas_cumprod.resize(kTrainSteps);
  double cumprod = 1.0;
  for (int64_t i = 0; i < kTrainSteps; ++i) {
    const double root = i < kTrainSteps / 2 ? a + step * static_cast<double>(i)
                                            : b - step * static_cast<double>(kTrainSteps - 1 - i);
    cumprod *= 1.0 - root * root;
    s.alphas_cumprod[static_cast<size_t>(i)] = cumprod / (kSnrShiftScale + (1.0 - kSnrShiftScale) * cumprod);
  }
  // rescale_zero_terminal_snr: shift and scale √ᾱ so that the last is 0 and the first unchanged.
  const double first = std::sqrt(s.alphas_cumprod.front()), last = std::sqrt(s.alphas_cumprod.back());
  for (double& alpha : s.alphas_cumprod) {
    const double root = (std::sqrt(alpha) - last) * (first / (first - last));
    alpha = root * root;
  }
  // "trailing": round(arange(1000, 0, −1000/N)) − 1, numpy's arange length and round-half-to-even.
  const double ratio = static_cast<double>(kTrainSteps) / static_cast<double>(steps);
  const auto count = static_cast<int64_t>(std::ceil(static_cast<double>(kTrainSteps) / ratio));
  for (int64_t i = 0; i < count; ++i) {
    s.timesteps.push_back(static_cast<int64_t>(std::nearbyint(static_cast<double>(kTrainSteps) - ratio * static_cast<double>(i))) - 1);
  }
  return s;
}

CogVideoXDpmSampler::CogVideoXDpmSampler(int64_t steps, at::Generator generator)
    : tables_(make_cogvideox_dpm_schedule(steps)), generator_(std::move(generator)) {
  schedule_.timesteps = tables_.timesteps;
  for (const int64_t t : tables_.timesteps) {
    schedule_.sigmas.push_back(std::sqrt(1.0 - tables_.alphas_cumprod[static_cast<size_t>(t)]));
  }
  schedule_.sigmas.push_back(0.0);
}

at::Tensor CogVideoXDpmSampler::step(const at::Tensor& velocity, const at::Tensor& sample) {
  const int64_t n = schedule_.steps();
  if (index_ >= n) {
    throw std::logic_error("CogVideoXDpmSampler: step " + std::to_string(index_) + " beyond the schedule's " +
                           std::to_string(n) + " steps");
  }
  const std::vector<double>& ac = tables_.alphas_cumprod;
  const int64_t t = tables_.timesteps[static_cast<size_t>(index_)];
  const int64_t prev_t = t - kTrainSteps / static_cast<int64_t>(tables_.timesteps.size());
  const double alpha_t = ac[static_cast<size_t>(t)];
  const double alpha_prev = prev_t >= 0 ? ac[static_cast<size_t>(prev_t)] : 1.0;  // set_alpha_to_one
  const at::Tensor x0 = std::sqrt(alpha_t) * sample - std::sqrt(1.0 - alpha_t) * velocity;  // v-prediction

  const double lambda_t = lambda_of(alpha_t), lambda_prev = lambda_of(alpha_prev);
  const double h = lambda_prev - lambda_t;
  const double m1 = std::sqrt((1.0 - alpha_prev) / (1.0 - alpha_t)) * std::exp(-h);
  const double m2 = std::expm1(-2.0 * h) * std::sqrt(alpha_prev);
  const double m_noise = std::sqrt(1.0 - alpha_prev) * std::sqrt(-std::expm1(-2.0 * h));

  auto noise = [&] {
    return at::randn(sample.sizes(), generator_, at::TensorOptions().dtype(at::kFloat)).to(sample.device());
  };
  at::Tensor first_noise = noise();  // drawn on every step, as the scheduler does before it branches
  at::Tensor next;
  if (!x0_previous_.defined() || prev_t < 0) {
    next = m1 * sample - m2 * x0 + m_noise * first_noise;
  } else {
    const int64_t t_back = tables_.timesteps[static_cast<size_t>(index_ - 1)];
    const double r = (lambda_t - lambda_of(ac[static_cast<size_t>(t_back)])) / h;
    const double m3 = 1.0 + 1.0 / (2.0 * r), m4 = 1.0 / (2.0 * r);
    const at::Tensor denoised = m3 * x0 - m4 * x0_previous_;
    next = m1 * sample - m2 * denoised + m_noise * noise();
  }
  x0_previous_ = x0;
  ++index_;
  return next;
}

}  // namespace svdit::runtime
