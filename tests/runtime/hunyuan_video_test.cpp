// HunyuanVideo without diffusers (the agreement with diffusers is tests/runtime/hunyuan_video/): config.json
// parsing and its refusals, the released tensor set, checkpoints single/sharded/folder and every kind of bad one
// refused naming the file, the key and both shapes, the conditioning file, the schedule, and the valid-token rule
// (garbage in padded text rows changes nothing).

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime_test_support.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "svdit/data/pattern.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/hunyuan_video_model.h"
#include "svdit/runtime/hunyuan_video_prompt.h"
#include "svdit/runtime/hunyuan_video_sampling.h"
#include "svdit/runtime/sparse_plan_attention.h"

namespace svdit::runtime {
namespace {

using test::test_dir;

// The message of the FormatError `fn` throws ("" and a test failure when it throws nothing or something else).
template <typename Fn>
std::string format_error(Fn&& fn) {
  try {
    fn();
  } catch (const data::FormatError& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected a FormatError, got: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected a FormatError, nothing was thrown";
  return "";
}

// 1 dual + 2 single blocks, 1 refiner block, 2 heads × 16, text 24 × 12 tokens, pooled 8.
HunyuanVideoConfig tiny_config() {
  nlohmann::json j = {{"_class_name", "HunyuanVideoTransformer3DModel"}, {"in_channels", 4}, {"out_channels", 4},
                      {"num_attention_heads", 2}, {"attention_head_dim", 16}, {"num_layers", 1},
                      {"num_single_layers", 2}, {"num_refiner_layers", 1}, {"text_embed_dim", 24},
                      {"pooled_projection_dim", 8}, {"rope_axes_dim", {4, 6, 6}}, {"text_len", 12}};
  return parse_hunyuan_video_config(j, "tiny");
}

void write_json(const std::filesystem::path& path, const nlohmann::json& j) { std::ofstream(path) << j.dump(); }

TEST(HunyuanVideoConfig, DefaultsAreTheReleasedModelAndItsTensorSet) {
  const HunyuanVideoConfig parsed = parse_hunyuan_video_config(nlohmann::json::object(), "empty");
  const HunyuanVideoConfig preset = *hunyuan_video_preset("hunyuan-video");
  EXPECT_EQ(parsed, preset);
  EXPECT_EQ(preset.name, "HunyuanVideo");
  EXPECT_EQ(preset.dim(), 3072);
  EXPECT_EQ(preset.mlp_dim(), 12288);
  EXPECT_EQ(plan_model(preset), (data::PlanModel{"HunyuanVideo", 60, 24, 128, "hunyuan-video"}));
  // diffusers' HunyuanVideoTransformer3DModel() has 1264 tensors and 12,821,012,544 parameters.
  const std::vector<ExpectedTensor> tensors = hunyuan_video_expected_tensors(preset);
  EXPECT_EQ(tensors.size(), 1264u);
  int64_t parameters = 0;
  for (const ExpectedTensor& t : tensors) {
    int64_t n = 1;
    for (const int64_t d : t.shape) n *= d;
    parameters += n;
  }
  EXPECT_EQ(parameters, 12821012544);
  // 720p, 129 frames: 33 × 45 × 80 video tokens + 256 text tokens = the 119,056.
  const VideoGeometry g = hunyuan_video_geometry(preset, 129, 720, 1280);
  EXPECT_EQ(hunyuan_video_token_layout(g, preset.text_len).seq_len(), 119056);
  EXPECT_FALSE(hunyuan_video_preset("14B").has_value());
}

TEST(HunyuanVideoConfig, OtherSizesGetANameThatSpellsThemAndRoundTrip) {
  const HunyuanVideoConfig c = tiny_config();
  EXPECT_EQ(c.name, "HunyuanVideo-h2x16-l1+2-r1-t12");
  EXPECT_EQ(parse_hunyuan_video_config(hunyuan_video_config_to_json(c), "round trip"), c);
  // Top level 12 (patch, refiner conditioning, proj_in), 18 per refiner block, 12 conditioning (with guidance), 32 per
  // dual block, 14 per single block, 4 in the head: diffusers' model of 1/1/1 blocks has 92.
  EXPECT_EQ(hunyuan_video_expected_tensors(c).size(), 12u + 18u + 12u + 32u + 2u * 14u + 4u);
}

TEST(HunyuanVideoConfig, RefusesOtherFamiliesVariantsAndBadSizesNamingTheField) {
  auto refused = [](nlohmann::json j) { return format_error([&] { parse_hunyuan_video_config(j, "cfg.json"); }); };
  std::string m = refused({{"_class_name", "WanTransformer3DModel"}});
  EXPECT_NE(m.find("cfg.json: _class_name"), std::string::npos) << m;
  EXPECT_NE(m.find("another model family"), std::string::npos) << m;
  m = refused({{"image_condition_type", "token_replace"}});
  EXPECT_NE(m.find("image_condition_type"), std::string::npos) << m;
  m = refused({{"qk_norm", "layer_norm"}});
  EXPECT_NE(m.find("qk_norm"), std::string::npos) << m;
  m = refused({{"rope_axes_dim", {16, 56, 48}}});
  EXPECT_NE(m.find("rope_axes_dim"), std::string::npos) << m;
  EXPECT_NE(m.find("120"), std::string::npos) << m;  // the sum found
  m = refused({{"num_attention_heads", "24"}});
  EXPECT_NE(m.find("num_attention_heads: expected an integer"), std::string::npos) << m;
  m = refused({{"num_layers", 0}});
  EXPECT_NE(m.find("num_layers"), std::string::npos) << m;
  m = refused({{"guidance_embeds", 1}});
  EXPECT_NE(m.find("guidance_embeds: expected true or false"), std::string::npos) << m;
  m = refused({{"num_attention_heads", int64_t{1} << 40}});
  EXPECT_NE(m.find("num_attention_heads"), std::string::npos) << m;
}

TEST(HunyuanVideoWeights, SingleShardedAndFolderCheckpointsLoadTheSameTensors) {
  const auto dir = test_dir();
  const HunyuanVideoConfig c = tiny_config();
  const StateDict original = random_hunyuan_video_state_dict(c, WeightOptions{}, 3);
  std::filesystem::create_directories(dir / "single");
  save_hunyuan_video_state_dict(dir / "single" / "diffusion_pytorch_model.safetensors", original);
  write_json(dir / "single" / "config.json", hunyuan_video_config_to_json(c));

  std::filesystem::create_directories(dir / "sharded");
  StateDict blocks, rest;
  for (const auto& [name, t] : original) (name.find("blocks.") != std::string::npos ? blocks : rest).emplace(name, t);
  save_hunyuan_video_state_dict(dir / "sharded" / "part-1.safetensors", blocks);
  save_hunyuan_video_state_dict(dir / "sharded" / "part-2.safetensors", rest);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, t] : blocks) index["weight_map"][name] = "part-1.safetensors";
  for (const auto& [name, t] : rest) index["weight_map"][name] = "part-2.safetensors";
  write_json(dir / "sharded" / "diffusion_pytorch_model.safetensors.index.json", index);
  write_json(dir / "sharded" / "config.json", hunyuan_video_config_to_json(c));

