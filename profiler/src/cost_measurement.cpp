// measure_candidate_costs (see svdit/profiler/cost_measurement.h): option checks, the choice of path, and the
// CUPTI path. The wall-clock fallback is in cost_measurement_cpu.cpp.
//
// CUPTI path, per (candidate c, group size g): g copies of c's layout are packed and put on the device once
// (kernels::torch_ops::prepare_layouts), then launched through kernels::torch_ops::sparse_attention — the very call
// the runtime's plan executor makes — on [B, S, g, D] views of one set of q/k/v buffers allocated at max_group
// heads (row stride max_group·D, as a slice of a layer's projection would have). `warmup` launches run untraced
// (their records are collected and dropped), then `repetitions` launches each inside a CUPTI external-correlation
// scope with its own id. One launch may run several kernels (a permuted layout's permute pre-pass, then the
// attention kernel): the launch's time is the SUM of the durations of all kernels tagged with its id (the gap
// between them is not counted), and the table entry is the median over the launches. A skip candidate launches
// nothing: 0 µs and no record. Every recorded kernel goes into CostMeasurement::records tagged (c, g); a kernel
// no scope tagged (another thread's) is kept with candidate −1, group size 0.

#include "svdit/profiler/cost_measurement.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "cost_measurement_internal.h"
#include "svdit/profiler/cupti_tracer.h"

#if SVDIT_PROFILER_WITH_CUPTI
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAGeneratorImpl.h>
#include <c10/cuda/CUDAGuard.h>

#include <map>
#include <mutex>

#include "svdit/kernels/torch/sparse_attention.h"
#endif

namespace svdit::profiler {

namespace detail {

double median(std::vector<double> values) {
  if (values.empty()) throw std::invalid_argument("median of an empty sample");
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  const double lower = *std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid));
  return 0.5 * (lower + upper);
}

