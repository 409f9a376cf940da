// One svdit profile run: sampling with the measuring observer, resumable writes, the cost table (profile_run.h).

#include "svdit/profiler/profile_run.h"

#include <ATen/ATen.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "svdit/data/block_layout.h"
#include "svdit/data/profile_writer.h"
#include "svdit/data/target_lock.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/cost_measurement.h"
#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/flow_sampler.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/progress_bar.h"

namespace svdit::profiler {

namespace rt = svdit::runtime;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: throw std::invalid_argument(std::string("profile: unsupported compute dtype ") + c10::toString(t));
  }
}

// The first field in which two metas differ (created and tool_version are not compared), or "".
std::string meta_difference(const data::ProfileMeta& file, const data::ProfileMeta& run) {
  auto list = [](const auto& v) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < v.size(); ++i) s << (i ? ", " : "") << v[i];
    s << "]";
    return s.str();
  };
  auto differ = [](const std::string& field, const std::string& a, const std::string& b) {
    return field + " (file: " + a + ", this run: " + b + ")";
  };
  if (file.model != run.model) return differ("model", file.model, run.model);
  if (file.layers != run.layers) return differ("layers", std::to_string(file.layers), std::to_string(run.layers));
  if (file.heads != run.heads) return differ("heads", std::to_string(file.heads), std::to_string(run.heads));
  if (file.head_dim != run.head_dim) {
    return differ("head_dim", std::to_string(file.head_dim), std::to_string(run.head_dim));
  }
  if (!(file.layout == run.layout)) return differ("layout", data::describe(file.layout), data::describe(run.layout));
  if (file.dtype != run.dtype) return differ("dtype", file.dtype, run.dtype);
  if (file.sampling_steps != run.sampling_steps) {
    return differ("sampling_steps", std::to_string(file.sampling_steps), std::to_string(run.sampling_steps));
  }
  if (file.steps != run.steps) return differ("steps", list(file.steps), list(run.steps));
  if (file.timesteps != run.timesteps) return differ("timesteps", list(file.timesteps), list(run.timesteps));
  if (file.prompts != run.prompts) return differ("prompts", list(file.prompts), list(run.prompts));
  if (file.synthetic != run.synthetic) return differ("synthetic", file.synthetic ? "1" : "0", run.synthetic ? "1" : "0");
  return "";
}

// Progress over measurement units and cost entries; prints at most once a second (and at the end), so a log
// gets a readable number of lines.
class Progress {
 public:
  Progress(int64_t total, bool quiet, std::FILE* out) : bar_(total, "profile", out), total_(total), quiet_(quiet) {}
  void advance(int64_t units, const std::string& note) {
    done_ += units;
    if (quiet_) return;
    const auto now = Clock::now();
    if (done_ < total_ && now - last_print_ < std::chrono::seconds(1)) return;
    bar_.update(done_, std::chrono::duration<double>(now - last_print_).count(), note);
    last_print_ = now;
  }
  void finish() {
    if (!quiet_) bar_.finish();
  }

 private:
  rt::ProgressBar bar_;
  int64_t total_, done_ = 0;
  bool quiet_;
  Clock::time_point last_print_ = Clock::now();
};

// Accumulates, over every conditional self-attention layer it sees, the attention mass of each key column.
class ColumnMassObserver final : public rt::AttentionObserver {
 public:
  explicit ColumnMassObserver(int64_t chunk_bytes) : chunk_bytes_(chunk_bytes) {}
  void on_self_attention(const rt::SelfAttentionEvent& event) override {
    if (event.call.branch != rt::CfgBranch::conditional) return;
    const std::vector<double> mass = column_mass(event.q, event.k, chunk_bytes_);
    if (total.empty()) total.assign(mass.size(), 0.0);
    for (size_t j = 0; j < mass.size(); ++j) total[j] += mass[j];
  }
  std::vector<double> total;  // [S]

 private:
  int64_t chunk_bytes_;
};

