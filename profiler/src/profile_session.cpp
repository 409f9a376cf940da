// The measuring half of a profile (profile_session.h): the writer (fresh or resumed), the work left, the top_k
// calibration, each observed layer's slices and maps, the cost table, the finished file.

#include "svdit/profiler/profile_session.h"

#include <ATen/ATen.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>

#include "svdit/data/block_layout.h"
#include "svdit/data/profile_writer.h"
#include "svdit/data/target_lock.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/cost_measurement.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/progress_bar.h"

namespace svdit::profiler {

namespace rt = svdit::runtime;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

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
  if (file.family != run.family) return differ("family", file.family, run.family);
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

void check_options(const data::ProfileMeta& meta, const ProfileSessionOptions& options) {
  if (meta.prompts.empty()) throw std::invalid_argument("profile: no prompt (give --prompt at least once)");
  if (meta.steps.empty()) throw std::invalid_argument("profile: no step to profile (--profile-steps)");
  for (const int64_t s : options.map_steps) {
    if (!std::binary_search(meta.steps.begin(), meta.steps.end(), s)) {
      throw std::invalid_argument("profile: map step " + std::to_string(s) + " is not a profiled step");
    }
  }
  if (options.cost != "auto" && options.cost != "cupti" && options.cost != "cpu" && options.cost != "cpu-wallclock") {
    throw std::invalid_argument("--cost: expected auto, cupti or cpu, found \"" + options.cost + "\"");
  }
}

}  // namespace

std::string profile_dtype_name(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    default: throw std::invalid_argument(std::string("profile: unsupported compute dtype ") + c10::toString(t));
  }
}

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

// Indices: p prompt, i sampler step, s profiled step (index into meta.steps), l layer, h head.
struct ProfileSession::State {
  State(data::ProfileMeta m, at::Device d, at::ScalarType dtype, ProfileSessionOptions o)
      : started(Clock::now()),
        options(std::move(o)),
        log(options.log != nullptr ? options.log : stderr),
        meta(std::move(m)),
        device(d),
        compute_dtype(dtype),
        map_step(meta.steps.size(), false) {
    data::validate(meta, "profile options");
    check_options(meta, options);
    candidates = options.candidates ? *options.candidates : default_candidates(meta.layout);
    for (size_t s = 0; s < meta.steps.size(); ++s) {
      map_step[s] = std::binary_search(options.map_steps.begin(), options.map_steps.end(), meta.steps[s]);
    }
    report.out = options.out;
    pending_maps.assign(meta.steps.size(), 0);
  }

  // The writer: the partial file of an interrupted run, or a fresh one (once the candidates are final, i.e. now
  // unless top_k stripes wait for their calibration).
  void open_writer() {
    // One run per target, refused before anything is read, created or truncated (data/target_lock.h).
    lock = data::TargetLock::acquire(options.out);
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
    if (!has_top_k_placeholders(candidates)) {
      if (!writer) compute_densities(candidates, meta.layout);
      start_writing();
    }
  }

  // Cost settings, checked before hours of sampling.
  void set_up_cost() {
    // "cpu-wallclock" is the old name of "cpu": both now time the runtime's CPU path.
    cost.device = options.cost == "cpu" || options.cost == "cpu-wallclock" ? at::Device(at::kCPU) : device;
    cost.dtype = compute_dtype;
    if (cost.device.is_cuda() && cost.dtype == at::kFloat) {
      cost.dtype = at::kBFloat16;
      note("note    the kernels run bf16 or fp16: costs are timed in bf16 (the model computes in fp32)");
    }
    cost.heads = meta.heads;
    cost.head_dim = meta.head_dim;
    cost.max_group = options.max_group;
    cost.repetitions = options.cost_repetitions;
    cost.warmup = options.cost_warmup;
    cost.seed = options.seed;
    if (options.cost == "cupti" && !cupti_available(cost.device)) {
      throw std::runtime_error("--cost cupti: CUPTI is not available on " + cost.device.str() +
                               " (a CUDA device and a build with the kernels and CUPTI are needed)");
    }
  }

  // The work left, for the progress bar and for last_step().
  void count_work() {
    const int64_t L = meta.layers, NP = meta.num_prompts(), NS = meta.num_steps();
    int64_t total_units = 0, last_needed = -1;
    report.chunk_rows =
        chunk_rows(meta.layout.seq_len(), meta.head_dim, meta.layout.block_size, options.measure.chunk_bytes);
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
    if (cost_needed) total_units += cost_units();
    if (report.slices_skipped > 0) {
      note("resume  " + std::to_string(report.slices_skipped) + " of " + std::to_string(NP * NS * L) +
           " slices already measured");
    }
    last_step = last_needed >= 0 ? meta.steps[static_cast<size_t>(last_needed)] : -1;
    progress.emplace(total_units, options.quiet, log);
  }

