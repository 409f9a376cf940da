// The c10d process group behind DistributedGroup (see distributed.h). The only file that includes c10d's
// ProcessGroup headers: gloo's (libgloo-dev; the torch wheel ships the gloo library inside libtorch_cpu but not its
// headers) when SVDIT_WITH_GLOO, NCCL's when SVDIT_WITH_NCCL (builds with CUDA that found nccl.h).

#include "svdit/runtime/distributed.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <limits>

#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if SVDIT_WITH_GLOO
#ifndef USE_C10D_GLOO  // ProcessGroupGloo.hpp declares its class only under it; TorchConfig usually sets it
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if SVDIT_WITH_NCCL
#define USE_C10D_NCCL 1
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace svdit::runtime {

namespace {

std::optional<std::string> env_text(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int env_int(const char* name, int low, int high) {
  const std::optional<std::string> text = env_text(name);
  if (!text) throw DistributedError(std::string("distributed: ") + name + " is not set (torchrun sets it)");
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || value < low || value > high) {
    throw DistributedError(std::string("distributed: ") + name + ": expected an integer in [" + std::to_string(low) +
                           ", " + std::to_string(high) + "], found \"" + *text + "\"");
  }
  return static_cast<int>(value);
}

}  // namespace

std::optional<DistributedEnv> distributed_env_from_environment() {
  if (!env_text("WORLD_SIZE")) return std::nullopt;
  DistributedEnv env;
  env.world_size = env_int("WORLD_SIZE", 1, 1 << 16);
  env.rank = env_int("RANK", 0, env.world_size - 1);
  env.local_rank = env_text("LOCAL_RANK") ? env_int("LOCAL_RANK", 0, env.world_size - 1) : env.rank;
  if (env.world_size > 1) {
    env.master_addr = env_text("MASTER_ADDR").value_or("");
    if (env.master_addr.empty()) throw DistributedError("distributed: MASTER_ADDR is not set (torchrun sets it)");
    env.master_port = env_int("MASTER_PORT", 1, 65535);
  }
  return env;
}

bool distributed_available(at::Device device, std::string* why_not) {
  auto no = [&](const char* why) {
    if (why_not) *why_not = why;
    return false;
  };
  if (device.is_cpu()) {
#if SVDIT_WITH_GLOO
    return true;
#else
    return no("this build has no gloo (the configure step found no gloo headers: install libgloo-dev)");
#endif
  }
  if (device.is_cuda()) {
#if SVDIT_WITH_NCCL
    return true;
#else
    return no("this build has no NCCL (it needs CUDA and nccl.h at configure time)");
#endif
  }
  return no("only CPU (gloo) and CUDA (NCCL) tensors have a process group");
}

struct DistributedGroup::State {
  at::Device device = at::kCPU;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::Backend> group;
};

DistributedGroup::DistributedGroup(const DistributedEnv& env, at::Device device, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), state_(std::make_unique<State>()) {
  state_->device = device;
  const std::string who = "distributed rank " + std::to_string(env.rank) + "/" + std::to_string(env.world_size);
  std::string why_not;
  if (!distributed_available(device, &why_not)) throw DistributedError(who + ": " + why_not);
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(env.master_port);
    options.isServer = env.rank == 0;
    options.numWorkers = static_cast<size_t>(env.world_size);
    options.waitWorkers = true;  // the store's constructor returns once every rank has joined, or throws at timeout
    options.timeout = timeout;
    state_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw DistributedError(who + ": could not join the store at " + env.master_addr + ":" +
                           std::to_string(env.master_port) + " (rank 0 hosts it) within " +
                           std::to_string(timeout.count()) + " ms: " + e.what());
  }
  try {
    if (device.is_cpu()) {
#if SVDIT_WITH_GLOO
      backend_ = "gloo";
      state_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(
          state_->store, env.rank, env.world_size, c10d::ProcessGroupGloo::Options::create_default(timeout));
#endif
    } else {
#if SVDIT_WITH_NCCL
      backend_ = "nccl";
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      state_->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(state_->store, env.rank, env.world_size, options);
#endif
    }
  } catch (const std::exception& e) {
    throw DistributedError(who + ": could not make the " + backend_ + " process group: " + e.what());
  }
}

DistributedGroup::~DistributedGroup() = default;

namespace {

// Runs one c10d work item to completion; any failure (a peer gone, the timeout) becomes a DistributedError that
// says which rank saw it and in which operation.
void wait_for(const c10::intrusive_ptr<c10d::Work>& work, const DistributedEnv& env, const std::string& op,
              const std::string& what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw DistributedError("distributed rank " + std::to_string(env.rank) + "/" + std::to_string(env.world_size) +
                           ": " + op + " (" + what + ") failed: " + e.what());
  }
}

int64_t sum(const std::vector<int64_t>& v) {
  int64_t s = 0;
  for (const int64_t x : v) s += x;
  return s;
}

}  // namespace

at::Tensor DistributedGroup::all_to_all(const at::Tensor& flat, const std::vector<int64_t>& send_counts,
                                        const std::vector<int64_t>& recv_counts, const std::string& what) {
  const auto n = static_cast<size_t>(env_.world_size);
  if (flat.dim() != 1 || send_counts.size() != n || recv_counts.size() != n || sum(send_counts) != flat.numel()) {
    throw std::invalid_argument("DistributedGroup::all_to_all: counts do not match the tensor (" + what + ")");
  }
  at::Tensor in = flat.contiguous();
  at::Tensor out = at::empty({sum(recv_counts)}, flat.options());
  std::vector<int64_t> send(send_counts), recv(recv_counts);
  wait_for(state_->group->alltoall_base(out, in, recv, send), env_, "all-to-all", what);
  return out;
}

at::Tensor DistributedGroup::all_gather(const at::Tensor& flat, const std::vector<int64_t>& counts,
                                        const std::string& what) {
  const auto n = static_cast<size_t>(env_.world_size);
  if (flat.dim() != 1 || counts.size() != n || counts[static_cast<size_t>(env_.rank)] != flat.numel()) {
    throw std::invalid_argument("DistributedGroup::all_gather: counts do not match the tensor (" + what + ")");
  }
  // c10d's all-gather wants equal parts: pad every part to the largest, gather, then drop the padding.
  int64_t most = 0;
  for (const int64_t c : counts) most = std::max(most, c);
  at::Tensor in = at::zeros({most}, flat.options());
  in.narrow(0, 0, flat.numel()).copy_(flat);
  at::Tensor out = at::empty({most * env_.world_size}, flat.options());
  wait_for(state_->group->_allgather_base(out, in), env_, "all-gather", what);
  std::vector<at::Tensor> parts;
  for (size_t r = 0; r < n; ++r) parts.push_back(out.narrow(0, static_cast<int64_t>(r) * most, counts[r]));
  return at::cat(parts);
}

void DistributedGroup::barrier(const std::string& what) {
  // An all-reduce of one element on the group's device: c10d's own barrier() guesses the device (NCCL from the
  // rank number), this says it.
  at::Tensor one = at::ones({1}, at::TensorOptions().dtype(at::kFloat).device(state_->device));
  std::vector<at::Tensor> tensors{one};
  wait_for(state_->group->allreduce(tensors), env_, "barrier", what);
}

}  // namespace svdit::runtime
