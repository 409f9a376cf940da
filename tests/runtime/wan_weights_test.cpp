// Weights: a random small checkpoint written in the test, read back under both key namings (single file and
// sharded), gives the same model output; every kind of bad checkpoint is refused with an error that names the key
// and both shapes; config.json in both namings, and config detection from the tensors.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime_test_support.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::runtime {
namespace {

using test::small_config;
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

StateDict load(const std::filesystem::path& path, const WanConfig& config) {
  return load_state_dict(data::SafetensorsCollection::open(path), config, WeightOptions{});
}

TEST(WanWeights, ExpectedKeyCountsMatchTheReleasedModels) {
  // 15 top-level + 27 per block: 825 keys for 1.3B, 1095 for 14B (reference/wan21-spec.md §3).
  EXPECT_EQ(expected_tensors(*preset_config("1.3B")).size(), 825u);
  EXPECT_EQ(expected_tensors(*preset_config("14B")).size(), 1095u);
  int64_t params = 0;
  for (const ExpectedTensor& e : expected_tensors(*preset_config("1.3B"))) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    params += n;
  }
  EXPECT_EQ(params, 1'418'996'800);
}

TEST(WanWeights, DiffusersNamesFollowTheConversionTable) {
  EXPECT_EQ(key_for("blocks.3.self_attn.q.weight", KeyNaming::diffusers), "blocks.3.attn1.to_q.weight");
  EXPECT_EQ(key_for("blocks.3.self_attn.o.bias", KeyNaming::diffusers), "blocks.3.attn1.to_out.0.bias");
  EXPECT_EQ(key_for("blocks.0.cross_attn.norm_k.weight", KeyNaming::diffusers), "blocks.0.attn2.norm_k.weight");
  EXPECT_EQ(key_for("blocks.12.norm3.bias", KeyNaming::diffusers), "blocks.12.norm2.bias");
  EXPECT_EQ(key_for("blocks.1.ffn.0.weight", KeyNaming::diffusers), "blocks.1.ffn.net.0.proj.weight");
  EXPECT_EQ(key_for("blocks.1.ffn.2.bias", KeyNaming::diffusers), "blocks.1.ffn.net.2.bias");
  EXPECT_EQ(key_for("blocks.1.modulation", KeyNaming::diffusers), "blocks.1.scale_shift_table");
  EXPECT_EQ(key_for("head.modulation", KeyNaming::diffusers), "scale_shift_table");
  EXPECT_EQ(key_for("head.head.weight", KeyNaming::diffusers), "proj_out.weight");
  EXPECT_EQ(key_for("time_projection.1.weight", KeyNaming::diffusers), "condition_embedder.time_proj.weight");
  EXPECT_EQ(key_for("text_embedding.2.bias", KeyNaming::diffusers), "condition_embedder.text_embedder.linear_2.bias");
  EXPECT_EQ(key_for("time_embedding.0.weight", KeyNaming::diffusers), "condition_embedder.time_embedder.linear_1.weight");
  EXPECT_EQ(key_for("patch_embedding.bias", KeyNaming::diffusers), "patch_embedding.bias");
  EXPECT_THROW(key_for("blocks.0.mystery.weight", KeyNaming::diffusers), std::invalid_argument);
}

TEST(WanWeights, RoundTripUnderBothNamingsGivesTheSameOutput) {
  const auto dir = test_dir();
  const WanConfig config = small_config();
  const StateDict original = random_state_dict(config, WeightOptions{}, 3);
  save_state_dict(dir / "original.safetensors", original, KeyNaming::original);
  save_state_dict(dir / "diffusers.safetensors", original, KeyNaming::diffusers);

  // Sharded, diffusers names: blocks in one shard, the rest in another, tied by an index.
  StateDict blocks, rest;
  for (const auto& [name, t] : original) (name.rfind("blocks.", 0) == 0 ? blocks : rest).emplace(name, t);
  save_state_dict(dir / "model-00001-of-00002.safetensors", blocks, KeyNaming::diffusers);
  save_state_dict(dir / "model-00002-of-00002.safetensors", rest, KeyNaming::diffusers);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, t] : blocks) index["weight_map"][key_for(name, KeyNaming::diffusers)] = "model-00001-of-00002.safetensors";
  for (const auto& [name, t] : rest) index["weight_map"][key_for(name, KeyNaming::diffusers)] = "model-00002-of-00002.safetensors";
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();

  const data::SafetensorsCollection orig_file = data::SafetensorsCollection::open(dir / "original.safetensors");
  const data::SafetensorsCollection diff_file = data::SafetensorsCollection::open(dir / "diffusers.safetensors");
  EXPECT_EQ(detect_naming(orig_file), KeyNaming::original);
  EXPECT_EQ(detect_naming(diff_file), KeyNaming::diffusers);
  EXPECT_TRUE(diff_file.find("blocks.1.attn1.to_q.weight") != nullptr);

  const StateDict a = load(dir / "original.safetensors", config);
  const StateDict b = load(dir / "diffusers.safetensors", config);
  const StateDict c = load(dir / "model.safetensors.index.json", config);
  ASSERT_EQ(a.size(), original.size());
  for (const auto& [name, t] : original) {
    EXPECT_TRUE(at::equal(a.at(name), t)) << name;
    EXPECT_TRUE(at::equal(b.at(name), t)) << name;
    EXPECT_TRUE(at::equal(c.at(name), t)) << name;
  }

  const test::SmallInputs in = test::small_inputs();
  const at::Tensor out_a = WanModel(config, a).forward(in.latents, in.timestep, in.context);  // [1, 16, 4, 16, 16]
  const at::Tensor out_b = WanModel(config, b).forward(in.latents, in.timestep, in.context);
  const at::Tensor out_c = WanModel(config, c).forward(in.latents, in.timestep, in.context);
  const at::Tensor out_0 = WanModel(config, original).forward(in.latents, in.timestep, in.context);
  EXPECT_TRUE(at::equal(out_a, out_0));
  EXPECT_TRUE(at::equal(out_b, out_0));
  EXPECT_TRUE(at::equal(out_c, out_0));
  EXPECT_GT(out_0.abs().max().item<double>(), 0.0);
}

