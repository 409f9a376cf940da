// The per-target writer lock (target_lock.h).
#include "svdit/data/target_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>

namespace svdit::data {

struct TargetLock::Held {
  std::filesystem::path lock;
  int fd = -1;
  Held(std::filesystem::path path, int descriptor) : lock(std::move(path)), fd(descriptor) {}
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;
  ~Held() {
    // Unlink while still holding the lock: a process that opened this file meanwhile gets the lock on an
    // unlinked inode, sees that the path no longer names it, and retries on a fresh file (acquire below).
    ::unlink(lock.c_str());
    ::close(fd);
  }
};

namespace {

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}
// Locks this process holds, by absolute lock path: flock() conflicts between two descriptors of one process too,
// so a second acquire in the process must share the first one's descriptor rather than open its own.
std::map<std::string, std::weak_ptr<void>>& registry() {
  static std::map<std::string, std::weak_ptr<void>> held;
  return held;
}

std::runtime_error lock_error(const std::filesystem::path& target, const std::filesystem::path& lock,
                              const std::string& step, int error_number) {
  return std::runtime_error("cannot write " + target.string() + ": " + step + " lock file " + lock.string() +
                            " failed: " + std::strerror(error_number));
}

long read_pid(int fd) {
  char text[32] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return -1;
  char* end = nullptr;
  const long pid = std::strtol(text, &end, 10);
  return end != text && pid > 0 ? pid : -1;
}

}  // namespace

std::filesystem::path TargetLock::lock_path(const std::filesystem::path& target) {
  std::filesystem::path lock = target;
  lock += ".lock";
  return lock;
}

TargetLock TargetLock::acquire(const std::filesystem::path& target) {
  const std::filesystem::path lock = lock_path(target);
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(lock, ec);
  const std::string key = (ec ? lock : absolute).lexically_normal().string();

  const std::lock_guard<std::mutex> guard(registry_mutex());
  if (std::shared_ptr<void> shared = registry()[key].lock()) {
    return TargetLock(std::static_pointer_cast<Held>(shared));
  }
  for (;;) {
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) throw lock_error(target, lock, "creating", errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      const long holder = read_pid(fd);
      ::close(fd);
      if (error != EWOULDBLOCK) throw lock_error(target, lock, "flock on", error);
      throw TargetBusy("cannot write " + target.string() + ": another process (" +
                           (holder > 0 ? "pid " + std::to_string(holder) : std::string("pid not yet known")) +
                           ") is writing it; its lock " + lock.string() + " is released when it exits",
                       holder);
    }
    // The holder we waited out may have unlinked the file before we locked it: then our lock is on a dead inode.
    struct stat locked {}, named {};
    if (::fstat(fd, &locked) != 0 || ::stat(lock.c_str(), &named) != 0 || locked.st_ino != named.st_ino ||
        locked.st_dev != named.st_dev) {
      ::close(fd);
      continue;
    }
    // Who holds it, for the message of the next one refused. Best effort: the lock works without it.
    const std::string pid = std::to_string(static_cast<long>(::getpid())) + "\n";
    // (GCC ignores a void cast of a warn_unused_result call; a named result it does not.)
    if (::ftruncate(fd, 0) == 0) {
      [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    // Released under the registry's mutex, so that another thread's acquire never sees the entry expired while
    // the descriptor is still open (it would then be refused by this very process's lock).
    std::shared_ptr<Held> held(new Held(lock, fd), [](Held* h) {
      const std::lock_guard<std::mutex> release_guard(registry_mutex());
      delete h;
    });
    registry()[key] = held;
    return TargetLock(std::move(held));
  }
}

}  // namespace svdit::data
