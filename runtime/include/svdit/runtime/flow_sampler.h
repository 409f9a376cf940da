#pragma once
// Solvers of the flow ODE dx/dσ = v(x, σ) over a FlowSchedule. A sampler is stateful (multistep history): call
// step() once per schedule step, in order, with the (guided) velocity the model predicted at sigmas[i]. The
// sampler owns its schedule: the denoising loop (denoising_loop.h) asks it for the steps and timesteps, so a
// sampler with another schedule (another model family) plugs into the same loop.
//   euler: x_{i+1} = x_i + (σ_{i+1} − σ_i)·v_i.
//   unipc: UniPC multistep (Zhao et al. 2023) as Wan2.1's FlowUniPCMultistepScheduler runs it: order 2, B(h) =
//          e^h − 1 ("bh2"), data prediction x0̂ = x − σ·v, predictor UniP-2 with ρ = ½ and corrector UniC after
//          every step but the first, order 1 in the first step (warm-up) and the last (lower_order_final), with
//          α = 1 − σ, λ = log α − log σ; the final σ = 0 step returns x0̂.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/flow_schedule.h"

namespace svdit::runtime {

class FlowSampler {
 public:
  virtual ~FlowSampler() = default;
  virtual std::string name() const = 0;
  // velocity, sample: [B, C, T, H, W] fp32. Returns the sample at sigmas[step + 1]. Throws std::logic_error when
  // called more than steps() times.
  virtual at::Tensor step(const at::Tensor& velocity, const at::Tensor& sample) = 0;
  virtual int64_t steps_taken() const = 0;
  virtual const FlowSchedule& schedule() const = 0;
};

class EulerSampler final : public FlowSampler {
 public:
  explicit EulerSampler(FlowSchedule schedule) : schedule_(std::move(schedule)) {}
  std::string name() const override { return "euler"; }
  at::Tensor step(const at::Tensor& velocity, const at::Tensor& sample) override;
  int64_t steps_taken() const override { return index_; }
  const FlowSchedule& schedule() const override { return schedule_; }

 private:
  FlowSchedule schedule_;
  int64_t index_ = 0;
};

class UniPcSampler final : public FlowSampler {
 public:
  explicit UniPcSampler(FlowSchedule schedule) : schedule_(std::move(schedule)) {}
  std::string name() const override { return "unipc"; }
  at::Tensor step(const at::Tensor& velocity, const at::Tensor& sample) override;
  int64_t steps_taken() const override { return index_; }
  const FlowSchedule& schedule() const override { return schedule_; }

 private:
  // λ(σ) = log(1 − σ) − log σ (half log-SNR); +∞ at σ = 0.
  double lambda(int64_t i) const;
  at::Tensor predict(const at::Tensor& sample, int order) const;  // UniP from sigmas[index_] to sigmas[index_ + 1]
  at::Tensor correct(const at::Tensor& x0_now, int order) const;  // UniC of the previous step's result

  FlowSchedule schedule_;
  int64_t index_ = 0;
  at::Tensor x0_previous_, x0_before_previous_;  // data predictions at steps index_−1 and index_−2
  at::Tensor last_sample_;                       // the (corrected) sample the previous predictor started from
  int last_order_ = 0;                           // the order the previous predictor used
};

// "euler" or "unipc" (also "uni_pc", "unipc2"); std::invalid_argument naming the option otherwise.
std::unique_ptr<FlowSampler> make_sampler(std::string_view name, FlowSchedule schedule);

}  // namespace svdit::runtime
