// The model-family interface: which family a checkpoint holds (config.json _class_name, or the tensor names), the
// registry's loaders and presets, the refusal of a checkpoint of another family (naming the file, what it holds
// and what was expected), a plan of one family refused on another; and CogVideoX1.5 behind the interface: its
// DPM schedule, its joint [text | video] self-attention through the plan executor.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime_test_support.h"
#include "svdit/data/checkpoint_family.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/cogvideox_dpm_sampler.h"
#include "svdit/runtime/cogvideox_model.h"
#include "svdit/runtime/mixed_plan.h"
#include "svdit/runtime/model_family.h"
#include "svdit/runtime/sparse_plan_attention.h"

namespace svdit::runtime {
namespace {

CogVideoXConfig tiny_cogvideox() {
  CogVideoXConfig c;
  c.num_heads = 2;
  c.head_dim = 32;
  c.in_channels = c.out_channels = 4;
  c.time_embed_dim = 24;
  c.text_embed_dim = 20;
  c.text_len = 12;
  c.num_layers = 2;
  c.name = default_cogvideox_name(c);
  return c;
}

// A CogVideoX checkpoint folder as diffusers' save_pretrained writes it: config.json and the tensors.
std::filesystem::path write_cogvideox_checkpoint(const std::filesystem::path& dir, bool with_config = true) {
  std::filesystem::create_directories(dir);
  const CogVideoXConfig c = tiny_cogvideox();
  const CogVideoXWeights weights = random_cogvideox_weights(c, WeightOptions{}, 3);
  std::vector<at::Tensor> host;
  std::vector<data::TensorData> tensors;
  host.reserve(weights.size());
  for (const auto& [name, t] : weights) {
    host.push_back(t.contiguous());
    data::TensorData d;
    d.name = name;
    d.dtype = data::DType::f32;
    d.shape = host.back().sizes().vec();
    d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(host.back().const_data_ptr()),
                                         host.back().nbytes());
    tensors.push_back(std::move(d));
  }
  data::write_safetensors(dir / "diffusion_pytorch_model.safetensors", tensors);
  if (with_config) std::ofstream(dir / "config.json") << cogvideox_config_to_json(c).dump();
  return dir;
}

std::filesystem::path write_wan_checkpoint(const std::filesystem::path& dir, KeyNaming naming) {
  std::filesystem::create_directories(dir);
  save_state_dict(dir / "model.safetensors", random_state_dict(test::small_config(), WeightOptions{}, 2), naming);
  std::ofstream(dir / "config.json") << config_to_json(test::small_config()).dump();
  return dir;
}

// Runs `f`, expecting a data::FormatError whose message contains every one of `parts`.
template <class F>
void expect_format_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no FormatError";
  } catch (const data::FormatError& e) {
    for (const std::string& part : parts) EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
  }
}

TEST(ModelFamily, TheRegistryRunsWanAndCogVideoXAndFindsTheirPresets) {
  ASSERT_NE(find_model_family("wan2.1"), nullptr);
  ASSERT_NE(find_model_family("cogvideox1.5"), nullptr);
  EXPECT_EQ(find_model_family("no-such-family"), nullptr);
  EXPECT_EQ(family_of_preset("1.3B")->id, "wan2.1");
  EXPECT_EQ(family_of_preset("14b")->id, "wan2.1");
  EXPECT_EQ(family_of_preset("CogVideoX1.5-5B")->id, "cogvideox1.5");
  EXPECT_EQ(family_of_preset("7B"), nullptr);
  for (const ModelFamily& f : model_families()) EXPECT_NE(data::find_family_signature(f.id), nullptr) << f.id;
  EXPECT_THROW(random_model("7B", WeightOptions{}, 0), std::invalid_argument);
}

