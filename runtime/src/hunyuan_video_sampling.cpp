// HunyuanVideo sampling: diffusers' flow-match Euler schedule, embedded guidance, on the one denoising loop (see
// hunyuan_video_sampling.h).

#include "svdit/runtime/hunyuan_video_sampling.h"

#include <ATen/ATen.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include "svdit/data/size_limits.h"
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
  schedule.fractional_timesteps = true;
  for (int64_t i = 0; i < steps; ++i) {
    const auto sigma = static_cast<float>(static_cast<double>(i) * step + 1.0);
    const float shifted = s * sigma / (1.0f + s_minus_1 * sigma);
    schedule.sigmas.push_back(static_cast<double>(shifted));
    schedule.timesteps.push_back(static_cast<int64_t>(shifted * 1000.0f));  // ⌊t⌋, for reports
  }
  schedule.sigmas.push_back(0.0);
  return schedule;
}

DenoisingLoop make_hunyuan_video_loop(const HunyuanVideoConfig& config, const VideoGeometry& g,
                                      Conditioning conditioning, const SamplingOptions& options, at::Device device) {
  if (options.sampler != "auto" && options.sampler != "euler") {
    throw std::invalid_argument("--sampler: HunyuanVideo samples with euler (its pipeline's flow-match Euler "
                                "scheduler), found \"" + options.sampler + "\"");
  }
  if (config.in_channels != config.out_channels) {
    throw std::invalid_argument("sampling: in_channels " + std::to_string(config.in_channels) + " ≠ out_channels " +
                                std::to_string(config.out_channels) + ": the velocity cannot update the latents");
  }
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const at::Tensor noise = at::randn({1, config.in_channels, g.latent_frames, g.latent_height, g.latent_width},
                                     generator, at::TensorOptions().dtype(at::kFloat));  // [1, C, T, H, W]
  const bool cfg = options.true_cfg > 1.0 && conditioning.negative_context.defined();
  if (!cfg) conditioning.negative_context = TextInputs();  // embedded guidance: one forward per step
  const at::Tensor guidance = config.guidance_embeds ? embedded_guidance_input(options.guidance) : at::Tensor();
  conditioning.context.guidance = guidance;
  if (cfg) conditioning.negative_context.guidance = guidance;
  std::unique_ptr<Guidance> rule;
  if (cfg) {
    rule = std::make_unique<ClassifierFreeGuidance>(options.true_cfg);
  } else {
    rule = std::make_unique<ConditionalOnly>();
  }
  return DenoisingLoop(noise.to(device), std::move(conditioning),
                       std::make_unique<EulerSampler>(hunyuan_video_schedule(options.steps, options.shift)),
                       std::move(rule));
}

}  // namespace svdit::runtime
