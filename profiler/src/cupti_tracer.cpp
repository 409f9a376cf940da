// The CUPTI Activity API tracer (see svdit/profiler/cupti_tracer.h).
//
// CUPTI hands activity records over in buffers through two process-wide C callbacks (buffer requested, buffer
// completed), the second possibly on a CUPTI worker thread. The callbacks take no user pointer, so they reach the
// one live tracer through a mutex-guarded static. Records are copied out of the buffer at once (kernel names
// demangled; CUPTI owns the name strings), external-correlation records fill a correlation id → external id map,
// and collect() joins the two after a synchronising forced flush.

#include "svdit/profiler/cupti_tracer.h"

#include <stdexcept>

#if SVDIT_PROFILER_WITH_CUPTI
#include <cuda_runtime.h>
#include <cupti.h>
#include <cxxabi.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <unordered_map>
#endif

namespace svdit::profiler {

#if SVDIT_PROFILER_WITH_CUPTI

namespace {

constexpr size_t kBufferBytes = size_t{8} << 20;  // CUPTI's guidance: 1–10 MB per buffer
constexpr size_t kBufferAlign = 8;                 // ACTIVITY_RECORD_ALIGNMENT
constexpr CUpti_ExternalCorrelationKind kExternalKind = CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0;

std::string cupti_message(CUptiResult result) {
  const char* text = nullptr;
  if (cuptiGetResultString(result, &text) != CUPTI_SUCCESS || text == nullptr) {
    return "CUPTI error " + std::to_string(static_cast<int>(result));
  }
  return text;
}

void cupti_check(CUptiResult result, const char* call) {
  if (result != CUPTI_SUCCESS) {
    throw std::runtime_error(std::string("CUPTI tracer: ") + call + " failed: " + cupti_message(result));
  }
}

void cuda_check(cudaError_t code, const char* call) {
  if (code != cudaSuccess) {
    throw std::runtime_error(std::string("CUPTI tracer: ") + call + " failed: " + cudaGetErrorName(code) + " (" +
                             cudaGetErrorString(code) + ")");
  }
}

#define SVDIT_CUPTI_CHECK(call) cupti_check((call), #call)
#define SVDIT_TRACER_CUDA_CHECK(call) cuda_check((call), #call)

std::string demangle(const char* name) {
  if (name == nullptr) return "<unnamed kernel>";
  int status = 0;
  char* plain = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  if (status != 0 || plain == nullptr) return name;  // not a mangled C++ name (e.g. an extern "C" kernel)
  std::string out(plain);
  std::free(plain);
  return out;
}

// What the callbacks fill. Guarded by g_mutex, like g_sink itself.
struct Sink {
  std::vector<TracedKernel> kernels;
  std::unordered_map<uint32_t, uint64_t> external_ids;  // correlation id → external id
  size_t dropped = 0;
  std::string error;  // first error met inside a callback (callbacks cannot throw)
};

std::mutex g_mutex;
Sink* g_sink = nullptr;

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  void* memory = std::aligned_alloc(kBufferAlign, kBufferBytes);
  *buffer = static_cast<uint8_t*>(memory);
  *size = memory == nullptr ? 0 : kBufferBytes;  // no buffer: CUPTI drops records, and collect() reports it
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext context, uint32_t stream_id, uint8_t* buffer, size_t /*size*/,
                               size_t valid_size) {
  const std::lock_guard<std::mutex> lock(g_mutex);
  Sink* sink = g_sink;
  if (sink != nullptr && buffer != nullptr && valid_size > 0) {
    CUpti_Activity* record = nullptr;
    for (;;) {
      const CUptiResult r = cuptiActivityGetNextRecord(buffer, valid_size, &record);
      if (r == CUPTI_ERROR_MAX_LIMIT_REACHED) break;  // end of the buffer
      if (r != CUPTI_SUCCESS) {
        if (sink->error.empty()) sink->error = "cuptiActivityGetNextRecord failed: " + cupti_message(r);
        break;
      }
      if (record->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL || record->kind == CUPTI_ACTIVITY_KIND_KERNEL) {
        const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
        TracedKernel t;
        t.name = demangle(k->name);
        t.start_ns = static_cast<int64_t>(k->start);
        t.end_ns = static_cast<int64_t>(k->end);
        t.grid_x = k->gridX;
        t.grid_y = k->gridY;
        t.grid_z = k->gridZ;
        t.block_x = k->blockX;
        t.block_y = k->blockY;
        t.block_z = k->blockZ;
        t.registers = static_cast<int32_t>(k->registersPerThread);
        t.static_shared_memory = k->staticSharedMemory;
        t.dynamic_shared_memory = k->dynamicSharedMemory;
        t.correlation_id = k->correlationId;
        t.device_id = k->deviceId;
        t.stream_id = k->streamId;
        sink->kernels.push_back(std::move(t));
      } else if (record->kind == CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION) {
        const auto* e = reinterpret_cast<const CUpti_ActivityExternalCorrelation*>(record);
        if (e->externalKind == kExternalKind) sink->external_ids[e->correlationId] = e->externalId;
      }
      // CUPTI_ACTIVITY_KIND_RUNTIME records are enabled only so that external correlation records are made for
      // the launches; they are not kept.
    }
    size_t dropped = 0;
    const CUptiResult r = cuptiActivityGetNumDroppedRecords(context, stream_id, &dropped);
    if (r != CUPTI_SUCCESS && sink->error.empty()) {
      sink->error = "cuptiActivityGetNumDroppedRecords failed: " + cupti_message(r);
    }
    sink->dropped += dropped;
  }
  std::free(buffer);
}

constexpr CUpti_ActivityKind kKinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_RUNTIME,
                                         CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION};

}  // namespace

