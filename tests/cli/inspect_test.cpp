// The command-line tools as a user runs them: `svdit --help`, `svdit inspect` on the bundled samples, and a clear
// non-zero exit on corrupted copies.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_svdit.h"

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
