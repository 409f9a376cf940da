// The guidance rules: conditional only, classifier-free guidance (see guidance.h).

#include "svdit/runtime/guidance.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace svdit::runtime {

at::Tensor ConditionalOnly::predict(const Denoiser& denoise, const GuidanceInput& in) const {
  return denoise({in.step, CfgBranch::conditional, in.latents, in.timestep, in.conditioning.context});
}

at::Tensor ClassifierFreeGuidance::predict(const Denoiser& denoise, const GuidanceInput& in) const {
  if (!in.conditioning.negative_context.defined()) {
    throw std::invalid_argument("classifier-free guidance (scale " + std::to_string(scale_) +
                                "): no negative conditioning for the unconditional branch");
  }
  const at::Tensor v_cond = denoise({in.step, CfgBranch::conditional, in.latents, in.timestep,
                                     in.conditioning.context});  // [1, C, T, H, W]
  const at::Tensor v_uncond = denoise({in.step, CfgBranch::unconditional, in.latents, in.timestep,
                                       in.conditioning.negative_context});  // [1, C, T, H, W]
  return v_uncond + scale_ * (v_cond - v_uncond);
}

at::Tensor embedded_guidance_input(double scale) {
  return at::full({1}, static_cast<float>(scale) * 1000.0f, at::TensorOptions().dtype(at::kFloat));  // [1]
}

std::unique_ptr<Guidance> make_guidance(double scale, bool has_negative_context) {
  if (has_negative_context && scale != 1.0) return std::make_unique<ClassifierFreeGuidance>(scale);
  return std::make_unique<ConditionalOnly>();
}

}  // namespace svdit::runtime
