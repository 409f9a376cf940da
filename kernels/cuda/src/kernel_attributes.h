#pragma once
// Kernel attributes that must be set before a launch. cudaFuncSetAttribute acts on the current device's context,
// so "once per process" (a function-local static) leaves every other device at the 48 KB default and the launch
// there fails; this sets it once per (kernel, device).

namespace svdit::kernels::detail {

// Opts `kernel` in to `bytes` of dynamic shared memory on the current device, the first time it is asked for that
// device; later calls are a lookup. Thread-safe.
void require_dynamic_shared_memory(const void* kernel, int bytes);

template <typename Kernel>
void require_dynamic_shared_memory(Kernel* kernel, int bytes) {
  require_dynamic_shared_memory(reinterpret_cast<const void*>(kernel), bytes);
}

}  // namespace svdit::kernels::detail
