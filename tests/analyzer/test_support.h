#pragma once
// Shared by the analyzer's unit tests: the bundled samples and scratch directories.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/binary_dir.h"

namespace svdit::analyzer::test {

inline std::filesystem::path sample_profile() {
  return std::filesystem::path(SVDIT_SOURCE_DIR) / "data" / "samples" / "sample_profile.h5";
}
inline std::filesystem::path sample_plan() {
  return std::filesystem::path(SVDIT_SOURCE_DIR) / "data" / "samples" / "sample_plan.json";
}

// A fresh directory under the build tree, removed with the object.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::path(SVDIT_BINARY_DIR) / "analyzer-test-scratch" /
            (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

}  // namespace svdit::analyzer::test
