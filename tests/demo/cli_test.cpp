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
  for (const char* verb : {"train-demo", "demo-video", "demo-score", "demo-gif"}) {
    const auto r = testing::run_svdit(std::string(verb) + " --help");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_NE(r.output.find("usage: svdit " + std::string(verb)), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(std::string(verb) == "demo-score" ? "--json" : "--out"), std::string::npos) << r.output;
  }
  const auto r = testing::run_svdit("train-demo --out " + dir.string());
  EXPECT_EQ(r.status, 2) << r.output;  // neither --steps nor --minutes
}

TEST_F(DemoCli, DemoScoreOfTheGeneratorsOwnVideosIsFull) {
  const auto json_path = dir / "score.json";
  const auto r = testing::run_svdit("demo-score --truth --seeds 1 --json " + json_path.string());
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("colour 100% (8/8)  shape 100% (8/8)  motion 100% (8/8)  background 100% (6/6)  camera 100% (6/6)"),
            std::string::npos) << r.output;
  std::ifstream in(json_path);
  const nlohmann::json j = nlohmann::json::parse(in);
  EXPECT_EQ(j.at("videos").size(), 6u);
  EXPECT_EQ(j.at("table").at("shape").at("percent"), 100.0);
  const auto none = testing::run_svdit("demo-score");
  EXPECT_EQ(none.status, 2) << none.output;
}

TEST_F(DemoCli, DemoScoreAndDemoGifReadGeneratedLatents) {
  // Two random-weight videos of the tiny model: they follow no prompt, and the GIF shows them side by side.
  ASSERT_EQ(testing::run_svdit(generate("--prompt 'red circle bounce checker static'")).status, 0);
  std::filesystem::rename(dir / "video.safetensors", dir / "a.safetensors");
  ASSERT_EQ(testing::run_svdit(generate("--prompt 'red circle bounce checker static' --seed 1")).status, 0);
  const auto score = testing::run_svdit("demo-score " + (dir / "a.safetensors").string());
  ASSERT_EQ(score.status, 0) << score.output;
  EXPECT_NE(score.output.find("\"red circle bounce checker static\""), std::string::npos) << score.output;
  EXPECT_NE(score.output.find("prompt following (1 videos):  colour "), std::string::npos) << score.output;
  const auto gif = dir / "side.gif";
  const auto r = testing::run_svdit("demo-gif " + (dir / "a.safetensors").string() + " " +
                                    (dir / "video.safetensors").string() + " --scale 1 --out " + gif.string());
  ASSERT_EQ(r.status, 0) << r.output;
  std::ifstream in(gif, std::ios::binary);
  std::string head(10, '\0');
  in.read(head.data(), 10);
  EXPECT_EQ(head.substr(0, 6), "GIF89a");
  EXPECT_EQ(static_cast<uint8_t>(head[6]) | (static_cast<uint8_t>(head[7]) << 8), 3 * 24 + 2 * 4);  // 3 panels, 2 gaps
  EXPECT_EQ(static_cast<uint8_t>(head[8]) | (static_cast<uint8_t>(head[9]) << 8), 16);
  const auto one = testing::run_svdit("demo-gif " + (dir / "a.safetensors").string() + " --out " + gif.string());
  EXPECT_EQ(one.status, 2) << one.output;
}

}  // namespace
}  // namespace svdit::demo
