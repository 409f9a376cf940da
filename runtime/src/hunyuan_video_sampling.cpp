// HunyuanVideo sampling: diffusers' flow-match Euler schedule, embedded guidance, on the one denoising loop (see
// hunyuan_video_sampling.h).

#include "svdit/runtime/hunyuan_video_sampling.h"

#include <ATen/ATen.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "svdit/data/size_limits.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/flow_sampler.h"

namespace svdit::runtime {

FlowSchedule hunyuan_video_schedule(int64_t steps, double shift) {
  if (steps < 1 || steps > data::kMaxSamplingSteps) {
    throw std::invalid_argument("--steps: expected 1 to " + std::to_string(data::kMaxSamplingSteps) + ", found " +
                                std::to_string(steps));
  }
  if (!(shift > 0)) throw std::invalid_argument("--shift: expected a positive number, found " + std::to_string(shift));
  // The pipeline: sigmas = np.linspace(1.0, 0.0, N + 1)[:-1] (fp64: i·step + start), then the scheduler casts them
  // to float32 and shifts them in float32 (numpy 2's rules: a Python float meets a float32 array as float32).
  const double step = (0.0 - 1.0) / static_cast<double>(steps);
  const auto s = static_cast<float>(shift), s_minus_1 = static_cast<float>(shift - 1.0);
  FlowSchedule schedule;
  for (int64_t i = 0; i < steps; ++i) {
    const auto sigma = static_cast<float>(static_cast<double>(i) * step + 1.0);
    const float shifted = s * sigma / (1.0f + s_minus_1 * sigma);
    schedule.sigmas.push_back(static_cast<double>(shifted));
    schedule.timesteps.push_back(static_cast<int64_t>(shifted * 1000.0f));  // ⌊t⌋, for reports
  }
  schedule.sigmas.push_back(0.0);
  return schedule;
}

at::Tensor hunyuan_video_timestep(const FlowSchedule& schedule, int64_t step) {
  if (step < 0 || step >= schedule.steps()) {
    throw std::out_of_range("hunyuan_video_timestep: step " + std::to_string(step) + " outside [0, " +
                            std::to_string(schedule.steps()) + ")");
  }
  const auto sigma = static_cast<float>(schedule.sigmas[static_cast<size_t>(step)]);  // exact: it was a float
  return at::full({1}, sigma * 1000.0f, at::TensorOptions().dtype(at::kFloat));        // [1]
}

at::Tensor hunyuan_video_guidance_input(const HunyuanVideoConfig& config, double scale) {
  if (!config.guidance_embeds) return {};
  return at::full({1}, static_cast<float>(scale) * 1000.0f, at::TensorOptions().dtype(at::kFloat));  // [1]
}

Denoiser hunyuan_video_denoiser(const HunyuanVideoModel& model, const HunyuanVideoPrompt& positive,
                                const HunyuanVideoPrompt* negative, FlowSchedule schedule, double guidance_scale,
                                AttentionBackend* attention, AttentionObserver* conditional_observer,
                                AttentionObserver* unconditional_observer) {
  const at::Tensor guidance = hunyuan_video_guidance_input(model.config(), guidance_scale);
  return [&model, &positive, negative, schedule = std::move(schedule), guidance, attention, conditional_observer,
          unconditional_observer](const DenoiserCall& call) {
    const bool conditional = call.branch == CfgBranch::conditional;
    if (!conditional && negative == nullptr) {
      throw std::invalid_argument("HunyuanVideo: an unconditional forward without a negative prompt");
    }
    const HunyuanVideoPrompt& prompt = conditional ? positive : *negative;
    const ForwardOptions forward{call.step, call.branch, attention,
                                 conditional ? conditional_observer : unconditional_observer};
    return model.forward(call.latents, hunyuan_video_timestep(schedule, call.step), call.context.embeddings,
                         prompt.pooled.unsqueeze(0), guidance, forward);  // [1, C, T, H, W]
  };
}

DenoisingLoop make_hunyuan_video_loop(const HunyuanVideoConfig& config, const VideoGeometry& g,
                                      const HunyuanVideoPrompt& positive, const HunyuanVideoPrompt* negative,
                                      const HunyuanVideoSamplingOptions& options, at::Device device) {
  if (config.in_channels != config.out_channels) {
    throw std::invalid_argument("sampling: in_channels " + std::to_string(config.in_channels) + " ≠ out_channels " +
                                std::to_string(config.out_channels) + ": the velocity cannot update the latents");
  }
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const at::Tensor noise = at::randn({1, config.in_channels, g.latent_frames, g.latent_height, g.latent_width},
                                     generator, at::TensorOptions().dtype(at::kFloat));  // [1, C, T, H, W]
  const bool cfg = options.true_cfg > 1.0 && negative != nullptr;
  Conditioning conditioning{positive.text.unsqueeze(0), cfg ? negative->text.unsqueeze(0) : at::Tensor()};
  std::unique_ptr<Guidance> guidance;
  if (cfg) {
    guidance = std::make_unique<ClassifierFreeGuidance>(options.true_cfg);
  } else {
    guidance = std::make_unique<ConditionalOnly>();  // embedded guidance: one forward per step
  }
  return DenoisingLoop(noise.to(device), std::move(conditioning),
                       std::make_unique<EulerSampler>(hunyuan_video_schedule(options.steps, options.shift)),
                       std::move(guidance));
}

at::Tensor sample_hunyuan_video(const HunyuanVideoModel& model, const VideoGeometry& g,
                                const HunyuanVideoPrompt& positive, const HunyuanVideoPrompt* negative,
                                const HunyuanVideoSamplingOptions& options, const SamplingHooks& hooks) {
  const at::Device device = model.device();
  DenoisingLoop loop = make_hunyuan_video_loop(model.config(), g, positive, negative, options, device);
  const FlowSchedule& schedule = loop.sampler().schedule();
  const Denoiser denoise = hunyuan_video_denoiser(model, positive, negative, schedule, options.guidance,
                                                  hooks.attention, hooks.observer, hooks.observer);
  while (!loop.done()) {
    const auto started = std::chrono::steady_clock::now();
    const int64_t i = loop.next_step();
    const at::Tensor& x = loop.step(denoise);  // [1, C, T, H, W]
    if (hooks.on_step) {
      synchronize(device);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const auto at = static_cast<size_t>(i);
      hooks.on_step(StepReport{i, loop.steps(), schedule.sigmas[at], schedule.timesteps[at], seconds, x});
    }
  }
  return loop.latents();
}

}  // namespace svdit::runtime
