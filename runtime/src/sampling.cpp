// A Wan2.1 sampling run: the denoising loop composed from SamplingOptions and run to the end (see sampling.h).

#include "svdit/runtime/sampling.h"

#include <ATen/ATen.h>

#include <chrono>

#include "svdit/runtime/device.h"
#include "svdit/runtime/flow_sampler.h"
#include "svdit/runtime/flow_schedule.h"

namespace svdit::runtime {

at::Tensor initial_noise(const WanConfig& config, const VideoGeometry& g, uint64_t seed, at::Device device) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor noise = at::randn({1, config.in_dim, g.latent_frames, g.latent_height, g.latent_width}, generator,
                                     at::TensorOptions().dtype(at::kFloat));  // [1, C, T, H, W]
  return noise.to(device);
}

DenoisingLoop make_denoising_loop(const WanConfig& config, const VideoGeometry& g, Conditioning conditioning,
                                  const SamplingOptions& options, at::Device device) {
  if (config.in_dim != config.out_dim) {
    throw std::invalid_argument("sampling: in_dim " + std::to_string(config.in_dim) + " ≠ out_dim " +
                                std::to_string(config.out_dim) + ": the velocity cannot update the latents");
  }
  const std::string sampler_name = options.sampler == "auto" ? "unipc" : options.sampler;  // Wan2.1's own
  std::unique_ptr<FlowSampler> sampler = make_sampler(sampler_name, make_flow_schedule(options.steps, options.shift));
  std::unique_ptr<Guidance> guidance = make_guidance(options.guidance, conditioning.negative_context.defined());
  return DenoisingLoop(initial_noise(config, g, options.seed, device), std::move(conditioning), std::move(sampler),
                       std::move(guidance));
}

Denoiser wan_denoiser(const WanModel& model, AttentionBackend* attention, AttentionObserver* conditional_observer,
                      AttentionObserver* unconditional_observer) {
  return model_denoiser(model, attention, conditional_observer, unconditional_observer);
}

at::Tensor sample_video(const Model& model, const VideoGeometry& g, Conditioning conditioning,
                        const SamplingOptions& options, const SamplingHooks& hooks) {
  const at::Device device = model.device();
  DenoisingLoop loop = model.denoising_loop(g, std::move(conditioning), options);
  const Denoiser denoise = model_denoiser(model, hooks.attention, hooks.observer, hooks.observer);
  const FlowSchedule& schedule = loop.sampler().schedule();
  while (!loop.done()) {
    const auto started = std::chrono::steady_clock::now();
    const int64_t i = loop.next_step();
    const at::Tensor& x = loop.step(denoise);  // the latents' shape
    if (hooks.on_step) {
      synchronize(device);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const auto at = static_cast<size_t>(i);
      hooks.on_step(StepReport{i, loop.steps(), schedule.sigmas[at], schedule.timesteps[at], seconds, x});
    }
  }
  return loop.latents();
}

at::Tensor sample_video(const WanModel& model, const VideoGeometry& g, const at::Tensor& context,
                        const at::Tensor& negative_context, const SamplingOptions& options,
                        const SamplingHooks& hooks) {
  return sample_video(static_cast<const Model&>(model), g, Conditioning{context, negative_context}, options, hooks);
}

}  // namespace svdit::runtime
