// The stepwise denoising loop (denoising_loop.h) and its guidance rules (guidance.h), with fake denoisers whose
// predictions are known: the CFG combination v_u + g·(v_c − v_u) and the order of the branches, the loop equal to
// stepping the sampler by hand, the schedule taken from the sampler, a plugged-in guidance rule, the loop's
// refusals; and sample_video equal to the loop composed by hand on a small model.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "runtime_test_support.h"
#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/flow_sampler.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/guidance.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/text_embeddings.h"

namespace svdit::runtime {
namespace {

// What a fake denoiser was asked.
struct Call {
  int64_t step;
  CfgBranch branch;
  int64_t timestep;
  double context;  // the context's first element: says which conditioning the call got
};

// A denoiser with a known prediction per branch, recording its calls:
//   conditional v_c = 0.5·x + context[0],  unconditional v_u = −0.25·x + context[0].
struct FakeDenoiser {
  std::vector<Call> calls;
  Denoiser function() {
    return [this](const DenoiserCall& c) {
      calls.push_back({c.step, c.branch, c.timestep.item<int64_t>(), c.context.embeddings.flatten()[0].item<double>()});
      const double slope = c.branch == CfgBranch::conditional ? 0.5 : -0.25;
      return slope * c.latents + c.context.embeddings.flatten()[0].item<double>();
    };
  }
};

struct Inputs {
  at::Tensor noise = at::randn({1, 2, 1, 3, 4}, at::make_generator<at::CPUGeneratorImpl>(9)).to(at::kDouble);
  Conditioning conditioning{at::full({1, 2, 3}, 3.0, at::kDouble), at::full({1, 2, 3}, -1.0, at::kDouble)};
};

TEST(Guidance, ClassifierFreeGuidanceCombinesBothBranchesConditionalFirst) {
  const Inputs in;
  FakeDenoiser fake;
  const at::Tensor timestep = at::full({1}, 640, at::kLong);
  const double g = 4.0;
  const at::Tensor v = ClassifierFreeGuidance(g).predict(fake.function(), {7, in.noise, timestep, in.conditioning});
  const at::Tensor v_c = 0.5 * in.noise + 3.0, v_u = -0.25 * in.noise - 1.0;
  EXPECT_LT((v - (v_u + g * (v_c - v_u))).abs().max().item<double>(), 1e-12);
  // v = (−0.25 + 4·0.75)·x − 1 + 4·4 = 2.75·x + 15.
  EXPECT_LT((v - (2.75 * in.noise + 15.0)).abs().max().item<double>(), 1e-12);
  ASSERT_EQ(fake.calls.size(), 2u);
  EXPECT_EQ(fake.calls[0].branch, CfgBranch::conditional);
  EXPECT_EQ(fake.calls[0].context, 3.0);
  EXPECT_EQ(fake.calls[1].branch, CfgBranch::unconditional);
  EXPECT_EQ(fake.calls[1].context, -1.0);
  for (const Call& c : fake.calls) {
    EXPECT_EQ(c.step, 7);
    EXPECT_EQ(c.timestep, 640);
  }

  // Without a negative conditioning CFG has no unconditional branch to run.
  Conditioning positive_only{in.conditioning.context, at::Tensor()};
  EXPECT_THROW(ClassifierFreeGuidance(g).predict(fake.function(), {0, in.noise, timestep, positive_only}),
               std::invalid_argument);
}

TEST(Guidance, ConditionalOnlyIsOneConditionalForward) {
  const Inputs in;
  FakeDenoiser fake;
  const at::Tensor timestep = at::full({1}, 100, at::kLong);
  const at::Tensor v = ConditionalOnly().predict(fake.function(), {2, in.noise, timestep, in.conditioning});
  EXPECT_TRUE(test::identical(v, 0.5 * in.noise + 3.0));
  ASSERT_EQ(fake.calls.size(), 1u);
  EXPECT_EQ(fake.calls[0].branch, CfgBranch::conditional);
}

TEST(Guidance, MakeGuidanceRunsCfgOnlyWithANegativeAndAScaleOtherThanOne) {
  EXPECT_EQ(make_guidance(5.0, true)->name(), "cfg");
  EXPECT_EQ(dynamic_cast<const ClassifierFreeGuidance&>(*make_guidance(5.0, true)).scale(), 5.0);
  EXPECT_EQ(make_guidance(1.0, true)->name(), "conditional");
  EXPECT_EQ(make_guidance(5.0, false)->name(), "conditional");
}

TEST(DenoisingLoop, EqualsSteppingTheSamplerByHandWithTheGuidedVelocity) {
  for (const char* name : {"euler", "unipc"}) {
    const Inputs in;
    const double g = 2.5;
    const FlowSchedule schedule = make_flow_schedule(6, 3.0);
    FakeDenoiser fake;
    DenoisingLoop loop(in.noise, in.conditioning, make_sampler(name, schedule),
                       std::make_unique<ClassifierFreeGuidance>(g));
    EXPECT_EQ(loop.steps(), 6);
    const Denoiser denoise = fake.function();
    while (!loop.done()) {
      const int64_t before = loop.next_step();
      EXPECT_EQ(loop.timestep().item<int64_t>(), schedule.timesteps[static_cast<size_t>(before)]);
      loop.step(denoise);
      EXPECT_EQ(loop.next_step(), before + 1);
    }

    // By hand: the same sampler fed v_u + g·(v_c − v_u) of the fake's closed form.
    std::unique_ptr<FlowSampler> sampler = make_sampler(name, schedule);
    at::Tensor x = in.noise;
    for (int64_t i = 0; i < schedule.steps(); ++i) {
      const at::Tensor v_c = 0.5 * x + 3.0, v_u = -0.25 * x - 1.0;
      x = sampler->step(v_u + g * (v_c - v_u), x);
    }
    EXPECT_LT((loop.latents() - x).abs().max().item<double>(), 1e-12) << name;

    // Two forwards per step, conditional first, each at its step's timestep.
    ASSERT_EQ(fake.calls.size(), 12u) << name;
    for (size_t n = 0; n < fake.calls.size(); ++n) {
      EXPECT_EQ(fake.calls[n].step, static_cast<int64_t>(n / 2));
      EXPECT_EQ(fake.calls[n].branch, n % 2 == 0 ? CfgBranch::conditional : CfgBranch::unconditional);
      EXPECT_EQ(fake.calls[n].timestep, schedule.timesteps[n / 2]);
    }
    EXPECT_THROW(loop.step(denoise), std::logic_error);
    EXPECT_THROW(loop.timestep(), std::logic_error);
  }
}

// A sampler of another family: its own schedule (three model timesteps), and an update x ← x − velocity that
// makes the data it sees easy to follow.
class CountdownSampler final : public FlowSampler {
 public:
  CountdownSampler() {
    schedule_.timesteps = {900, 500, 100};
    schedule_.sigmas = {0.9, 0.5, 0.1, 0.0};
  }
  std::string name() const override { return "countdown"; }
  at::Tensor step(const at::Tensor& velocity, const at::Tensor& sample) override {
    ++taken_;
    return sample - velocity;
  }
  int64_t steps_taken() const override { return taken_; }
  const FlowSchedule& schedule() const override { return schedule_; }

