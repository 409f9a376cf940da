// write_file_atomically: the file is complete or untouched, and no temporary survives either outcome.
#include "svdit/data/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "svdit/data/target_lock.h"

namespace fs = std::filesystem;
using svdit::data::AtomicFileWriter;
using svdit::data::TargetBusy;
using svdit::data::temporary_sibling;
using svdit::data::write_file_atomically;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void put(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  out << contents;
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// A fresh directory per test, so that "no temporary left behind" can be checked by listing it.
class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("svdit-atomic-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add);
    fs::remove_all(dir_);
  }
  fs::path dir_;
};

// Expects write_file_atomically(path, …) to throw a runtime_error naming the path and the errno text.
void expect_write_fails(const fs::path& path, const std::string& contents, int expected_errno) {
  try {
    write_file_atomically(path, contents);
    FAIL() << "write to " << path << " succeeded";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find(std::strerror(expected_errno)), std::string::npos) << what;
  }
}

}  // namespace

TEST_F(AtomicFileTest, WritesContentsAndLeavesNoTemporary) {
  const fs::path target = dir_ / "plan.json";
  write_file_atomically(target, "{\"a\": 1}\n");
  EXPECT_EQ(slurp(target), "{\"a\": 1}\n");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"plan.json"});
}

TEST_F(AtomicFileTest, WritesEmptyAndBinaryContentsExactly) {
  const fs::path empty = dir_ / "empty";
  write_file_atomically(empty, "");
  EXPECT_TRUE(fs::exists(empty));
  EXPECT_EQ(fs::file_size(empty), 0u);

  std::string binary(70000, '\0');
  for (size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>((i * 131) % 256);
  const fs::path blob = dir_ / "blob.bin";
  write_file_atomically(blob, binary);
  EXPECT_EQ(slurp(blob), binary);
  EXPECT_EQ(entries(dir_), (std::set<std::string>{"blob.bin", "empty"}));
}

TEST_F(AtomicFileTest, ReplacesExistingFileAndKeepsItsPermissions) {
  const fs::path target = dir_ / "plan.json";
  put(target, "old contents that are longer than the new ones");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  write_file_atomically(target, "new");
  EXPECT_EQ(slurp(target), "new");
  EXPECT_EQ(fs::status(target).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  EXPECT_EQ(entries(dir_), std::set<std::string>{"plan.json"});
}

TEST_F(AtomicFileTest, WorksWithARelativePathInTheCurrentDirectory) {
  const fs::path previous = fs::current_path();
  fs::current_path(dir_);
  try {
    write_file_atomically("relative.txt", "here");
  } catch (...) {
    fs::current_path(previous);
    throw;
  }
  fs::current_path(previous);
  EXPECT_EQ(slurp(dir_ / "relative.txt"), "here");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"relative.txt"});
}

TEST_F(AtomicFileTest, TemporarySiblingIsHiddenBesideTheTargetAndUnique) {
  const fs::path target = dir_ / "profile.h5";
  std::set<fs::path> seen;
  for (int i = 0; i < 1000; ++i) {
    const fs::path t = temporary_sibling(target);
    EXPECT_EQ(t.parent_path(), target.parent_path());
    EXPECT_EQ(t.filename().string().rfind(".profile.h5.tmp-", 0), 0u) << t;
    EXPECT_NE(t, target);
    seen.insert(t);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_TRUE(entries(dir_).empty()) << "temporary_sibling must not create anything";
}

TEST_F(AtomicFileTest, PathThatIsADirectoryThrowsAndLeavesNothingBehind) {
  const fs::path target = dir_ / "subdir";
  fs::create_directory(target);
  put(target / "keep.txt", "keep");
  expect_write_fails(target, "contents", EISDIR);
  EXPECT_TRUE(fs::is_directory(target));
  EXPECT_EQ(slurp(target / "keep.txt"), "keep");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"subdir"});
}

TEST_F(AtomicFileTest, MissingParentDirectoryThrows) {
  const fs::path target = dir_ / "no-such-dir" / "plan.json";
  expect_write_fails(target, "contents", ENOENT);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(entries(dir_).empty());
}

// A write that fails part-way (here: the file size limit, which binds root too) must leave the old file as it
// was and remove the half-written temporary.
TEST_F(AtomicFileTest, FailedWriteKeepsOldFileAndRemovesTemporary) {
  const fs::path target = dir_ / "plan.json";
  put(target, "old");

  struct rlimit saved {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  auto* previous_handler = std::signal(SIGXFSZ, SIG_IGN);  // so write() returns EFBIG instead of killing us
  struct rlimit small = saved;
  small.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    write_file_atomically(target, std::string(100000, 'x'));
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previous_handler);

  ASSERT_FALSE(error.empty()) << "a write past RLIMIT_FSIZE succeeded";
  EXPECT_NE(error.find(target.string()), std::string::npos) << error;
  EXPECT_NE(error.find(std::strerror(EFBIG)), std::string::npos) << error;
  EXPECT_EQ(slurp(target), "old");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"plan.json"});
}

TEST_F(AtomicFileTest, ReadOnlyDirectoryThrowsAndKeepsOldFile) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "root ignores directory permissions; FailedWriteKeepsOldFileAndRemovesTemporary covers "
                    "the failure path for root";
  }
  const fs::path target = dir_ / "plan.json";
  put(target, "old");
  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  expect_write_fails(target, "new", EACCES);
  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(slurp(target), "old");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"plan.json"});
}

// --- crashes and concurrent writers (issue 20 items 2 and 7) --------------------------------------------------

// A writer killed between creating its temporary and renaming it (kill -9 of `svdit search --out`) leaves no file
// that survives the next write to the same target.
TEST_F(AtomicFileTest, AKilledWriterLeavesNothingTheNextWriteDoesNotRemove) {
  const fs::path target = dir_ / "plan.json";
  put(target, "old");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    AtomicFileWriter writer(target);
    writer.write("half a pl", 9);
    raise(SIGKILL);
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(slurp(target), "old");
  // What an older writer, or one killed inside commit(), leaves: a named temporary of a process that is gone.
  put(dir_ / ".plan.json.tmp-999999-0-deadbeef", "stale");
  write_file_atomically(target, "new");
  EXPECT_EQ(slurp(target), "new");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"plan.json"});
}

TEST_F(AtomicFileTest, ASecondWriterOfATargetIsRefusedWhileTheFirstWrites) {
  const fs::path target = dir_ / "plan.json";
  put(target, "old");
  int ready[2], stop[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(stop), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    AtomicFileWriter writer(target);
    writer.write("first", 5);
    char byte = 1;
    if (write(ready[1], &byte, 1) < 0) {}  // a pipe hand-off; EOF or an error shows up in the checks that follow
    if (read(stop[0], &byte, 1) < 0) {}  // a pipe hand-off; EOF or an error shows up in the checks that follow
    writer.commit();
    _exit(0);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  try {
    write_file_atomically(target, "second");
    ADD_FAILURE() << "two writers of one target at once";
  } catch (const TargetBusy& e) {
    EXPECT_EQ(e.holder_pid(), child);
    EXPECT_NE(std::string(e.what()).find("pid " + std::to_string(child)), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(target), "old");
  if (write(stop[1], &byte, 1) < 0) {}  // a pipe hand-off; EOF or an error shows up in the checks that follow
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(slurp(target), "first");
  write_file_atomically(target, "second");  // free again
  EXPECT_EQ(slurp(target), "second");
  EXPECT_EQ(entries(dir_), std::set<std::string>{"plan.json"});
  for (int fd : {ready[0], ready[1], stop[0], stop[1]}) close(fd);
}
