// What measure_candidate_costs launches (see cost_measurement_internal.h): the same calls on every device, so the
// table measures what the runtime runs — a mixed layer is one kernels::torch_ops::sparse_attention call over all
// its heads (runtime/src/sparse_plan_attention.cpp), an all-dense layer the dense path, an all-skip layer zeros.
#include <ATen/ATen.h>

#include <algorithm>
#include <mutex>
#include <string>

#include "cost_measurement_internal.h"
#include "svdit/kernels/torch/sparse_attention.h"
#include "svdit/runtime/attention_backend.h"

namespace svdit::profiler::detail {

namespace {

// The medians of a timed launch's total and pre-pass part (the part never above the whole).
void store(const std::vector<LaunchTime>& times, double& total, double& permute) {
  std::vector<double> t, p;
  for (const LaunchTime& l : times) {
    t.push_back(l.total_us);
    p.push_back(l.permute_us);
  }
  total = median(t);
  permute = std::min(median(p), total);
}

}  // namespace

CostMeasurement measure_launches(const std::vector<data::BlockLayout>& layouts, const ResolvedCostOptions& r,
                                 const LaunchTimer& timer, const std::string& source, const std::string& device,
                                 const std::function<void(int64_t, int64_t)>& progress) {
  const CostMeasurementOptions& o = r.options;
  const auto num_candidates = static_cast<int64_t>(layouts.size());
  const auto sizes = static_cast<int64_t>(r.group_sizes.size());
  CostMeasurement result;
  data::CostTable& table = result.table;
  table.source = source;
  table.device = device;
  table.repetitions = o.repetitions;
  table.num_candidates = num_candidates;
  table.group_sizes = r.group_sizes;
  table.max_group = r.group_sizes.back();
  table.us.assign(static_cast<size_t>(num_candidates * sizes), 0.0);
  table.permute_us.assign(table.us.size(), 0.0);

  // One set of random buffers at every head of the layer (zeros can run faster than real data); a launch of g
  // heads reads [B, S, g, D] views with the layer's row stride, as a slice of a layer's projection would be.
  // On the CPU a generator of its own; on a GPU the device's default one, reseeded (filling GBs on the host
  // would take longer than the measurement).
  at::Generator gen = o.device.is_cpu() ? at::make_generator<at::CPUGeneratorImpl>(o.seed)
                                        : at::globalContext().defaultGenerator(o.device);
  if (!o.device.is_cpu()) {
    const std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(o.seed);
  }
  const auto topts = at::TensorOptions().dtype(o.dtype).device(o.device);
  auto random = [&] { return at::randn({o.batch, r.seq_len, o.heads, o.head_dim}, gen, topts); };  // [B, S, H, D]
  const at::Tensor q = random(), k = random(), v = random();

  const int64_t total = num_candidates * sizes + 2;
  int64_t done = 0;
  for (int64_t c = 0; c < num_candidates; ++c) {
    const data::BlockLayout& layout = layouts[static_cast<size_t>(c)];
    for (int64_t i = 0; i < sizes; ++i) {
      const int64_t g = r.group_sizes[static_cast<size_t>(i)];
      // Skip is launched too: inside a mixed launch a skip head's tiles still run (and write zeros).
      const std::vector<const data::BlockLayout*> heads(static_cast<size_t>(g), &layout);
      const kernels::torch_ops::DeviceLayouts dl = kernels::torch_ops::prepare_layouts(heads, o.device);
      const at::Tensor qg = q.narrow(2, 0, g), kg = k.narrow(2, 0, g), vg = v.narrow(2, 0, g);  // [B, S, g, D]
      const auto times = timer([&] { (void)kernels::torch_ops::sparse_attention(qg, kg, vg, dl); },
                               static_cast<int32_t>(c), static_cast<int32_t>(g), result.records);
      const size_t at = static_cast<size_t>(c * sizes + i);
      store(times, table.us[at], table.permute_us[at]);
      if (progress) progress(++done, total);
    }
  }
  // The layers that launch no sparse kernel: their records are no candidate's (candidate −1, group size 0).
  double ignored = 0.0;
  store(timer([&] { (void)runtime::dense_attention(q, k, v); }, -1, 0, result.records), table.dense_layer_us,
        ignored);
  if (progress) progress(++done, total);
  store(timer([&] { (void)at::zeros_like(q); }, -1, 0, result.records), table.skip_layer_us, ignored);
  if (progress) progress(++done, total);
  return result;
}

}  // namespace svdit::profiler::detail
