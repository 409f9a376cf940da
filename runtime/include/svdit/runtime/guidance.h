#pragma once
// What the denoising loop (denoising_loop.h) asks the model at one step, and the rule that turns the answers into
// the one prediction the sampler steps with.
//
// A Denoiser is the model seen from the loop: one call is one forward of one branch (for Wan2.1 one
// WanModel::forward, sampling.h wan_denoiser). A Guidance decides which forwards a step needs and how they
// combine: ConditionalOnly runs the conditional branch alone; ClassifierFreeGuidance runs the conditional and then
// the unconditional branch and returns v = v_u + g·(v_c − v_u). A model family with another rule (guidance embedded
// in the model input, a guidance schedule) is another Guidance; the loop stays the same.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/attention_backend.h"

namespace svdit::runtime {

// One branch's conditioning, as a model family's forward takes it (model_family.h TextSpec says which parts a
// family needs). Built implicitly from the embeddings alone, the whole conditioning of Wan2.1 and CogVideoX1.5.
struct TextInputs {
  at::Tensor embeddings;  // [1, text_len, text_dim]
  at::Tensor pooled;      // [1, pooled_dim]: a pooled text vector (HunyuanVideo's CLIP); undefined when not used
  at::Tensor mask;        // [1, text_len] bool, true = a valid token; undefined: every row is attended
  // [1] fp32: the embedded guidance input of a guidance-distilled family (HunyuanVideo: embedded_guidance_input(g));
  // undefined for a family without one. The family's denoising_loop() sets it from SamplingOptions::guidance.
  at::Tensor guidance;

  TextInputs() = default;
  TextInputs(at::Tensor text_embeddings) : embeddings(std::move(text_embeddings)) {}  // NOLINT: implicit on purpose
  bool defined() const { return embeddings.defined(); }
};

// The text conditioning of one sampled video. `negative_context` is the unconditional branch's conditioning;
// undefined when there is none.
struct Conditioning {
  TextInputs context;
  TextInputs negative_context;
};

// One forward the loop asks for.
struct DenoiserCall {
  int64_t step;                // the loop's step index (the plan's schedule and the observers are keyed by it)
  CfgBranch branch;            // which branch this forward computes
  const at::Tensor& latents;   // [1, C, T, H, W] fp32: the sample at this step
  const at::Tensor& timestep;  // [1]: the model timestep of this step (DenoisingLoop::timestep: int64, or fp32)
  const TextInputs& context;   // this branch's conditioning
};

// The model's prediction for one call: [1, C, T, H, W] fp32 (for Wan2.1 the flow velocity).
using Denoiser = std::function<at::Tensor(const DenoiserCall&)>;

// One step's input to a guidance rule.
struct GuidanceInput {
  int64_t step;
  const at::Tensor& latents;   // [1, C, T, H, W] fp32
  const at::Tensor& timestep;  // [1], as DenoiserCall::timestep
  const Conditioning& conditioning;
};

class Guidance {
 public:
  virtual ~Guidance() = default;
  virtual std::string name() const = 0;
  // The guided prediction of this step, from the forwards of `denoise` this rule needs, in a fixed order.
  virtual at::Tensor predict(const Denoiser& denoise, const GuidanceInput& input) const = 0;
};

// The conditional branch alone: one forward per step.
class ConditionalOnly final : public Guidance {
 public:
  std::string name() const override { return "conditional"; }
  at::Tensor predict(const Denoiser& denoise, const GuidanceInput& input) const override;
};

// Classifier-free guidance with scale g: the conditional forward, then the unconditional one (two B = 1 forwards,
// as the reference runs them), v = v_u + g·(v_c − v_u). Throws std::invalid_argument when the conditioning has no
// negative context.
class ClassifierFreeGuidance final : public Guidance {
 public:
  explicit ClassifierFreeGuidance(double scale) : scale_(scale) {}
  std::string name() const override { return "cfg"; }
  double scale() const { return scale_; }
  at::Tensor predict(const Denoiser& denoise, const GuidanceInput& input) const override;

 private:
  double scale_;
};

// The embedded guidance input of a guidance-distilled model for scale g: [1] fp32 float32(g)·1000, as
// HunyuanVideoPipeline computes it (torch.tensor([g]) * 1000.0).
at::Tensor embedded_guidance_input(double scale);

// The rule of a Wan2.1 run: classifier-free guidance with `scale` when there is a negative conditioning and
// scale ≠ 1, the conditional branch alone otherwise (g = 1 makes both the same; the second forward is skipped).
std::unique_ptr<Guidance> make_guidance(double scale, bool has_negative_context);

}  // namespace svdit::runtime