  for (const auto& path : {dir / "single", dir / "single" / "diffusion_pytorch_model.safetensors", dir / "sharded",
                           dir / "sharded" / "diffusion_pytorch_model.safetensors.index.json"}) {
    const std::unique_ptr<HunyuanVideoModel> loaded = load_hunyuan_video_model(path, WeightOptions{});
    EXPECT_EQ(loaded->config(), c) << path;
    // The family registry loads it too, naming the family.
    const OpenedModel opened = load_model(path, WeightOptions{});
    EXPECT_EQ(opened.model->family(), "hunyuan-video") << path;
    EXPECT_NE(opened.label.find("hunyuan-video"), std::string::npos) << opened.label;
    const data::SafetensorsCollection weights = data::SafetensorsCollection::open(path);
    EXPECT_TRUE(looks_like_hunyuan_video(weights));
    const StateDict back = load_hunyuan_video_state_dict(weights, c, WeightOptions{});
    ASSERT_EQ(back.size(), original.size());
    for (const auto& [name, t] : original) EXPECT_TRUE(at::equal(back.at(name), t)) << name;
  }
  test::remove_tree(dir);
}

TEST(HunyuanVideoWeights, BadCheckpointsAreRefusedNamingFileKeyAndShapes) {
  const auto dir = test_dir();
  const HunyuanVideoConfig c = tiny_config();
  StateDict state = random_hunyuan_video_state_dict(c, WeightOptions{}, 4);
  auto refused = [&](const StateDict& s, const std::string& file) {
    save_hunyuan_video_state_dict(dir / file, s);
    const data::SafetensorsCollection weights = data::SafetensorsCollection::open(dir / file);
    return format_error([&] { check_hunyuan_video_checkpoint(weights, c); });
  };
  StateDict missing = state;
  missing.erase("single_transformer_blocks.1.proj_out.weight");
  std::string m = refused(missing, "missing.safetensors");
  EXPECT_NE(m.find("missing.safetensors"), std::string::npos) << m;
  EXPECT_NE(m.find("single_transformer_blocks.1.proj_out.weight: missing (expected shape [32, 160])"),
            std::string::npos) << m;

  StateDict wrong = state;
  wrong["transformer_blocks.0.attn.norm_added_q.weight"] = at::ones({32});
  m = refused(wrong, "wrong.safetensors");
  EXPECT_NE(m.find("transformer_blocks.0.attn.norm_added_q.weight: expected shape [16], found [32]"),
            std::string::npos) << m;

  StateDict extra = state;
  extra["transformer_blocks.0.attn.mystery.weight"] = at::ones({2});
  m = refused(extra, "extra.safetensors");
  EXPECT_NE(m.find("transformer_blocks.0.attn.mystery.weight: unexpected tensor of shape [2]"), std::string::npos) << m;

  // A checkpoint of another family (Wan2.1 names) is refused and said not to be HunyuanVideo at all.
  const WanConfig wan = test::small_config();
  save_state_dict(dir / "wan.safetensors", random_state_dict(wan, WeightOptions{}, 1), KeyNaming::diffusers);
  const data::SafetensorsCollection wan_weights = data::SafetensorsCollection::open(dir / "wan.safetensors");
  EXPECT_FALSE(looks_like_hunyuan_video(wan_weights));
  m = format_error([&] { check_hunyuan_video_checkpoint(wan_weights, c); });
  EXPECT_NE(m.find("does not look like a HunyuanVideoTransformer3DModel checkpoint"), std::string::npos) << m;

  // Without config.json beside the weights the loader says why it needs one.
  std::filesystem::create_directories(dir / "bare");
  save_hunyuan_video_state_dict(dir / "bare" / "model.safetensors", state);
  m = format_error([&] { load_hunyuan_video_model(dir / "bare" / "model.safetensors", WeightOptions{}); });
  EXPECT_NE(m.find("config.json: missing"), std::string::npos) << m;

  // In memory: a state dict in the wrong dtype for a keep-fp32 tensor.
  StateDict half = state;
  half["norm_out.linear.weight"] = half["norm_out.linear.weight"].to(at::kHalf);
  m = format_error([&] { HunyuanVideoModel(c, half, "mem"); });
  EXPECT_NE(m.find("norm_out.linear.weight: expected Float"), std::string::npos) << m;
  test::remove_tree(dir);
}

TEST(HunyuanVideoPrompt, FileKeepsTheValidRowsAndRefusesBadOnes) {
  const auto dir = test_dir();
  const HunyuanVideoConfig c = tiny_config();
  const at::Tensor text = at::randn({10, 24});
  at::Tensor mask = at::zeros({10});
  mask.narrow(0, 0, 6).fill_(1);
  const at::Tensor pooled = at::randn({8});
  save_hunyuan_video_prompt(dir / "p.safetensors", text, mask, pooled);
  const HunyuanVideoPrompt p = load_hunyuan_video_prompt(dir / "p.safetensors", c);
  EXPECT_TRUE(at::equal(p.text, text.narrow(0, 0, 6)));
  EXPECT_TRUE(at::equal(p.pooled, pooled));
  save_hunyuan_video_prompt(dir / "nomask.safetensors", text, {}, pooled);
  EXPECT_EQ(load_hunyuan_video_prompt(dir / "nomask.safetensors", c).text.size(0), 10);

  auto refused = [&](const at::Tensor& t, const at::Tensor& m, const at::Tensor& pl) {
    save_hunyuan_video_prompt(dir / "bad.safetensors", t, m, pl);
    return format_error([&] { load_hunyuan_video_prompt(dir / "bad.safetensors", c); });
  };
  at::Tensor holes = mask.clone();
  holes[2] = 0;
  std::string m = refused(text, holes, pooled);
  EXPECT_NE(m.find("prompt_attention_mask: expected the valid tokens (nonzero) first"), std::string::npos) << m;
  m = refused(at::randn({10, 23}), mask, pooled);
  EXPECT_NE(m.find("prompt_embeds: expected shape [L, 24]"), std::string::npos) << m;
  m = refused(text, mask, at::randn({9}));
  EXPECT_NE(m.find("pooled_prompt_embeds: expected shape [8]"), std::string::npos) << m;
  m = refused(at::randn({13, 24}), {}, pooled);  // 13 valid tokens > text_len 12
  EXPECT_NE(m.find("13 valid tokens, expected 1 to 12"), std::string::npos) << m;
  m = refused(text, at::zeros({10}), pooled);
  EXPECT_NE(m.find("0 valid tokens"), std::string::npos) << m;
  test::remove_tree(dir);
}

TEST(HunyuanVideoSampling, ScheduleIsTheFlowMatchSchedulersInFloat32) {
  // Two steps at shift 7: σ = 1, 0.5 → 1, 3.5/4; timesteps 1000·σ' (⌊⌋ in FlowSchedule, exact in the model input).
  const FlowSchedule s = hunyuan_video_schedule(2, 7.0);
  ASSERT_EQ(s.sigmas.size(), 3u);
  EXPECT_EQ(s.sigmas[0], 1.0);
  EXPECT_EQ(s.sigmas[1], 0.875);
  EXPECT_EQ(s.sigmas[2], 0.0);
  EXPECT_EQ(s.timesteps, (std::vector<int64_t>{1000, 875}));
  // Three steps: σ = 2/3 in float32, shifted in float32 (what numpy computes): 7σ/(1 + 6σ) = 0.93333334f.
  const FlowSchedule t = hunyuan_video_schedule(3, 7.0);
  const auto third = static_cast<float>(2.0 / 3.0);
  EXPECT_EQ(static_cast<float>(t.sigmas[1]), 7.0f * third / (1.0f + 6.0f * third));
  EXPECT_TRUE(t.fractional_timesteps);
  const at::Tensor fractional = model_timestep(t, 1);  // what the loop feeds the model: fp32, not ⌊⌋
  EXPECT_EQ(fractional.scalar_type(), at::kFloat);
  EXPECT_EQ(fractional.item<float>(), 1000.0f * (7.0f * third / (1.0f + 6.0f * third)));
  EXPECT_EQ(model_timestep(make_flow_schedule(3, 5.0), 1).scalar_type(), at::kLong);  // Wan2.1's: int64
  EXPECT_EQ(t.timesteps[1], 933);
  EXPECT_THROW(hunyuan_video_schedule(0, 7.0), std::invalid_argument);
  EXPECT_THROW(hunyuan_video_schedule(3, 0.0), std::invalid_argument);
  EXPECT_EQ(embedded_guidance_input(6.0).item<float>(), 6000.0f);
}

TEST(HunyuanVideoModel, PaddedTextRowsChangeNothingAndEachBatchRowIsItsOwnPrompt) {
  const HunyuanVideoConfig c = tiny_config();
  const HunyuanVideoModel model(c, random_hunyuan_video_state_dict(c, WeightOptions{}, 5), "tiny");
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(9);
  const at::Tensor latents = at::randn({2, 4, 2, 4, 6}, gen);  // grid 2 × 2 × 3
  const at::Tensor t = at::tensor({900.5f, 300.0f});
  const at::Tensor text = at::randn({2, 10, 24}, gen);
  const at::Tensor pooled = at::randn({2, 8}, gen);
  const at::Tensor guidance = at::tensor({6000.0f, 2000.0f});
  at::Tensor mask = at::zeros({2, 10});
  mask[0].narrow(0, 0, 7).fill_(1);
  mask[1].narrow(0, 0, 3).fill_(1);
  const at::Tensor out = model.forward_masked(latents, t, text, mask, pooled, guidance);  // [2, 4, 2, 4, 6]
  ASSERT_EQ(out.sizes(), latents.sizes());
  // Other values in the padded rows: the same output.
  at::Tensor garbage = text.clone();
  garbage[0].narrow(0, 7, 3).normal_(0, 5, gen);
  garbage[1].narrow(0, 3, 7).normal_(0, 5, gen);
  EXPECT_TRUE(at::equal(model.forward_masked(latents, t, garbage, mask, pooled, guidance), out));
  // Row 1 alone, given its valid tokens only, is the batch's row 1.
  const at::Tensor alone = model.forward(latents.narrow(0, 1, 1), t.narrow(0, 1, 1), text.narrow(0, 1, 1).narrow(1, 0, 3),
                                         pooled.narrow(0, 1, 1), guidance.narrow(0, 1, 1));
  EXPECT_TRUE(at::allclose(alone, out.narrow(0, 1, 1), 1e-5, 1e-6));
  // The valid tokens do matter, and so does the embedded guidance.
  at::Tensor changed = text.clone();
  changed[1][2].add_(1.0);
  EXPECT_FALSE(at::allclose(model.forward_masked(latents, t, changed, mask, pooled, guidance), out, 1e-4, 1e-5));
  EXPECT_FALSE(at::allclose(model.forward_masked(latents, t, text, mask, pooled, guidance * 0.5), out, 1e-4, 1e-5));
  // A mask with a hole, or no valid token, is refused naming the row.
  at::Tensor holes = mask.clone();
  holes[1][1] = 0;
  EXPECT_THROW(model.forward_masked(latents, t, text, holes, pooled, guidance), std::invalid_argument);
  EXPECT_THROW(model.forward(latents, t, text, pooled, at::Tensor()), std::invalid_argument);  // guidance needed
}

// Records every self-attention event's tensors and layout.
struct Recorder final : AttentionObserver {
  struct Seen {
    SelfAttentionCall call;
    data::TokenLayout layout;
    at::Tensor q, k, v, out;
  };
  std::vector<Seen> seen;
  void on_self_attention(const SelfAttentionEvent& e) override {
    seen.push_back({e.call, *e.call.layout, e.q.clone(), e.k.clone(), e.v.clone(), e.out.clone()});
  }
};

// A plan is checked against T1 = text_len (12) and runs on a prompt of 5 valid tokens: every joint attention is
// the pattern compiled for [video][5 text tokens], and an all-dense plan is exactly no plan.
TEST(HunyuanVideoSparsePlan, APlanCheckedAtTextLenRunsOnTheValidTokens) {
  const HunyuanVideoConfig c = tiny_config();
  const HunyuanVideoModel model(c, random_hunyuan_video_state_dict(c, WeightOptions{}, 6), "tiny");
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(12);
  const at::Tensor latents = at::randn({1, 4, 4, 16, 16}, gen);  // grid 4 × 8 × 8 = 256 video tokens
  const at::Tensor t = at::tensor({700.25f}), guidance = at::tensor({6000.0f});
  const at::Tensor text = at::randn({1, 5, 24}, gen), pooled = at::randn({1, 8}, gen);
  const VideoGeometry g = hunyuan_video_latent_geometry(c, 4, 16, 16);
  const data::TokenLayout checked = hunyuan_video_token_layout(g, c.text_len, 64);  // S = 268, 5 blocks

  auto plan_of = [&](const std::vector<data::Pattern>& patterns, std::vector<int32_t> heads) {
    data::Plan plan;
    plan.model = plan_model(c);
    plan.layout = checked;
    for (size_t i = 0; i < patterns.size(); ++i) {
      plan.patterns.push_back({static_cast<int32_t>(i), patterns[i],
                               data::compile_pattern(patterns[i], checked).block_density()});
    }
    data::ScheduleEntry entry;
    entry.step_begin = 0;
    entry.step_end = 4;
    entry.heads = std::move(heads);
    plan.schedule.push_back(entry);
    return plan;
  };
  const data::Pattern dense = data::make_pattern({data::dense_component()});
  const data::Pattern window = data::make_pattern({data::window_component(16)});

  const at::Tensor reference = model.forward(latents, t, text, pooled, guidance);
  SparsePlanAttention all_dense(plan_of({dense}, std::vector<int32_t>(6, 0)), plan_model(c), checked, "dense.json");
  ForwardOptions options;
  options.attention = &all_dense;
  EXPECT_TRUE(at::equal(model.forward(latents, t, text, pooled, guidance, options), reference));

  // Layer 0 (dual) window + dense, layer 1 (single) dense + window, layer 2 window in both heads.
  SparsePlanAttention sparse(plan_of({dense, window}, {1, 0, 0, 1, 1, 1}), plan_model(c), checked, "window.json");
  Recorder recorder;
  options.attention = &sparse;
  options.observer = &recorder;
  const at::Tensor out = model.forward(latents, t, text, pooled, guidance, options);
  EXPECT_FALSE(at::allclose(out, reference, 1e-4, 1e-5));  // the plan changed the result
  ASSERT_EQ(recorder.seen.size(), 3u);
  const std::vector<int32_t> ids = {1, 0, 0, 1, 1, 1};
  for (const Recorder::Seen& s : recorder.seen) {
    EXPECT_EQ(s.layout.text_suffix, 5);  // the valid tokens, not text_len
    const data::TokenLayout& layout = s.layout;
    const int64_t S = layout.seq_len(), b = 64;
    ASSERT_EQ(s.q.size(1), S);
    for (int64_t h = 0; h < 2; ++h) {
      const data::Pattern& pattern = ids[static_cast<size_t>(s.call.layer * 2 + h)] == 1 ? window : dense;
      const data::BlockLayout bl = data::compile_pattern(pattern, data::TokenLayout{layout.frames, layout.height,
                                                         layout.width, 0, layout.text_suffix, b});
      std::vector<int64_t> position(static_cast<size_t>(S));
      for (int64_t l = 0; l < S; ++l) position[static_cast<size_t>(bl.token_at(l))] = l;
      at::Tensor mask = at::zeros({S, S}, at::kBool);  // [S, S]: the (query, key) pairs the blocks compute
      auto m = mask.accessor<bool, 2>();
      for (int64_t i = 0; i < S; ++i) {
        const auto keys = bl.keys_of(position[static_cast<size_t>(i)] / b);
        for (int64_t j = 0; j < S; ++j) {
          m[i][j] = std::find(keys.begin(), keys.end(), position[static_cast<size_t>(j)] / b) != keys.end();
        }
      }
      const at::Tensor q = s.q.select(2, h)[0].to(at::kDouble), k = s.k.select(2, h)[0].to(at::kDouble);
      const at::Tensor v = s.v.select(2, h)[0].to(at::kDouble);
      const at::Tensor scores = at::matmul(q, k.t()) / 4.0;  // [S, S], 1/√16
      const at::Tensor expected = at::matmul(at::softmax(scores.masked_fill(~mask, -INFINITY), -1), v);
      EXPECT_LT((s.out.select(2, h)[0].to(at::kDouble) - expected).abs().max().item<double>(), 1e-5)
          << "layer " << s.call.layer << " head " << h;
    }
  }
}

}  // namespace
}  // namespace svdit::runtime