// Measures the layers of one (prompt, profiled step) forward: writes error/recall slices the file lacks and adds
// the maps of the step into the running sums.
class MeasuringObserver final : public rt::AttentionObserver {
 public:
  std::function<void(const rt::SelfAttentionEvent&)> callback;
  void on_self_attention(const rt::SelfAttentionEvent& event) override {
    if (event.call.branch == rt::CfgBranch::conditional) callback(event);
  }
};

}  // namespace

int64_t peak_rss_bytes() {
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) != 0) return -1;
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux: kilobytes
}

int64_t device_peak_bytes(at::Device device) {
  if (!device.is_cuda()) return -1;
  try {
    c10::DeviceAllocator* allocator = c10::getDeviceAllocator(c10::DeviceType::CUDA);
    const auto stats = allocator->getDeviceStats(device.has_index() ? device.index() : 0);
    return stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak;
  } catch (const std::exception&) {
    return -1;
  }
}

data::ProfileMeta make_profile_meta(const rt::WanModel& model, const rt::VideoGeometry& geometry,
                                    const std::vector<PromptInput>& prompts, const ProfileRunOptions& options) {
  const rt::WanConfig& config = model.config();
  data::ProfileMeta meta;
  meta.model = config.name;
  meta.layers = config.num_layers;
  meta.heads = config.num_heads;
  meta.head_dim = config.head_dim();
  meta.layout = rt::token_layout(geometry, options.block_size);
  meta.dtype = dtype_name(model.compute_dtype());
  meta.sampling_steps = options.sampling.steps;
  const rt::FlowSchedule schedule = rt::make_flow_schedule(options.sampling.steps, options.sampling.shift);
  meta.steps = options.profile_steps;
  for (const int64_t s : meta.steps) {
    if (s < 0 || s >= schedule.steps()) {
      throw std::invalid_argument("profile: profiled step " + std::to_string(s) + " outside [0, " +
                                  std::to_string(schedule.steps()) + ")");
    }
    meta.timesteps.push_back(static_cast<double>(schedule.timesteps[static_cast<size_t>(s)]));
  }
  for (const PromptInput& p : prompts) meta.prompts.push_back(p.label);
  data::validate(meta, "profile options");
  return meta;
}

