#pragma once
// The measuring half of a profile, independent of who runs the model (docs/PROFILER.md): `svdit profile` drives
// it from svdit's own denoising loops (profile_run.h), the Python package from a diffusers pipeline
// (torch.classes.svdit.ProfileSession, python/svdit/profile.py). One measurement path, one writer, one file format.
//
// The caller runs the prompts' sampling and reports, at each profiled sampler step and in the conditional CFG
// branch, every self-attention layer's q, k, v (after norm and RoPE) with observe(); after every prompt's
// conditional forward of a profiled step it calls end_step() (which writes that step's maps, averaged over the
// prompts); after the sampling, finish() times the candidates' kernels (unless a resumed file has the cost table)
// and renames the finished profile over `out`. Steps after last_step() need not be run.
//
// Default candidates: their top_k stripes are calibrated first. While calibrating() is true, the caller runs an
// extra conditional forward of every prompt at the first profiled step (before its measured one), passing each
// layer's q, k to calibrate(), then calls end_calibration(): the column mass over all of them picks the columns.
//
// Resume (options.resume and "<out>.partial" exists): the partial profile's meta must equal `meta` (created and
// tool_version aside) and its candidates the requested ones (top_k columns are then taken from the file), otherwise
// std::runtime_error says what differs; wants() then says which (prompt, step) the file still lacks.
//
// Shorter text: calibrate() and observe() also take q, k, v with fewer text suffix tokens than the layout (S' =
// S - missing, down to no text suffix): HunyuanVideo's padded text, of which a prompt attends its valid tokens only.
// Such an observation is measured with every candidate compiled for the layout with that text suffix, as the
// runtime runs a plan for that prompt; its block-pooled map adds 0 for the blocks it lacks.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/profile.h"
#include "svdit/profiler/head_measurement.h"

namespace svdit::profiler {

struct ProfileSessionOptions {
  std::filesystem::path out;  // the profile to write (atomically replaced at the end)
  bool resume = false;
  std::vector<int64_t> map_steps;  // those of meta.steps that also store maps (others are omitted)
  // Candidates from a file (read_candidates_file); std::nullopt: the default family (candidate_family.h), whose
  // top_k stripes are calibrated at the first profiled step over every prompt.
  std::optional<std::vector<data::ProfileCandidate>> candidates;
  int64_t top_k_blocks = 0;  // 0: default_top_k_blocks(layout)
  MeasureOptions measure;
  // Cost: "auto" (CUPTI on a CUDA device when available, else the runtime's CPU path by wall clock), "cupti"
  // (refuse otherwise), "cpu" (the runtime's CPU path whatever the device; "cpu-wallclock" is its old name).
  std::string cost = "auto";
  int64_t cost_repetitions = 10;
  int64_t cost_warmup = 2;
  int64_t max_group = 0;  // the most heads per timed launch (default_group_sizes); 0: every head
  uint64_t seed = 0;      // of the cost table's random q, k, v
  bool quiet = false;
  std::FILE* log = stderr;
  // For tests: throw ProfileInterrupted after this many slices were written by this run (< 0: never).
  int64_t interrupt_after_slices = -1;
};

struct ProfileInterrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ProfileRunReport {
  std::filesystem::path out;
  int64_t slices_measured = 0;  // (prompt, step, layer) slices written by this run
  int64_t slices_skipped = 0;   // already in the partial file (resume)
  int64_t maps_written = 0;     // (step, layer, head) maps written by this run
  bool cost_measured = false;
  std::string cost_source;
  double seconds = 0;               // the whole run
  double measure_seconds = 0;       // inside the measurements (observe)
  double cost_seconds = 0;
  int64_t peak_rss_bytes = 0;       // of the process, at the end
  int64_t device_peak_bytes = -1;   // CUDA caching allocator peak, -1 on the CPU
  int64_t chunk_rows = 0;           // query rows per chunk of the measurements
};

class ProfileSession {
 public:
  // `meta` describes the run (data::validate'd here); `device` and `compute_dtype` are the observed model's (the
  // cost table is timed there, in bf16 when the model computes fp32 on CUDA). Takes the target's lock, opens the
  // resumed partial file or prepares a fresh one, and checks the cost settings, before any sampling. Throws
  // std::invalid_argument on bad options, std::runtime_error on a resume mismatch or CUPTI unavailable when asked
  // for, data::FormatError / data::TargetBusy on file problems.
  ProfileSession(data::ProfileMeta meta, at::Device device, at::ScalarType compute_dtype,
                 ProfileSessionOptions options);
  ~ProfileSession();
  ProfileSession(const ProfileSession&) = delete;
  ProfileSession& operator=(const ProfileSession&) = delete;

  const data::ProfileMeta& meta() const;
  // The last sampler step with something left to measure (-1: nothing; only the cost table, if that).
  int64_t last_step() const;
  // Whether observe() of `prompt` at sampler step `step` would measure anything (a slice the file lacks, or maps).
  bool wants(int64_t prompt, int64_t step) const;

  bool calibrating() const;
  // One conditional self-attention layer of the calibration forward: q, k [1, S, H, D].
  void calibrate(const at::Tensor& q, const at::Tensor& k);
  // Chooses the top_k columns from everything calibrate() saw (logs them) and starts writing.
  void end_calibration();

  // Conditional self-attention of `layer` for `prompt` at sampler `step` (one of meta.steps): q, k, v [1, S, H, D]
  // of any float dtype and device. Writes the error/recall slice the file lacks and adds the maps into the step's
  // sums. Throws std::invalid_argument for a step that is not profiled or an index out of range.
  void observe(int64_t prompt, int64_t step, int64_t layer, const at::Tensor& q, const at::Tensor& k,
               const at::Tensor& v);
  // After every prompt's conditional forward of profiled `step`: writes the maps of the step the file lacks.
  void end_step(int64_t step);

  // The cost table (unless the resumed file has it), then the finished profile in place of `out`.
  ProfileRunReport finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Peak resident set size of this process in bytes (getrusage), and the CUDA caching allocator's peak allocated
// bytes on `device` (-1 for a CPU device).
int64_t peak_rss_bytes();
int64_t device_peak_bytes(at::Device device);

// The dtype name a profile's /meta/dtype records for a compute dtype (float32, float16, bfloat16).
std::string profile_dtype_name(at::ScalarType dtype);

}  // namespace svdit::profiler
