#pragma once
// A HunyuanVideo sampling run as diffusers' HunyuanVideoPipeline runs it, on the project's one denoising loop
// (denoising_loop.h):
//   - schedule: FlowMatchEulerDiscreteScheduler(shift) given the pipeline's sigmas linspace(1, 0, N + 1)[:N]:
//     σ'_i = s·σ_i / (1 + (s − 1)·σ_i) in fp32 (numpy's float32 arithmetic, so the figures are diffusers' bit for
//     bit), final σ = 0; the model takes the FRACTIONAL timestep t_i = 1000·σ'_i (fp32). FlowSchedule::timesteps
//     holds ⌊t_i⌋ for reports and observers; the denoiser feeds the model t_i itself;
//   - sampler: the Euler sampler (flow_sampler.h), x_{i+1} = x_i + (σ_{i+1} − σ_i)·v_i — the scheduler's step;
//   - guidance: embedded — one conditional forward per step with the guidance scale g fed to the model as 1000·g
//     (the guidance-distilled release); classifier-free guidance only when true_cfg > 1 and a negative prompt is
//     given (the pipeline's true_cfg_scale), v = v_u + true_cfg·(v_c − v_u), both forwards with the same embedded g.
// Noise: [1, C, T, H, W] fp32 from a CPU generator seeded with `seed` (the same latents on any device).

#include <cstdint>
#include <functional>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/guidance.h"
#include "svdit/runtime/hunyuan_video_model.h"
#include "svdit/runtime/hunyuan_video_prompt.h"
#include "svdit/runtime/sampling.h"  // SamplingHooks, StepReport (family-neutral)

namespace svdit::runtime {

struct HunyuanVideoSamplingOptions {
  int64_t steps = 50;
  double shift = 7.0;     // the released scheduler_config.json's shift
  double guidance = 6.0;  // embedded guidance scale (the pipeline's guidance_scale default)
  double true_cfg = 1.0;  // the pipeline's true_cfg_scale: > 1 with a negative prompt runs CFG
  uint64_t seed = 0;
};

// The schedule above. Throws std::invalid_argument for steps < 1 or shift ≤ 0.
FlowSchedule hunyuan_video_schedule(int64_t steps, double shift);

// The model timestep of a step: 1000·σ_step in fp32, as the scheduler's `timesteps` holds it; [1] fp32 CPU.
at::Tensor hunyuan_video_timestep(const FlowSchedule& schedule, int64_t step);

// The embedded guidance input of the model for scale g: float32(g)·1000 as the pipeline computes it; [1] fp32 CPU
// (undefined when the config has no guidance embedder).
at::Tensor hunyuan_video_guidance_input(const HunyuanVideoConfig& config, double scale);

// The model as the loop's denoiser. The call's `context` is the branch's text ([1, N, text_embed_dim]: the valid
// tokens, as the loop's Conditioning holds them); the pooled vector is the branch's prompt's; the timestep is
// hunyuan_video_timestep(schedule, call.step). The model, prompts, backend and observers must outlive it.
Denoiser hunyuan_video_denoiser(const HunyuanVideoModel& model, const HunyuanVideoPrompt& positive,
                                const HunyuanVideoPrompt* negative, FlowSchedule schedule, double guidance_scale,
                                AttentionBackend* attention, AttentionObserver* conditional_observer,
                                AttentionObserver* unconditional_observer);

// The loop of one video: seeded noise, the Euler sampler over hunyuan_video_schedule, the guidance rule above.
// Throws std::invalid_argument when in_channels ≠ out_channels or for bad options.
DenoisingLoop make_hunyuan_video_loop(const HunyuanVideoConfig& config, const VideoGeometry& geometry,
                                      const HunyuanVideoPrompt& positive, const HunyuanVideoPrompt* negative,
                                      const HunyuanVideoSamplingOptions& options, at::Device device);

// The loop run to the end. Returns the final latents [1, out_channels, T, H, W] fp32 on the model's device.
at::Tensor sample_hunyuan_video(const HunyuanVideoModel& model, const VideoGeometry& geometry,
                                const HunyuanVideoPrompt& positive, const HunyuanVideoPrompt* negative,
                                const HunyuanVideoSamplingOptions& options, const SamplingHooks& hooks = {});

}  // namespace svdit::runtime
