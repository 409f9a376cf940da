// The wall-clock fallback of measure_candidate_costs (no CUDA device, or no CUPTI in the build): the CPU
// reference (kernels::cpu::sparse_attention, fp64 accumulation, heads on a few threads) of g copies of the
// candidate's layout, timed by std::chrono::steady_clock around each call. Good for tests and a relative picture;
// the table says so (source "cpu-wallclock").

#include <chrono>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <thread>

#include "cost_measurement_internal.h"
#include "svdit/kernels/cpu/sparse_attention.h"

namespace svdit::profiler::detail {

namespace {

// "Intel(R) Xeon(R) ... (CPU reference, 2 hardware threads)" from /proc/cpuinfo's first "model name".
std::string cpu_description() {
  std::string model;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; model.empty() && std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const size_t begin = line.find_first_not_of(" \t", colon + 1);
    if (begin != std::string::npos) model = line.substr(begin);
  }
  if (model.empty()) model = "unknown CPU";
  return model + " (CPU reference, " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads)";
}

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

CostMeasurement measure_costs_cpu(const std::vector<data::BlockLayout>& layouts, const ResolvedCostOptions& r,
                                  const std::function<void(int64_t, int64_t)>& progress) {
  const CostMeasurementOptions& o = r.options;
  const auto num_candidates = static_cast<int64_t>(layouts.size());
  CostMeasurement result;
  result.table.source = "cpu-wallclock";
  result.table.device = cpu_description();
  result.table.repetitions = o.repetitions;
  result.table.num_candidates = num_candidates;
  result.table.max_group = r.max_group;
  result.table.us.assign(static_cast<size_t>(num_candidates * r.max_group), 0.0);

  // One set of buffers, at the largest group: [B, max_group, S, D] fp32 (the reference's layout). A group of g
  // heads uses the first B·g·S·D elements as its [B, g, S, D] input, so nothing is reallocated.
  const kernels::cpu::AttentionShape max_shape{o.batch, r.max_group, r.seq_len, o.head_dim};
  kernels::cpu::validate(max_shape);
  const auto elements = static_cast<size_t>(max_shape.elements());
  std::vector<float> q(elements), k(elements), v(elements), out(elements);  // [B, max_group, S, D]
  std::vector<float> lse(static_cast<size_t>(max_shape.rows()));           // [B, max_group, S]
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (std::vector<float>* t : {&q, &k, &v}) {
    for (float& x : *t) x = normal(rng);
  }

  const int64_t total = num_candidates * r.max_group;
  int64_t done = 0;
  for (int64_t c = 0; c < num_candidates; ++c) {
    const data::BlockLayout& layout = layouts[static_cast<size_t>(c)];
    for (int64_t g = 1; g <= r.max_group; ++g) {
      if (!layout.skip) {
        const kernels::cpu::AttentionShape shape{o.batch, g, r.seq_len, o.head_dim};
        const auto n = static_cast<size_t>(shape.elements());
        const std::vector<const data::BlockLayout*> heads(static_cast<size_t>(g), &layout);
        auto run = [&] {
          kernels::cpu::sparse_attention(std::span<const float>(q.data(), n), std::span<const float>(k.data(), n),
                                         std::span<const float>(v.data(), n), shape, heads,
                                         std::span<float>(out.data(), n),
                                         std::span<float>(lse.data(), static_cast<size_t>(shape.rows())));
        };
        for (int64_t w = 0; w < o.warmup; ++w) run();
        std::vector<double> us;
        us.reserve(static_cast<size_t>(o.repetitions));
        for (int64_t rep = 0; rep < o.repetitions; ++rep) {
          const int64_t start = steady_ns();
          run();
          const int64_t end = steady_ns();
          us.push_back(static_cast<double>(end - start) / 1000.0);
          data::KernelRecord record;
          record.name = "cpu:svdit::kernels::cpu::sparse_attention";
          record.start_ns = start;  // host steady clock; no launch configuration, registers or shared memory
          record.end_ns = end;
          record.candidate = static_cast<int32_t>(c);
          record.group_size = static_cast<int32_t>(g);
          result.records.push_back(std::move(record));
        }
        result.table.time_us(c, g) = median(std::move(us));
      }  // skip: nothing is computed, 0 µs and no record
      ++done;
      if (progress) progress(done, total);
    }
  }
  return result;
}

}  // namespace svdit::profiler::detail
