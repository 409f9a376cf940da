// svdit-bench-cost-model: does the search's cost model (svdit::search::CostModel, docs/SEARCH.md "Cost model")
// predict what the runtime's launch takes? Per model shape: measure the profile's cost table in this run (the
// profiler's measure_candidate_costs, CUPTI on a GPU), then draw random mixed layers (skip, dense, permuted and
// unpermuted sparse heads; block density 0.05–0.6), predict each from the table and time the real launch — the
// calls SparsePlanAttention makes (runtime/src/sparse_plan_attention.cpp): one svdit.sparse_attention over all
// heads for a mixed layer. Reports each layer and the median and worst |predicted − measured| / measured; then a
// Wan2.1-1.3B plan searched by time-budget (--speedup 2) on synthetic errors with that table: its predicted
// against its measured attention time per step. With --cpu: the same check on the CPU path at the demo model's
// shape. Not a test: figures go to docs/BENCHMARKS.md by hand, with the command, machine and date.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/profile.h"
#include "svdit/kernels/torch/sparse_attention.h"
#include "svdit/profiler/cost_measurement.h"
#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/device.h"
#include "svdit/search/cost_model.h"
#include "svdit/search/input.h"
#include "svdit/search/search.h"

namespace {

namespace ops = svdit::kernels::torch_ops;
using svdit::data::BlockLayout;
using svdit::data::Pattern;
using svdit::data::TokenLayout;

struct Shape {
  std::string name;
  int64_t heads, head_dim;
  TokenLayout layout;
  int64_t layers;   // random mixed layers drawn
  int64_t model_layers;
};

double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Candidates spanning densities 0.05–1: windows of several widths, temporal bands (permuted), a first-frame
// stripe with a window (gathered columns), skip and dense.
std::vector<Pattern> candidate_patterns(const TokenLayout& l) {
  namespace d = svdit::data;
  const int64_t P = l.height * l.width;
  std::vector<Pattern> out = {d::make_pattern({d::dense_component()}), d::make_pattern({d::skip_component()})};
  for (const int64_t w : {P / 4, P / 2, P, 2 * P, 4 * P}) out.push_back(d::make_pattern({d::window_component(w)}));
  for (const int64_t ws : {l.width / 2, l.width, 3 * l.width})
    out.push_back(d::make_pattern({d::temporal_component(ws, l.frames)}));
  out.push_back(d::make_pattern({d::first_frame_stripe(l), d::window_component(std::max<int64_t>(P / 2, 1))}));
  return out;
}

struct Bench {
  at::Device device;
  int64_t reps;
  std::FILE* csv;
};

// The real launch of one layer, as SparsePlanAttention::self_attention runs it.
struct LayerLaunch {
  int kind = 0;  // 0 dense path, 1 zeros, 2 one sparse launch
  ops::DeviceLayouts layouts;
};
// choice[h] is head h's candidate: 0 dense, 1 skip (candidate_patterns' order).
LayerLaunch make_launch(const std::vector<int32_t>& choice, const std::vector<BlockLayout>& layouts,
                        at::Device device) {
  const bool all_dense = std::all_of(choice.begin(), choice.end(), [](int32_t c) { return c == 0; });
  const bool all_skip = std::all_of(choice.begin(), choice.end(), [](int32_t c) { return c == 1; });
  LayerLaunch l;
  l.kind = all_dense ? 0 : all_skip ? 1 : 2;
  if (l.kind == 2) {
    std::vector<const BlockLayout*> heads;
    for (const int32_t c : choice) heads.push_back(&layouts[static_cast<size_t>(c)]);
    l.layouts = ops::prepare_layouts(heads, device);
  }
  return l;
}
void run(const LayerLaunch& l, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  if (l.kind == 0) (void)svdit::runtime::dense_attention(q, k, v);
  else if (l.kind == 1) (void)at::zeros_like(q);
  else (void)ops::sparse_attention(q, k, v, l.layouts);
}

// Median over 3 batches of `reps` back-to-back runs of `body` (one warm-up batch first), per run, in µs.
template <class F>
double time_us(at::Device device, int64_t reps, const F& body) {
  auto batch = [&] {
    svdit::runtime::synchronize(device);
    const double t0 = now_us();
    for (int64_t r = 0; r < reps; ++r) body();
    svdit::runtime::synchronize(device);
    return (now_us() - t0) / static_cast<double>(reps);
  };
  (void)batch();
  return median({batch(), batch(), batch()});
}

struct Errors {
  std::vector<double> rel;
  void add(double pred, double meas) { rel.push_back(std::abs(pred - meas) / meas); }
  double med() const { return median(rel); }
  double worst() const { return *std::max_element(rel.begin(), rel.end()); }
};

struct ShapeResult {
  std::string name;
  Errors errors;
  int64_t skip_layers = 0, dense_heads = 0, permuted_layers = 0;
  double min_density = 1, max_density = 0;
};

svdit::data::ProfileMeta meta_of(const Shape& s) {
  svdit::data::ProfileMeta m;
  m.model = s.name;
  m.layers = s.model_layers;
  m.heads = s.heads;
  m.head_dim = s.head_dim;
  m.layout = s.layout;
  m.dtype = "bfloat16";
  m.sampling_steps = 50;
  m.steps = {0};
  m.timesteps = {1000.0};
  m.prompts = {"synthetic"};
  m.synthetic = true;
  return m;
}

ShapeResult check_shape(const Shape& s, const Bench& b, at::ScalarType dtype, uint64_t seed,
                        svdit::data::CostTable* table_out = nullptr,
                        std::vector<svdit::data::ProfileCandidate>* candidates_out = nullptr,
                        std::vector<BlockLayout>* layouts_out = nullptr) {
  const std::vector<Pattern> patterns = candidate_patterns(s.layout);
  std::vector<BlockLayout> layouts;
  std::vector<svdit::data::ProfileCandidate> candidates;
  for (size_t c = 0; c < patterns.size(); ++c) {
    layouts.push_back(svdit::data::compile_pattern(patterns[c], s.layout));
    candidates.push_back({static_cast<int32_t>(c), patterns[c], layouts.back().block_density(),
                          svdit::data::token_density(patterns[c], s.layout)});
  }
  svdit::profiler::CostMeasurementOptions o;
  o.device = b.device;
  o.dtype = dtype;
  o.heads = s.heads;
  o.head_dim = s.head_dim;
  o.repetitions = 3;
  o.warmup = 1;
  o.seed = seed;
  const double t0 = now_us();
  const svdit::profiler::CostMeasurement m = svdit::profiler::measure_candidate_costs(layouts, o);
  const svdit::data::ProfileMeta meta = meta_of(s);
  const svdit::search::CostModel cost(meta, candidates, &m.table);
  std::printf("%s: S = %lld, %lld heads x %lld, %zu candidates; cost table (%s on %s) in %.1f s\n", s.name.c_str(),
              static_cast<long long>(s.layout.seq_len()), static_cast<long long>(s.heads),
              static_cast<long long>(s.head_dim), candidates.size(), m.table.source.c_str(), m.table.device.c_str(),
              (now_us() - t0) / 1e6);
  std::printf("  model: dense layer %.1f us, skip layer %.1f us, pre-pass launch %.1f us\n", cost.dense_layer(),
              cost.skip_layer(), cost.permute_launch());
  for (size_t c = 0; c < candidates.size(); ++c)
    std::printf("    %-44s density %.3f  head %9.2f us  last %8.2f us%s\n",
                svdit::data::describe(patterns[c]).c_str(), candidates[c].block_density,
                cost.head(static_cast<int64_t>(c)), cost.last(static_cast<int64_t>(c)),
                cost.permuted(static_cast<int64_t>(c)) ? "  (permuted)" : "");

  const auto topts = at::TensorOptions().dtype(dtype).device(b.device);
  const at::Tensor q = at::randn({1, s.layout.seq_len(), s.heads, s.head_dim}, topts);  // [B, S, H, D]
  const at::Tensor k = at::randn({1, s.layout.seq_len(), s.heads, s.head_dim}, topts);  // [B, S, H, D]
  const at::Tensor v = at::randn({1, s.layout.seq_len(), s.heads, s.head_dim}, topts);  // [B, S, H, D]

  // Random mixed layers: each head skip (5 %), dense (10 %) or a sparse candidate; kept when the layer's block
  // density is in [0.05, 0.6] and it is neither all dense nor all skip (those are single measured paths).
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  ShapeResult res;
  res.name = s.name;
  const auto C = static_cast<int64_t>(candidates.size());
  for (int64_t drawn = 0; drawn < s.layers;) {
    std::vector<int32_t> choice(static_cast<size_t>(s.heads));
    const double sparse_bias = u(rng);  // some layers lean dense, some sparse
    double density = 0;
    for (int32_t& c : choice) {
      const double x = u(rng);
      c = x < 0.05 ? 1 : x < 0.05 + 0.15 * sparse_bias ? 0 : static_cast<int32_t>(2 + (rng() % (C - 2)));
      density += candidates[static_cast<size_t>(c)].block_density;
    }
    density /= static_cast<double>(s.heads);
    if (density < 0.05 || density > 0.6) continue;
    bool permuted = false;
    int64_t dense = 0;
    bool skip = false;
    for (const int32_t c : choice) {
      permuted = permuted || cost.permuted(c);
      dense += c == 0;
      skip = skip || c == 1;
    }
    const LayerLaunch launch = make_launch(choice, layouts, b.device);
    if (launch.kind != 2) continue;
    ++drawn;
    const double predicted = cost.layer_time(choice);
    const double measured = time_us(b.device, b.reps, [&] { run(launch, q, k, v); });
    res.errors.add(predicted, measured);
    res.skip_layers += skip;
    res.dense_heads += dense;
    res.permuted_layers += permuted;
    res.min_density = std::min(res.min_density, density);
    res.max_density = std::max(res.max_density, density);
    std::string heads_text;
    for (const int32_t c : choice) heads_text += (heads_text.empty() ? "" : " ") + std::to_string(c);
    std::fprintf(b.csv, "%s,%lld,%.4f,%d,%lld,%d,%.2f,%.2f,%.4f,%s\n", s.name.c_str(), static_cast<long long>(drawn),
                 density, skip ? 1 : 0, static_cast<long long>(dense), permuted ? 1 : 0, predicted, measured,
                 (predicted - measured) / measured, heads_text.c_str());
  }
  std::printf("  %lld random mixed layers (density %.3f-%.3f; %lld with skip heads, %lld dense heads, %lld with "
              "permuted heads): |pred - meas| / meas median %.2f %%, worst %.2f %%\n",
              static_cast<long long>(s.layers), res.min_density, res.max_density,
              static_cast<long long>(res.skip_layers), static_cast<long long>(res.dense_heads),
              static_cast<long long>(res.permuted_layers), 100 * res.errors.med(), 100 * res.errors.worst());
  std::fflush(stdout);
  if (table_out) *table_out = m.table;
  if (candidates_out) *candidates_out = candidates;
  if (layouts_out) *layouts_out = layouts;
  return res;
}

// A searched plan at the shape: synthetic errors (falling with density, varying by head), the measured table,
// --objective time-budget --speedup 2; then one step's attention as the runtime runs it, layer after layer.
void check_searched_plan(const Shape& s, const Bench& b, at::ScalarType dtype, const svdit::data::CostTable& table,
                         const std::vector<svdit::data::ProfileCandidate>& candidates,
                         const std::vector<BlockLayout>& layouts) {
  svdit::search::SearchInput in;
  in.meta = meta_of(s);
  in.candidates = candidates;
  in.cost = table;
  in.source = "synthetic errors at " + s.name;
  const auto C = static_cast<int64_t>(candidates.size());
  in.error = svdit::data::Array5<float>({1, 1, s.model_layers, s.heads, C}, 0.0f);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int64_t l = 0; l < s.model_layers; ++l)
    for (int64_t h = 0; h < s.heads; ++h) {
      const double scale = 0.01 + 0.3 * u(rng) * u(rng);
      for (int64_t c = 0; c < C; ++c) {
        const double d = candidates[static_cast<size_t>(c)].block_density;
        in.error.at(0, 0, l, h, c) = c == 0 ? 0.0f : static_cast<float>(scale * (1.0 - d) * (0.5 + u(rng)));
      }
    }
  svdit::search::SearchOptions o;
  o.objective = svdit::search::Objective::time_budget;
  o.speedup = 2.0;
  const svdit::search::SearchResult r = svdit::search::run_search(in, o);
  double predicted = 0;
  for (const double t : r.layer_time[0]) predicted += t;
  const double dense_predicted = r.cost.dense_layer_time() * static_cast<double>(s.model_layers);