TEST(ModelFamily, TheCogVideoXPresetIsTheReleasedShape) {
  const CogVideoXConfig c = *cogvideox_preset("cogvideox1.5-5b");
  EXPECT_EQ(c.name, "CogVideoX1.5-5B");
  EXPECT_EQ(c.num_layers, 42);
  EXPECT_EQ(c.num_heads, 48);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.patch_size, 2);
  EXPECT_EQ(c.patch_size_t, 2);
  EXPECT_EQ(c.text_len, 226);
  // 81 frames of 1360×768: 21 latent frames padded to 22 as the pipeline does, 11 × 48 × 85 tokens after 226 text.
  const VideoGeometry g = cogvideox_video_geometry(c, 81, 768, 1360);
  EXPECT_EQ(g.latent_frames, 22);
  EXPECT_EQ(cogvideox_token_layout(c, g).seq_len(), 45106);
  EXPECT_EQ(cogvideox_token_layout(c, g).text_prefix, 226);
}

TEST(ModelFamily, ChecksDetectTheFamilyFromConfigOrTensorNames) {
  const std::filesystem::path dir = test::test_dir();
  const auto cog = write_cogvideox_checkpoint(dir / "cog");
  const auto cog_bare = write_cogvideox_checkpoint(dir / "cog-bare", /*with_config=*/false);
  const auto wan = write_wan_checkpoint(dir / "wan", KeyNaming::original);
  const auto wan_diffusers = write_wan_checkpoint(dir / "wan-d", KeyNaming::diffusers);
  auto family_of = [](const std::filesystem::path& p) {
    return data::identify_checkpoint(data::SafetensorsCollection::open(p), p).family;
  };
  EXPECT_EQ(family_of(cog).family, "cogvideox1.5");
  EXPECT_NE(family_of(cog).evidence.find("_class_name \"CogVideoXTransformer3DModel\""), std::string::npos);
  EXPECT_EQ(family_of(cog_bare).family, "cogvideox1.5");
  EXPECT_NE(family_of(cog_bare).evidence.find("tensor patch_embed.text_proj."), std::string::npos);
  EXPECT_EQ(family_of(wan).family, "wan2.1");
  EXPECT_EQ(family_of(wan_diffusers).family, "wan2.1");

  const OpenedModel loaded = load_model(cog, WeightOptions{});
  EXPECT_EQ(loaded.model->family(), "cogvideox1.5");
  EXPECT_EQ(dynamic_cast<const CogVideoXModel&>(*loaded.model).config(), tiny_cogvideox());
  EXPECT_EQ(load_model(wan_diffusers, WeightOptions{}).model->family(), "wan2.1");
  test::remove_tree(dir);
}

TEST(ModelFamily, ACheckpointOfAnotherFamilyIsRefusedNamingFileAndFamilies) {
  const std::filesystem::path dir = test::test_dir();
  const auto cog = write_cogvideox_checkpoint(dir / "cog");
  const auto wan = write_wan_checkpoint(dir / "wan", KeyNaming::diffusers);
  const std::string cog_file = (cog / "diffusion_pytorch_model.safetensors").string();
  expect_format_error([&] { load_model(cog, WeightOptions{}, "wan2.1"); },
                      {cog_file, "holds a cogvideox1.5 model", "_class_name", "expected wan2.1"});
  expect_format_error([&] { load_wan_model(cog, WeightOptions{}); },
                      {cog_file, "cogvideox1.5", "expected a Wan2.1 checkpoint"});
  expect_format_error([&] { load_model(wan, WeightOptions{}, "cogvideox1.5"); }, {"holds a wan2.1 model"});
  // A CogVideoX config read as a Wan config, and the other way round.
  expect_format_error([&] { read_config(cog / "config.json"); }, {"cogvideox1.5", "expected a Wan2.1 config"});
  expect_format_error([&] { parse_cogvideox_config(data::read_config_json(wan / "config.json"), "wan/config.json"); },
                      {"wan/config.json", "expected a CogVideoXTransformer3DModel config", "wan2.1"});
  // config.json of one family beside the tensors of another.
  std::filesystem::copy_file(wan / "config.json", cog / "config.json", std::filesystem::copy_options::overwrite_existing);
  expect_format_error([&] { load_model(cog, WeightOptions{}); },
                      {cog_file, "cogvideox1.5 checkpoint", "describes a wan2.1 model"});
  // A class svdit does not know.
  std::ofstream(cog / "config.json") << R"({"_class_name": "FluxTransformer2DModel"})";
  expect_format_error([&] { load_model(cog, WeightOptions{}); },
                      {"config.json", "_class_name", "FluxTransformer2DModel", "CogVideoXTransformer3DModel"});
  test::remove_tree(dir);
}