namespace {

ResolvedCostOptions resolve(const std::vector<data::BlockLayout>& layouts, const CostMeasurementOptions& o) {
  auto bad = [](const std::string& what) {
    throw std::invalid_argument("measure_candidate_costs: " + what);
  };
  if (layouts.empty()) bad("no candidate layouts");
  if (o.batch < 1) bad("batch must be ≥ 1, found " + std::to_string(o.batch));
  if (o.heads < 1) bad("heads must be ≥ 1, found " + std::to_string(o.heads));
  if (o.head_dim < 1) bad("head_dim must be ≥ 1, found " + std::to_string(o.head_dim));
  if (o.max_group < 0 || o.max_group > o.heads) {
    bad("max_group must be in [0, heads = " + std::to_string(o.heads) + "] (0: heads), found " +
        std::to_string(o.max_group));
  }
  if (o.repetitions < 1) bad("repetitions must be ≥ 1, found " + std::to_string(o.repetitions));
  if (o.warmup < 0) bad("warmup must be ≥ 0, found " + std::to_string(o.warmup));
  ResolvedCostOptions r;
  r.options = o;
  r.max_group = o.max_group == 0 ? o.heads : o.max_group;
  r.seq_len = layouts.front().seq_len;
  r.block_size = layouts.front().block_size;
  for (size_t c = 0; c < layouts.size(); ++c) {
    const data::BlockLayout& l = layouts[c];
    if (l.seq_len != r.seq_len || l.block_size != r.block_size) {
      bad("layout of candidate " + std::to_string(c) + " is for S = " + std::to_string(l.seq_len) + ", b = " +
          std::to_string(l.block_size) + ", but candidate 0's is for S = " + std::to_string(r.seq_len) +
          ", b = " + std::to_string(r.block_size) + " (all candidates must be compiled for one token layout)");
    }
  }
  if (r.seq_len < 1) bad("layouts have S = " + std::to_string(r.seq_len));
  return r;
}

#if SVDIT_PROFILER_WITH_CUPTI

CostMeasurement measure_costs_cupti(const std::vector<data::BlockLayout>& layouts, const ResolvedCostOptions& r,
                                    const std::function<void(int64_t, int64_t)>& progress) {
  const CostMeasurementOptions& o = r.options;
  if (o.dtype != at::kBFloat16 && o.dtype != at::kHalf) {
    throw std::invalid_argument(std::string("measure_candidate_costs: the CUDA kernels run bf16 or fp16, found dtype ") +
                                c10::toString(o.dtype));
  }
  const at::DeviceIndex index = o.device.has_index() ? o.device.index() : c10::cuda::current_device();
  const at::Device device(at::kCUDA, index);
  const c10::cuda::CUDAGuard guard(device);
  const auto num_candidates = static_cast<int64_t>(layouts.size());

  CostMeasurement result;
  result.table.source = "cupti";
  result.table.device = at::cuda::getDeviceProperties(index)->name;
  result.table.repetitions = o.repetitions;
  result.table.num_candidates = num_candidates;
  result.table.max_group = r.max_group;
  result.table.us.assign(static_cast<size_t>(num_candidates * r.max_group), 0.0);

  // One set of buffers at the largest group (random: zeros can run faster than real data).
  at::Generator gen = at::cuda::detail::createCUDAGenerator(index);
  {
    const std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(o.seed);
  }
  const auto topts = at::TensorOptions().dtype(o.dtype).device(device);
  const at::Tensor q = at::randn({o.batch, r.seq_len, r.max_group, o.head_dim}, gen, topts);  // [B, S, G, D]
  const at::Tensor k = at::randn({o.batch, r.seq_len, r.max_group, o.head_dim}, gen, topts);  // [B, S, G, D]
  const at::Tensor v = at::randn({o.batch, r.seq_len, r.max_group, o.head_dim}, gen, topts);  // [B, S, G, D]

  CuptiTracer tracer;
  (void)tracer.collect();  // the random fill ran before tracing started; drop whatever CUPTI still holds

  const int64_t total = num_candidates * r.max_group;
  int64_t done = 0;
  uint64_t next_id = 1;
  for (int64_t c = 0; c < num_candidates; ++c) {
    const data::BlockLayout& layout = layouts[static_cast<size_t>(c)];
    for (int64_t g = 1; g <= r.max_group; ++g) {
      if (!layout.skip) {
        const std::vector<const data::BlockLayout*> heads(static_cast<size_t>(g), &layout);
        const kernels::torch_ops::DeviceLayouts dl = kernels::torch_ops::prepare_layouts(heads, device);
        const at::Tensor qg = q.narrow(2, 0, g);  // [B, S, g, D] (row stride G·D)
        const at::Tensor kg = k.narrow(2, 0, g);  // [B, S, g, D]
        const at::Tensor vg = v.narrow(2, 0, g);  // [B, S, g, D]
        auto launch = [&] {
          (void)kernels::torch_ops::sparse_attention(qg, kg, vg, dl);  // out [B, S, g, D], lse [B, g, S]
        };
        for (int64_t w = 0; w < o.warmup; ++w) launch();
        (void)tracer.collect();  // warm-up kernels are not measurements

        const uint64_t first_id = next_id;
        for (int64_t rep = 0; rep < o.repetitions; ++rep) {
          const CuptiTracer::ExternalIdScope scope(next_id++);
          launch();
        }
        const std::vector<TracedKernel> kernels = tracer.collect();

        std::map<uint64_t, int64_t> launch_ns;  // external id → summed kernel time of that launch
        for (const TracedKernel& t : kernels) {
          const bool ours = t.external_id >= first_id && t.external_id < next_id;
          if (ours) launch_ns[t.external_id] += t.duration_ns();
          data::KernelRecord rec;
          rec.name = t.name;
          rec.start_ns = t.start_ns;
          rec.end_ns = t.end_ns;
          rec.grid_x = t.grid_x;
          rec.grid_y = t.grid_y;
          rec.grid_z = t.grid_z;
          rec.block_x = t.block_x;
          rec.block_y = t.block_y;
          rec.block_z = t.block_z;
          rec.registers = t.registers;
          rec.shared_memory_bytes = t.shared_memory();
          rec.candidate = ours ? static_cast<int32_t>(c) : -1;
          rec.group_size = ours ? static_cast<int32_t>(g) : 0;
          result.records.push_back(std::move(rec));
        }
        if (static_cast<int64_t>(launch_ns.size()) != o.repetitions) {
          throw std::runtime_error(
              "measure_candidate_costs: CUPTI recorded kernels for " + std::to_string(launch_ns.size()) + " of " +
              std::to_string(o.repetitions) + " timed launches of candidate " + std::to_string(c) +
              " with group size " + std::to_string(g) + " (" + std::to_string(kernels.size()) +
              " kernel records, external correlation missing?)");
        }
        std::vector<double> us;
        us.reserve(launch_ns.size());
        for (const auto& [id, ns] : launch_ns) us.push_back(static_cast<double>(ns) / 1000.0);
        result.table.time_us(c, g) = median(std::move(us));
      }  // skip: nothing is launched, 0 µs and no record
      ++done;
      if (progress) progress(done, total);
    }
  }
  return result;
}

#endif

}  // namespace

}  // namespace detail

bool cupti_available(at::Device device) {
#if SVDIT_PROFILER_WITH_CUPTI
  if (!device.is_cuda()) return false;
  const int count = c10::cuda::device_count();  // 0 without a driver or device; never throws
  if (count <= 0) return false;
  return !device.has_index() || device.index() < count;
#else
  (void)device;
  return false;
#endif
}

CostMeasurement measure_candidate_costs(const std::vector<data::BlockLayout>& layouts,
                                        const CostMeasurementOptions& options,
                                        const std::function<void(int64_t done, int64_t total)>& progress) {
  const detail::ResolvedCostOptions resolved = detail::resolve(layouts, options);
#if SVDIT_PROFILER_WITH_CUPTI
  if (cupti_available(options.device)) return detail::measure_costs_cupti(layouts, resolved, progress);
#endif
  return detail::measure_costs_cpu(layouts, resolved, progress);
}

}  // namespace svdit::profiler
