// The command-line tools as a user runs them: `svdit --help`, `svdit inspect` on the bundled samples, and a clear
// non-zero exit on corrupted copies.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_svdit.h"
#include "svdit/data/safetensors.h"

namespace {

namespace fs = std::filesystem;

using Result = svdit::testing::CommandResult;

Result run(const std::string& args) { return svdit::testing::run_svdit(args); }

fs::path sample(const std::string& name) { return fs::path(SVDIT_SOURCE_DIR) / "data" / "samples" / name; }

// A copy of `source` in a fresh temporary folder, cut to `keep` bytes and with `patch` written at `at`.
fs::path corrupted_copy(const fs::path& source, size_t keep, size_t at = 0, const std::string& patch = "") {
  const fs::path dir = fs::temp_directory_path() / ("svdit_cli_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path target = dir / source.filename();
  std::ifstream in(source, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  bytes.resize(std::min(bytes.size(), keep));
  if (!patch.empty() && at + patch.size() <= bytes.size()) bytes.replace(at, patch.size(), patch);
  std::ofstream(target, std::ios::binary) << bytes;
  return target;
}

TEST(Cli, HelpListsTheVerbsOfThisBuild) {
  const Result help = run("--help");
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("inspect    print a readable summary"), std::string::npos) << help.output;
  const Result unknown = run("frobnicate");
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.output.find("'frobnicate' is not a verb of this build"), std::string::npos) << unknown.output;
  EXPECT_EQ(run("inspect --help").status, 0);
  EXPECT_EQ(run("inspect").status, 2);
}

TEST(Cli, InspectsTheSamplePlan) {
  const Result r = run("inspect " + sample("sample_plan.json").string() + " --layouts");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("model   svdit-sample: 4 layers x 6 heads, head_dim 64"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("layout  F=6 H'=8 W'=12 (P=96) T0=0 T1=0 S=576 b=64"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("#########"), std::string::npos) << "the dense pattern's picture is missing";
}

TEST(Cli, InspectsTheSampleProfile) {
  const Result r = run("inspect " + sample("sample_profile.h5").string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("model   svdit-sample: 4 layers x 6 heads"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("SYNTHETIC"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("candidates (8)"), std::string::npos) << r.output;
}

// A checkpoint folder with the given config.json (none when empty) and one tensor named `tensor`.
fs::path checkpoint(const std::string& name, const std::string& config, const std::string& tensor) {
  const fs::path dir = fs::temp_directory_path() / ("svdit_cli_test_" + std::to_string(::getpid())) / name;
  fs::create_directories(dir);
  const float value = 1.0f;
  svdit::data::TensorData d;
  d.name = tensor;
  d.dtype = svdit::data::DType::f32;
  d.shape = {1};
  d.bytes = std::as_bytes(std::span<const float>(&value, 1));
  svdit::data::write_safetensors(dir / "diffusion_pytorch_model.safetensors",
                                 std::span<const svdit::data::TensorData>(&d, 1));
  if (!config.empty()) std::ofstream(dir / "config.json") << config;
  return dir;
}

TEST(Cli, InspectNamesACheckpointsModelFamilyAndConfig) {
  const std::string config = R"({"_class_name": "CogVideoXTransformer3DModel", "num_layers": 42})";
  const Result cog = run("inspect " + checkpoint("cog", config, "patch_embed.text_proj.weight").string());
  EXPECT_EQ(cog.status, 0) << cog.output;
  EXPECT_NE(cog.output.find("family  cogvideox1.5 (CogVideoX1.5; from config.json _class_name"), std::string::npos)
      << cog.output;
  EXPECT_NE(cog.output.find("num_layers=42"), std::string::npos) << cog.output;
  const Result wan = run("inspect " + checkpoint("wan", "", "patch_embedding.weight").string());
  EXPECT_NE(wan.output.find("family  wan2.1 (Wan2.1; from tensor patch_embedding.weight)"), std::string::npos)
      << wan.output;
  const Result other = run("inspect " + checkpoint("other", "", "encoder.weight").string());
  EXPECT_EQ(other.status, 0) << other.output;  // still summarised; the family is reported as unknown
  EXPECT_NE(other.output.find("family  not a model svdit recognises"), std::string::npos) << other.output;
}

TEST(Cli, RefusesCorruptedFilesWithAClearMessage) {
  const fs::path truncated_profile = corrupted_copy(sample("sample_profile.h5"), 4096);
  Result r = run("inspect " + truncated_profile.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(truncated_profile.string()), std::string::npos) << r.output;

  const fs::path truncated_plan = corrupted_copy(sample("sample_plan.json"), 300);
  r = run("inspect " + truncated_plan.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(truncated_plan.string()), std::string::npos) << r.output;

  r = run("inspect " + (fs::temp_directory_path() / "svdit_no_such_file.h5").string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("svdit_no_such_file.h5"), std::string::npos) << r.output;

  // A safetensors file whose header length points past the end of the file.
  const fs::path bad_weights = fs::temp_directory_path() / "svdit_cli_bad.safetensors";
  {
    std::ofstream out(bad_weights, std::ios::binary);
    const unsigned char length[8] = {0xff, 0xff, 0, 0, 0, 0, 0, 0};
    out.write(reinterpret_cast<const char*>(length), 8);
    out << "{}";
  }
  r = run("inspect " + bad_weights.string());
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find(bad_weights.string()), std::string::npos) << r.output;
}

}  // namespace
