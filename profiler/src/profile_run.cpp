// One svdit profile run: the prompts' denoising loops with the measuring observer, resumable writes, the cost
// table (profile_run.h).

#include "svdit/profiler/profile_run.h"

#include <ATen/ATen.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <sstream>

#include "svdit/data/block_layout.h"
#include "svdit/data/profile_writer.h"
#include "svdit/data/target_lock.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/cost_measurement.h"
#include "svdit/runtime/attention_observer.h"
#include "svdit/runtime/denoising_loop.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/flow_schedule.h"
#include "svdit/runtime/progress_bar.h"
#include "svdit/runtime/sampling.h"

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

namespace {

// Refuses options that cannot make a profile, before anything is read or written.
void check_options(const std::vector<PromptInput>& prompts, const ProfileRunOptions& options) {
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
}

// One profile run, phase by phase (run_profile calls them in order): the candidates and the writer (a resumed
// partial file or a fresh one), the cost settings, the work left; then the sampling with the measurements (the
// top_k calibration at the first profiled step, then every profiled step's slices and maps); then the cost table;
// then the finished file and the report. Indices: p prompt, i sampler step, s profiled step (index into
// meta.steps), l layer, h head.
class ProfileRun {
 public:
  ProfileRun(const rt::WanModel& model, const rt::VideoGeometry& geometry, const std::vector<PromptInput>& prompts,
             const ProfileRunOptions& options)
      : model_(model),
        geometry_(geometry),
        prompts_(prompts),
        options_(options),
        log_(options.log != nullptr ? options.log : stderr),
        meta_(make_profile_meta(model, geometry, prompts, options)),
        candidates_(options.candidates ? *options.candidates : default_candidates(meta_.layout)),
        map_step_(static_cast<size_t>(meta_.num_steps()), false) {
    for (int64_t s = 0; s < meta_.num_steps(); ++s) {
      map_step_[static_cast<size_t>(s)] = std::binary_search(options.map_steps.begin(), options.map_steps.end(),
                                                             meta_.steps[static_cast<size_t>(s)]);
    }
    report_.out = options.out;
  }

  // The writer: the partial file of an interrupted run, or a fresh one (once the candidates are final, i.e. now
  // unless top_k stripes wait for their calibration).
  void open_writer() {
    // One run per target, refused before anything is read, created or truncated (data/target_lock.h).
    lock_ = data::TargetLock::acquire(options_.out);
    const std::filesystem::path partial = data::ProfileWriter::partial_path(options_.out);
    if (options_.resume && data::ProfileWriter::resumable(options_.out)) {
      writer_.emplace(data::ProfileWriter::resume(options_.out));
      const std::string differs = meta_difference(writer_->meta(), meta_);
      if (!differs.empty()) {
        throw std::runtime_error("--resume: " + partial.string() + " was made for another run: " + differs +
                                 "; run without --resume to start over");
      }
      std::string why;
      if (!same_candidates(writer_->candidates(), candidates_, &why)) {
        throw std::runtime_error("--resume: " + partial.string() + " has other candidates: " + why +
                                 "; run without --resume to start over");
      }
      candidates_ = writer_->candidates();
      note("resume  " + partial.string());
    } else {
      if (options_.resume) note("resume  no resumable partial profile " + partial.string() + ": starting afresh");
      else if (std::filesystem::exists(partial)) note("note    replacing the partial profile " + partial.string() +
                                                      " (--resume continues one instead)");
    }
    if (!has_top_k_placeholders(candidates_)) {
      if (!writer_) compute_densities(candidates_, meta_.layout);
      start_writing();
    }
  }

  // Cost settings, checked before hours of sampling.
  void set_up_cost() {
    cost_.device = options_.cost == "cpu-wallclock" ? at::Device(at::kCPU) : model_.device();
    cost_.dtype = model_.compute_dtype();
    if (cost_.device.is_cuda() && cost_.dtype == at::kFloat) {
      cost_.dtype = at::kBFloat16;
      note("note    the kernels run bf16 or fp16: costs are timed in bf16 (the model computes in fp32)");
    }
    cost_.heads = meta_.heads;
    cost_.head_dim = meta_.head_dim;
    cost_.max_group = options_.max_group;
    cost_.repetitions = options_.cost_repetitions;
    cost_.warmup = options_.cost_warmup;
    cost_.seed = options_.sampling.seed;
    if (options_.cost == "cupti" && !cupti_available(cost_.device)) {
      throw std::runtime_error("--cost cupti: CUPTI is not available on " + cost_.device.str() +
                               " (a CUDA device and a build with the kernels and CUPTI are needed)");
    }
  }