  const auto topts = at::TensorOptions().dtype(dtype).device(b.device);
  const at::Tensor q = at::randn({1, s.layout.seq_len(), s.heads, s.head_dim}, topts);  // [B, S, H, D]
  const at::Tensor k = at::randn({1, s.layout.seq_len(), s.heads, s.head_dim}, topts);  // [B, S, H, D]
  const at::Tensor v = at::randn({1, s.layout.seq_len(), s.heads, s.head_dim}, topts);  // [B, S, H, D]
  std::vector<LayerLaunch> launches;
  int64_t sparse_layers = 0;
  for (int64_t l = 0; l < s.model_layers; ++l) {
    std::vector<int32_t> choice;
    for (int64_t h = 0; h < s.heads; ++h) choice.push_back(r.candidate(0, l, h));
    launches.push_back(make_launch(choice, layouts, b.device));
    sparse_layers += launches.back().kind == 2;
  }
  const double measured = time_us(b.device, 3, [&] {
    for (const LayerLaunch& l : launches) run(l, q, k, v);
  });
  const LayerLaunch dense = make_launch(std::vector<int32_t>(static_cast<size_t>(s.heads), 0), layouts, b.device);
  const double dense_measured =
      time_us(b.device, 3, [&] {
        for (int64_t l = 0; l < s.model_layers; ++l) run(dense, q, k, v);
      });
  std::printf("searched plan at %s (%lld layers, time-budget --speedup 2, synthetic errors): %lld sparse layers, "
              "attention per step predicted %.1f us, measured %.1f us (%+.2f %%); all-dense predicted %.1f us, "
              "measured %.1f us (%+.2f %%); measured speed-up %.2fx (predicted %.2fx)\n",
              s.name.c_str(), static_cast<long long>(s.model_layers), static_cast<long long>(sparse_layers), predicted,
              measured, 100 * (predicted - measured) / measured, dense_predicted, dense_measured,
              100 * (dense_predicted - dense_measured) / dense_measured, dense_measured / measured,
              dense_predicted / predicted);
  std::fflush(stdout);
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--gpu] [--cpu] [--layers N] [--csv FILE]\n"
               "  --gpu       Wan2.1-1.3B, Wan2.1-14B, HunyuanVideo and CogVideoX1.5 shapes on CUDA device 0 (bf16),\n"
               "              then a searched 1.3B plan\n"
               "  --cpu       the demo model's shape on the runtime's CPU path (fp32, 2 threads)\n"
               "  --layers N  random mixed layers per shape (default 50; HunyuanVideo gets N/2)\n"
               "  --csv FILE  every layer: shape,layer,density,skip,dense_heads,permuted,predicted_us,measured_us,"
               "rel_error,heads\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool gpu = false, cpu = false;
  int64_t layers = 50;
  std::string csv_path = "/dev/null";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--gpu") gpu = true;
    else if (a == "--cpu") cpu = true;
    else if (a == "--layers" && i + 1 < argc) layers = std::stoll(argv[++i]);
    else if (a == "--csv" && i + 1 < argc) csv_path = argv[++i];
    else return usage(argv[0]);
  }
  if (!gpu && !cpu) return usage(argv[0]);
  std::FILE* csv = std::fopen(csv_path.c_str(), "w");
  if (csv == nullptr) {
    std::fprintf(stderr, "svdit-bench-cost-model: cannot write %s\n", csv_path.c_str());
    return 1;
  }
  std::fprintf(csv, "shape,layer,density,skip,dense_heads,permuted,predicted_us,measured_us,rel_error,heads\n");
  try {
    if (gpu) {
      if (!svdit::profiler::cupti_available(at::Device(at::kCUDA, 0))) {
        std::fprintf(stderr, "svdit-bench-cost-model: --gpu needs CUDA device 0 and a build with CUPTI\n");
        return 1;
      }
      const Bench b{at::Device(at::kCUDA, 0), 5, csv};
      const TokenLayout wan{21, 30, 52, 0, 0, 128};  // 480p: S = 32760
      const Shape shapes[] = {
          {"Wan2.1-1.3B", 12, 128, wan, layers, 30},
          {"Wan2.1-14B", 40, 128, wan, layers, 40},
          {"HunyuanVideo", 24, 128, TokenLayout{33, 45, 80, 0, 256, 128}, std::max<int64_t>(layers / 2, 1), 60},
          {"CogVideoX1.5", 48, 64, TokenLayout{11, 48, 85, 226, 0, 128}, layers, 42},
      };
      std::vector<ShapeResult> results;
      svdit::data::CostTable table13;
      std::vector<svdit::data::ProfileCandidate> cands13;
      std::vector<BlockLayout> layouts13;
      for (const Shape& s : shapes) {
        const bool first = results.empty();
        results.push_back(check_shape(s, b, at::kBFloat16, 1 + results.size(), first ? &table13 : nullptr,
                                      first ? &cands13 : nullptr, first ? &layouts13 : nullptr));
      }
      check_searched_plan(shapes[0], b, at::kBFloat16, table13, cands13, layouts13);
      std::printf("\n| shape | S | heads x dim | layers | median error | worst error |\n| --- | --- | --- | --- | --- | --- |\n");
      Errors all;
      for (size_t i = 0; i < results.size(); ++i) {
        const Shape& s = shapes[i];
        std::printf("| %s | %lld | %lld x %lld | %zu | %.2f %% | %.2f %% |\n", s.name.c_str(),
                    static_cast<long long>(s.layout.seq_len()), static_cast<long long>(s.heads),
                    static_cast<long long>(s.head_dim), results[i].errors.rel.size(), 100 * results[i].errors.med(),
                    100 * results[i].errors.worst());
        all.rel.insert(all.rel.end(), results[i].errors.rel.begin(), results[i].errors.rel.end());
      }
      std::printf("| all | | | %zu | %.2f %% | %.2f %% |\n", all.rel.size(), 100 * all.med(), 100 * all.worst());
    }
    if (cpu) {
      at::set_num_threads(2);  // as the demo runs (docs/PROFILER.md: --threads 2)
      const Bench b{at::Device(at::kCPU), 3, csv};
      const Shape demo{"demo (CPU)", 4, 64, TokenLayout{12, 8, 12, 0, 0, 64}, layers, 8};
      const ShapeResult r = check_shape(demo, b, at::kFloat, 99);
      std::printf("| %s | %lld | 4 x 64 | %zu | %.2f %% | %.2f %% |\n", demo.name.c_str(),
                  static_cast<long long>(demo.layout.seq_len()), r.errors.rel.size(), 100 * r.errors.med(),
                  100 * r.errors.worst());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "svdit-bench-cost-model: %s\n", e.what());
    return 1;
  }
  std::fclose(csv);
  return 0;
}
