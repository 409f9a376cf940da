#pragma once
// The sampler of CogVideoX1.5 (beside flow_sampler.h's Euler and UniPC): diffusers' CogVideoXDPMScheduler as
// CogVideoXPipeline runs it with the released scheduler config — v-prediction, "scaled_linear" betas
// (0.00085 … 0.012, 1000 steps) rescaled to zero terminal SNR, SNR shift 1, "trailing" timesteps, final ᾱ = 1 —
// a stochastic DPM-Solver++(2M): per step x0̂ = √ᾱ_t·x − √(1 − ᾱ_t)·v, then
//   x' = m1·x − m2·D + m_noise·ε,   m1 = √((1 − ᾱ_p)/(1 − ᾱ_t))·e^{−h}, m2 = (e^{−2h} − 1)·√ᾱ_p,
//   m_noise = √(1 − ᾱ_p)·√(1 − e^{−2h}),  h = λ_p − λ_t, λ = log √(ᾱ/(1 − ᾱ)),
// with D = x0̂ on the first step and on the last (previous timestep < 0), else D = (1 + 1/2r)·x0̂ − (1/2r)·x0̂_prev,
// r = (λ_t − λ_back)/h; the previous timestep is t − ⌊1000/N⌋ (the scheduler's rule, not the next list entry).
// ε ~ N(0, 1) is drawn from the run's CPU generator in the sample's shape — once per step, and a second time on the
// steps that use D's second-order form, as the scheduler draws — so a run equals the pipeline's with the same seed.
// Coefficients in fp64, combinations in the latents' fp32.

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "svdit/runtime/flow_sampler.h"

namespace svdit::runtime {

// The scheduler's tables: ᾱ over the 1000 training timesteps (rescaled), and the N timesteps of a run.
struct CogVideoXDpmSchedule {
  std::vector<double> alphas_cumprod;  // [1000]
  std::vector<int64_t> timesteps;      // [N], decreasing ("trailing")
};
// Throws std::invalid_argument for steps outside 1 … 1000.
CogVideoXDpmSchedule make_cogvideox_dpm_schedule(int64_t steps);

class CogVideoXDpmSampler final : public FlowSampler {
 public:
  // `generator`: the CPU generator the initial noise came from (shared: the sampler draws its noise after it).
  CogVideoXDpmSampler(int64_t steps, at::Generator generator);
  std::string name() const override { return "cogvideox-dpm"; }
  // `velocity` is the model's (guided) v-prediction at the current timestep.
  at::Tensor step(const at::Tensor& velocity, const at::Tensor& sample) override;
  int64_t steps_taken() const override { return index_; }
  // timesteps as above; sigmas[i] = √(1 − ᾱ) of timestep i (the noise level), sigmas[N] = 0.
  const FlowSchedule& schedule() const override { return schedule_; }

 private:
  CogVideoXDpmSchedule tables_;
  FlowSchedule schedule_;
  at::Generator generator_;
  int64_t index_ = 0;
  at::Tensor x0_previous_;  // the previous step's data prediction
};

}  // namespace svdit::runtime