  // The work left, for the progress bar and to stop sampling after the last step that has any.
  void count_work() {
    const int64_t L = meta_.layers, NP = meta_.num_prompts(), NS = meta_.num_steps();
    const int64_t C = static_cast<int64_t>(candidates_.size());
    int64_t total_units = 0, last_needed = -1;
    report_.chunk_rows =
        chunk_rows(meta_.layout.seq_len(), meta_.head_dim, meta_.layout.block_size, options_.measure.chunk_bytes);
    for (int64_t s = 0; s < NS; ++s) {
      for (int64_t l = 0; l < L; ++l) {
        const bool maps = need_maps(s, l);
        for (int64_t p = 0; p < NP; ++p) {
          const bool slice = need_slice(p, s, l);
          if (slice || maps) {
            ++total_units;
            last_needed = s;
          }
          if (!slice) ++report_.slices_skipped;
        }
      }
    }
    const bool cost_needed = !writer_ || !writer_->cost_written();
    if (cost_needed) total_units += C * max_group();
    if (report_.slices_skipped > 0) {
      note("resume  " + std::to_string(report_.slices_skipped) + " of " + std::to_string(NP * NS * L) +
           " slices already measured");
    }
    last_step_ = last_needed >= 0 ? meta_.steps[static_cast<size_t>(last_needed)] : -1;
    progress_.emplace(total_units, options_.quiet, log_);
  }

  // The prompts sampled side by side, one denoising loop each, up to the last step with work left; at a profiled
  // step the conditional forwards are measured.
  void sample_and_measure(const at::Tensor& negative_context) {
    std::vector<rt::DenoisingLoop> loops;  // [prompt]
    for (const PromptInput& prompt : prompts_) {
      loops.push_back(rt::make_denoising_loop(model_.config(), geometry_, {prompt.context, negative_context},
                                              options_.sampling, model_.device()));
    }
    const rt::Denoiser unobserved = rt::wan_denoiser(model_, nullptr, nullptr, nullptr);
    for (int64_t i = 0; i <= last_step_; ++i) {
      const auto it = std::find(meta_.steps.begin(), meta_.steps.end(), i);
      if (it == meta_.steps.end()) {
        for (rt::DenoisingLoop& loop : loops) loop.step(unobserved);
        continue;
      }
      const auto s = static_cast<int64_t>(it - meta_.steps.begin());
      if (!measurer_) calibrate_top_k(loops, i);
      measure_step(loops, i, s);
    }
    pooled_sum_ = {};
    frames_sum_ = {};
  }

  // The cost table, unless the (resumed) file has it.
  void measure_cost() {
    if (!measurer_) start_writing();  // nothing was measured (resume of a file with every slice written)
    if (writer_->cost_written()) return;
    const auto cost_started = Clock::now();
    const int64_t total = static_cast<int64_t>(candidates_.size()) * max_group();
    int64_t cost_done = 0;
    const CostMeasurement measured = measure_candidate_costs(layouts_, cost_, [&](int64_t done, int64_t) {
      progress_->advance(done - cost_done, "cost " + std::to_string(done) + "/" + std::to_string(total));
      cost_done = done;
    });
    writer_->write_cost(measured.table, measured.records);
    report_.cost_measured = true;
    report_.cost_source = measured.table.source;
    report_.cost_seconds = since(cost_started);
  }

  // The finished profile (atomically in place) and the report.
  ProfileRunReport finish(Clock::time_point started) {
    progress_->finish();
    writer_->finish();
    rt::synchronize(model_.device());
    report_.seconds = since(started);
    report_.peak_rss_bytes = peak_rss_bytes();
    report_.device_peak_bytes = device_peak_bytes(model_.device());
    return report_;
  }

