// The sparse plan executor in the model: an all-dense plan computes exactly what no plan does; a plan for another
// model or layout is refused naming the mismatch; sparse heads compute their pattern (checked through the attention
// observer against dense attention restricted to the pattern's token mask); skip heads give zero.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "runtime_test_support.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "svdit/data/pattern.h"
#include "svdit/runtime/mixed_plan.h"
#include "svdit/runtime/sparse_plan_attention.h"

namespace svdit::runtime {
namespace {

using test::small_config;

// The small inputs' grid: latents 4 × 16 × 16 → tokens 4 × 8 × 8 = 256, blocks of 64.
data::TokenLayout small_layout() { return token_layout(latent_geometry(small_config(), 4, 16, 16), 64); }

data::Plan plan_with(const std::vector<data::Pattern>& patterns, const std::vector<int32_t>& heads,
                     int64_t steps = 10) {
  data::Plan plan;
  plan.model = plan_model(small_config());
  plan.layout = small_layout();
  for (size_t i = 0; i < patterns.size(); ++i) {
    data::PlanPattern p;
    p.id = static_cast<int32_t>(i);
    p.pattern = patterns[i];
    p.density = data::compile_pattern(p.pattern, plan.layout).block_density();
    plan.patterns.push_back(p);
  }
  data::ScheduleEntry entry;
  entry.step_begin = 0;
  entry.step_end = steps;
  entry.heads = heads;
  plan.schedule.push_back(entry);
  return plan;
}

// Records every self-attention event's tensors.
struct Recorder final : AttentionObserver {
  struct Seen {
    SelfAttentionCall call;
    at::Tensor q, k, v, out;
  };
  std::vector<Seen> seen;
  void on_self_attention(const SelfAttentionEvent& e) override {
    seen.push_back({e.call, e.q.clone(), e.k.clone(), e.v.clone(), e.out.clone()});
  }
};

TEST(SparsePlan, AllDensePlanEqualsNoPlan) {
  const WanModel model = test::small_model();
  const test::SmallInputs in = test::small_inputs();
  const at::Tensor reference = model.forward(in.latents, in.timestep, in.context);  // [1, 16, 4, 16, 16]

  // Dense by pattern in every head, and dense by a dense schedule entry.
  SparsePlanAttention by_heads(plan_with({data::make_pattern({data::dense_component()})}, {0, 0, 0, 0}),
                               small_config(), small_layout(), "dense-heads.json");
  data::Plan dense_entry = plan_with({data::make_pattern({data::dense_component()})}, {});
  dense_entry.schedule[0].dense = true;
  SparsePlanAttention by_entry(dense_entry, small_config(), small_layout(), "dense-entry.json");

  for (SparsePlanAttention* backend : {&by_heads, &by_entry}) {
    ForwardOptions options;
    options.attention = backend;
    const at::Tensor out = model.forward(in.latents, in.timestep, in.context, options);
    EXPECT_TRUE(at::equal(out, reference)) << "max diff " << (out - reference).abs().max().item<double>();
    EXPECT_EQ(backend->layer_plan(0, 0).mode, SparsePlanAttention::LayerMode::dense);
  }
}

TEST(SparsePlan, MismatchedLayersHeadsOrLayoutAreRefusedNamingBothValues) {
  const auto message = [](const data::Plan& plan, const data::TokenLayout& layout) {
    try {
      SparsePlanAttention backend(plan, small_config(), layout, "plan.json");
    } catch (const data::FormatError& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "the plan was accepted";
    return std::string();
  };
  const data::Pattern dense = data::make_pattern({data::dense_component()});

  data::Plan layers = plan_with({dense}, std::vector<int32_t>(6, 0));
  layers.model.layers = 3;
  std::string msg = message(layers, small_layout());
  EXPECT_NE(msg.find("plan.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("model.layers: plan has 3, model has 2"), std::string::npos) << msg;

  data::Plan heads = plan_with({dense}, std::vector<int32_t>(8, 0));
  heads.model.heads = 4;
  msg = message(heads, small_layout());
  EXPECT_NE(msg.find("model.heads: plan has 4, model has 2"), std::string::npos) << msg;

  // The video of this run has 5 latent frames where the plan was made for 4.
  const data::TokenLayout other = token_layout(latent_geometry(small_config(), 5, 16, 16), 64);
  msg = message(plan_with({dense}, {0, 0, 0, 0}), other);
  EXPECT_NE(msg.find("layout.frames: plan has 4, model has 5"), std::string::npos) << msg;

  data::Plan renamed = plan_with({dense}, {0, 0, 0, 0});
  renamed.model.name = "Wan2.1-T2V-1.3B";
  msg = message(renamed, small_layout());
  EXPECT_NE(msg.find("model.name"), std::string::npos) << msg;
}

TEST(SparsePlan, ForwardWithADifferentVideoSizeIsRefused) {
  SparsePlanAttention backend(plan_with({data::make_pattern({data::window_component(64)})}, {0, 0, 0, 0}),
                              small_config(), small_layout(), "plan.json");
  const WanModel model = test::small_model();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor latents = at::randn({1, 16, 2, 16, 16}, gen);  // 2 latent frames, not 4
  ForwardOptions options;
  options.attention = &backend;
  EXPECT_THROW(model.forward(latents, at::full({1}, 10, at::kLong), test::small_inputs().context, options),
               std::invalid_argument);
}

// Each head's output equals softmax attention restricted to the blocks its compiled layout selects, written out
// independently here as a mask over (query, key) tokens.
TEST(SparsePlan, SparseHeadsComputeTheirPatternAndSkipHeadsAreZero) {
  const data::TokenLayout layout = small_layout();
  const std::vector<data::Pattern> patterns = {
      data::make_pattern({data::window_component(64)}),                // diagonal band of one frame
      data::make_pattern({data::temporal_component(8, 4)}),            // permuted: position-major order
      data::make_pattern({data::first_frame_stripe(layout), data::window_component(16)}),
      data::make_pattern({data::skip_component()}),
  };
  // Layer 0: window + temporal; layer 1: stripe+window + skip.
  SparsePlanAttention backend(plan_with(patterns, {0, 1, 2, 3}), small_config(), layout, "mixed.json");
  EXPECT_EQ(backend.layer_plan(0, 0).mode, SparsePlanAttention::LayerMode::sparse);
  ASSERT_EQ(backend.layer_plan(0, 1).layouts.size(), 2u);  // one launch, each head with its own layout
  EXPECT_TRUE(backend.layer_plan(0, 1).layouts[1]->skip);
  EXPECT_LT(backend.step_block_density(0), 1.0);

  const WanModel model = test::small_model();
  const test::SmallInputs in = test::small_inputs();
  Recorder recorder;
  ForwardOptions options;
  options.step = 3;
  options.attention = &backend;
  options.observer = &recorder;
  const at::Tensor sparse_out = model.forward(in.latents, in.timestep, in.context, options);
  ASSERT_EQ(recorder.seen.size(), 2u);

  const int64_t S = layout.seq_len(), b = layout.block_size;
  for (const Recorder::Seen& s : recorder.seen) {
    EXPECT_EQ(s.call.step, 3);
    ASSERT_EQ(s.q.sizes(), (at::IntArrayRef{1, S, 2, 64}));
    for (int64_t h = 0; h < 2; ++h) {
      const int32_t id = static_cast<int32_t>(s.call.layer * 2 + h);
      const at::Tensor out_h = s.out.select(2, h)[0];  // [S, 64]
      if (patterns[static_cast<size_t>(id)].is_skip()) {
        EXPECT_EQ(out_h.abs().max().item<double>(), 0.0);
        continue;
      }
      // Token mask: layout positions of each token, block of query × block of key listed in the layout.
      const data::BlockLayout bl = data::compile_pattern(patterns[static_cast<size_t>(id)], layout);
      std::vector<int64_t> position(static_cast<size_t>(S));
      for (int64_t l = 0; l < S; ++l) position[static_cast<size_t>(bl.token_at(l))] = l;
      at::Tensor mask = at::zeros({S, S}, at::kBool);  // [S, S]
      auto m = mask.accessor<bool, 2>();
      for (int64_t i = 0; i < S; ++i) {
        const auto keys = bl.keys_of(position[static_cast<size_t>(i)] / b);
        for (int64_t j = 0; j < S; ++j) {
          const int64_t kb = position[static_cast<size_t>(j)] / b;
          m[i][j] = std::find(keys.begin(), keys.end(), kb) != keys.end();
        }
      }
      const at::Tensor q = s.q.select(2, h)[0].to(at::kDouble), k = s.k.select(2, h)[0].to(at::kDouble);
      const at::Tensor v = s.v.select(2, h)[0].to(at::kDouble);
      const at::Tensor scores = at::matmul(q, k.t()) / 8.0;  // [S, S], 1/√64
      const at::Tensor expected = at::matmul(at::softmax(scores.masked_fill(~mask, -INFINITY), -1), v);  // [S, 64]
      EXPECT_LT((out_h.to(at::kDouble) - expected).abs().max().item<double>(), 1e-5)
          << "layer " << s.call.layer << " head " << h;
      // And it is not dense attention: the pattern leaves keys out.
      EXPECT_GT((expected - at::matmul(at::softmax(scores, -1), v)).abs().max().item<double>(), 1e-3);
    }
  }

  // The plan changes the result, and only through attention: a dense run differs.
  const at::Tensor dense_out = model.forward(in.latents, in.timestep, in.context);
  EXPECT_FALSE(at::equal(dense_out, sparse_out));
  EXPECT_TRUE(at::isfinite(sparse_out).all().item<bool>());
}

TEST(SparsePlan, StepsOutsideTheScheduleRunDense) {
  SparsePlanAttention backend(plan_with({data::make_pattern({data::skip_component()})}, {0, 0, 0, 0}, 5),
                              small_config(), small_layout(), "plan.json");
  EXPECT_EQ(backend.layer_plan(4, 1).mode, SparsePlanAttention::LayerMode::skip);
  EXPECT_EQ(backend.layer_plan(5, 1).mode, SparsePlanAttention::LayerMode::dense);
  EXPECT_EQ(backend.step_block_density(5), 1.0);
  EXPECT_EQ(backend.step_block_density(0), 0.0);
}

TEST(MixedPlan, AssignsExactProportionsAndValidates) {
  WanConfig config = *preset_config("1.3B");
  const data::TokenLayout layout = token_layout(video_geometry(config, 81, 480, 832));
  MixedPlanOptions o;
  o.dense_layers = 2;
  const data::Plan plan = make_mixed_plan(config, layout, o);
  ASSERT_EQ(plan.schedule.size(), 1u);
  std::map<std::string, int> count;
  const auto& heads = plan.schedule[0].heads;
  for (size_t i = 0; i < heads.size(); ++i) {
    const std::string kind = data::describe(plan.find_pattern(heads[i])->pattern);
    if (i < 2 * 12) {
      EXPECT_TRUE(plan.find_pattern(heads[i])->pattern.is_dense());
    }
    ++count[kind.substr(0, kind.find('('))];
  }
  // 28 sparse layers × 12 heads = 336 slots over weights 5:4:3:1:3 (/16) → 105, 84, 63, 21, 63 (+24 warm-up dense).
  EXPECT_EQ(count["skip"], 21);
  EXPECT_EQ(count["dense"], 63 + 24);
  SparsePlanAttention backend(plan, config, layout, "mixed");
  EXPECT_LT(backend.step_block_density(0), 0.7);
}

}  // namespace
}  // namespace svdit::runtime
