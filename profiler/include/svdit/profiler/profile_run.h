#pragma once
// One `svdit profile` run (docs/PROFILER.md): a normal sampling run of a DiT of any family (runtime/model_family.h)
// over the prompts in which,
// at each profiled step and in the conditional CFG branch, every self-attention layer's real q, k, v go to a
// ProfileSession (profile_session.h: the measurements, the writer, the cost table, shared with the Python
// package's diffusers profiler), which writes them to the profile as they are produced.
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
#include "svdit/profiler/profile_session.h"
#include "svdit/runtime/model_family.h"

namespace svdit::profiler {

struct PromptInput {
  std::string label;   // what /meta/prompts records (the prompt text, or the embeddings file)
  runtime::TextInputs context;  // the family's conditioning (embeddings [1, text_len, text_dim] fp32, any device)
};

// The session's options (out, resume, map_steps, candidates, cost, …: profile_session.h) and the run's own.
struct ProfileRunOptions : ProfileSessionOptions {
  int64_t block_size = 128;            // b of the profiled token layout (64 or 128)
  std::vector<int64_t> profile_steps;  // sampler steps to measure (ascending; step_selection.h)
  runtime::SamplingOptions sampling;   // its seed is also the cost table's (it replaces ProfileSessionOptions::seed)
};

// The profile's /meta for this model, video and options (what a resumed file must match).
data::ProfileMeta make_profile_meta(const runtime::Model& model, const runtime::VideoGeometry& geometry,
                                    const std::vector<PromptInput>& prompts, const ProfileRunOptions& options);

// Runs the profile. `negative_context` ([1, text_len, text_dim], or undefined for no guidance) is the
// unconditional branch's conditioning. Throws std::invalid_argument on bad options, std::runtime_error (resume
// mismatch, CUPTI unavailable when asked for), data::FormatError on file problems.
ProfileRunReport run_profile(const runtime::Model& model, const runtime::VideoGeometry& geometry,
                             const std::vector<PromptInput>& prompts, const runtime::TextInputs& negative_context,
                             const ProfileRunOptions& options);

}  // namespace svdit::profiler