 private:
  void note(const std::string& text) const {
    if (!options_.quiet) std::fprintf(log_, "%s\n", text.c_str());
  }
  int64_t max_group() const { return options_.max_group > 0 ? options_.max_group : meta_.heads; }
  bool need_slice(int64_t p, int64_t s, int64_t l) const { return !writer_ || !writer_->slice_written(p, s, l); }
  bool need_maps(int64_t s, int64_t l) const {
    if (!map_step_[static_cast<size_t>(s)]) return false;
    for (int64_t h = 0; h < meta_.heads; ++h) {
      if (!writer_ || !writer_->maps_written(s, l, h)) return true;
    }
    return false;
  }

  // The writer (created now unless resumed), the omitted maps, the candidates' layouts and the measurer.
  void start_writing() {
    if (!writer_) writer_.emplace(data::ProfileWriter::create(options_.out, meta_, candidates_));
    for (int64_t s = 0; s < meta_.num_steps(); ++s) {
      if (!map_step_[static_cast<size_t>(s)] && !writer_->maps_omitted(s)) writer_->omit_maps(s);
    }
    layouts_.clear();
    for (const data::ProfileCandidate& c : candidates_) {
      layouts_.push_back(data::compile_pattern(c.pattern, meta_.layout));
    }
    measurer_ = std::make_unique<LayerMeasurer>(meta_.layout, layouts_, options_.measure);
  }

  // Calibration of the top_k stripes: an extra conditional forward of every prompt at the first profiled step
  // (step i, not taken yet), whose column mass chooses the columns; then the writing starts.
  void calibrate_top_k(const std::vector<rt::DenoisingLoop>& loops, int64_t i) {
    const auto calibration_started = Clock::now();
    const int64_t top_k_blocks =
        options_.top_k_blocks > 0 ? options_.top_k_blocks : default_top_k_blocks(meta_.layout);
    ColumnMassObserver calibration(options_.measure.chunk_bytes);
    const rt::Denoiser observed = rt::wan_denoiser(model_, nullptr, &calibration, nullptr);
    for (const rt::DenoisingLoop& loop : loops) {
      const at::Tensor timestep = loop.timestep();  // [1]
      static_cast<void>(observed({i, rt::CfgBranch::conditional, loop.latents(), timestep, loop.conditioning().context}));
    }
    const std::vector<data::TokenRange> columns = choose_top_k_columns(calibration.total, meta_.layout, top_k_blocks);
    fill_top_k(candidates_, columns, meta_.layout);
    std::ostringstream cols;
    for (const data::TokenRange& r : columns) cols << " [" << r.begin << ", " << r.end << ")";
    note("top_k   " + std::to_string(top_k_blocks) + " blocks by attention mass at step " + std::to_string(i) +
         " (" + std::to_string(since(calibration_started)).substr(0, 5) + " s):" + cols.str());
    start_writing();
  }

  // Sampler step i = profiled step s of every prompt, its conditional forward measured where the file lacks a
  // slice or (a map step) maps; the maps, averaged over the prompts, are written after the last prompt.
  void measure_step(std::vector<rt::DenoisingLoop>& loops, int64_t i, int64_t s) {
    const int64_t L = meta_.layers, H = meta_.heads, G = meta_.layout.num_blocks(), F = meta_.layout.frames;
    bool step_maps = false;
    for (int64_t l = 0; l < L; ++l) step_maps = step_maps || need_maps(s, l);
    if (step_maps) {
      pooled_sum_.assign(static_cast<size_t>(L * H * G * G), 0.0f);
      frames_sum_.assign(static_cast<size_t>(L * H * F * F), 0.0f);
    }
    for (int64_t p = 0; p < meta_.num_prompts(); ++p) {
      bool measure_here = step_maps;
      for (int64_t l = 0; l < L; ++l) measure_here = measure_here || need_slice(p, s, l);
      MeasuringObserver observer;
      observer.callback = [&](const rt::SelfAttentionEvent& event) { measure_layer(p, i, s, step_maps, event); };
      loops[static_cast<size_t>(p)].step(rt::wan_denoiser(model_, nullptr, measure_here ? &observer : nullptr, nullptr));
    }
    if (step_maps) write_step_maps(s);
  }

