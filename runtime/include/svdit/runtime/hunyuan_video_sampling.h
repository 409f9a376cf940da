#pragma once
// A HunyuanVideo sampling run as diffusers' HunyuanVideoPipeline runs it, on the project's one denoising loop
// (denoising_loop.h):
//   - schedule: FlowMatchEulerDiscreteScheduler(shift) given the pipeline's sigmas linspace(1, 0, N + 1)[:N]:
//     σ'_i = s·σ_i / (1 + (s − 1)·σ_i) in fp32 (numpy's float32 arithmetic, so the figures are diffusers' bit for
//     bit), final σ = 0; the model takes the FRACTIONAL timestep t_i = 1000·σ'_i (fp32: the schedule's
//     fractional_timesteps, applied by DenoisingLoop::timestep); FlowSchedule::timesteps holds ⌊t_i⌋ for reports;
//   - sampler: the Euler sampler (flow_sampler.h), x_{i+1} = x_i + (σ_{i+1} − σ_i)·v_i — the scheduler's step;
//   - guidance: embedded — one conditional forward per step with the guidance scale g fed to the model as 1000·g
//     (TextInputs::guidance, the guidance-distilled release); classifier-free guidance only when true_cfg > 1 and a
//     negative conditioning is given (the pipeline's true_cfg_scale), v = v_u + true_cfg·(v_c − v_u), both
//     forwards with the same embedded g.
// Noise: [1, C, T, H, W] fp32 from a CPU generator seeded with `seed` (the same latents on any device).

#include <cstdint>

#include <c10/core/Device.h>

#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/guidance.h"
#include "svdit/runtime/hunyuan_video_config.h"
#include "svdit/runtime/model_family.h"

namespace svdit::runtime {

// The released scheduler_config.json's shift and the pipeline's guidance_scale default.
inline constexpr double kHunyuanVideoShift = 7.0;
inline constexpr double kHunyuanVideoGuidance = 6.0;

// The schedule above (fractional_timesteps set). Throws std::invalid_argument for steps < 1 or shift ≤ 0.
FlowSchedule hunyuan_video_schedule(int64_t steps, double shift);

// The loop of one video: seeded noise, the Euler sampler over hunyuan_video_schedule(options.steps, options.shift),
// the guidance rule above; the embedded guidance input of options.guidance is set on both branches' TextInputs
// (when the config embeds guidance). Throws std::invalid_argument when in_channels ≠ out_channels, for a sampler
// other than euler/auto, or for bad options.
DenoisingLoop make_hunyuan_video_loop(const HunyuanVideoConfig& config, const VideoGeometry& geometry,
                                      Conditioning conditioning, const SamplingOptions& options, at::Device device);

}  // namespace svdit::runtime
