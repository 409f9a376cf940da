#pragma once
// A whole text-to-video sampling run (any family: sample_video(const Model&, …); the Wan2.1 pieces below): the denoising loop (denoising_loop.h) composed from SamplingOptions —
// seeded Gaussian noise, the flow schedule and sampler, the guidance rule (guidance.h: one conditional forward,
// and one unconditional forward for classifier-free guidance, v = v_u + g·(v_c − v_u), as two separate B = 1
// forwards like the reference) — with the WanModel as its denoiser, run to the end.
// Deterministic: the noise comes from a CPU generator seeded with `seed` (the same latents on any device), and
// the model itself has no randomness.

#include <cstdint>
#include <functional>
#include <string>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/guidance.h"
#include "svdit/runtime/wan_model.h"

namespace svdit::runtime {

// SamplingOptions (steps, shift, guidance, seed, sampler): model_family.h.

struct StepReport {
  int64_t step = 0;   // 0-based, just finished
  int64_t steps = 0;  // total
  double sigma = 0;   // the σ this step started from
  int64_t timestep = 0;
  double seconds = 0;           // wall time of this step (forwards + sampler step, device synchronised)
  const at::Tensor& latents;    // the sample after the step, [1, C, T, H, W] fp32
};

struct SamplingHooks {
  AttentionBackend* attention = nullptr;  // null: dense
  AttentionObserver* observer = nullptr;  // sees every self-attention layer of every forward
  std::function<void(const StepReport&)> on_step;
};

// The initial noise of a run: [1, in_dim, T, H, W] fp32 on `device`, from a CPU generator seeded with `seed`.
at::Tensor initial_noise(const WanConfig& config, const VideoGeometry& geometry, uint64_t seed, at::Device device);

// The loop of one Wan2.1 video: initial_noise(seed), make_sampler(options.sampler; "auto": unipc) over the flow
// schedule (steps, shift), make_guidance(options.guidance, negative context given). Throws std::invalid_argument when the
// model's in_dim ≠ out_dim (the velocity could not update the latents) or for bad options.
DenoisingLoop make_denoising_loop(const WanConfig& config, const VideoGeometry& geometry, Conditioning conditioning,
                                  const SamplingOptions& options, at::Device device);

// The WanModel as the loop's denoiser: model_denoiser (model_family.h) of a WanModel.
Denoiser wan_denoiser(const WanModel& model, AttentionBackend* attention, AttentionObserver* conditional_observer,
                      AttentionObserver* unconditional_observer);

// A whole sampling run of any family: model.denoising_loop(geometry, conditioning, options) stepped to the end
// with model_denoiser(hooks). Returns the final latents (model.latent_shape(geometry), fp32, on the model's device).
at::Tensor sample_video(const Model& model, const VideoGeometry& geometry, Conditioning conditioning,
                        const SamplingOptions& options, const SamplingHooks& hooks = {});

// The same for a Wan2.1 model. context / negative_context: [1, text_len, text_dim] (see text_embeddings.h).
// `negative_context` may be an undefined tensor: then no guidance is applied whatever options.guidance says. Returns the final latents
// [1, out_dim, T, H, W] fp32 on the model's device.
at::Tensor sample_video(const WanModel& model, const VideoGeometry& geometry, const at::Tensor& context,
                        const at::Tensor& negative_context, const SamplingOptions& options,
                        const SamplingHooks& hooks = {});

}  // namespace svdit::runtime
