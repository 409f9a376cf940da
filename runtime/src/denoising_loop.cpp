// The stepwise denoising loop: guidance, then the sampler update (see denoising_loop.h).

#include "svdit/runtime/denoising_loop.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace svdit::runtime {

DenoisingLoop::DenoisingLoop(at::Tensor noise, Conditioning conditioning, std::unique_ptr<FlowSampler> sampler,
                             std::unique_ptr<Guidance> guidance)
    : latents_(std::move(noise)),
      conditioning_(std::move(conditioning)),
      sampler_(std::move(sampler)),
      guidance_(std::move(guidance)) {
  if (!latents_.defined()) throw std::invalid_argument("DenoisingLoop: no initial noise");
  if (!sampler_) throw std::invalid_argument("DenoisingLoop: no sampler");
  if (!guidance_) throw std::invalid_argument("DenoisingLoop: no guidance rule");
  if (sampler_->steps_taken() != 0) {
    throw std::invalid_argument("DenoisingLoop: the " + sampler_->name() + " sampler has already taken " +
                                std::to_string(sampler_->steps_taken()) + " steps");
  }
}

at::Tensor model_timestep(const FlowSchedule& schedule, int64_t step) {
  if (step < 0 || step >= schedule.steps()) {
    throw std::out_of_range("model timestep: step " + std::to_string(step) + " outside [0, " +
                            std::to_string(schedule.steps()) + ")");
  }
  const auto at = static_cast<size_t>(step);
  if (schedule.fractional_timesteps) {
    const auto sigma = static_cast<float>(schedule.sigmas[at]);  // exact: such a schedule holds float32 sigmas
    return at::full({1}, sigma * 1000.0f, at::TensorOptions().dtype(at::kFloat));  // [1]
  }
  return at::full({1}, schedule.timesteps[at], at::TensorOptions().dtype(at::kLong));  // [1]
}

at::Tensor DenoisingLoop::timestep() const {
  if (done()) {
    throw std::logic_error("DenoisingLoop: all " + std::to_string(steps()) + " steps are taken; no next timestep");
  }
  return model_timestep(sampler_->schedule(), next_step());  // [1]
}

const at::Tensor& DenoisingLoop::step(const Denoiser& denoise) {
  const at::Tensor t = timestep();  // [1]; throws when done
  const at::Tensor prediction = guidance_->predict(denoise, {next_step(), latents_, t, conditioning_});
  latents_ = sampler_->step(prediction, latents_);  // [1, C, T, H, W]
  return latents_;
}

}  // namespace svdit::runtime
