// The demo trainer on a tiny config on CPU: gradients reach every parameter (through the model's views too), the
// optimiser's in-place updates are what the model computes with, a few steps lower the held-out loss, a resumed
// run reproduces a straight one bit for bit, and a whole run writes its outputs.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "demo_test_support.h"
#include "svdit/demo/trainer.h"
#include "svdit/runtime/pixel_unshuffle.h"
#include "svdit/runtime/wan_model.h"

namespace svdit::demo {
namespace {

// One intra-op thread: on a busy machine LibTorch's thread pool costs more than these tiny models compute.
class DemoTrainer : public ::testing::Test {
 protected:
  void SetUp() override { at::set_num_threads(1); }
};

TEST_F(DemoTrainer, BatchesAreDeterministicAndFollowTheFlowMatchingRecipe) {
  const TrainOptions o = test::tiny_options();
  const HostBatch a = make_batch(o, 7), b = make_batch(o, 7), c = make_batch(o, 8);
  EXPECT_TRUE(at::equal(a.frames, b.frames));
  EXPECT_TRUE(at::equal(a.context, b.context));
  EXPECT_TRUE(at::equal(a.sigma, b.sigma));
  EXPECT_FALSE(at::equal(a.frames, c.frames));
  EXPECT_EQ(a.frames.sizes(), (at::IntArrayRef{4, 4, 16, 24, 3}));
  EXPECT_EQ(a.context.sizes(), (at::IntArrayRef{4, 8, 16}));
  for (int64_t i = 0; i < 4; ++i) {
    const double sigma = a.sigma[i].item<double>();
    EXPECT_GE(sigma, 0.0);
    EXPECT_LT(sigma, 1.0);
    EXPECT_EQ(a.timesteps[i].item<int64_t>(), static_cast<int64_t>(sigma * 1000.0));  // as flow_schedule
  }
  // Over many samples about 10 % of the prompts are dropped to the empty prompt (zero rows), and σ is shifted
  // towards 1 (shift 3: the median σ is 3·½/(1 + 2·½) = 0.75).
  TrainOptions many = o;
  many.batch = 400;
  const HostBatch m = make_batch(many, 0);
  int64_t dropped = 0;
  for (int64_t i = 0; i < many.batch; ++i) {
    const bool zero = m.context[i].abs().sum().item<double>() == 0;
    EXPECT_EQ(zero, m.prompts[static_cast<size_t>(i)].empty());
    dropped += zero;
  }
  EXPECT_GT(dropped, 20);
  EXPECT_LT(dropped, 70);
  EXPECT_NEAR(m.sigma.median().item<double>(), 0.75, 0.06);
}

TEST_F(DemoTrainer, EveryParameterGetsAGradient) {
  Trainer trainer(test::tiny_options());
  const runtime::StateDict grads = trainer.gradients(make_batch(trainer.options(), 0));
  ASSERT_EQ(grads.size(), runtime::expected_tensors(trainer.options().model).size());
  for (const auto& [name, g] : grads) {
    ASSERT_TRUE(g.defined()) << name;
    EXPECT_TRUE(at::isfinite(g).all().item<bool>()) << name;
    EXPECT_GT(g.abs().sum().item<double>(), 0.0) << name << " got no gradient";
  }
}

TEST_F(DemoTrainer, UpdatesReachTheModelThroughItsViews) {
  Trainer trainer(test::tiny_options());
  trainer.set_total_steps(10);
  const at::Tensor patch_before = trainer.master().at("patch_embedding.weight").clone();
  const HeldOutSet held = make_heldout(trainer.options());
  const double before = trainer.heldout_loss(held);
  (void)trainer.train_step(make_batch(trainer.options(), 0));
  const at::Tensor& patch = trainer.master().at("patch_embedding.weight");
  EXPECT_FALSE(at::equal(patch, patch_before));
  // The model holds the very tensors the optimiser updated (fp32 on CPU), so its forward changed.
  EXPECT_TRUE(trainer.model().weights().at("patch_embedding.weight").is_same(patch));
  EXPECT_NE(trainer.heldout_loss(held), before);
  // And the forward equals a model built afresh from the updated weights: the constructor's reshaped view of the
  // patch kernel sees the in-place update.
  runtime::StateDict copy;
  for (const auto& [name, t] : trainer.master()) copy.emplace(name, t.detach().clone());
  const runtime::WanModel fresh(trainer.options().model, copy);
  const HostBatch b = make_batch(trainer.options(), 1);
  const at::Tensor x = runtime::pixel_unshuffle_encode(b.frames, 4, 4);
  const at::NoGradGuard no_grad;
  EXPECT_TRUE(at::allclose(trainer.model().forward(x, b.timesteps, b.context), fresh.forward(x, b.timesteps, b.context),
                           1e-6, 1e-6));
}

TEST_F(DemoTrainer, ThirtyStepsLowerTheHeldOutLoss) {
  TrainOptions o = test::tiny_options();
  o.lr = 1e-2;
  Trainer trainer(o);
  trainer.set_total_steps(30);
  const HeldOutSet held = make_heldout(trainer.options());
  const double before = trainer.heldout_loss(held);
  for (int64_t s = 0; s < 30; ++s) (void)trainer.train_step(make_batch(trainer.options(), s));
  const double after = trainer.heldout_loss(held);
  EXPECT_LT(after, 0.9 * before) << "before " << before << ", after " << after;
  // The held-out set is fixed: evaluating twice gives the same number.
  EXPECT_EQ(trainer.heldout_loss(held), after);
}

TEST_F(DemoTrainer, ResumeReproducesAStraightRun) {
  const std::filesystem::path dir = test::test_dir();
  const TrainOptions o = test::tiny_options();
  Trainer straight(o);
  straight.set_total_steps(6);
  for (int64_t s = 0; s < 6; ++s) (void)straight.train_step(make_batch(o, s));

  {
    Trainer first(o);
    first.set_total_steps(6);
    for (int64_t s = 0; s < 3; ++s) (void)first.train_step(make_batch(o, s));
    first.history().push_back({3, 0.5, 1e-3, 0.4, 1.0, 2.0});
    first.save_checkpoint(dir / "checkpoint.safetensors");
  }
  Trainer resumed(o);
  resumed.load_checkpoint(dir / "checkpoint.safetensors");
  EXPECT_EQ(resumed.step(), 3);
  EXPECT_EQ(resumed.total_steps(), 6);
  ASSERT_EQ(resumed.history().size(), 1u);
  EXPECT_EQ(resumed.history()[0].heldout, 0.4);
  for (int64_t s = 3; s < 6; ++s) (void)resumed.train_step(make_batch(o, s));
  for (const auto& [name, t] : straight.master()) {
    EXPECT_TRUE(at::equal(t, resumed.master().at(name))) << name << " differs after resuming";
  }
  // Other trajectory options are refused, naming the option.
  TrainOptions other = o;
  other.lr *= 2;
  Trainer wrong(other);
  try {
    wrong.load_checkpoint(dir / "checkpoint.safetensors");
    FAIL() << "expected an error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("options.lr"), std::string::npos) << e.what();
  }
  test::remove_tree(dir);
}

TEST_F(DemoTrainer, WholeRunWritesTheModelCardOutputsAndResumes) {
  RunOptions ro;
  ro.train = test::tiny_options();
  ro.train.steps = 4;
  ro.train.eval_every = 2;
  ro.train.log_every = 1;
  ro.out_dir = test::test_dir();
  ro.sample_steps = 2;
  ro.progress = false;
  const RunSummary s = run_training(ro);
  EXPECT_EQ(s.steps, 4);
  EXPECT_GT(s.untrained_heldout, 0.0);
  for (const char* f : {"checkpoint.safetensors", "model.safetensors", "config.json", "train_log.csv", "loss_curve.png",
                        "samples.png", "ground_truth.png", "summary.json"}) {
    EXPECT_TRUE(std::filesystem::exists(ro.out_dir / f)) << f;
  }
  // The exported model loads with the runtime (config.json beside it) as bf16.
  const runtime::LoadedModel loaded = runtime::load_wan_model(ro.out_dir / "model.safetensors", {});
  EXPECT_EQ(loaded.model->config(), ro.train.model);
  std::ifstream summary(ro.out_dir / "summary.json");
  const nlohmann::json j = nlohmann::json::parse(summary);
  EXPECT_EQ(j.at("steps"), 4);
  EXPECT_DOUBLE_EQ(j.at("final_heldout_loss").get<double>(), s.final_heldout);
  // train_log.csv: a header, the untrained evaluation and one row per step.
  std::ifstream csv(ro.out_dir / "train_log.csv");
  std::string line;
  int rows = 0;
  while (std::getline(csv, line)) ++rows;
  EXPECT_EQ(rows, 1 + 1 + 4);
  // Resuming a finished run changes nothing and keeps the history.
  ro.resume = true;
  ro.write_outputs = false;
  const RunSummary again = run_training(ro);
  EXPECT_EQ(again.steps, 4);
  EXPECT_EQ(again.untrained_heldout, s.untrained_heldout);
  EXPECT_EQ(again.final_heldout, s.final_heldout);
  test::remove_tree(ro.out_dir);
}

TEST_F(DemoTrainer, ScheduleMinutesPlansTheCosineOverSeveralResumedRuns) {
  // A 9-second run whose schedule is planned for 36 seconds: the planned total is several times the steps this run
  // makes, and a resumed run continues towards the same total (the learning rate keeps decaying along it).
  RunOptions ro;
  ro.train = test::tiny_options();
  ro.train.steps = 0;
  ro.train.minutes = 0.15;
  ro.train.schedule_minutes = 0.6;
  ro.out_dir = test::test_dir();
  ro.progress = false;
  ro.write_outputs = false;
  const RunSummary first = run_training(ro);
  Trainer t(ro.train);
  t.load_checkpoint(ro.out_dir / "checkpoint.safetensors");
  ASSERT_GT(first.steps, 40) << "too slow a machine to measure the step time";
  EXPECT_EQ(t.step(), first.steps);
  EXPECT_GE(t.total_steps(), 2 * first.steps);
  EXPECT_GT(t.learning_rate(first.steps), 0.5 * ro.train.lr);  // still early in the cosine
  const int64_t total = t.total_steps();
  ro.resume = true;
  ro.train.schedule_minutes = 0;  // not a trajectory option: a resumed run keeps the planned total
  const RunSummary second = run_training(ro);
  Trainer u(ro.train);
  u.load_checkpoint(ro.out_dir / "checkpoint.safetensors");
  EXPECT_GT(second.steps, first.steps);
  EXPECT_EQ(u.total_steps(), total);
  test::remove_tree(ro.out_dir);
}

TEST_F(DemoTrainer, InitStartsFromExportedWeights) {
  const std::filesystem::path dir = test::test_dir();
  TrainOptions o = test::tiny_options();
  Trainer t(o);
  t.export_model(dir / "model.safetensors", at::kBFloat16);
  TrainOptions o2 = o;
  o2.seed = 99;  // another initialisation, which --init replaces
  o2.init_weights = dir / "model.safetensors";
  Trainer u(o2);
  Trainer fresh([&] { TrainOptions f = o; f.seed = 99; return f; }());
  bool any_differs_from_fresh = false;
  for (const auto& [name, w] : t.master()) {
    EXPECT_TRUE(at::equal(u.master().at(name), w.to(at::kBFloat16).to(at::kFloat))) << name;
    any_differs_from_fresh = any_differs_from_fresh || !at::equal(u.master().at(name), fresh.master().at(name));
  }
  EXPECT_TRUE(any_differs_from_fresh);
  o2.init_weights = dir / "missing.safetensors";
  EXPECT_ANY_THROW(Trainer{o2});
  test::remove_tree(dir);
}

}  // namespace
}  // namespace svdit::demo
