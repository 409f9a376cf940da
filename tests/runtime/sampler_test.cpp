// Flow-matching sampling: the sigma schedule against the spec's formula; UniPC and Euler on flows with known
// solutions (an exact velocity: both land on x0; a Gaussian data distribution: both converge to the exact ODE
// solution, UniPC far faster); a whole sampling run is deterministic in its seed.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "runtime_test_support.h"
#include "svdit/runtime/flow_sampler.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/text_embeddings.h"

namespace svdit::runtime {
namespace {

TEST(FlowSchedule, MatchesTheSpecFormula) {
  for (const auto& [steps, shift] : {std::pair<int64_t, double>{50, 5.0}, {10, 3.0}, {7, 1.0}, {1, 8.0}}) {
    const FlowSchedule s = make_flow_schedule(steps, shift);
    ASSERT_EQ(s.sigmas.size(), static_cast<size_t>(steps + 1));
    ASSERT_EQ(s.timesteps.size(), static_cast<size_t>(steps));
    EXPECT_EQ(s.sigmas.back(), 0.0);
    for (int64_t i = 0; i < steps; ++i) {
      // σ_i = 0.999·(1 − i/N); σ' = s·σ/(1 + (s − 1)·σ); t = ⌊1000·σ'⌋.
      const double sigma = 0.999 * (1.0 - static_cast<double>(i) / static_cast<double>(steps));
      const double shifted = shift * sigma / (1.0 + (shift - 1.0) * sigma);
      EXPECT_NEAR(s.sigmas[static_cast<size_t>(i)], shifted, 1e-12) << "step " << i;
      EXPECT_EQ(s.timesteps[static_cast<size_t>(i)], static_cast<int64_t>(std::floor(1000.0 * shifted)));
    }
  }
  // The reference's first timestep for the defaults (50 steps, shift 5): ⌊1000 · 4.995/4.996⌋ = 999.
  EXPECT_EQ(make_flow_schedule(50, 5.0).timesteps[0], 999 * 5 * 1000 / (1000 + 4 * 999));
  EXPECT_THROW(make_flow_schedule(0, 5.0), std::invalid_argument);
  EXPECT_THROW(make_flow_schedule(10, 0.0), std::invalid_argument);
}

// Runs a sampler with a velocity field v(x, σ) given as a function.
template <typename Field>
at::Tensor solve(const std::string& name, int64_t steps, double shift, const at::Tensor& noise, Field field) {
  const FlowSchedule schedule = make_flow_schedule(steps, shift);
  std::unique_ptr<FlowSampler> sampler = make_sampler(name, schedule);
  at::Tensor x = noise;
  for (int64_t i = 0; i < steps; ++i) x = sampler->step(field(x, schedule.sigmas[static_cast<size_t>(i)]), x);
  EXPECT_EQ(sampler->steps_taken(), steps);
  EXPECT_THROW(sampler->step(x, x), std::logic_error);
  return x;
}

TEST(FlowSamplers, ExactVelocityLeadsBothSamplersToTheData) {
  // x_σ = (1 − σ)·x0 + σ·ε with a fixed x0: the velocity ε − x0 = (x − x0)/σ is known exactly.
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const at::Tensor x0 = at::randn({1, 4, 3, 5, 6}, gen).to(at::kDouble);
  const at::Tensor noise = at::randn({1, 4, 3, 5, 6}, gen).to(at::kDouble);
  const auto exact = [&](const at::Tensor& x, double sigma) { return (x - x0) / sigma; };
  for (const int64_t steps : {1, 2, 5, 20}) {
    const at::Tensor euler = solve("euler", steps, 5.0, noise, exact);
    const at::Tensor unipc = solve("unipc", steps, 5.0, noise, exact);
    EXPECT_LT((euler - x0).abs().max().item<double>(), 1e-12) << steps << " steps";
    EXPECT_LT((unipc - x0).abs().max().item<double>(), 1e-12) << steps << " steps";
    EXPECT_LT((unipc - euler).abs().max().item<double>(), 1e-12) << steps << " steps";
  }
}

TEST(FlowSamplers, GaussianDataConvergeToTheExactOdeSolutionUniPcFaster) {
  // Data x0 ~ N(μ, s²) per element: the ideal velocity is v = (x − E[x0 | x])/σ with
  // E[x0 | x] = μ + (1 − σ)s²/((1 − σ)²s² + σ²)·(x − (1 − σ)μ), and the flow ODE maps ε to μ + s·ε exactly.
  // The last step of both samplers jumps from σ_{N−1} to 0 by returning E[x0 | x], which is not the ODE's endpoint,
  // so both carry a first-order error from it; UniPC's second-order steps before it still leave it far ahead.
  const double mu = 0.7, s = 0.3;
  const at::Tensor noise = at::linspace(-2.0, 2.0, 64, at::kDouble).view({1, 1, 1, 8, 8});
  const at::Tensor exact = mu + s * noise;
  const auto field = [&](const at::Tensor& x, double sigma) {
    const double a = 1.0 - sigma;
    const at::Tensor x0_hat = mu + a * s * s / (a * a * s * s + sigma * sigma) * (x - a * mu);
    return (x - x0_hat) / sigma;
  };
  auto error = [&](const std::string& name, int64_t steps) {
    return (solve(name, steps, 3.0, noise, field) - exact).abs().max().item<double>();
  };
  const double euler40 = error("euler", 40), euler80 = error("euler", 80);
  const double unipc20 = error("unipc", 20), unipc40 = error("unipc", 40), unipc80 = error("unipc", 80);
  EXPECT_LT(euler80, 0.6 * euler40);  // first order: half the error for twice the steps
  EXPECT_LT(unipc40, 0.2 * unipc20);
  EXPECT_LT(unipc40, euler40 / 5.0) << "UniPC " << unipc40 << " vs Euler " << euler40;
  EXPECT_LT(unipc80, euler80 / 5.0) << "UniPC " << unipc80 << " vs Euler " << euler80;

  // Element 5 (ε = −2 + 10·4/63) after 10 and 40 steps, as tests/runtime/unipc_reference.py computes them: the
  // reference scheduler in its general form (nodes, R, b, numpy.linalg.solve), against our closed form.
  const auto at5 = [&](const std::string& name, int64_t steps) {
    return solve(name, steps, 3.0, noise, field).flatten()[5].item<double>();
  };
  EXPECT_NEAR(at5("euler", 10), 0.38812189977724515, 1e-12);
  EXPECT_NEAR(at5("unipc", 10), 0.3694099663927328, 1e-12);
  EXPECT_NEAR(at5("euler", 40), 0.24854178068727828, 1e-12);
  EXPECT_NEAR(at5("unipc", 40), 0.2007672265613668, 1e-12);
}

TEST(Sampling, SameSeedSameLatentsOtherSeedOtherLatents) {
  const WanModel model = test::small_model();
  const VideoGeometry g = latent_geometry(model.config(), 2, 8, 8);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor context = at::randn({1, 16, 64}, gen);   // [1, L, text_dim]
  const at::Tensor negative = at::randn({1, 16, 64}, gen);  // [1, L, text_dim]
  SamplingOptions o;
  o.steps = 3;
  o.guidance = 4.0;
  o.seed = 42;
  int64_t reports = 0;
  SamplingHooks hooks;
  hooks.on_step = [&](const StepReport& r) {
    EXPECT_EQ(r.step, reports++);
    EXPECT_EQ(r.steps, 3);
    EXPECT_EQ(r.latents.sizes(), (at::IntArrayRef{1, 16, 2, 8, 8}));
  };
  const at::Tensor a = sample_video(model, g, context, negative, o, hooks);
  EXPECT_EQ(reports, 3);
  const at::Tensor b = sample_video(model, g, context, negative, o);
  o.seed = 43;
  const at::Tensor c = sample_video(model, g, context, negative, o);
  EXPECT_TRUE(test::identical(a, b));
  EXPECT_GT((a - c).abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(at::isfinite(a).all().item<bool>());

  // Guidance matters: g = 1 is the conditional branch alone.
  o.seed = 42;
  o.guidance = 1.0;
  EXPECT_FALSE(test::identical(sample_video(model, g, context, negative, o), a));
}

TEST(Sampling, ObserverSeesEveryLayerOfEveryForward) {
  struct Counter final : AttentionObserver {
    std::vector<std::tuple<int64_t, int64_t, CfgBranch, int64_t>> calls;
    void on_self_attention(const SelfAttentionEvent& e) override {
      calls.emplace_back(e.call.step, e.call.layer, e.call.branch, e.timestep);
      EXPECT_EQ(e.q.sizes(), (at::IntArrayRef{1, 16, 2, 64}));  // [B, S, H, D]: grid 1 × 4 × 4
      EXPECT_EQ(e.out.sizes(), e.q.sizes());
    }
  } counter;
  const WanModel model = test::small_model();
  SamplingOptions o;
  o.steps = 2;
  o.guidance = 2.0;
  SamplingHooks hooks;
  hooks.observer = &counter;
  (void)sample_video(model, latent_geometry(model.config(), 1, 8, 8), zero_text_embeddings(model.config()), zero_text_embeddings(model.config()), o, hooks);
  const FlowSchedule schedule = make_flow_schedule(2, o.shift);
  // 2 steps × (conditional, unconditional) × 2 layers, in order.
  ASSERT_EQ(counter.calls.size(), 8u);
  size_t n = 0;
  for (int64_t step = 0; step < 2; ++step)
    for (CfgBranch branch : {CfgBranch::conditional, CfgBranch::unconditional})
      for (int64_t layer = 0; layer < 2; ++layer)
        EXPECT_EQ(counter.calls[n++], std::make_tuple(step, layer, branch, schedule.timesteps[static_cast<size_t>(step)]));
}

}  // namespace
}  // namespace svdit::runtime
