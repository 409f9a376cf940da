// Local rank launcher (see local_launch.h): fork + execv per rank, the torchrun environment, waitpid for the first
// failure.

#include "svdit/runtime/local_launch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace svdit::runtime {

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("free_local_port: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw std::runtime_error("free_local_port: " + why);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

std::string describe_status(int rank, int status) {
  const std::string who = "rank " + std::to_string(rank);
  if (WIFEXITED(status)) return who + " exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* name = sigabbrev_np(sig);
    return who + " was killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return who + " ended with wait status " + std::to_string(status);
}

}  // namespace

LaunchResult launch_local_ranks(const std::vector<std::string>& argv, int nproc, std::chrono::milliseconds timeout) {
  if (argv.empty() || nproc < 1) throw std::invalid_argument("launch_local_ranks: expected a command and nproc ≥ 1");
  const int port = free_local_port();
  std::vector<pid_t> pids(static_cast<size_t>(nproc), -1);
  for (int r = 0; r < nproc; ++r) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("launch_local_ranks: fork: ") + std::strerror(errno));
    if (pid == 0) {
      // The child: only async-signal-safe work would be strictly allowed after fork in a threaded parent; setenv
      // and execv are what every launcher does here, before any other thread can matter (execv replaces us).
      ::setenv("RANK", std::to_string(r).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::_Exit(127);  // execv failed
    }
    pids[static_cast<size_t>(r)] = pid;
  }

  LaunchResult result;
  result.ok = true;
  int running = nproc;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto stop_all = [&](int sig) {
    for (const pid_t p : pids) {
      if (p > 0) ::kill(p, sig);
    }
  };
  std::chrono::steady_clock::time_point kill_at{};  // when SIGKILL follows the SIGTERM of a failed run
  while (running > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno != EINTR) break;
    if (pid > 0) {
      for (int r = 0; r < nproc; ++r) {
        if (pids[static_cast<size_t>(r)] != pid) continue;
        pids[static_cast<size_t>(r)] = -1;
        --running;
        const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (failed && result.ok) {
          result = LaunchResult{false, r, describe_status(r, status)};
          stop_all(SIGTERM);
          kill_at = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        }
      }
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    if (result.ok && now > deadline) {
      result = LaunchResult{false, -1, "the ranks did not finish within " + std::to_string(timeout.count()) + " ms"};
      stop_all(SIGTERM);
      kill_at = now + std::chrono::seconds(5);
    }
    if (!result.ok && now > kill_at) stop_all(SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return result;
}

}  // namespace svdit::runtime
