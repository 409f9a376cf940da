#pragma once
// A group of ranks on torch.distributed (c10d), started the way the ecosystem starts them: torchrun (or
// `svdit generate --nproc N`) sets RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (LOCAL_RANK optional); rank 0 hosts
// the c10d TCPStore at MASTER_ADDR:MASTER_PORT, every rank joins it, and a c10d ProcessGroup over it carries the
// collectives: gloo for CPU tensors, NCCL for CUDA tensors in builds with CUDA and NCCL (see docs/RUNTIME.md
// "Sequence parallel"). c10d stays behind this header (distributed.cpp is the only file that includes it), so the
// rest of the runtime compiles without gloo's or NCCL's headers.
//
// Failures: every collective waits at most the group's timeout; a collective that fails or times out throws
// DistributedError naming this rank, the operation and c10d's reason (gloo names the peer whose connection closed).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svdit::runtime {

struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The torchrun environment of this process.
struct DistributedEnv {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;
};

// std::nullopt when WORLD_SIZE is not set (a plain single-process run). Throws DistributedError naming the
// variable when one is malformed or missing (WORLD_SIZE set but no RANK, a rank outside [0, WORLD_SIZE), ...).
std::optional<DistributedEnv> distributed_env_from_environment();

// Whether this build can make a group for tensors on `device` (gloo: CPU, when the build found gloo's headers;
// NCCL: CUDA, when it was built with CUDA and NCCL). The text says which and why not.
bool distributed_available(at::Device device, std::string* why_not = nullptr);

class DistributedGroup {
 public:
  // Joins the store (waits up to `timeout` for rank 0's store and for every rank) and makes the process group for
  // tensors on `device`. Throws DistributedError naming the rank and the address when that fails.
  DistributedGroup(const DistributedEnv& env, at::Device device, std::chrono::milliseconds timeout);
  ~DistributedGroup();
  DistributedGroup(const DistributedGroup&) = delete;
  DistributedGroup& operator=(const DistributedGroup&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const std::string& backend() const { return backend_; }  // "gloo" or "nccl"
  std::chrono::milliseconds timeout() const { return timeout_; }

  // All-to-all of a 1-D contiguous tensor: the first send_counts[0] elements go to rank 0, the next send_counts[1]
  // to rank 1, ...; returns the concatenation of what every rank sent here (recv_counts[i] elements from rank i).
  at::Tensor all_to_all(const at::Tensor& flat, const std::vector<int64_t>& send_counts,
                        const std::vector<int64_t>& recv_counts, const std::string& what);
  // Every rank's `flat` (1-D, counts[r] elements on rank r), concatenated in rank order, on every rank.
  at::Tensor all_gather(const at::Tensor& flat, const std::vector<int64_t>& counts, const std::string& what);
  // Waits until every rank arrives (each run ends with one, so no rank exits while another still needs it).
  void barrier(const std::string& what);

 private:
  struct State;  // the c10d store and process group (distributed.cpp)
  DistributedEnv env_;
  std::string backend_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<State> state_;
};

}  // namespace svdit::runtime