TEST(WanWeights, Bf16CheckpointLoadsAsItsValues) {
  const auto dir = test_dir();
  const WanConfig config = small_config();
  const StateDict original = random_state_dict(config, WeightOptions{}, 5);
  save_state_dict(dir / "bf16.safetensors", original, KeyNaming::original, at::kBFloat16);
  const StateDict loaded = load(dir / "bf16.safetensors", config);
  for (const auto& [name, t] : original) {
    EXPECT_TRUE(at::equal(loaded.at(name), t.to(at::kBFloat16).to(at::kFloat))) << name;
  }
}

TEST(WanWeights, MissingKeyIsNamedWithItsExpectedShape) {
  const auto dir = test_dir();
  const WanConfig config = small_config();
  StateDict state = random_state_dict(config, WeightOptions{}, 1);
  state.erase("blocks.1.cross_attn.k.weight");
  save_state_dict(dir / "missing.safetensors", state, KeyNaming::diffusers);
  const std::string msg = format_error([&] { load(dir / "missing.safetensors", config); });
  EXPECT_NE(msg.find("missing.safetensors"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blocks.1.attn2.to_k.weight: missing (expected shape [128, 128])"), std::string::npos) << msg;
}

TEST(WanWeights, ExtraKeyIsNamedWithItsShape) {
  const auto dir = test_dir();
  const WanConfig config = small_config();
  StateDict state = random_state_dict(config, WeightOptions{}, 1);
  state.emplace("blocks.2.modulation", at::zeros({1, 6, 128}));  // a third block in a 2-layer model
  save_state_dict(dir / "extra.safetensors", state, KeyNaming::original);
  const std::string msg = format_error([&] { load(dir / "extra.safetensors", config); });
  EXPECT_NE(msg.find("blocks.2.modulation: unexpected tensor of shape [1, 6, 128]"), std::string::npos) << msg;
}

TEST(WanWeights, WrongShapeNamesTheKeyAndBothShapes) {
  const auto dir = test_dir();
  const WanConfig config = small_config();
  StateDict state = random_state_dict(config, WeightOptions{}, 1);
  state["blocks.0.ffn.0.weight"] = at::zeros({255, 128});
  save_state_dict(dir / "shape.safetensors", state, KeyNaming::original);
  const std::string msg = format_error([&] { load(dir / "shape.safetensors", config); });
  EXPECT_NE(msg.find("blocks.0.ffn.0.weight: expected shape [256, 128], found [255, 128]"), std::string::npos) << msg;

  // The same rule for a state dict built in memory.
  EXPECT_THROW(WanModel(config, state), data::FormatError);
}

TEST(WanWeights, InMemoryStateDictNeedsOneGemmDtypeAndFp32NormsAndTables) {
  const WanConfig config = small_config();
  StateDict state = random_state_dict(config, WeightOptions{at::kCPU, at::kBFloat16}, 1);
  EXPECT_EQ(state.at("blocks.0.self_attn.q.weight").scalar_type(), at::kBFloat16);
  EXPECT_EQ(state.at("blocks.0.modulation").scalar_type(), at::kFloat);
  EXPECT_NO_THROW(WanModel(config, state));
  state["blocks.1.self_attn.norm_q.weight"] = state.at("blocks.1.self_attn.norm_q.weight").to(at::kBFloat16);
  try {
    WanModel model(config, state, "mixed.safetensors");
    FAIL() << "a bf16 RMSNorm gain was accepted";
  } catch (const data::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("blocks.1.self_attn.norm_q.weight: expected Float on cpu, found BFloat16 on cpu"),
              std::string::npos)
        << e.what();
  }
}

TEST(WanWeights, WrongDtypeNamesTheTensorAndTheDtype) {
  const auto dir = test_dir();
  // A checkpoint whose patch embedding bias is stored as int64: written by hand (svdit's writer has no I64).
  const std::string header = R"({"patch_embedding.bias":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}})";
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i) file[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xFF);
  file += header + std::string(16, '\0');
  std::ofstream(dir / "dtype.safetensors", std::ios::binary) << file;
  const std::string msg = format_error([&] { load(dir / "dtype.safetensors", small_config()); });
  EXPECT_NE(msg.find("patch_embedding.bias"), std::string::npos) << msg;
  EXPECT_NE(msg.find("I64"), std::string::npos) << msg;
  EXPECT_NE(msg.find("F32, BF16 and F16"), std::string::npos) << msg;
}

