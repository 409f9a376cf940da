// Sequence parallel on torch.distributed (gloo, CPU): 2–3 ranks, started by launch_local_ranks exactly as torchrun
// would start them (this test binary re-executes itself as each rank), compute the same velocity as one process:
// dense, with uneven token and head counts, and with a sparse plan whose own placement (plan version 3) puts its
// heads on the ranks out of order, or, on another number of ranks, the contiguous split it falls back to. A rank
// that dies ends the run with an error naming it, and rank 0 writes no output.

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime_test_support.h"
#include "svdit/data/atomic_file.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/head_placement.h"
#include "svdit/data/pattern.h"
#include "svdit/runtime/distributed.h"
#include "svdit/runtime/local_launch.h"
#include "svdit/runtime/sequence_parallel.h"
#include "svdit/runtime/sparse_plan_attention.h"

namespace svdit::runtime {
namespace {

namespace fs = std::filesystem;

// 4 heads of 32, so that 3 ranks split the heads unevenly (2/1/1) and a placement can reorder them.
WanConfig sp_config() {
  WanConfig c = test::small_config();
  c.num_heads = 4;
  c.name = default_model_name(c);
  return c;
}

struct Case {
  std::vector<int64_t> latent_shape;  // [1, 16, T, H, W]
  bool plan = false;
};
Case case_named(const std::string& name) {
  if (name == "uneven") return {{1, 16, 3, 10, 14}, false};  // 3 × 5 × 7 = 105 tokens
  return {{1, 16, 4, 16, 16}, name == "plan"};                 // 4 × 8 × 8 = 256 tokens
}

struct Inputs {
  at::Tensor latents, timestep, context;
};
Inputs inputs_for(const Case& c) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(11);
  return {at::randn(c.latent_shape, gen), at::full({1}, 731, at::kLong), at::randn({1, 16, 64}, gen)};
}

// Two layers × four heads of different patterns (window, permuted temporal, stripe + window, skip, dense), blocks
// of 64 on the 4 × 8 × 8 grid.
data::Plan test_plan(const WanConfig& config) {
  data::Plan plan;
  plan.model = plan_model(config);
  plan.layout = token_layout(latent_geometry(config, 4, 16, 16), 64);
  const std::vector<data::Pattern> patterns = {
      data::make_pattern({data::window_component(64)}),
      data::make_pattern({data::temporal_component(8, 4)}),
      data::make_pattern({data::first_frame_stripe(plan.layout), data::window_component(16)}),
      data::make_pattern({data::skip_component()}),
      data::make_pattern({data::dense_component()}),
  };
  for (size_t i = 0; i < patterns.size(); ++i) {
    data::PlanPattern p;
    p.id = static_cast<int32_t>(i);
    p.pattern = patterns[i];
    p.density = data::compile_pattern(p.pattern, plan.layout).block_density();
    plan.patterns.push_back(p);
  }
  data::ScheduleEntry entry;
  entry.step_begin = 0;
  entry.step_end = 10;
  entry.heads = {0, 1, 2, 4, /* layer 1 */ 3, 2, 4, 1};
  plan.schedule.push_back(entry);
  // The plan's head placement for 3 ranks (version 3), not the contiguous split: heads out of order, uneven
  // counts, and in layer 1 one rank with none. A run over another number of ranks splits contiguously.
  plan.version = data::kPlanVersion;
  plan.placement = data::PlanPlacement{3, {{2, 0, 1, 0}, {1, 1, 0, 1}}};
  return plan;
}

at::Tensor single_process(const std::string& name) {
  const WanConfig config = sp_config();
  const WanModel model(config, random_state_dict(config, WeightOptions{}, 7), "test model");
  const Case c = case_named(name);
  const Inputs in = inputs_for(c);
  ForwardOptions options;
  options.step = 2;
  std::unique_ptr<SparsePlanAttention> plan;
  if (c.plan) {
    plan = std::make_unique<SparsePlanAttention>(test_plan(config), config, test_plan(config).layout, "test plan");
    options.attention = plan.get();
  }
  return model.forward(in.latents, in.timestep, in.context, options);
}

// One rank (the launched child): SVDIT_SP_CASE names the case, SVDIT_SP_OUT where rank 0 writes the velocity
// (raw fp32, atomically), SVDIT_SP_DIE a rank that kills itself once the group stands.
TEST(SequenceParallelWorker, DISABLED_Rank) {
  const char* name = std::getenv("SVDIT_SP_CASE");
  const char* out = std::getenv("SVDIT_SP_OUT");
  ASSERT_TRUE(name && out) << "run by SequenceParallel.* only";
  const std::optional<DistributedEnv> env = distributed_env_from_environment();
  ASSERT_TRUE(env.has_value());
  DistributedGroup group(*env, at::kCPU, std::chrono::seconds(30));
  if (const char* die = std::getenv("SVDIT_SP_DIE"); die && std::atoi(die) == group.rank()) ::raise(SIGKILL);

  const WanConfig config = sp_config();
  const WanModel model(config, random_state_dict(config, WeightOptions{}, 7), "test model");
  const Case c = case_named(name);
  const Inputs in = inputs_for(c);
  std::unique_ptr<SparsePlanAttention> plan;
  HeadPlacement placement;  // empty: the contiguous split
  if (c.plan) {
    const data::Plan plan_data = test_plan(config);
    plan = std::make_unique<SparsePlanAttention>(plan_data, config, plan_data.layout, "p");
    // As a sequence-parallel run picks its placement: the plan's for its rank count, else the contiguous split.
    const data::ChosenPlacement chosen = data::head_placement(plan_data, group.world_size());
    ASSERT_EQ(chosen.source, group.world_size() == 3 ? data::PlacementSource::plan : data::PlacementSource::contiguous)
        << chosen.label;
    placement = chosen.placement;
  }
  SequenceParallel sp(group, plan.get(), placement, config.num_layers, config.num_heads);
  ForwardOptions options;
  options.step = 2;
  options.sequence_parallel = &sp;
  const at::Tensor v = model.forward(in.latents, in.timestep, in.context, options).contiguous();
  group.barrier("end of the test");
  if (group.rank() == 0) {
    data::write_file_atomically(out, std::string(static_cast<const char*>(v.data_ptr()),
                                                 static_cast<size_t>(v.numel()) * sizeof(float)));
  }
}

struct RankRun {
  LaunchResult launch;
  fs::path out;
};
RankRun run_ranks(const std::string& name, int nproc, int die = -1) {
  const fs::path dir = test::test_dir();
  RankRun run{{}, dir / "velocity.f32"};
  ::setenv("SVDIT_SP_CASE", name.c_str(), 1);
  ::setenv("SVDIT_SP_OUT", run.out.c_str(), 1);
  if (die >= 0) {
    ::setenv("SVDIT_SP_DIE", std::to_string(die).c_str(), 1);
  } else {
    ::unsetenv("SVDIT_SP_DIE");
  }
  run.launch = launch_local_ranks({fs::read_symlink("/proc/self/exe").string(),
                                   "--gtest_filter=SequenceParallelWorker.DISABLED_Rank",
                                   "--gtest_also_run_disabled_tests", "--gtest_brief=1"},
                                  nproc, std::chrono::seconds(120));
  return run;
}

at::Tensor read_velocity(const fs::path& path, const at::Tensor& like) {
  std::ifstream in(path, std::ios::binary);
  at::Tensor t = at::empty_like(like);
  in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(t.numel() * sizeof(float)));
  EXPECT_EQ(in.gcount(), static_cast<std::streamsize>(t.numel() * sizeof(float))) << path;
  return t;
}

