// The sampling loop: noise, guided velocity per step, sampler update (see sampling.h).

#include "svdit/runtime/sampling.h"

#include <ATen/ATen.h>

#include <chrono>

#include "svdit/runtime/device.h"
#include "svdit/runtime/flow_sampler.h"

namespace svdit::runtime {

at::Tensor initial_noise(const WanConfig& config, const VideoGeometry& g, uint64_t seed, at::Device device) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor noise = at::randn({1, config.in_dim, g.latent_frames, g.latent_height, g.latent_width}, generator,
                                     at::TensorOptions().dtype(at::kFloat));  // [1, C, T, H, W]
  return noise.to(device);
}

at::Tensor sample_video(const WanModel& model, const VideoGeometry& g, const at::Tensor& context,
                        const at::Tensor& negative_context, const SamplingOptions& options,
                        const SamplingHooks& hooks) {
  const WanConfig& config = model.config();
  if (config.in_dim != config.out_dim) {
    throw std::invalid_argument("sample_video: in_dim " + std::to_string(config.in_dim) + " ≠ out_dim " +
                                std::to_string(config.out_dim) + ": the velocity cannot update the latents");
  }
  const FlowSchedule schedule = make_flow_schedule(options.steps, options.shift);
  std::unique_ptr<FlowSampler> sampler = make_sampler(options.sampler, schedule);
  const at::Device device = model.device();
  const bool guided = negative_context.defined() && options.guidance != 1.0;

  at::Tensor x = initial_noise(config, g, options.seed, device);  // [1, C, T, H, W]
  for (int64_t i = 0; i < schedule.steps(); ++i) {
    const auto started = std::chrono::steady_clock::now();
    const int64_t t = schedule.timesteps[static_cast<size_t>(i)];
    const at::Tensor timestep = at::full({1}, t, at::TensorOptions().dtype(at::kLong));  // [1]
    ForwardOptions forward{i, CfgBranch::conditional, hooks.attention, hooks.observer};
    at::Tensor v = model.forward(x, timestep, context, forward);  // [1, C, T, H, W]
    if (guided) {
      forward.branch = CfgBranch::unconditional;
      const at::Tensor v_uncond = model.forward(x, timestep, negative_context, forward);  // [1, C, T, H, W]
      v = v_uncond + options.guidance * (v - v_uncond);
    }
    x = sampler->step(v, x);
    if (hooks.on_step) {
      synchronize(device);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      hooks.on_step(StepReport{i, schedule.steps(), schedule.sigmas[static_cast<size_t>(i)], t, seconds, x});
    }
  }
  return x;
}

}  // namespace svdit::runtime