  void note(const std::string& text) const {
    if (!options.quiet) std::fprintf(log, "%s\n", text.c_str());
  }
  int64_t max_group() const { return options.max_group > 0 ? options.max_group : meta.heads; }
  // Timed entries of the cost table: every candidate at every group size, then the all-dense and all-skip layers.
  int64_t cost_units() const {
    return static_cast<int64_t>(candidates.size() * default_group_sizes(max_group()).size()) + 2;
  }
  bool need_slice(int64_t p, int64_t s, int64_t l) const { return !writer || !writer->slice_written(p, s, l); }
  bool need_maps(int64_t s, int64_t l) const {
    if (!map_step[static_cast<size_t>(s)]) return false;
    for (int64_t h = 0; h < meta.heads; ++h) {
      if (!writer || !writer->maps_written(s, l, h)) return true;
    }
    return false;
  }
  bool step_needs_maps(int64_t s) const {
    for (int64_t l = 0; l < meta.layers; ++l) {
      if (need_maps(s, l)) return true;
    }
    return false;
  }

  // The profiled-step index of sampler step i; throws when i is not profiled.
  int64_t profiled(int64_t i) const {
    const auto it = std::find(meta.steps.begin(), meta.steps.end(), i);
    if (it == meta.steps.end()) {
      throw std::invalid_argument("profile: step " + std::to_string(i) + " is not a profiled step");
    }
    return static_cast<int64_t>(it - meta.steps.begin());
  }

  // The writer (created now unless resumed), the omitted maps, the candidates' layouts and the measurer.
  void start_writing() {
    if (!writer) writer.emplace(data::ProfileWriter::create(options.out, meta, candidates));
    for (int64_t s = 0; s < meta.num_steps(); ++s) {
      if (!map_step[static_cast<size_t>(s)] && !writer->maps_omitted(s)) writer->omit_maps(s);
    }
    layouts.clear();
    for (const data::ProfileCandidate& c : candidates) layouts.push_back(data::compile_pattern(c.pattern, meta.layout));
    measurer = std::make_unique<LayerMeasurer>(meta.layout, layouts, options.measure);
    shorter_text.clear();
  }

  // The measurer of an observation with `tokens` < S tokens: the layout with the text suffix cut to what is left
  // (HunyuanVideo's valid text tokens of one prompt), the candidates compiled for it, as the runtime compiles a
  // plan for such a prompt. Throws unless only text suffix tokens are missing.
  LayerMeasurer& measurer_for(int64_t tokens, const char* what) {
    const int64_t seq_len = meta.layout.seq_len();
    if (tokens == seq_len) return *measurer;
    const int64_t suffix = meta.layout.text_suffix - (seq_len - tokens);
    if (tokens > seq_len || suffix < 0) {
      throw std::invalid_argument(std::string("profile: ") + what + "(): q has " + std::to_string(tokens) +
                                  " tokens, expected " + std::to_string(seq_len) + " (or down to " +
                                  std::to_string(seq_len - meta.layout.text_suffix) +
                                  " with fewer text suffix tokens)");
    }
    auto it = shorter_text.find(suffix);
    if (it == shorter_text.end()) {
      data::TokenLayout layout = meta.layout;
      layout.text_suffix = suffix;
      std::vector<data::BlockLayout> compiled;
      for (const data::ProfileCandidate& c : candidates) compiled.push_back(data::compile_pattern(c.pattern, layout));
      it = shorter_text.emplace(suffix, std::make_unique<LayerMeasurer>(layout, std::move(compiled), options.measure))
               .first;
    }
    return *it->second;
  }

