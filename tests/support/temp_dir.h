#pragma once
// Per-test scratch directories for the suites that write files (runtime, demo, profiler).
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace svdit::testing {

// Removes a directory tree with POSIX nftw. Not std::filesystem::remove_all: the PyPI LibTorch exports its own
// copy of libstdc++'s filesystem functions, and its remove_all crashes on a non-empty directory once the test
// binary's calls resolve to it.
inline void remove_tree(const std::filesystem::path& dir) {
  ::nftw(
      dir.c_str(), [](const char* path, const struct stat*, int, struct FTW*) { return std::remove(path); }, 16,
      FTW_DEPTH | FTW_PHYS);
}

// <temp>/<prefix>_<suite>_<test>_<pid>, emptied first. The pid keeps two runs of a suite at once (two build trees,
// ctest -j) out of each other's files.
inline std::filesystem::path test_dir(const std::string& prefix) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = prefix + "_" + info->test_suite_name() + "_" + info->name() + "_" + std::to_string(::getpid());
  for (char& ch : name) {
    if (ch == '/') ch = '_';
  }
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace svdit::testing
