#include "svdit/data/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

namespace svdit::data {
namespace {

std::runtime_error write_error(const std::filesystem::path& path, const std::string& step, int error_number) {
  return std::runtime_error("cannot write " + path.string() + ": " + step + " failed: " +
                            std::strerror(error_number));
}

// Closes the descriptor and removes the temporary unless release() was called, so that every early exit —
// including a throw — cleans up without a chain of hand-written error branches.
class TemporaryGuard {
 public:
  explicit TemporaryGuard(std::filesystem::path temporary) : temporary_(std::move(temporary)) {}
  TemporaryGuard(const TemporaryGuard&) = delete;
  TemporaryGuard& operator=(const TemporaryGuard&) = delete;
  ~TemporaryGuard() {
    close_fd();
    if (!released_) ::unlink(temporary_.c_str());
  }
  void set_fd(int fd) { fd_ = fd; }
  int fd() const { return fd_; }
  // Returns close()'s result so that a deferred write error reported by close is not lost.
  int close_fd() {
    if (fd_ < 0) return 0;
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void release() { released_ = true; }

 private:
  std::filesystem::path temporary_;
  int fd_ = -1;
  bool released_ = false;
};

}  // namespace

std::filesystem::path temporary_sibling(const std::filesystem::path& path) {
  // pid + counter are unique on this host at this moment; the random token covers a pid reused after a crash
  // that left a temporary behind, and hosts sharing a network directory.
  static std::atomic<uint64_t> counter{0};
  static const uint64_t token = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ static_cast<uint64_t>(device());
  }();
  const uint64_t n = counter.fetch_add(1, std::memory_order_relaxed);
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".tmp-%ld-%llu-%08llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(token & 0xffffffffu));
  // A leading dot keeps the temporary out of globs such as *.json while it exists.
  return path.parent_path() / ("." + path.filename().string() + suffix);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  if (path.filename().empty()) throw std::runtime_error("cannot write " + path.string() + ": not a file name");

  // Keep the permission bits of the file being replaced: rewriting a plan must not make it world-readable or
  // strip a group's write access behind the user's back.
  mode_t mode = 0666;
  struct stat existing {};
  const bool replacing = ::stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode);
  if (replacing) mode = existing.st_mode & 07777;

  const std::filesystem::path temporary = temporary_sibling(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw write_error(path, "creating temporary " + temporary.string(), errno);
  TemporaryGuard guard(temporary);
  guard.set_fd(fd);
  if (replacing && ::fchmod(fd, mode) != 0) throw write_error(path, "fchmod", errno);  // umask applied at open

  const char* data = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    // Bounded chunks: some kernels cap a single write() near 2 GiB.
    const size_t chunk = left < (size_t{1} << 30) ? left : (size_t{1} << 30);
    const ssize_t written = ::write(fd, data, chunk);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw write_error(path, "write", errno);
    }
    data += written;
    left -= static_cast<size_t>(written);
  }
  // fsync before rename: otherwise after a power loss the rename can be on disk while the data is not, which
  // would replace a good old file with an empty one — the very thing this function exists to prevent.
  if (::fsync(fd) != 0) throw write_error(path, "fsync", errno);
  if (guard.close_fd() != 0) throw write_error(path, "close", errno);
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw write_error(path, "rename", errno);
  guard.release();

  // Make the rename itself durable. Best effort: the new file is already in place, and some filesystems refuse
  // fsync on a directory, which must not turn a successful write into an error.
  const std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace svdit::data