  void observe(int64_t p, int64_t i, int64_t l, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    if (!measurer) {
      throw std::logic_error("profile: observe() before end_calibration() (the top_k candidates are not chosen)");
    }
    const int64_t s = profiled(i), H = meta.heads, G = meta.layout.num_blocks(), F = meta.layout.frames;
    if (p < 0 || p >= meta.num_prompts() || l < 0 || l >= meta.layers) {
      throw std::invalid_argument("profile: prompt " + std::to_string(p) + " / layer " + std::to_string(l) +
                                  " outside the profile's " + std::to_string(meta.num_prompts()) + " prompts, " +
                                  std::to_string(meta.layers) + " layers");
    }
    const bool errors = need_slice(p, s, l);
    const bool maps = need_maps(s, l);
    if (!errors && !maps) return;
    if (q.dim() != 4) {
      throw std::invalid_argument("profile: observe(): q: expected [1, S, H, D], found " + std::to_string(q.dim()) +
                                  " dimensions");
    }
    const auto measure_started = Clock::now();
    const LayerMeasurement m = measurer_for(q.size(1), "observe").measure(q, k, v, errors, maps);
    if (errors) {
      writer->write_error_recall(p, s, l, m.error, m.recall);
      ++report.slices_measured;
    }
    if (maps) {
      if (pooled_sum.empty()) {  // the step's sums, Σ prompts, until end_step writes them
        pooled_sum.assign(static_cast<size_t>(meta.layers * H * G * G), 0.0f);
        frames_sum.assign(static_cast<size_t>(meta.layers * H * F * F), 0.0f);
        sums_step = s;
      } else if (sums_step != s) {
        throw std::logic_error("profile: maps of step " + std::to_string(i) + " observed before end_step(" +
                               std::to_string(meta.steps[static_cast<size_t>(sums_step)]) + ")");
      }
      const auto hf = static_cast<size_t>(H * F * F);
      // A shorter observation's map has m.blocks <= G blocks: its missing text blocks add 0 to the prompts' sum.
      const int64_t g = m.blocks;
      for (int64_t h = 0; h < H; ++h) {
        for (int64_t r = 0; r < g; ++r) {
          for (int64_t c = 0; c < g; ++c) {
            pooled_sum[static_cast<size_t>(((l * H + h) * G + r) * G + c)] +=
                m.pooled[static_cast<size_t>((h * g + r) * g + c)];
          }
        }
      }
      for (size_t j = 0; j < hf; ++j) frames_sum[static_cast<size_t>(l) * hf + j] += m.frame_map[j];
      ++pending_maps[static_cast<size_t>(s)];
    }
    report.measure_seconds += since(measure_started);
    progress->advance(1, "prompt " + std::to_string(p + 1) + "/" + std::to_string(meta.num_prompts()) + ", step " +
                             std::to_string(i) + ", layer " + std::to_string(l));
    if (errors && options.interrupt_after_slices >= 0 && ++slices_this_run >= options.interrupt_after_slices) {
      throw ProfileInterrupted("profile interrupted after " + std::to_string(slices_this_run) + " slices (test)");
    }
  }

  // The maps of profiled step s the file lacks: the sums over the prompts divided by their number.
  void end_step(int64_t i) {
    const int64_t s = profiled(i);
    const int64_t L = meta.layers, H = meta.heads, G = meta.layout.num_blocks(), F = meta.layout.frames;
    if (!step_needs_maps(s)) return;
    const int64_t expected = [&] {
      int64_t n = 0;
      for (int64_t l = 0; l < L; ++l) n += need_maps(s, l) ? meta.num_prompts() : 0;
      return n;
    }();
    if (pending_maps[static_cast<size_t>(s)] != expected) {
      throw std::logic_error("profile: end_step(" + std::to_string(i) + "): " +
                             std::to_string(pending_maps[static_cast<size_t>(s)]) + " layers observed, expected " +
                             std::to_string(expected) + " (every prompt's every layer)");
    }
    const float inv = 1.0f / static_cast<float>(meta.num_prompts());
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
    pooled_sum = {};
    frames_sum = {};
    pending_maps[static_cast<size_t>(s)] = 0;
  }

  void measure_cost() {
    if (!measurer) start_writing();  // nothing was measured (resume of a file with every slice written)
    if (writer->cost_written()) return;
    const auto cost_started = Clock::now();
    const int64_t total = cost_units();
    int64_t cost_done = 0;
    const CostMeasurement measured = measure_candidate_costs(layouts, cost, [&](int64_t done, int64_t) {
      progress->advance(done - cost_done, "cost " + std::to_string(done) + "/" + std::to_string(total));
      cost_done = done;
    });
    writer->write_cost(measured.table, measured.records);
    report.cost_measured = true;
    report.cost_source = measured.table.source;
    report.cost_seconds = since(cost_started);
  }

  Clock::time_point started;
  ProfileSessionOptions options;
  std::FILE* log;
  data::ProfileMeta meta;
  at::Device device;
  at::ScalarType compute_dtype;
  std::vector<data::ProfileCandidate> candidates;
  std::vector<bool> map_step;  // [profiled step]: stores maps
  data::TargetLock lock;       // held from open_writer() until the session ends
  std::optional<data::ProfileWriter> writer;
  std::vector<data::BlockLayout> layouts;  // [candidate]
  std::unique_ptr<LayerMeasurer> measurer;
  std::map<int64_t, std::unique_ptr<LayerMeasurer>> shorter_text;  // [text suffix] measurer_for()'s
  CostMeasurementOptions cost;
  int64_t last_step = -1;  // the last sampler step with something to measure
  std::optional<Progress> progress;
  ProfileRunReport report;
  std::vector<double> column_mass_total;  // [S]: the top_k calibration's Σ over prompts and layers
  std::vector<float> pooled_sum, frames_sum;  // [layer, head, G, G], [layer, head, F, F] of profiled step sums_step
  int64_t sums_step = -1;
  std::vector<int64_t> pending_maps;  // [profiled step]: (prompt, layer) maps summed and not yet written
  int64_t slices_this_run = 0;
  Clock::time_point calibration_started;
  bool finished = false;
};

