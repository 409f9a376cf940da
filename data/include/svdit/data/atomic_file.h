#pragma once
// Crash-safe file replacement. Every file svdit writes (plans, profiles) goes through a temporary sibling that
// is renamed over the target only once it is complete and on disk, so a reader — or a run resumed after a
// crash, a full disk or Ctrl-C — sees either the old file or the new one, never a torn mix of the two.

#include <cstddef>
#include <filesystem>
#include <string_view>

#include "svdit/data/target_lock.h"

namespace svdit::data {

// A name beside `path` (same directory, hence same filesystem, so rename() is atomic) that no other writer —
// thread or process — will pick: ".<name>.tmp-<pid>-<counter>-<random>". Nothing is created.
std::filesystem::path temporary_sibling(const std::filesystem::path& path);

// Takes the target's TargetLock (a second process writing `path` meanwhile is refused with TargetBusy), removes
// temporaries of `path` left by killed writers, writes `contents` to an unnamed file in the directory (O_TMPFILE;
// a named temporary sibling where the filesystem has none), fsyncs it, names it, renames it over `path` and fsyncs
// the directory. A writer killed before commit leaves nothing behind (O_TMPFILE). The new file keeps the permission bits of the file it replaces (or 0666 & ~umask when new).
// On any failure the temporary is removed, `path` is left as it was, and std::runtime_error is thrown naming
// the path, the step that failed and the errno text.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

// The same, streamed: for files too large to hold in memory (weights). Bytes go to a temporary sibling; commit()
// makes it the target as write_file_atomically does; destroying the writer without commit() removes the
// temporary and leaves `path` as it was. Errors are std::runtime_error naming the path, the step and errno.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::filesystem::path path);
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  ~AtomicFileWriter();

  void write(const void* data, size_t size);
  void commit();

 private:
  std::filesystem::path path_;
  TargetLock lock_;
  std::filesystem::path temporary_;  // empty while the file is unnamed (O_TMPFILE)
  int fd_ = -1;
  bool committed_ = false;
};

// Makes a file that something else wrote completely (e.g. HDF5's `<target>.partial`) the target, durably:
// fsync its data, rename it over `target`, fsync the directory. Throws std::runtime_error naming both paths.
void commit_file_atomically(const std::filesystem::path& written, const std::filesystem::path& target);

}  // namespace svdit::data