TEST(WanConfigFile, BothNamingsParseToTheSameConfig) {
  const nlohmann::json original = {{"_class_name", "WanModel"}, {"model_type", "t2v"}, {"dim", 1536},
                                   {"ffn_dim", 8960}, {"freq_dim", 256}, {"in_dim", 16}, {"out_dim", 16},
                                   {"num_heads", 12}, {"num_layers", 30}, {"eps", 1e-6}, {"text_len", 512}};
  const nlohmann::json diffusers = {{"_class_name", "WanTransformer3DModel"}, {"num_attention_heads", 12},
                                    {"attention_head_dim", 128}, {"in_channels", 16}, {"out_channels", 16},
                                    {"text_dim", 4096}, {"freq_dim", 256}, {"ffn_dim", 8960}, {"num_layers", 30},
                                    {"eps", 1e-6}, {"patch_size", {1, 2, 2}}, {"qk_norm", "rms_norm_across_heads"},
                                    {"cross_attn_norm", true}, {"rope_max_seq_len", 1024}, {"image_dim", nullptr}};
  const WanConfig a = parse_config(original, "original.json");
  const WanConfig b = parse_config(diffusers, "diffusers.json");
  EXPECT_EQ(a, *preset_config("1.3B"));
  EXPECT_EQ(b, *preset_config("1.3B"));
  EXPECT_EQ(a.name, "Wan2.1-T2V-1.3B");

  nlohmann::json i2v = diffusers;
  i2v["image_dim"] = 1280;
  const std::string msg = format_error([&] { parse_config(i2v, "i2v.json"); });
  EXPECT_NE(msg.find("i2v.json: image_dim"), std::string::npos) << msg;

  // A small config round-trips through svdit's own writer.
  EXPECT_EQ(parse_config(config_to_json(small_config())), small_config());
}

