// The executables end to end on a small config on CPU: svdit generate with and without a plan (random weights and
// a checkpoint on disk), svdit compare, svdit bench e2e, their --help and their errors.

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "runtime_test_support.h"
#include "svdit/data/plan.h"
#include "support/run_svdit.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/mixed_plan.h"
#include "svdit/runtime/text_embeddings.h"

namespace svdit::runtime {
namespace {

using Result = svdit::testing::CommandResult;
Result run(const std::string& command) { return svdit::testing::run_command(command); }
std::string bin(const std::string& name) { return svdit::testing::executable(name); }

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* exe : {"svdit-generate", "svdit-compare", "svdit-bench"}) {
      ASSERT_TRUE(std::filesystem::exists(bin(exe))) << bin(exe) << " is not built (it is a dependency of this suite)";
    }
    dir = test::test_dir();
    std::ofstream(dir / "config.json") << config_to_json(test::small_config()).dump(2);
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(4);
    save_text_embeddings((dir / "prompt.safetensors").string(), at::randn({6, 64}, gen));
    save_text_embeddings((dir / "negative.safetensors").string(), at::randn({3, 64}, gen));
  }

  // 13 frames of 128 × 128 px → latents 4 × 16 × 16 → tokens 4 × 8 × 8.
  std::string generate(const std::string& extra, const std::string& out) {
    return bin("svdit-generate") + " --random-weights " + (dir / "config.json").string() +
           " --frames 13 --height 128 --width 128 --steps 3 --seed 5 --device cpu --threads 1 --embeddings " +
           (dir / "prompt.safetensors").string() + " --negative-embeddings " + (dir / "negative.safetensors").string() +
           " --out " + (dir / out).string() + " " + extra;
  }

  void write_plan(const std::string& name, const std::string& mix, int64_t frames = 4) {
    MixedPlanOptions o;
    o.mix = parse_mix(mix);
    data::write_plan(make_mixed_plan(test::small_config(), token_layout(latent_geometry(test::small_config(), frames, 16, 16), 64), o),
                     dir / name);
  }

  std::filesystem::path dir;
};

TEST_F(Cli, GenerateWithAndWithoutAPlanThenCompare) {
  write_plan("mixed.json", "window=1,temporal=1,stripe=1,skip=1");
  write_plan("dense.json", "dense=1");

  const Result dense = run(generate("", "dense.safetensors"));
  ASSERT_EQ(dense.status, 0) << dense.output;
  EXPECT_NE(dense.output.find("step 3/3"), std::string::npos) << dense.output;  // the progress bar
  EXPECT_NE(dense.output.find("ETA"), std::string::npos) << dense.output;
  const Result sparse = run(generate("--plan " + (dir / "mixed.json").string(), "sparse.safetensors"));
  ASSERT_EQ(sparse.status, 0) << sparse.output;
  EXPECT_NE(sparse.output.find("sparse plan"), std::string::npos) << sparse.output;
  const Result all_dense = run(generate("--plan " + (dir / "dense.json").string() + " --quiet", "all_dense.safetensors"));
  ASSERT_EQ(all_dense.status, 0) << all_dense.output;

  const LatentsFile a = load_latents(dir / "dense.safetensors");
  const LatentsFile b = load_latents(dir / "sparse.safetensors");
  const LatentsFile c = load_latents(dir / "all_dense.safetensors");
  EXPECT_EQ(a.latents.sizes(), (at::IntArrayRef{1, 16, 4, 16, 16}));
  EXPECT_EQ(a.metadata.at("seed"), "5");
  EXPECT_EQ(a.metadata.at("attention"), "dense");
  EXPECT_FALSE(at::equal(a.latents, b.latents));
  EXPECT_TRUE(at::equal(a.latents, c.latents));  // an all-dense plan is no plan

  const Result compare = run(bin("svdit-compare") + " " + (dir / "dense.safetensors").string() + " " +
                             (dir / "sparse.safetensors").string());
  ASSERT_EQ(compare.status, 0) << compare.output;
  EXPECT_NE(compare.output.find("PSNR"), std::string::npos) << compare.output;
  EXPECT_NE(compare.output.find("SSIM"), std::string::npos) << compare.output;
  const Result same = run(bin("svdit-compare") + " --json " + (dir / "dense.safetensors").string() + " " +
                          (dir / "all_dense.safetensors").string());
  ASSERT_EQ(same.status, 0) << same.output;
  const auto json = nlohmann::json::parse(same.output.substr(same.output.find('{')));
  EXPECT_EQ(json["psnr_db"], "inf");
  EXPECT_DOUBLE_EQ(json["ssim"].get<double>(), 1.0);
}