TEST(ModelFamily, CogVideoXVariantsThisRuntimeDoesNotRunAreRefusedNamingTheField) {
  nlohmann::json j = cogvideox_config_to_json(tiny_cogvideox());
  EXPECT_NO_THROW(parse_cogvideox_config(j, "c.json"));
  auto refused = [&](const char* field, const nlohmann::json& value) {
    nlohmann::json k = j;
    if (value.is_discarded()) k.erase(field); else k[field] = value;
    expect_format_error([&] { parse_cogvideox_config(k, "c.json"); }, {"c.json", field});
  };
  refused("patch_size_t", nlohmann::json(nlohmann::json::value_t::discarded));  // CogVideoX 1.0
  refused("patch_size_t", nullptr);
  refused("ofs_embed_dim", 512);                                                // image-to-video
  refused("use_learned_positional_embeddings", true);
  refused("use_rotary_positional_embeddings", false);
  refused("attention_head_dim", 24);                                            // no 2:3:3 RoPE split
  refused("num_layers", "2");
}

TEST(ModelFamily, APlanOfOneFamilyIsRefusedOnAnother) {
  const CogVideoXConfig cog = tiny_cogvideox();
  const VideoGeometry g = cogvideox_video_geometry(cog, 13, 64, 96);
  const data::TokenLayout cog_layout = cogvideox_token_layout(cog, g, 64);
  // A Wan plan with the same heads and layers.
  WanConfig wan = test::small_config();
  wan.num_heads = cog.num_heads;
  wan.dim = cog.num_heads * 64;
  wan.name = default_model_name(wan);
  data::TokenLayout wan_layout = cog_layout;
  wan_layout.text_prefix = 0;
  const data::Plan plan = make_mixed_plan(wan, wan_layout, MixedPlanOptions{});
  expect_format_error([&] { SparsePlanAttention(plan, plan_model(cog), cog_layout, "wan.json"); },
                      {"wan.json", "model.name", "layout.text_prefix: plan has 0, model has 12"});
  EXPECT_NO_THROW(SparsePlanAttention(make_mixed_plan(plan_model(cog), cog_layout, MixedPlanOptions{}),
                                      plan_model(cog), cog_layout, "cog.json"));
}

TEST(CogVideoXDpm, ScheduleIsTheTrailingOneWithZeroTerminalSnr) {
  const CogVideoXDpmSchedule three = make_cogvideox_dpm_schedule(3);
  EXPECT_EQ(three.timesteps, (std::vector<int64_t>{999, 666, 332}));  // round(1000, 666.67, 333.33) − 1
  const CogVideoXDpmSchedule fifty = make_cogvideox_dpm_schedule(50);
  ASSERT_EQ(fifty.timesteps.size(), 50u);
  EXPECT_EQ(fifty.timesteps.front(), 999);
  EXPECT_EQ(fifty.timesteps.back(), 19);
  EXPECT_EQ(fifty.alphas_cumprod.back(), 0.0);                  // zero terminal SNR
  EXPECT_NEAR(fifty.alphas_cumprod.front(), 1.0 - 0.00085, 1e-12);  // the first ᾱ is kept
  EXPECT_THROW(make_cogvideox_dpm_schedule(0), std::invalid_argument);
  EXPECT_THROW(make_cogvideox_dpm_schedule(1001), std::invalid_argument);
}