TEST(WanConfigFile, DetectedFromTheWeightsWhenNoConfigIsGiven) {
  const auto dir = test_dir();
  WanConfig config = small_config();  // dim 128 → one head of 128 when detected
  config.num_heads = 1;
  config.name = default_model_name(config);
  save_state_dict(dir / "w.safetensors", random_state_dict(config, WeightOptions{}, 2), KeyNaming::diffusers);
  const WanConfig detected = detect_config(data::SafetensorsCollection::open(dir / "w.safetensors"));
  EXPECT_EQ(detected.dim, 128);
  EXPECT_EQ(detected.num_layers, 2);
  EXPECT_EQ(detected.ffn_dim, 256);
  EXPECT_EQ(detected.text_dim, 64);
  EXPECT_EQ(detected.num_heads, 1);
  EXPECT_EQ(detected.out_dim, 16);

  // With a config.json beside the weights, load_wan_model uses it (2 heads, text_len 16).
  std::ofstream(dir / "config.json") << config_to_json(small_config()).dump();
  save_state_dict(dir / "w.safetensors", random_state_dict(small_config(), WeightOptions{}, 2), KeyNaming::original);
  const LoadedModel loaded = load_wan_model(dir / "w.safetensors", WeightOptions{});
  EXPECT_EQ(loaded.model->config(), small_config());
  EXPECT_EQ(loaded.naming, KeyNaming::original);
  EXPECT_EQ(loaded.config_source, (dir / "config.json").string());
}

// Issue 20 items 3 and 6: config.json sizes bounded before anything is allocated, read strictly, found strictly.
TEST(WanConfigFile, HugeSizesAreRefusedNamingFileFieldValueAndBound) {
  // text_len 2^62 made `svdit generate` segfault in the demo words path (text_len × text_dim overflowed).
  nlohmann::json j = config_to_json(small_config());
  j["text_len"] = int64_t{1} << 62;
  std::string msg = format_error([&] { parse_config(j, "big.json"); });
  EXPECT_NE(msg.find("big.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("text_len: found 4611686018427387904, which exceeds the bound 4096"), std::string::npos) << msg;
  j = config_to_json(small_config());
  j["num_layers"] = int64_t{1} << 31;  // ran 25 s and took 5.5 GB before std::bad_alloc
  msg = format_error([&] { parse_config(j, "big.json"); });
  EXPECT_NE(msg.find("num_layers: found 2147483648, which exceeds the bound 1024"), std::string::npos) << msg;
}

// Found by svdit-fuzz-config: under the diffusers naming, dim = heads × head_dim was formed before any bound, and
// 2^62 × 2^62 overflowed (undefined behaviour; it wrapped to a dim of 0 and the error blamed "dim").
TEST(WanConfigFile, DiffusersHeadSizesAreBoundedBeforeTheirProduct) {
  const nlohmann::json j = {{"num_attention_heads", int64_t{1} << 62}, {"attention_head_dim", int64_t{1} << 62}};
  const std::string msg = format_error([&] { parse_config(j, "huge_heads.json"); });
  EXPECT_NE(msg.find("huge_heads.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("num_attention_heads"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exceeds the bound 1024"), std::string::npos) << msg;
}

TEST(WanConfigFile, ReadStrictly) {
  const auto dir = test_dir();
  std::ofstream(dir / "huge.json") << R"({"dim": 128, "eps": 1e999})";
  std::string msg = format_error([&] { read_config(dir / "huge.json"); });
  EXPECT_NE(msg.find("\"eps\""), std::string::npos) << msg;  // not a raw [json.exception.out_of_range.406]
  EXPECT_NE(msg.find("1e999"), std::string::npos) << msg;
  std::ofstream(dir / "twice.json") << R"({"dim": 128, "dim": 256})";
  msg = format_error([&] { read_config(dir / "twice.json"); });
  EXPECT_NE(msg.find("duplicate key \"dim\""), std::string::npos) << msg;
}

TEST(WanConfigFile, AConfigJsonThatIsNoFileIsReportedNotIgnored) {
  const auto dir = test_dir();
  std::filesystem::create_directories(dir / "as_dir" / "config.json");
  std::string msg = format_error([&] { find_config_beside(dir / "as_dir" / "w.safetensors"); });
  EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a regular file"), std::string::npos) << msg;
  std::filesystem::create_directories(dir / "dangling");
  std::filesystem::create_symlink(dir / "nowhere.json", dir / "dangling" / "config.json");
  msg = format_error([&] { find_config_beside(dir / "dangling" / "w.safetensors"); });
  EXPECT_NE(msg.find("link to nothing"), std::string::npos) << msg;
  std::filesystem::create_directories(dir / "none");
  EXPECT_FALSE(find_config_beside(dir / "none" / "w.safetensors").has_value());
}

}  // namespace
}  // namespace svdit::runtime
