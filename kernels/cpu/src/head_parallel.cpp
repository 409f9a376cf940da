#include "head_parallel.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace svdit::kernels::cpu::detail {
namespace {

int64_t thread_count() {
  // The environment override lets a shared or tiny machine keep the reference on one core.
  if (const char* env = std::getenv("SVDIT_CPU_THREADS"); env != nullptr && *env != '\0') {
    try {
      return std::max<int64_t>(1, std::stoll(env));
    } catch (const std::exception&) {
      // An unreadable value falls back to the default rather than failing a computation.
    }
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()));
}

}  // namespace

void for_each_head(int64_t count, const std::function<void(int64_t)>& fn) {
  const int64_t threads = std::min(count, thread_count());
  if (threads <= 1) {
    for (int64_t i = 0; i < count; ++i) {
      fn(i);
    }
    return;
  }
  std::atomic<int64_t> next{0};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  const auto worker = [&] {
    for (int64_t i = next++; i < count; i = next++) {
      try {
        fn(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (!first_error) {
          first_error = std::current_exception();
        }
      }
    }
  };
  {
    std::vector<std::jthread> pool;
    for (int64_t t = 0; t < threads; ++t) {
      pool.emplace_back(worker);
    }
  }  // jthreads join here
  if (first_error) {
    std::rethrow_exception(first_error);
  }
}

}  // namespace svdit::kernels::cpu::detail
