#pragma once
// Shared by the profiler tests: a tiny Wan2.1 model (2 layers, 2 heads × 64) on a 3 × 8 × 6 token grid (S = 144,
// b = 64: G = 3 with a partial last block), temporary directories, running executables.

#include <ATen/ATen.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "svdit/runtime/wan_config.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::profiler::test {

inline runtime::WanConfig tiny_config() {
  runtime::WanConfig c;
  c.dim = 128;
  c.ffn_dim = 256;
  c.num_heads = 2;
  c.num_layers = 2;
  c.text_dim = 64;
  c.text_len = 8;
  c.name = runtime::default_model_name(c);
  return c;
}
// 9 frames × 128 × 96 pixels → latents 3 × 16 × 12 → tokens 3 × 8 × 6.
inline constexpr int64_t kFrames = 9, kHeight = 128, kWidth = 96;

// Removes a directory tree with POSIX nftw (std::filesystem::remove_all crashes in binaries linked with the PyPI
// LibTorch, see tests/runtime/runtime_test_support.h).
inline void remove_tree(const std::filesystem::path& dir) {
  ::nftw(
      dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

inline std::filesystem::path test_dir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string("svdit_profiler_") + info->test_suite_name() + "_" + info->name() + "_" +
                     std::to_string(::getpid());
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

inline CommandResult run_command(const std::string& command) {
  CommandResult r;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe) != nullptr) r.output += buffer.data();
  const int raw = ::pclose(pipe);
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return r;
}

inline std::string bin(const std::string& name) { return std::string(SVDIT_BINARY_DIR) + "/bin/" + name; }

}  // namespace svdit::profiler::test
