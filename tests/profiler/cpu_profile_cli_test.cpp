// svdit-profile end to end on the CPU: a random tiny model, two prompts from embedding files; the profile is read
// by h5py following docs/FORMATS.md alone (tests/scripts/read_profile_h5py.py), and svdit-search turns it into a
// plan that loads and matches the model. Also the usage errors.

#include <gtest/gtest.h>

#include "profiler_test_support.h"
#include "svdit/data/plan.h"
#include "svdit/data/profile_reader.h"

namespace svdit::profiler {
namespace {

using namespace svdit::profiler::test;

class ProfileCli : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* exe : {"svdit-profile", "svdit-search"}) {
      ASSERT_TRUE(std::filesystem::exists(bin(exe))) << bin(exe) << " is not built (a dependency of this suite)";
    }
    dir = test_dir();
    write_cli_inputs(dir);
  }
  void TearDown() override { remove_tree(dir); }

  std::string base() const {
    return bin("svdit-profile") + " --random-weights " + (dir / "config.json").string() + " --prompt " +
           (dir / "a.safetensors").string() + " --prompt " + (dir / "b.safetensors").string() +
           " --frames 9 --height 128 --width 96 --steps 4 --block-size 64 --threads 2";
  }
  std::filesystem::path dir;
};

TEST_F(ProfileCli, ProfileReadByH5pyAndSearched) {
  const std::string out = (dir / "profile.h5").string();
  const CommandResult r = run_command(base() + " --profile-steps every:2 --map-steps 0 --out " + out);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("peak RSS"), std::string::npos) << r.output;
  const data::ProfileReader reader = data::ProfileReader::open(out);
  EXPECT_TRUE(reader.complete());
  EXPECT_EQ(reader.meta().prompts.size(), 2u);
  EXPECT_EQ(reader.meta().steps, (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(reader.cost()->source, "cpu-aten");

  const std::string script = std::string(SVDIT_SOURCE_DIR) + "/tests/scripts/read_profile_h5py.py";
  const CommandResult py = run_command("python3 " + script + " " + out);
  EXPECT_EQ(py.status, 0) << py.output;

  const std::string plan = (dir / "plan.json").string();
  const CommandResult s = run_command(bin("svdit-search") + " " + out + " --out " + plan + " --epsilon 0.2");
  ASSERT_EQ(s.status, 0) << s.output;
  const data::Plan p = data::read_plan(plan);
  EXPECT_EQ(p.model.name, tiny_config().name);
  EXPECT_EQ(p.model.layers, 2);
  EXPECT_EQ(p.layout, reader.meta().layout);
  EXPECT_FALSE(p.schedule.empty());
}

TEST_F(ProfileCli, UsageErrors) {
  const std::string out = " --out " + (dir / "x.h5").string();
  auto status = [](const std::string& cmd) { return run_command(cmd).status; };
  EXPECT_EQ(status(bin("svdit-profile") + " --help"), 0);
  EXPECT_EQ(status(base()), 2);                                      // no --out
  EXPECT_EQ(status(base() + out + " --profile-steps 7"), 2);        // outside the 4 steps
  EXPECT_EQ(status(base() + out + " --block-size 32"), 2);
  EXPECT_EQ(status(base() + out + " --cost nvtx"), 2);
  EXPECT_EQ(status(base() + out + " --error-path fast"), 2);
  const CommandResult missing = run_command(base() + out + " --candidates " + (dir / "none.json").string());
  EXPECT_EQ(missing.status, 1);
  EXPECT_NE(missing.output.find("none.json"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace svdit::profiler
