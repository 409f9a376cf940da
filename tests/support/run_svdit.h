#pragma once
// Runs the built executables (the `svdit` launcher, or any tool) as a user would, for tests of the command-line tools.
#include <stdio.h>
#include <sys/wait.h>

#include <array>
#include <string>

#include "support/binary_dir.h"

namespace svdit::testing {

struct CommandResult {
  int status = -1;     // exit status; -1 when the command could not run or was killed by a signal
  std::string output;  // stdout and stderr together
};

// Path of a built executable: build/bin/NAME.
inline std::string executable(const std::string& name) { return std::string(SVDIT_BINARY_DIR) + "/bin/" + name; }

// `COMMAND 2>&1` through the shell, as written.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// `build/bin/svdit ARGS 2>&1`; ARGS is passed through the shell as written.
inline CommandResult run_svdit(const std::string& args) { return run_command(executable("svdit") + " " + args); }

}  // namespace svdit::testing