TEST(CogVideoXDpm, AnExactPredictionLandsOnTheData) {
  // With the true v of x_t = √ᾱ·x0 + √(1−ᾱ)·ε at every step, x0̂ = x0 exactly, and the last step (ᾱ_prev = 1)
  // returns it whatever noise the earlier steps added.
  at::Generator data_gen = at::make_generator<at::CPUGeneratorImpl>(9);
  const at::Tensor x0 = at::randn({1, 2, 4, 3, 3}, data_gen);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  at::Tensor x = at::randn({1, 2, 4, 3, 3}, gen);
  CogVideoXDpmSampler sampler(4, gen);
  const CogVideoXDpmSchedule tables = make_cogvideox_dpm_schedule(4);
  for (int64_t i = 0; i < 4; ++i) {
    const double a = tables.alphas_cumprod[static_cast<size_t>(tables.timesteps[static_cast<size_t>(i)])];
    const at::Tensor eps = (x - std::sqrt(a) * x0) / std::sqrt(1.0 - a);  // the noise in x (a < 1)
    const at::Tensor v = std::sqrt(a) * eps - std::sqrt(1.0 - a) * x0;
    x = sampler.step(v, x);
  }
  EXPECT_TRUE(at::allclose(x, x0, 1e-5, 1e-5));
  EXPECT_THROW(sampler.step(x, x), std::logic_error);
}

TEST(CogVideoX, SelfAttentionOverTextAndVideoGoesThroughThePlan) {
  const CogVideoXConfig c = tiny_cogvideox();
  const CogVideoXModel model(c, random_cogvideox_weights(c, WeightOptions{}, 5), WeightOptions{}, "tiny");
  const VideoGeometry g = model.video_geometry(13, 128, 192);  // latents 4 × 16 × 24, grid 2 × 8 × 12: 12 + 192 tokens
  const data::TokenLayout layout = model.token_layout(g, 64);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(6);
  const at::Tensor latents = at::randn(model.latent_shape(g), gen);  // [1, T, C, H, W]
  const at::Tensor text = at::randn({1, c.text_len, c.text_embed_dim}, gen);
  const at::Tensor t = at::full({1}, 500, at::kLong);
  const at::Tensor dense = model.forward(latents, t, text);
  EXPECT_EQ(dense.sizes(), latents.sizes());

  MixedPlanOptions all_dense;
  all_dense.mix = parse_mix("dense=1");
  SparsePlanAttention dense_plan(make_mixed_plan(model.plan_model(), layout, all_dense), model.plan_model(), layout, "d");
  EXPECT_TRUE(at::equal(model.forward(latents, t, text, ForwardOptions{0, CfgBranch::conditional, &dense_plan}), dense));

  // One head skipped, one dense, in every layer: the layer runs the sparse kernel over all 204 tokens, text included.
  MixedPlanOptions mixed;
  mixed.mix = parse_mix("skip=1,dense=1");
  data::Plan plan = make_mixed_plan(model.plan_model(), layout, mixed);
  int32_t skip = -1, dense_id = -1;
  for (const data::PlanPattern& p : plan.patterns) (p.pattern.is_skip() ? skip : dense_id) = p.id;
  for (data::ScheduleEntry& e : plan.schedule) {
    if (!e.dense) e.heads = {skip, dense_id, skip, dense_id};  // [layer][head]: head 0 skipped, head 1 dense
  }
  SparsePlanAttention sparse(plan, model.plan_model(), layout, "m");
  ASSERT_EQ(sparse.layer_plan(0, 0).mode, SparsePlanAttention::LayerMode::sparse);
  const at::Tensor out = model.forward(latents, t, text, ForwardOptions{0, CfgBranch::conditional, &sparse});
  EXPECT_FALSE(at::allclose(out, dense, 1e-3, 1e-3));
}

}  // namespace
}  // namespace svdit::runtime
