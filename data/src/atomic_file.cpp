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
#include <system_error>
#include <utility>

namespace svdit::data {
namespace {

std::runtime_error write_error(const std::filesystem::path& path, const std::string& step, int error_number) {
  return std::runtime_error("cannot write " + path.string() + ": " + step + " failed: " +
                            std::strerror(error_number));
}

// Makes the rename of `path` durable. Best effort: the new file is already in place, and some filesystems refuse
// fsync on a directory, which must not turn a successful write into an error.
void sync_directory_of(const std::filesystem::path& path) {
  const std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

// ".<name>.tmp-": the prefix of every temporary_sibling() of `path`.
std::string temporary_prefix(const std::filesystem::path& path) { return "." + path.filename().string() + ".tmp-"; }

// Removes temporaries of `path` that a killed writer left behind. Called under the target's lock: no other process
// is writing `path` now, so a temporary of another pid is dead (this process's own may be another thread's).
void remove_stale_temporaries(const std::filesystem::path& path) {
  const std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  const std::string prefix = temporary_prefix(path);
  const std::string own = prefix + std::to_string(static_cast<long>(::getpid())) + "-";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.rfind(own, 0) != 0) {
      std::error_code ignored;
      std::filesystem::remove(it->path(), ignored);
    }
  }
}

// An unnamed file in `path`'s directory (O_TMPFILE): it vanishes with the process if the writer dies before
// commit() names it. -1 where the filesystem cannot (then a named temporary is used).
int open_anonymous(const std::filesystem::path& path, mode_t mode) {
#ifdef O_TMPFILE
  // linkat() names the file through /proc/self/fd; without /proc it could never be named.
  if (::access("/proc/self/fd", X_OK) != 0) return -1;
  const std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  return ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
#else
  static_cast<void>(path);
  static_cast<void>(mode);
  return -1;
#endif
}

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
  std::snprintf(suffix, sizeof suffix, "%ld-%llu-%08llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(token & 0xffffffffu));
  // A leading dot keeps the temporary out of globs such as *.json while it exists.
  return path.parent_path() / (temporary_prefix(path) + suffix);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  AtomicFileWriter writer(path);
  writer.write(contents.data(), contents.size());
  writer.commit();
}

AtomicFileWriter::AtomicFileWriter(std::filesystem::path path) : path_(std::move(path)) {
  if (path_.filename().empty()) throw std::runtime_error("cannot write " + path_.string() + ": not a file name");
  lock_ = TargetLock::acquire(path_);  // before anything beside the target is created or removed
  remove_stale_temporaries(path_);
  // Keep the permission bits of the file being replaced: rewriting a plan must not make it world-readable or
  // strip a group's write access behind the user's back.
  mode_t mode = 0666;
  struct stat existing {};
  const bool replacing = ::stat(path_.c_str(), &existing) == 0 && S_ISREG(existing.st_mode);
  if (replacing) mode = existing.st_mode & 07777;
  fd_ = open_anonymous(path_, mode);
  if (fd_ < 0) {
    temporary_ = temporary_sibling(path_);
    fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd_ < 0) throw write_error(path_, "creating temporary " + temporary_.string(), errno);
  }
  if (replacing && ::fchmod(fd_, mode) != 0) {  // open() applied the umask
    const int error = errno;
    ::close(fd_);
    if (!temporary_.empty()) ::unlink(temporary_.c_str());
    throw write_error(path_, "fchmod", error);
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temporary_.empty()) ::unlink(temporary_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    // Bounded chunks: some kernels cap a single write() near 2 GiB.
    const size_t chunk = size < (size_t{1} << 30) ? size : (size_t{1} << 30);
    const ssize_t written = ::write(fd_, bytes, chunk);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw write_error(path_, "write", errno);
    }
    bytes += written;
    size -= static_cast<size_t>(written);
  }
}

void AtomicFileWriter::commit() {
  // fsync before rename: otherwise after a power loss the rename can be on disk while the data is not, which
  // would replace a good old file with an empty one — the very thing this class exists to prevent.
  if (::fsync(fd_) != 0) throw write_error(path_, "fsync", errno);
  if (temporary_.empty()) {
    // Name the unnamed file beside the target, then rename as below. A crash in between leaves a temporary of a
    // dead pid, which the next writer of the target removes.
    const std::filesystem::path named = temporary_sibling(path_);
    const std::string self = "/proc/self/fd/" + std::to_string(fd_);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, named.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      throw write_error(path_, "naming the temporary " + named.string(), errno);
    }
    temporary_ = named;
  }
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) throw write_error(path_, "close", errno);  // a deferred write error surfaces here
  if (::rename(temporary_.c_str(), path_.c_str()) != 0) throw write_error(path_, "rename", errno);
  committed_ = true;
  sync_directory_of(path_);
}

void commit_file_atomically(const std::filesystem::path& written, const std::filesystem::path& target) {
  const int fd = ::open(written.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw write_error(target, "opening " + written.string(), errno);
  // Without this fsync a power loss could leave the rename on disk but not the data: an empty target.
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) throw write_error(target, "fsync " + written.string(), error);
  if (::rename(written.c_str(), target.c_str()) != 0) throw write_error(target, "renaming " + written.string(), errno);
  sync_directory_of(target);
}

}  // namespace svdit::data