  // One conditional self-attention layer of prompt p at step i: the error/recall slice if the file lacks it, the
  // maps into the step's sums.
  void measure_layer(int64_t p, int64_t i, int64_t s, bool step_maps, const rt::SelfAttentionEvent& event) {
    const int64_t l = event.call.layer, H = meta_.heads, G = meta_.layout.num_blocks(), F = meta_.layout.frames;
    const bool errors = need_slice(p, s, l);
    const bool maps = step_maps && need_maps(s, l);
    if (!errors && !maps) return;
    const auto measure_started = Clock::now();
    const LayerMeasurement m = measurer_->measure(event.q, event.k, event.v, errors, maps);
    if (errors) {
      writer_->write_error_recall(p, s, l, m.error, m.recall);
      ++report_.slices_measured;
    }
    if (maps) {
      const auto hg = static_cast<size_t>(H * G * G), hf = static_cast<size_t>(H * F * F);
      for (size_t j = 0; j < hg; ++j) pooled_sum_[static_cast<size_t>(l) * hg + j] += m.pooled[j];
      for (size_t j = 0; j < hf; ++j) frames_sum_[static_cast<size_t>(l) * hf + j] += m.frame_map[j];
    }
    report_.measure_seconds += since(measure_started);
    progress_->advance(1, "prompt " + std::to_string(p + 1) + "/" + std::to_string(meta_.num_prompts()) +
                              ", step " + std::to_string(i) + ", layer " + std::to_string(l));
    if (errors && options_.interrupt_after_slices >= 0 && ++slices_this_run_ >= options_.interrupt_after_slices) {
      throw ProfileInterrupted("profile interrupted after " + std::to_string(slices_this_run_) + " slices (test)");
    }
  }

  // The maps of profiled step s the file lacks: the sums over the prompts divided by their number.
  void write_step_maps(int64_t s) {
    const int64_t L = meta_.layers, H = meta_.heads, G = meta_.layout.num_blocks(), F = meta_.layout.frames;
    const float inv = 1.0f / static_cast<float>(meta_.num_prompts());
    for (int64_t l = 0; l < L; ++l) {
      for (int64_t h = 0; h < H; ++h) {
        if (writer_->maps_written(s, l, h)) continue;
        const auto pooled_at = static_cast<size_t>((l * H + h) * G * G);
        const auto frames_at = static_cast<size_t>((l * H + h) * F * F);
        std::vector<float> pooled(pooled_sum_.begin() + static_cast<std::ptrdiff_t>(pooled_at),
                                  pooled_sum_.begin() + static_cast<std::ptrdiff_t>(pooled_at + G * G));
        std::vector<float> frames(frames_sum_.begin() + static_cast<std::ptrdiff_t>(frames_at),
                                  frames_sum_.begin() + static_cast<std::ptrdiff_t>(frames_at + F * F));
        for (float& x : pooled) x *= inv;
        for (float& x : frames) x *= inv;
        writer_->write_maps(s, l, h, pooled, frames);
        ++report_.maps_written;
      }
    }
  }

  const rt::WanModel& model_;
  const rt::VideoGeometry& geometry_;
  const std::vector<PromptInput>& prompts_;
  const ProfileRunOptions& options_;
  std::FILE* log_;
  const data::ProfileMeta meta_;
  std::vector<data::ProfileCandidate> candidates_;
  std::vector<bool> map_step_;  // [profiled step]: stores maps
  data::TargetLock lock_;  // held from open_writer() until the run ends
  std::optional<data::ProfileWriter> writer_;
  std::vector<data::BlockLayout> layouts_;  // [candidate]
  std::unique_ptr<LayerMeasurer> measurer_;
  CostMeasurementOptions cost_;
  int64_t last_step_ = -1;  // the last sampler step with something to measure
  std::optional<Progress> progress_;
  ProfileRunReport report_;
  std::vector<float> pooled_sum_, frames_sum_;  // [layer, head, G, G], [layer, head, F, F]: the step's maps, Σ prompts
  int64_t slices_this_run_ = 0;
};

}  // namespace

ProfileRunReport run_profile(const rt::WanModel& model, const rt::VideoGeometry& geometry,
                             const std::vector<PromptInput>& prompts, const at::Tensor& negative_context,
                             const ProfileRunOptions& options) {
  const auto started = Clock::now();
  check_options(prompts, options);
  ProfileRun run(model, geometry, prompts, options);  // meta, candidates, which steps store maps
  run.open_writer();                                  // resume the partial profile, or start afresh
  run.set_up_cost();
  run.count_work();
  run.sample_and_measure(negative_context);
  run.measure_cost();
  return run.finish(started);
}

}  // namespace svdit::profiler
