#pragma once
// Runs independent per-head work on a few threads. Heads never share output memory, so this is the one
// place the reference is parallel; everything inside a head stays a plain sequential loop.

#include <cstdint>
#include <functional>

namespace svdit::kernels::cpu::detail {

// Calls fn(i) once for every i in [0, count), on up to hardware_concurrency() threads (SVDIT_CPU_THREADS in
// the environment overrides it; 1 runs everything on the calling thread). The first exception thrown by fn
// is rethrown after every thread has finished.
void for_each_head(int64_t count, const std::function<void(int64_t)>& fn);

}  // namespace svdit::kernels::cpu::detail