// The bundled sample plan is for "svdit-sample" (4 layers × 6 heads × 64, tokens 6 × 8 × 12, blocks of 64):
// data/samples/sample_model_config.json is a model of that shape, 21 frames of 128 × 192 px give those tokens.
TEST_F(Cli, TheBundledSamplePlanRunsOnAModelOfItsShapeAndIsRefusedByAnother) {
  const std::string samples = std::string(SVDIT_SOURCE_DIR) + "/data/samples/";
  const std::string common = " --frames 21 --height 128 --width 192 --steps 2 --device cpu --threads 1 --quiet --plan " +
                             samples + "sample_plan.json --out " + (dir / "sample.safetensors").string();
  const Result ok = run(bin("svdit-generate") + " --random-weights " + samples + "sample_model_config.json" + common);
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_EQ(load_latents(dir / "sample.safetensors").latents.sizes(), (at::IntArrayRef{1, 16, 6, 16, 24}));

  const Result other = run(bin("svdit-generate") + " --random-weights " + (dir / "config.json").string() + common);
  EXPECT_NE(other.status, 0) << other.output;
  EXPECT_NE(other.output.find("model.heads"), std::string::npos) << other.output;
}

TEST_F(Cli, GenerateFromACheckpointOnDiskMatchesTheSameRandomWeights) {
  // The random weights of --random-weights (seed 0), saved with diffusers names: the same latents.
  std::filesystem::create_directories(dir / "ckpt");
  std::filesystem::copy_file(dir / "config.json", dir / "ckpt" / "config.json");
  save_state_dict(dir / "ckpt" / "diffusion_pytorch_model.safetensors",
                  random_state_dict(test::small_config(), WeightOptions{}, 0), KeyNaming::diffusers);
  const Result random = run(generate("--quiet", "random.safetensors"));
  ASSERT_EQ(random.status, 0) << random.output;
  const std::string from_disk_cmd =
      bin("svdit-generate") + " --weights " + (dir / "ckpt").string() +
      " --frames 13 --height 128 --width 128 --steps 3 --seed 5 --device cpu --threads 1 --quiet --embeddings " +
      (dir / "prompt.safetensors").string() + " --negative-embeddings " + (dir / "negative.safetensors").string() +
      " --out " + (dir / "disk.safetensors").string();
  const Result from_disk = run(from_disk_cmd);
  ASSERT_EQ(from_disk.status, 0) << from_disk.output;
  EXPECT_NE(from_disk.output.find("diffusers names"), std::string::npos) << from_disk.output;
  EXPECT_TRUE(at::equal(load_latents(dir / "random.safetensors").latents, load_latents(dir / "disk.safetensors").latents));
}

TEST_F(Cli, ErrorsNameTheProblem) {
  write_plan("five_frames.json", "window=1", 5);
  const Result mismatch = run(generate("--plan " + (dir / "five_frames.json").string(), "x.safetensors"));
  EXPECT_EQ(mismatch.status, 1) << mismatch.output;
  EXPECT_NE(mismatch.output.find("layout.frames: plan has 5, model has 4"), std::string::npos) << mismatch.output;

  const Result frames = run(generate("--frames 12", "x.safetensors"));
  EXPECT_EQ(frames.status, 1) << frames.output;
  EXPECT_NE(frames.output.find("--frames"), std::string::npos) << frames.output;

  const Result unknown = run(bin("svdit-generate") + " --no-such-option 3");
  EXPECT_EQ(unknown.status, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("unknown option --no-such-option"), std::string::npos) << unknown.output;

  const Result both = run(bin("svdit-generate") + " --weights a --random-weights 1.3B");
  EXPECT_EQ(both.status, 2) << both.output;
}

TEST_F(Cli, HelpOfEveryVerbThroughTheLauncher) {
  for (const auto& [verb, expected] : {std::pair<std::string, std::string>{"generate", "--plan"},
                                       {"compare", "PSNR"}, {"bench e2e", "--mix"}}) {
    const Result r = run(bin("svdit") + " " + verb + " --help");
    EXPECT_EQ(r.status, 0) << verb << ": " << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << verb << ": " << r.output;
  }
}

TEST_F(Cli, BenchE2eOnASmallConfigAndVerifyOnCpu) {
  const Result bench = run(bin("svdit-bench") + " e2e --model " + (dir / "config.json").string() +
                           " --frames 13 --height 128 --width 128 --block-size 64 --device cpu --threads 1 --warmup 0 --reps 1"
                           " --write-plan " + (dir / "bench_plan.json").string());
  ASSERT_EQ(bench.status, 0) << bench.output;
  EXPECT_NE(bench.output.find("speed-up"), std::string::npos) << bench.output;
  EXPECT_NE(bench.output.find("attn share"), std::string::npos) << bench.output;
  EXPECT_NO_THROW(data::read_plan(dir / "bench_plan.json"));

  const Result verify = run(bin("svdit-bench") + " e2e --verify --device cpu --block-size 64");
  ASSERT_EQ(verify.status, 0) << verify.output;
  EXPECT_NE(verify.output.find("verify: worst relative difference"), std::string::npos) << verify.output;
  EXPECT_NE(verify.output.find("sparse"), std::string::npos) << verify.output;
}

}  // namespace
}  // namespace svdit::runtime