ProfileRunReport run_profile(const rt::WanModel& model, const rt::VideoGeometry& geometry,
                             const std::vector<PromptInput>& prompts, const at::Tensor& negative_context,
                             const ProfileRunOptions& options) {
  const auto started = Clock::now();
  std::FILE* log = options.log != nullptr ? options.log : stderr;
  auto note = [&](const std::string& text) {
    if (!options.quiet) std::fprintf(log, "%s\n", text.c_str());
  };
  if (prompts.empty()) throw std::invalid_argument("profile: no prompt (give --prompt at least once)");
  if (options.profile_steps.empty()) throw std::invalid_argument("profile: no step to profile (--profile-steps)");
  for (const int64_t s : options.map_steps) {
    if (!std::binary_search(options.profile_steps.begin(), options.profile_steps.end(), s)) {
      throw std::invalid_argument("profile: map step " + std::to_string(s) + " is not a profiled step");
    }
  }
  if (options.cost != "auto" && options.cost != "cupti" && options.cost != "cpu-wallclock") {
    throw std::invalid_argument("--cost: expected auto, cupti or cpu-wallclock, found \"" + options.cost + "\"");
  }

  const data::ProfileMeta meta = make_profile_meta(model, geometry, prompts, options);
  const data::TokenLayout& layout = meta.layout;
  const int64_t L = meta.layers, H = meta.heads, NP = meta.num_prompts(), NS = meta.num_steps();
  const int64_t G = layout.num_blocks(), F = layout.frames;
  std::vector<data::ProfileCandidate> candidates =
      options.candidates ? *options.candidates : default_candidates(layout);
  std::vector<bool> map_step(static_cast<size_t>(NS), false);
  for (int64_t s = 0; s < NS; ++s) {
    map_step[static_cast<size_t>(s)] = std::binary_search(options.map_steps.begin(), options.map_steps.end(),
                                                          meta.steps[static_cast<size_t>(s)]);
  }

  // The writer: the partial file of an interrupted run, or a fresh one (once the candidates are final).
  // One run per target, refused before anything is read, created or truncated (data/target_lock.h).
  const data::TargetLock lock = data::TargetLock::acquire(options.out);
  std::optional<data::ProfileWriter> writer;
  const std::filesystem::path partial = data::ProfileWriter::partial_path(options.out);
  if (options.resume && data::ProfileWriter::resumable(options.out)) {
    writer.emplace(data::ProfileWriter::resume(options.out));
    const std::string differs = meta_difference(writer->meta(), meta);
    if (!differs.empty()) {
      throw std::runtime_error("--resume: " + partial.string() + " was made for another run: " + differs +
                               "; run without --resume to start over");
    }
    std::string why;
    if (!same_candidates(writer->candidates(), candidates, &why)) {
      throw std::runtime_error("--resume: " + partial.string() + " has other candidates: " + why +
                               "; run without --resume to start over");
    }
    candidates = writer->candidates();
    note("resume  " + partial.string());
  } else {
    if (options.resume) note("resume  no resumable partial profile " + partial.string() + ": starting afresh");
    else if (std::filesystem::exists(partial)) note("note    replacing the partial profile " + partial.string() +
                                                    " (--resume continues one instead)");
  }
  const int64_t C = static_cast<int64_t>(candidates.size());
  const int64_t top_k_blocks = options.top_k_blocks > 0 ? options.top_k_blocks : default_top_k_blocks(layout);

  std::unique_ptr<LayerMeasurer> measurer;
  std::vector<data::BlockLayout> layouts;
  auto start_writing = [&] {
    if (!writer) writer.emplace(data::ProfileWriter::create(options.out, meta, candidates));
    for (int64_t s = 0; s < NS; ++s) {
      if (!map_step[static_cast<size_t>(s)] && !writer->maps_omitted(s)) writer->omit_maps(s);
    }
    layouts.clear();
    for (const data::ProfileCandidate& c : candidates) layouts.push_back(data::compile_pattern(c.pattern, layout));
    measurer = std::make_unique<LayerMeasurer>(layout, layouts, options.measure);
  };
  if (!has_top_k_placeholders(candidates)) {
    if (!writer) compute_densities(candidates, layout);
    start_writing();
  }

  auto need_slice = [&](int64_t p, int64_t s, int64_t l) { return !writer || !writer->slice_written(p, s, l); };
  auto need_maps = [&](int64_t s, int64_t l) {
    if (!map_step[static_cast<size_t>(s)]) return false;
    for (int64_t h = 0; h < H; ++h) {
      if (!writer || !writer->maps_written(s, l, h)) return true;
    }
    return false;
  };

  // Cost settings, checked before hours of sampling.
  CostMeasurementOptions cost;
  cost.device = options.cost == "cpu-wallclock" ? at::Device(at::kCPU) : model.device();
  cost.dtype = model.compute_dtype();
  if (cost.device.is_cuda() && cost.dtype == at::kFloat) {
    cost.dtype = at::kBFloat16;
    note("note    the kernels run bf16 or fp16: costs are timed in bf16 (the model computes in fp32)");
  }
  cost.heads = H;
  cost.head_dim = meta.head_dim;
  cost.max_group = options.max_group;
  cost.repetitions = options.cost_repetitions;
  cost.warmup = options.cost_warmup;
  cost.seed = options.sampling.seed;
  if (options.cost == "cupti" && !cupti_available(cost.device)) {
    throw std::runtime_error("--cost cupti: CUPTI is not available on " + cost.device.str() +
                             " (a CUDA device and a build with the kernels and CUPTI are needed)");
  }
  const int64_t max_group = options.max_group > 0 ? options.max_group : H;

  // Work left, for the progress bar and to stop sampling after the last step that has any.
  int64_t total_units = 0, last_needed = -1;
  ProfileRunReport report;
  report.out = options.out;
  report.chunk_rows = chunk_rows(layout.seq_len(), meta.head_dim, layout.block_size, options.measure.chunk_bytes);
  for (int64_t s = 0; s < NS; ++s) {
    for (int64_t l = 0; l < L; ++l) {
      const bool maps = need_maps(s, l);
      for (int64_t p = 0; p < NP; ++p) {
        const bool slice = need_slice(p, s, l);
        if (slice || maps) {
          ++total_units;
          last_needed = s;
        }
        if (!slice) ++report.slices_skipped;
      }
    }
  }
  const bool cost_needed = !writer || !writer->cost_written();
  if (cost_needed) total_units += C * max_group;
  if (report.slices_skipped > 0) {
    note("resume  " + std::to_string(report.slices_skipped) + " of " + std::to_string(NP * NS * L) +
         " slices already measured");
  }

  Progress progress(total_units, options.quiet, log);
  const at::Device device = model.device();
  const bool guided = negative_context.defined() && options.sampling.guidance != 1.0;
  const rt::FlowSchedule schedule = rt::make_flow_schedule(options.sampling.steps, options.sampling.shift);
  std::vector<at::Tensor> latents;                       // [prompt] [1, C, T, H, W] fp32
  std::vector<std::unique_ptr<rt::FlowSampler>> samplers;  // [prompt]
  for (int64_t p = 0; p < NP; ++p) {
    latents.push_back(rt::initial_noise(model.config(), geometry, options.sampling.seed, device));
    samplers.push_back(rt::make_sampler(options.sampling.sampler, schedule));
  }
  std::vector<float> pooled_sum, frames_sum;  // [layer, head, G, G], [layer, head, F, F]: the step's maps, Σ prompts
  int64_t slices_this_run = 0;

  const int64_t last_step = last_needed >= 0 ? meta.steps[static_cast<size_t>(last_needed)] : -1;
  for (int64_t i = 0; i <= last_step; ++i) {
    const auto it = std::find(meta.steps.begin(), meta.steps.end(), i);
    const int64_t s = it == meta.steps.end() ? -1 : static_cast<int64_t>(it - meta.steps.begin());
    const int64_t t = schedule.timesteps[static_cast<size_t>(i)];
    const at::Tensor timestep = at::full({1}, t, at::TensorOptions().dtype(at::kLong));  // [1]

    if (s >= 0 && !measurer) {
      // Calibration of the top_k stripes: the conditional forward of every prompt at the first profiled step.
      const auto calibration_started = Clock::now();
      ColumnMassObserver calibration(options.measure.chunk_bytes);
      for (int64_t p = 0; p < NP; ++p) {
        const rt::ForwardOptions forward{i, rt::CfgBranch::conditional, nullptr, &calibration};
        static_cast<void>(model.forward(latents[static_cast<size_t>(p)], timestep,
                                        prompts[static_cast<size_t>(p)].context, forward));
      }
      const std::vector<data::TokenRange> columns = choose_top_k_columns(calibration.total, layout, top_k_blocks);
      fill_top_k(candidates, columns, layout);
      std::ostringstream cols;
      for (const data::TokenRange& r : columns) cols << " [" << r.begin << ", " << r.end << ")";
      note("top_k   " + std::to_string(top_k_blocks) + " blocks by attention mass at step " + std::to_string(i) +
           " (" + std::to_string(since(calibration_started)).substr(0, 5) + " s):" + cols.str());
      start_writing();
    }

    bool step_maps = false;
    if (s >= 0) {
      for (int64_t l = 0; l < L; ++l) step_maps = step_maps || need_maps(s, l);
    }
    if (step_maps) {
      pooled_sum.assign(static_cast<size_t>(L * H * G * G), 0.0f);
      frames_sum.assign(static_cast<size_t>(L * H * F * F), 0.0f);
    }

    for (int64_t p = 0; p < NP; ++p) {
      const auto pu = static_cast<size_t>(p);
      bool measure_here = step_maps;
      for (int64_t l = 0; s >= 0 && l < L; ++l) measure_here = measure_here || need_slice(p, s, l);

      MeasuringObserver observer;
      observer.callback = [&](const rt::SelfAttentionEvent& event) {
        const int64_t l = event.call.layer;
        const bool errors = need_slice(p, s, l);
        const bool maps = step_maps && need_maps(s, l);
        if (!errors && !maps) return;
        const auto measure_started = Clock::now();
        const LayerMeasurement m = measurer->measure(event.q, event.k, event.v, errors, maps);
        if (errors) {
          writer->write_error_recall(p, s, l, m.error, m.recall);
          ++report.slices_measured;
        }
        if (maps) {
          const auto hg = static_cast<size_t>(H * G * G), hf = static_cast<size_t>(H * F * F);
          for (size_t j = 0; j < hg; ++j) pooled_sum[static_cast<size_t>(l) * hg + j] += m.pooled[j];
          for (size_t j = 0; j < hf; ++j) frames_sum[static_cast<size_t>(l) * hf + j] += m.frame_map[j];
        }
        report.measure_seconds += since(measure_started);
        progress.advance(1, "prompt " + std::to_string(p + 1) + "/" + std::to_string(NP) + ", step " +
                                std::to_string(i) + ", layer " + std::to_string(l));
        if (errors && options.interrupt_after_slices >= 0 && ++slices_this_run >= options.interrupt_after_slices) {
          throw ProfileInterrupted("profile interrupted after " + std::to_string(slices_this_run) + " slices (test)");
        }
      };
      const rt::ForwardOptions forward{i, rt::CfgBranch::conditional, nullptr, measure_here ? &observer : nullptr};
      at::Tensor v = model.forward(latents[pu], timestep, prompts[pu].context, forward);  // [1, C, T, H, W]
      if (guided) {
        const rt::ForwardOptions uncond{i, rt::CfgBranch::unconditional, nullptr, nullptr};
        const at::Tensor v_uncond = model.forward(latents[pu], timestep, negative_context, uncond);  // [1, C, T, H, W]
        v = v_uncond + options.sampling.guidance * (v - v_uncond);
      }
      latents[pu] = samplers[pu]->step(v, latents[pu]);
    }

    if (step_maps) {
      const float inv = 1.0f / static_cast<float>(NP);
      for (int64_t l = 0; l < L; ++l) {
        for (int64_t h = 0; h < H; ++h) {
          if (writer->maps_written(s, l, h)) continue;
          const auto pooled_at = static_cast<size_t>((l * H + h) * G * G);
          const auto frames_at = static_cast<size_t>((l * H + h) * F * F);
          std::vector<float> pooled(pooled_sum.begin() + static_cast<std::ptrdiff_t>(pooled_at),
                                    pooled_sum.begin() + static_cast<std::ptrdiff_t>(pooled_at + G * G));
          std::vector<float> frames(frames_sum.begin() + static_cast<std::ptrdiff_t>(frames_at),
                                    frames_sum.begin() + static_cast<std::ptrdiff_t>(frames_at + F * F));
          for (float& x : pooled) x *= inv;
          for (float& x : frames) x *= inv;
          writer->write_maps(s, l, h, pooled, frames);
          ++report.maps_written;
        }
      }
    }
  }
  pooled_sum = {};
  frames_sum = {};

  if (!measurer) start_writing();  // nothing was measured (resume of a file with every slice written)
  if (!writer->cost_written()) {
    const auto cost_started = Clock::now();
    int64_t cost_done = 0;
    const CostMeasurement measured = measure_candidate_costs(layouts, cost, [&](int64_t done, int64_t) {
      progress.advance(done - cost_done, "cost " + std::to_string(done) + "/" + std::to_string(C * max_group));
      cost_done = done;
    });
    writer->write_cost(measured.table, measured.records);
    report.cost_measured = true;
    report.cost_source = measured.table.source;
    report.cost_seconds = since(cost_started);
  }
  progress.finish();
  writer->finish();
  rt::synchronize(device);
  report.seconds = since(started);
  report.peak_rss_bytes = peak_rss_bytes();
  report.device_peak_bytes = device_peak_bytes(device);
  return report;
}

}  // namespace svdit::profiler
