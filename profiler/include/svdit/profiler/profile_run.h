#pragma once
// One `svdit profile` run (docs/PROFILER.md): a normal sampling run of the Wan2.1 DiT over the prompts in which,
// at each profiled step and in the conditional CFG branch, every self-attention layer's real q, k, v are measured
// (head_measurement.h) and written to the profile as they are produced (ProfileWriter: one (prompt, step, layer)
// slice, one head's maps at a time), then the candidates' kernel cost (cost_measurement.h), then finish().
//
// The prompts are sampled side by side, step by step (each with its own latents and sampler, exactly as
// sample_video would run it alone), so the maps of a step — averaged over the prompts — are complete after the
// step and memory holds one step's maps at most. Steps after the last one with something left to measure are not
// run.
//
// Resume (options.resume and "<out>.partial" exists): the partial profile's meta must equal this run's (model,
// layout, dtype, steps, timesteps, prompts; not created/tool_version) and its candidates this run's (top_k columns
// excepted: they are taken from the file), otherwise std::runtime_error says what differs. The sampling reruns
// (deterministic given the seed); only what the file lacks is measured. A resumed profile holds the same
// measurements as one run straight through (the cost table is timed again only when it was not written).

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/profile.h"
#include "svdit/profiler/head_measurement.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/wan_model.h"

namespace svdit::profiler {

struct PromptInput {
  std::string label;   // what /meta/prompts records (the prompt text, or the embeddings file)
  at::Tensor context;  // [1, text_len, text_dim] fp32, any device
};

struct ProfileRunOptions {
  std::filesystem::path out;  // the profile to write (atomically replaced at the end)
  bool resume = false;
  int64_t block_size = 128;            // b of the profiled token layout (64 or 128)
  std::vector<int64_t> profile_steps;  // sampler steps to measure (ascending; step_selection.h)
  std::vector<int64_t> map_steps;      // those of profile_steps that also store maps (others are omitted)
  // Candidates from a file (read_candidates_file); std::nullopt: the default family (candidate_family.h), whose
  // top_k stripes are calibrated at the first profiled step over every prompt.
  std::optional<std::vector<data::ProfileCandidate>> candidates;
  int64_t top_k_blocks = 0;  // 0: default_top_k_blocks(layout)
  runtime::SamplingOptions sampling;
  MeasureOptions measure;
  // Cost: "auto" (CUPTI on a CUDA device when available, else CPU wall clock), "cupti" (refuse otherwise),
  // "cpu-wallclock" (time the CPU reference whatever the device).
  std::string cost = "auto";
  int64_t cost_repetitions = 10;
  int64_t cost_warmup = 2;
  int64_t max_group = 0;  // 0: every head count 1 … heads
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
  double measure_seconds = 0;       // inside the measurements (observer)
  double cost_seconds = 0;
  int64_t peak_rss_bytes = 0;       // of the process, at the end
  int64_t device_peak_bytes = -1;   // CUDA caching allocator peak, -1 on the CPU
  int64_t chunk_rows = 0;           // query rows per chunk of the measurements
};

// The profile's /meta for this model, video and options (what a resumed file must match).
data::ProfileMeta make_profile_meta(const runtime::WanModel& model, const runtime::VideoGeometry& geometry,
                                    const std::vector<PromptInput>& prompts, const ProfileRunOptions& options);

// Runs the profile. `negative_context` ([1, text_len, text_dim], or undefined for no guidance) is the
// unconditional branch's conditioning. Throws std::invalid_argument on bad options, std::runtime_error (resume
// mismatch, CUPTI unavailable when asked for), data::FormatError on file problems.
ProfileRunReport run_profile(const runtime::WanModel& model, const runtime::VideoGeometry& geometry,
                             const std::vector<PromptInput>& prompts, const at::Tensor& negative_context,
                             const ProfileRunOptions& options);

// Peak resident set size of this process in bytes (getrusage), and the CUDA caching allocator's peak allocated
// bytes on `device` (-1 for a CPU device).
int64_t peak_rss_bytes();
int64_t device_peak_bytes(at::Device device);

}  // namespace svdit::profiler
