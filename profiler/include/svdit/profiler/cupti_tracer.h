#pragma once
// A small RAII tracer over the CUPTI Activity API (docs/PROFILER.md "Kernel cost": the measured GPU time of each
// candidate kernel). While a CuptiTracer lives, every kernel any thread launches on any device is recorded by CUPTI
// (CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: device start/end timestamps, launch configuration, registers, shared
// memory) without serialising kernels. Launches can be tagged: an ExternalIdScope pushes an id (CUPTI external
// correlation) and every kernel launched by this thread inside the scope carries it, so the caller can say which
// measurement a kernel belongs to even when one logical launch runs several kernels (the permute pre-pass and the
// attention kernel of a permuted layout).
//
// This header has no CUPTI types: it compiles in every build. The implementation exists only where the profiler
// is built with CUPTI (SVDIT_PROFILER_WITH_CUPTI); elsewhere cupti_tracer_built() is false and the constructor
// throws std::runtime_error.
//
// CUPTI keeps one activity configuration per process, so at most one CuptiTracer may exist at a time (a second
// throws). Every CUPTI and CUDA call is checked; a failure throws std::runtime_error naming the call and
// CUPTI's (or CUDA's) own error string.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace svdit::profiler {

// One kernel execution as CUPTI reported it.
struct TracedKernel {
  std::string name;            // demangled (abi::__cxa_demangle); the raw name when it does not demangle
  int64_t start_ns = 0;        // device timestamps (CUPTI's clock, ns)
  int64_t end_ns = 0;
  int32_t grid_x = 0, grid_y = 0, grid_z = 0;
  int32_t block_x = 0, block_y = 0, block_z = 0;
  int32_t registers = 0;                 // per thread
  int64_t static_shared_memory = 0;      // bytes per block
  int64_t dynamic_shared_memory = 0;     // bytes per block
  uint32_t correlation_id = 0;           // CUPTI's id of the API call that launched it (ascending in launch order)
  uint64_t external_id = 0;              // the innermost ExternalIdScope id at launch; 0 when none was pushed
  uint32_t device_id = 0;
  uint32_t stream_id = 0;

  int64_t duration_ns() const { return end_ns - start_ns; }
  int64_t shared_memory() const { return static_shared_memory + dynamic_shared_memory; }
};

// True when this build has the CUPTI tracer (it says nothing about a device being present).
bool cupti_tracer_built();

class CuptiTracer {
 public:
  // Registers the buffer callbacks and enables kernel, runtime-API and external-correlation activity records.
  // Throws std::runtime_error when this build has no CUPTI, another CuptiTracer is alive, or a CUPTI call fails.
  CuptiTracer();
  // Disables the activity kinds and hands every buffer back (errors are swallowed: a destructor must not throw).
  ~CuptiTracer();
  CuptiTracer(const CuptiTracer&) = delete;
  CuptiTracer& operator=(const CuptiTracer&) = delete;

  // Waits for the device (cudaDeviceSynchronize on the current device), flushes CUPTI's buffers and returns the
  // kernels recorded since the last collect(), in launch order (ascending correlation id), with their external
  // ids resolved. Throws std::runtime_error when CUPTI dropped records (a table built from them would be wrong)
  // or reported an error inside its callbacks.
  std::vector<TracedKernel> collect();

  // Tags every kernel the calling thread launches while the scope lives with `id` (≥ 1; 0 means "untagged").
  // Scopes nest; the innermost id wins.
  class ExternalIdScope {
   public:
    explicit ExternalIdScope(uint64_t id);
    ~ExternalIdScope();
    ExternalIdScope(const ExternalIdScope&) = delete;
    ExternalIdScope& operator=(const ExternalIdScope&) = delete;
  };

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace svdit::profiler