void expect_equal_to_single_process(const std::string& name, int nproc) {
  if (std::string why; !distributed_available(at::kCPU, &why)) GTEST_SKIP() << why;
  const at::Tensor reference = single_process(name);
  const RankRun run = run_ranks(name, nproc);
  ASSERT_TRUE(run.launch.ok) << run.launch.message;
  const at::Tensor got = read_velocity(run.out, reference);
  const double rel = (got - reference).abs().max().item<double>() / reference.abs().max().item<double>();
  EXPECT_LE(rel, 1e-5) << name << " on " << nproc << " ranks";
  EXPECT_GT(reference.abs().max().item<double>(), 0.0);
}

TEST(SequenceParallel, DenseOnTwoRanksEqualsOneProcess) { expect_equal_to_single_process("dense", 2); }
// 256 tokens and 4 heads over 3 ranks: 86/85/85 tokens, 2/1/1 heads.
TEST(SequenceParallel, DenseOnThreeRanksWithUnevenSplitsEqualsOneProcess) {
  expect_equal_to_single_process("dense", 3);
}
TEST(SequenceParallel, UnevenTokenCountOnTwoRanksEqualsOneProcess) { expect_equal_to_single_process("uneven", 2); }
// The plan's own placement (3 ranks), and on 2 ranks the contiguous split it falls back to.
TEST(SequenceParallel, SparsePlanWithPlacedHeadsEqualsOneProcess) { expect_equal_to_single_process("plan", 3); }
TEST(SequenceParallel, SparsePlanOnOtherRankCountSplitsContiguouslyAndEqualsOneProcess) {
  expect_equal_to_single_process("plan", 2);
}

TEST(SequenceParallel, KilledRankEndsTheRunNamingItAndLeavesNoOutput) {
  if (std::string why; !distributed_available(at::kCPU, &why)) GTEST_SKIP() << why;
  const RankRun run = run_ranks("dense", 2, /*die=*/1);
  EXPECT_FALSE(run.launch.ok);
  EXPECT_EQ(run.launch.failed_rank, 1) << run.launch.message;
  EXPECT_NE(run.launch.message.find("rank 1 was killed by signal 9"), std::string::npos) << run.launch.message;
  EXPECT_FALSE(fs::exists(run.out));
}

TEST(SequenceParallel, SplitsAndPlacementsAreChecked) {
  EXPECT_EQ(even_split(256, 3), (std::vector<int64_t>{86, 85, 85}));
  EXPECT_EQ(even_split(2, 3), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(contiguous_head_placement(1, 5, 2), (HeadPlacement{{0, 0, 0, 1, 1}}));
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "2", 1);
  EXPECT_THROW(distributed_env_from_environment(), DistributedError);  // rank outside [0, 2)
  ::unsetenv("WORLD_SIZE");
  ::unsetenv("RANK");
  EXPECT_FALSE(distributed_env_from_environment().has_value());
}

}  // namespace
}  // namespace svdit::runtime
