#pragma once
// Starts N ranks of a command on this machine the way `torchrun --no-python --nproc-per-node N` does: each child
// gets RANK = LOCAL_RANK = i, WORLD_SIZE = LOCAL_WORLD_SIZE = N, MASTER_ADDR = 127.0.0.1 and a free MASTER_PORT,
// so the command cannot tell the two launchers apart (`svdit generate --nproc N`, the sequence-parallel tests).
// When a rank fails, the others are stopped (SIGTERM, then SIGKILL after a grace period) and the result names the
// first rank that failed and how; a run that outlives `timeout` is stopped the same way.

#include <chrono>
#include <string>
#include <vector>

namespace svdit::runtime {

struct LaunchResult {
  bool ok = false;
  int failed_rank = -1;  // the first rank to fail; -1 when ok or when the whole run timed out
  std::string message;   // e.g. "rank 1 was killed by signal 9 (SIGKILL)"; empty when ok
};

// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice for port 0).
int free_local_port();

// argv[0] is run as is (a path; no PATH search). Blocks until every rank has ended.
LaunchResult launch_local_ranks(const std::vector<std::string>& argv, int nproc,
                                std::chrono::milliseconds timeout = std::chrono::hours(24));

}  // namespace svdit::runtime
