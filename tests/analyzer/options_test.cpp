// Command line of svdit analyze: files recognised by content, every option, every usage error.
#include "svdit/analyzer/options.h"

#include <gtest/gtest.h>

#include "test_support.h"

using namespace svdit::analyzer;

namespace {

TEST(Options, FilesAreToldApartByContentInAnyOrder) {
  const auto o = parse_options({test::sample_plan().string(), test::sample_profile().string()});
  EXPECT_EQ(o.profile, test::sample_profile());
  EXPECT_EQ(o.plan, test::sample_plan());
  EXPECT_FALSE(o.screenshot);
  EXPECT_EQ(o.view, View::grid);
  EXPECT_EQ(o.width, 1280);
  EXPECT_EQ(o.height, 800);
}

TEST(Options, HeadlessOptions) {
  const auto o = parse_options({test::sample_profile().string(), "--screenshot", "out.png", "--view", "map",
                                "--layer", "2", "--head", "3", "--step", "4", "--size", "800x600", "--report",
                                "r.json", "--frames", "5"});
  EXPECT_EQ(o.screenshot, std::filesystem::path("out.png"));
  EXPECT_EQ(o.report, std::filesystem::path("r.json"));
  EXPECT_EQ(o.view, View::map);
  EXPECT_EQ(o.layer, 2);
  EXPECT_EQ(o.head, 3);
  EXPECT_EQ(o.step, 4);
  EXPECT_EQ(o.width, 800);
  EXPECT_EQ(o.height, 600);
  EXPECT_EQ(o.frames, 5);
  EXPECT_EQ(parse_options({"--view", "tradeoff"}).view, View::tradeoff);
  EXPECT_TRUE(parse_options({"-h"}).help);
  EXPECT_FALSE(parse_options({}).profile);
}

TEST(Options, UsageErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {"--view"},                  {"--view", "heatmap"},      {"--layer", "x"},  {"--layer", "-1"},
      {"--head", "1.5"},           {"--size", "800"},          {"--size", "10x10"}, {"--frames", "0"},
      {"--bogus"},                 {"--report", "r.json"},
      {test::sample_profile().string(), test::sample_profile().string()},
      {test::sample_plan().string(), test::sample_plan().string()},
  };
  for (const auto& args : bad) {
    EXPECT_THROW(parse_options(args), UsageError) << ::testing::PrintToString(args);
  }
}

TEST(Options, UnreadableFilesAreLeftForTheOpenerToReport) {
  // The first unknown file is taken as the profile, so that opening it reports what is wrong with it.
  const auto o = parse_options({"/nonexistent/a.h5", test::sample_plan().string()});
  EXPECT_EQ(o.profile, std::filesystem::path("/nonexistent/a.h5"));
  EXPECT_EQ(o.plan, test::sample_plan());
  const auto p = parse_options({test::sample_profile().string(), "/nonexistent/b.json"});
  EXPECT_EQ(p.plan, std::filesystem::path("/nonexistent/b.json"));
}

TEST(Options, DetectFileKind) {
  test::ScratchDir dir("kinds");
  EXPECT_EQ(detect_file_kind(test::sample_profile()), FileKind::profile);
  EXPECT_EQ(detect_file_kind(test::sample_plan()), FileKind::plan);
  test::write_text(dir / "bom.json", "\xEF\xBB\xBF  \n {\"format\": 1}");
  EXPECT_EQ(detect_file_kind(dir / "bom.json"), FileKind::plan);
  test::write_text(dir / "list.json", "[1, 2]");
  EXPECT_EQ(detect_file_kind(dir / "list.json"), FileKind::unknown);
  test::write_text(dir / "empty", "");
  EXPECT_EQ(detect_file_kind(dir / "empty"), FileKind::unknown);
  EXPECT_EQ(detect_file_kind(dir / "missing"), FileKind::unknown);
}

}  // namespace
