#pragma once
// One writer per target file. Every svdit writer of a file (profiles, plans, weights, reports) first takes an
// exclusive flock(2) on "<target>.lock" — before it creates, truncates or renames anything — and keeps it until
// the target is in place. The kernel drops the lock when the process dies (kill -9, power loss), so a crash never
// leaves a target locked; the lock file itself is removed on release and re-made by the next writer.
//
// A second process asking for a held lock is refused at once (no waiting) with TargetBusy naming the target and
// the pid of the process holding it. Within one process the lock is shared: acquiring it again while a handle is
// alive returns another handle on the same lock (a profile run holds it and its ProfileWriter takes it too); it is
// released when the last handle goes.

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace svdit::data {

// Thrown when another process holds the lock of the target.
class TargetBusy : public std::runtime_error {
 public:
  TargetBusy(const std::string& what, long holder_pid) : std::runtime_error(what), holder_pid_(holder_pid) {}
  long holder_pid() const { return holder_pid_; }  // -1 when the holder had not yet written its pid

 private:
  long holder_pid_;
};

class TargetLock {
 public:
  // "<target>.lock", beside the target.
  static std::filesystem::path lock_path(const std::filesystem::path& target);
  // Takes the lock or throws TargetBusy (another process holds it) / std::runtime_error (cannot create the lock
  // file: the message names it and errno).
  static TargetLock acquire(const std::filesystem::path& target);

  TargetLock() = default;  // holds nothing
  bool held() const { return held_ != nullptr; }

 private:
  struct Held;
  explicit TargetLock(std::shared_ptr<Held> held) : held_(std::move(held)) {}
  std::shared_ptr<Held> held_;
};

}  // namespace svdit::data
