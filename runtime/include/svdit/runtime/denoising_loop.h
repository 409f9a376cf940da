#pragma once
// The one stepwise denoising loop of the project: a sample that starts as noise, then step() after step(), each
// asking a Denoiser for the forwards its Guidance needs and handing the guided prediction to its sampler.
//
//   DenoisingLoop loop(noise, {context, negative}, make_sampler("unipc", schedule), make_guidance(g, true));
//   while (!loop.done()) loop.step(denoise);   // loop.latents(): the result
//
// sample_video (sampling.h) is this loop run to the end; the profiler runs one loop per prompt, side by side, and
// measures inside the forwards of chosen steps. The pieces are separate so that a model family brings its own:
// the sampler (and with it the schedule: steps, timesteps), the guidance rule, and the denoiser (its model).

#include <cstdint>
#include <memory>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/flow_sampler.h"
#include "svdit/runtime/guidance.h"

namespace svdit::runtime {

// The model timestep of `step` of a schedule as the model takes it: [1] int64 timesteps[step], or with
// fractional_timesteps [1] fp32 float(σ_step)·1000 (the scheduler's float32 product). std::out_of_range outside
// [0, steps).
at::Tensor model_timestep(const FlowSchedule& schedule, int64_t step);

class DenoisingLoop {
 public:
  // noise: the initial sample [1, C, T, H, W] fp32 on the model's device (sampling.h initial_noise). The sampler
  // must not have stepped yet. Throws std::invalid_argument for an undefined noise or a null sampler or guidance.
  DenoisingLoop(at::Tensor noise, Conditioning conditioning, std::unique_ptr<FlowSampler> sampler,
                std::unique_ptr<Guidance> guidance);

  int64_t steps() const { return sampler_->schedule().steps(); }
  int64_t next_step() const { return sampler_->steps_taken(); }  // = the steps done
  bool done() const { return next_step() >= steps(); }

  const at::Tensor& latents() const { return latents_; }  // [1, C, T, H, W] fp32: the sample before next_step()
  // The model timestep of next_step() as the model takes it (model_timestep). Throws std::logic_error when done().
  at::Tensor timestep() const;
  const Conditioning& conditioning() const { return conditioning_; }
  const FlowSampler& sampler() const { return *sampler_; }
  const Guidance& guidance() const { return *guidance_; }

  // Takes next_step(): the guidance's forwards through `denoise` at the current latents and timestep, then the
  // sampler's update. Returns the new latents. Throws std::logic_error when done().
  const at::Tensor& step(const Denoiser& denoise);

 private:
  at::Tensor latents_;
  Conditioning conditioning_;
  std::unique_ptr<FlowSampler> sampler_;
  std::unique_ptr<Guidance> guidance_;
};

}  // namespace svdit::runtime