 private:
  FlowSchedule schedule_;
  int64_t taken_ = 0;
};

// A guidance rule of another family (the scale embedded in the model input, one forward): here the conditional
// prediction scaled by a constant, enough to see that the loop uses whatever rule it is given.
class HalvedConditional final : public Guidance {
 public:
  std::string name() const override { return "halved"; }
  at::Tensor predict(const Denoiser& denoise, const GuidanceInput& in) const override {
    return 0.5 * denoise({in.step, CfgBranch::conditional, in.latents, in.timestep, in.conditioning.context});
  }
};

TEST(DenoisingLoop, AnotherSamplerAndGuidancePlugInWithTheirOwnSchedule) {
  const Inputs in;
  FakeDenoiser fake;
  DenoisingLoop loop(in.noise, in.conditioning, std::make_unique<CountdownSampler>(),
                     std::make_unique<HalvedConditional>());
  EXPECT_EQ(loop.steps(), 3);
  while (!loop.done()) loop.step(fake.function());
  // Each step x ← x − ½·(½·x + 3) = ¾·x − 1.5.
  at::Tensor x = in.noise;
  for (int i = 0; i < 3; ++i) x = 0.75 * x - 1.5;
  EXPECT_LT((loop.latents() - x).abs().max().item<double>(), 1e-12);
  ASSERT_EQ(fake.calls.size(), 3u);
  const int64_t timesteps[] = {900, 500, 100};
  for (size_t n = 0; n < 3; ++n) {
    EXPECT_EQ(fake.calls[n].timestep, timesteps[n]);
    EXPECT_EQ(fake.calls[n].branch, CfgBranch::conditional);
  }
}

TEST(DenoisingLoop, RefusesMissingPiecesAndASamplerThatHasStepped) {
  const Inputs in;
  const FlowSchedule schedule = make_flow_schedule(3, 5.0);
  EXPECT_THROW(DenoisingLoop(at::Tensor(), in.conditioning, make_sampler("euler", schedule),
                             std::make_unique<ConditionalOnly>()),
               std::invalid_argument);
  EXPECT_THROW(DenoisingLoop(in.noise, in.conditioning, nullptr, std::make_unique<ConditionalOnly>()),
               std::invalid_argument);
  EXPECT_THROW(DenoisingLoop(in.noise, in.conditioning, make_sampler("euler", schedule), nullptr),
               std::invalid_argument);
  std::unique_ptr<FlowSampler> stepped = make_sampler("euler", schedule);
  static_cast<void>(stepped->step(in.noise, in.noise));
  EXPECT_THROW(DenoisingLoop(in.noise, in.conditioning, std::move(stepped), std::make_unique<ConditionalOnly>()),
               std::invalid_argument);
}

TEST(Sampling, SampleVideoIsTheLoopOfItsOptionsWithTheModelAsDenoiser) {
  const WanModel model = test::small_model();
  const test::SmallInputs in = test::small_inputs(4);
  const VideoGeometry g = latent_geometry(model.config(), 4, 8, 8);
  const at::Tensor& context = in.context;                            // [1, L, text_dim]
  const at::Tensor negative = zero_text_embeddings(model.config());  // [1, L, text_dim]
  SamplingOptions o{.steps = 3, .shift = 5.0, .guidance = 3.5, .seed = 8, .sampler = "unipc"};
  const at::Tensor sampled = sample_video(model, g, context, negative, o);

  DenoisingLoop loop = make_denoising_loop(model.config(), g, {context, negative}, o, model.device());
  EXPECT_EQ(loop.guidance().name(), "cfg");
  EXPECT_EQ(loop.sampler().name(), "unipc");
  EXPECT_TRUE(test::identical(loop.latents(), initial_noise(model.config(), g, o.seed, model.device())));
  const Denoiser denoise = wan_denoiser(model, nullptr, nullptr, nullptr);
  while (!loop.done()) loop.step(denoise);
  EXPECT_TRUE(test::identical(loop.latents(), sampled));

  // The model's in_dim must equal its out_dim for the velocity to update the latents.
  WanConfig mismatched = model.config();
  mismatched.out_dim = mismatched.in_dim + 1;
  EXPECT_THROW(make_denoising_loop(mismatched, g, {context, negative}, o, model.device()), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::runtime