struct CuptiTracer::State {
  Sink sink;
  size_t enabled = 0;  // how many of kKinds are enabled (for the destructor)
};

bool cupti_tracer_built() { return true; }

CuptiTracer::CuptiTracer() : state_(std::make_unique<State>()) {
  {
    const std::lock_guard<std::mutex> lock(g_mutex);
    if (g_sink != nullptr) {
      throw std::runtime_error("CUPTI tracer: another CuptiTracer is alive (CUPTI activity tracing is per process)");
    }
    g_sink = &state_->sink;
  }
  try {
    SVDIT_CUPTI_CHECK(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed));
    for (const CUpti_ActivityKind kind : kKinds) {
      SVDIT_CUPTI_CHECK(cuptiActivityEnable(kind));
      ++state_->enabled;
    }
  } catch (...) {
    for (size_t i = 0; i < state_->enabled; ++i) (void)cuptiActivityDisable(kKinds[i]);
    const std::lock_guard<std::mutex> lock(g_mutex);
    g_sink = nullptr;
    throw;
  }
}

CuptiTracer::~CuptiTracer() {
  // Records of kernels still running would reach a dead sink: wait for them, then hand every buffer back.
  (void)cudaDeviceSynchronize();
  (void)cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  for (size_t i = 0; i < state_->enabled; ++i) (void)cuptiActivityDisable(kKinds[i]);
  (void)cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  const std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = nullptr;
}

std::vector<TracedKernel> CuptiTracer::collect() {
  SVDIT_TRACER_CUDA_CHECK(cudaDeviceSynchronize());
  SVDIT_CUPTI_CHECK(cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED));
  std::vector<TracedKernel> kernels;
  std::unordered_map<uint32_t, uint64_t> external_ids;
  size_t dropped = 0;
  std::string error;
  {
    const std::lock_guard<std::mutex> lock(g_mutex);
    kernels.swap(state_->sink.kernels);
    // Every kernel launched so far has finished and been flushed, so no later kernel record can refer to these
    // correlation ids: the map starts afresh.
    external_ids.swap(state_->sink.external_ids);
    dropped = state_->sink.dropped;
    state_->sink.dropped = 0;
    error.swap(state_->sink.error);
  }
  if (!error.empty()) throw std::runtime_error("CUPTI tracer: " + error);
  if (dropped > 0) {
    throw std::runtime_error("CUPTI tracer: CUPTI dropped " + std::to_string(dropped) +
                             " activity records (buffers full or not allocated); the trace is incomplete");
  }
  for (TracedKernel& k : kernels) {
    const auto it = external_ids.find(k.correlation_id);
    k.external_id = it == external_ids.end() ? 0 : it->second;
  }
  std::stable_sort(kernels.begin(), kernels.end(), [](const TracedKernel& a, const TracedKernel& b) {
    return a.correlation_id < b.correlation_id;
  });
  return kernels;
}

CuptiTracer::ExternalIdScope::ExternalIdScope(uint64_t id) {
  if (id == 0) throw std::invalid_argument("CUPTI tracer: external id 0 is reserved for untagged launches");
  SVDIT_CUPTI_CHECK(cuptiActivityPushExternalCorrelationId(kExternalKind, id));
}

CuptiTracer::ExternalIdScope::~ExternalIdScope() {
  uint64_t last = 0;
  (void)cuptiActivityPopExternalCorrelationId(kExternalKind, &last);
}

#else  // no CUPTI in this build

struct CuptiTracer::State {};

bool cupti_tracer_built() { return false; }

CuptiTracer::CuptiTracer() {
  throw std::runtime_error("CUPTI tracer: this build has no CUPTI (configure with -DSVDIT_CUDA=ON on a machine whose "
                           "CUDA toolkit has CUPTI)");
}

CuptiTracer::~CuptiTracer() = default;

std::vector<TracedKernel> CuptiTracer::collect() {
  throw std::runtime_error("CUPTI tracer: this build has no CUPTI");
}

CuptiTracer::ExternalIdScope::ExternalIdScope(uint64_t) {
  throw std::runtime_error("CUPTI tracer: this build has no CUPTI");
}

CuptiTracer::ExternalIdScope::~ExternalIdScope() = default;

#endif

}  // namespace svdit::profiler
