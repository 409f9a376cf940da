// One svdit profile run: the prompts' denoising loops, side by side, driving a ProfileSession (profile_run.h).

#include "svdit/profiler/profile_run.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>

#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/model_family.h"

namespace svdit::profiler {

namespace rt = svdit::runtime;

namespace {

// Hands every conditional self-attention layer it sees to `callback` (the session's calibrate or observe).
class ConditionalObserver final : public rt::AttentionObserver {
 public:
  std::function<void(const rt::SelfAttentionEvent&)> callback;
  void on_self_attention(const rt::SelfAttentionEvent& event) override {
    if (event.call.branch == rt::CfgBranch::conditional) callback(event);
  }
};

}  // namespace

data::ProfileMeta make_profile_meta(const rt::Model& model, const rt::VideoGeometry& geometry,
                                    const std::vector<PromptInput>& prompts, const ProfileRunOptions& options) {
  const data::PlanModel shape = model.plan_model();
  data::ProfileMeta meta;
  meta.model = shape.name;
  meta.family = shape.family;
  meta.layers = shape.layers;
  meta.heads = shape.heads;
  meta.head_dim = shape.head_dim;
  meta.layout = model.token_layout(geometry, options.block_size);
  meta.dtype = profile_dtype_name(model.compute_dtype());
  meta.sampling_steps = options.sampling.steps;
  const rt::FlowSchedule schedule = model.schedule(options.sampling);
  meta.steps = options.profile_steps;
  for (const int64_t s : meta.steps) {
    if (s < 0 || s >= schedule.steps()) {
      throw std::invalid_argument("profile: profiled step " + std::to_string(s) + " outside [0, " +
                                  std::to_string(schedule.steps()) + ")");
    }
    meta.timesteps.push_back(static_cast<double>(schedule.timesteps[static_cast<size_t>(s)]));
  }
  for (const PromptInput& p : prompts) meta.prompts.push_back(p.label);
  data::validate(meta, "profile options");
  return meta;
}

// The prompts are sampled side by side, one denoising loop each, up to the session's last step with work left:
// at a profiled step, first (default candidates, first profiled step) an extra conditional forward of every
// prompt for the top_k calibration, then every prompt's step with its conditional forward observed, then
// end_step() writes the step's maps.
ProfileRunReport run_profile(const rt::Model& model, const rt::VideoGeometry& geometry,
                             const std::vector<PromptInput>& prompts, const rt::TextInputs& negative_context,
                             const ProfileRunOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  if (prompts.empty()) throw std::invalid_argument("profile: no prompt (give --prompt at least once)");
  if (options.profile_steps.empty()) throw std::invalid_argument("profile: no step to profile (--profile-steps)");
  ProfileSessionOptions session_options = options;
  session_options.seed = options.sampling.seed;
  ProfileSession session(make_profile_meta(model, geometry, prompts, options), model.device(),
                         model.compute_dtype(), std::move(session_options));

  std::vector<rt::DenoisingLoop> loops;  // [prompt]
  for (const PromptInput& prompt : prompts) {
    loops.push_back(model.denoising_loop(geometry, {prompt.context, negative_context}, options.sampling));
  }
  const std::vector<int64_t>& steps = session.meta().steps;
  const rt::Denoiser unobserved = rt::model_denoiser(model, nullptr, nullptr, nullptr);
  for (int64_t i = 0; i <= session.last_step(); ++i) {
    if (std::find(steps.begin(), steps.end(), i) == steps.end()) {
      for (rt::DenoisingLoop& loop : loops) loop.step(unobserved);
      continue;
    }
    if (session.calibrating()) {
      ConditionalObserver calibration;
      calibration.callback = [&](const rt::SelfAttentionEvent& e) { session.calibrate(e.q, e.k); };
      const rt::Denoiser observed = rt::model_denoiser(model, nullptr, &calibration, nullptr);
      for (const rt::DenoisingLoop& loop : loops) {
        const at::Tensor timestep = loop.timestep();  // [1]
        static_cast<void>(observed({i, rt::CfgBranch::conditional, loop.latents(), timestep, loop.conditioning().context}));
      }
      session.end_calibration();
    }
    for (size_t p = 0; p < loops.size(); ++p) {
      const auto prompt = static_cast<int64_t>(p);
      ConditionalObserver observer;
      observer.callback = [&](const rt::SelfAttentionEvent& e) {
        session.observe(prompt, i, e.call.layer, e.q, e.k, e.v);
      };
      const bool wanted = session.wants(prompt, i);
      loops[p].step(rt::model_denoiser(model, nullptr, wanted ? &observer : nullptr, nullptr));
    }
    session.end_step(i);
  }
  ProfileRunReport report = session.finish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace svdit::profiler
