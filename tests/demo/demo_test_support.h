#pragma once
// Shared by the demo tests: a tiny demo-shaped config (48 channels, pixel-unshuffle, demo-words; dim 32, 2 heads ×
// 16, 2 layers) with a 4-frame 16×24 video (4×2×3 tokens), fast training options, and a fresh temporary directory.

#include <ftw.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "svdit/demo/trainer.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::demo::test {

inline runtime::WanConfig tiny_config() {
  runtime::WanConfig c = demo_model_config();
  c.name = "svdit-demo-tiny";
  c.dim = 32;
  c.ffn_dim = 64;
  c.freq_dim = 32;
  c.num_heads = 2;
  c.num_layers = 2;
  c.text_dim = 16;
  return c;
}

inline TrainOptions tiny_options() {
  TrainOptions o;
  o.model = tiny_config();
  o.video = VideoSize{4, 16, 24};
  o.batch = 4;
  o.lr = 3e-3;
  o.warmup = 5;
  o.heldout = 8;
  o.eval_every = 1000;
  o.log_every = 1000;
  o.checkpoint_every = 1000;
  o.threads = 2;
  o.seed = 3;
  return o;
}

// Removes a tree with nftw (std::filesystem::remove_all crashes in binaries linked with the PyPI LibTorch).
inline void remove_tree(const std::filesystem::path& dir) {
  ::nftw(
      dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

inline std::filesystem::path test_dir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("svdit_demo_") + info->test_suite_name() + "_" + info->name() + "_" +
                     std::to_string(::getpid());
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace svdit::demo::test
