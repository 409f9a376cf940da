#pragma once
// Shared by the runtime tests: a small Wan2.1 config (2 layers, dim 128, 2 heads × 64, ffn 256, text 16 × 64), a
// fresh temporary directory per test, and small tensor helpers.

#include <ATen/ATen.h>
#include <ftw.h>
#include <unistd.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "svdit/runtime/wan_config.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::runtime::test {

inline WanConfig small_config() {
  WanConfig c;
  c.dim = 128;
  c.ffn_dim = 256;
  c.num_heads = 2;
  c.num_layers = 2;
  c.text_dim = 64;
  c.text_len = 16;
  c.name = default_model_name(c);
  return c;
}

// Removes a directory tree with POSIX nftw. Not std::filesystem::remove_all: the PyPI LibTorch exports its own
// copy of libstdc++'s filesystem functions, and its remove_all crashes on a non-empty directory once the test
// binary's calls resolve to it.
inline void remove_tree(const std::filesystem::path& dir) {
  ::nftw(
      dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

// A directory under the system temp dir named after the running test, emptied first.
inline std::filesystem::path test_dir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  // The pid keeps two runs of the suite at once (two build trees, ctest -j) out of each other's files.
  std::string name = std::string("svdit_runtime_") + info->test_suite_name() + "_" + info->name() + "_" +
                     std::to_string(::getpid());
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline WanModel small_model(uint64_t seed = 7) {
  const WanConfig c = small_config();
  return WanModel(c, random_state_dict(c, WeightOptions{}, seed), "test model");
}

// Inputs for one forward of the small model on a 4 × 8 × 8 token grid (latents 4 × 16 × 16).
struct SmallInputs {
  at::Tensor latents;   // [1, 16, 4, 16, 16]
  at::Tensor timestep;  // [1]
  at::Tensor context;   // [1, 16, 64]
};
inline SmallInputs small_inputs(uint64_t seed = 11) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  SmallInputs in;
  in.latents = at::randn({1, 16, 4, 16, 16}, gen);
  in.timestep = at::full({1}, 731, at::kLong);
  in.context = at::randn({1, 16, 64}, gen);
  return in;
}

inline bool identical(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::equal(a, b);
}

}  // namespace svdit::runtime::test