ProfileSession::ProfileSession(data::ProfileMeta meta, at::Device device, at::ScalarType compute_dtype,
                               ProfileSessionOptions options)
    : state_(std::make_unique<State>(std::move(meta), device, compute_dtype, std::move(options))) {
  state_->open_writer();  // resume the partial profile, or start afresh
  state_->set_up_cost();
  state_->count_work();
}

ProfileSession::~ProfileSession() = default;

const data::ProfileMeta& ProfileSession::meta() const { return state_->meta; }
int64_t ProfileSession::last_step() const { return state_->last_step; }

bool ProfileSession::wants(int64_t prompt, int64_t step) const {
  const State& st = *state_;
  const auto it = std::find(st.meta.steps.begin(), st.meta.steps.end(), step);
  if (it == st.meta.steps.end()) return false;
  const auto s = static_cast<int64_t>(it - st.meta.steps.begin());
  for (int64_t l = 0; l < st.meta.layers; ++l) {
    if (st.need_slice(prompt, s, l) || st.need_maps(s, l)) return true;
  }
  return false;
}

bool ProfileSession::calibrating() const { return !state_->measurer && has_top_k_placeholders(state_->candidates); }

void ProfileSession::calibrate(const at::Tensor& q, const at::Tensor& k) {
  State& st = *state_;
  if (!calibrating()) throw std::logic_error("profile: calibrate() without top_k candidates to calibrate");
  if (st.column_mass_total.empty()) st.calibration_started = Clock::now();
  const std::vector<double> mass = column_mass(q, k, st.options.measure.chunk_bytes);
  const int64_t seq_len = st.meta.layout.seq_len(), tokens = static_cast<int64_t>(mass.size());
  if (tokens > seq_len || tokens < seq_len - st.meta.layout.text_suffix) {
    throw std::invalid_argument("profile: calibrate(): " + std::to_string(tokens) + " tokens, expected " +
                                std::to_string(seq_len) + " (or down to " +
                                std::to_string(seq_len - st.meta.layout.text_suffix) +
                                " with fewer text suffix tokens)");
  }
  if (st.column_mass_total.empty()) st.column_mass_total.assign(static_cast<size_t>(seq_len), 0.0);
  // A shorter observation lacks text suffix columns only: its first tokens are the same positions.
  for (size_t j = 0; j < mass.size(); ++j) st.column_mass_total[j] += mass[j];
}

void ProfileSession::end_calibration() {
  State& st = *state_;
  if (!calibrating()) throw std::logic_error("profile: end_calibration() without top_k candidates to calibrate");
  if (st.column_mass_total.empty()) throw std::logic_error("profile: end_calibration() before any calibrate()");
  const int64_t top_k_blocks =
      st.options.top_k_blocks > 0 ? st.options.top_k_blocks : default_top_k_blocks(st.meta.layout);
  const std::vector<data::TokenRange> columns =
      choose_top_k_columns(st.column_mass_total, st.meta.layout, top_k_blocks);
  fill_top_k(st.candidates, columns, st.meta.layout);
  std::ostringstream cols;
  for (const data::TokenRange& r : columns) cols << " [" << r.begin << ", " << r.end << ")";
  st.note("top_k   " + std::to_string(top_k_blocks) + " blocks by attention mass at step " +
          std::to_string(st.meta.steps.front()) + " (" + std::to_string(since(st.calibration_started)).substr(0, 5) +
          " s):" + cols.str());
  st.column_mass_total = {};
  st.start_writing();
}

void ProfileSession::observe(int64_t prompt, int64_t step, int64_t layer, const at::Tensor& q, const at::Tensor& k,
                             const at::Tensor& v) {
  state_->observe(prompt, step, layer, q, k, v);
}

void ProfileSession::end_step(int64_t step) { state_->end_step(step); }

ProfileRunReport ProfileSession::finish() {
  State& st = *state_;
  if (st.finished) throw std::logic_error("profile: finish() called twice");
  st.measure_cost();
  st.progress->finish();
  st.writer->finish();
  st.finished = true;
  rt::synchronize(st.device);
  st.report.seconds = since(st.started);
  st.report.peak_rss_bytes = peak_rss_bytes();
  st.report.device_peak_bytes = device_peak_bytes(st.device);
  return st.report;
}

}  // namespace svdit::profiler
