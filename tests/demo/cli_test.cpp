// The demo model from the command line: svdit generate --prompt on a tiny demo-shaped config writes PNG frames
// through the built-in pixel-unshuffle decoder; svdit demo-video renders a strip; the tools' --help and errors.

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "demo_test_support.h"
#include "support/run_svdit.h"

namespace svdit::demo {
namespace {

bool is_png(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  char sig[8] = {};
  in.read(sig, 8);
  return in && std::string(sig + 1, 3) == "PNG";
}

class DemoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir = test::test_dir();
    std::ofstream(dir / "config.json") << runtime::config_to_json(test::tiny_config()).dump(2);
  }
  void TearDown() override { test::remove_tree(dir); }
  std::string generate(const std::string& extra) {
    return "generate --random-weights " + (dir / "config.json").string() +
           " --frames 4 --height 16 --width 24 --steps 2 --device cpu --threads 1 --quiet --out " +
           (dir / "video.safetensors").string() + " " + extra;
  }
  std::filesystem::path dir;
};

TEST_F(DemoCli, GenerateWithAPromptWritesPngFrames) {
  const auto r = testing::run_svdit(generate("--prompt 'red circle bounce checker static' --negative-prompt ''"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("pixel-unshuffle"), std::string::npos) << r.output;
  for (int f = 0; f < 4; ++f) {
    const auto png = dir / ("video_frame_000" + std::to_string(f) + ".png");
    EXPECT_TRUE(is_png(png)) << png;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "video_frame_0004.png"));
}

TEST_F(DemoCli, GenerateNamesAnUnknownWord) {
  const auto r = testing::run_svdit(generate("--prompt 'red hexagon bounce'"));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("\"hexagon\""), std::string::npos) << r.output;
  const auto both = testing::run_svdit(generate("--prompt red --embeddings x.safetensors"));
  EXPECT_EQ(both.status, 2) << both.output;
}

TEST_F(DemoCli, DemoVideoRendersAStrip) {
  const auto out = dir / "strip.png";
  const auto r = testing::run_svdit("demo-video --prompt 'red circle bounce checker static; blue square slide dots pan' "
                                    "--frames 3 --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(is_png(out));
  const auto bad = testing::run_svdit("demo-video --prompt 'red circle' --out " + out.string());
  EXPECT_EQ(bad.status, 1) << bad.output;
  EXPECT_NE(bad.output.find("colour shape motion"), std::string::npos) << bad.output;
}

TEST_F(DemoCli, ToolsHaveHelp) {
  for (const char* verb : {"train-demo", "demo-video"}) {
    const auto r = testing::run_svdit(std::string(verb) + " --help");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("--out"), std::string::npos) << r.output;
  }
  const auto r = testing::run_svdit("train-demo --out " + dir.string());
  EXPECT_EQ(r.status, 2) << r.output;  // neither --steps nor --minutes
}

}  // namespace
}  // namespace svdit::demo
