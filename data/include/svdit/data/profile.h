#pragma once
// The contents of a profile (docs/PROFILER.md): what `svdit profile` measured about one model run, and what
// `svdit search` and `svdit analyze` decide from. Plain data here; ProfileWriter (profile_writer.h) and
// ProfileReader (profile_reader.h) move it to and from the HDF5 file documented in docs/FORMATS.md
// "Profile (HDF5)".
//
// Index names used throughout: prompt p < meta.prompts.size(); step s indexes meta.steps (the s-th *profiled*
// step, not the sampler's step number); layer l < meta.layers; head h < meta.heads; candidate c indexes the
// candidate list (its row in /candidates, not its id).

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"

namespace svdit::data {

struct ProfileMeta {
  std::string model;                 // model name, e.g. "Wan2.1-T2V-1.3B"
  std::string family;                // model family ("wan2.1", "cogvideox1.5"; optional root attribute): plans carry it
  int64_t layers = 0;                // transformer blocks
  int64_t heads = 0;                 // attention heads per layer
  int64_t head_dim = 0;              // channels per head
  TokenLayout layout;                // the self-attention sequence that was profiled
  std::string dtype;                 // attention dtype of the run: "float32", "float16" or "bfloat16"
  int64_t sampling_steps = 0;        // denoising steps of the whole run; every profiled step is < this
  std::vector<int64_t> steps;        // [step] sampler step index of each profiled step, strictly ascending
  std::vector<double> timesteps;     // [step] the sampler's timestep at that step (e.g. 999 … 0)
  std::vector<std::string> prompts;  // [prompt] the prompts (or labels) the run was profiled on
  std::string tool_version;          // "svdit 0.1.0"; ProfileWriter fills it in when empty
  std::string created;               // ISO-8601 UTC "2026-11-23T10:00:00Z"; ProfileWriter fills it in when empty
  bool synthetic = false;            // numbers are made up (bundled samples, tests), not measured

  int64_t num_prompts() const { return static_cast<int64_t>(prompts.size()); }
  int64_t num_steps() const { return static_cast<int64_t>(steps.size()); }  // profiled steps
  bool operator==(const ProfileMeta&) const = default;
};

// Throws FormatError(source, "<object>", …) naming the first field that is out of range or inconsistent
// (e.g. steps not ascending, timesteps of another length, an unknown dtype). Objects are named as they
// appear in the file ("/meta attribute heads", "/meta/steps").
void validate(const ProfileMeta& meta, const std::string& source = "<memory>");

struct ProfileCandidate {
  int32_t id = 0;              // stable id (plans refer to patterns by id); unique within a profile
  Pattern pattern;             // the pattern, as compiled by compile_pattern()
  double block_density = 0.0;  // compile_pattern(pattern, layout).block_density()
  double token_density = 0.0;  // token_density(pattern, layout)
  bool operator==(const ProfileCandidate&) const = default;
};

// Throws FormatError(source, "<object>", …) unless there is at least one candidate, ids are unique and ≥ 0,
// densities lie in [0, 1] and every pattern is valid for the layout. Objects are named as in the file
// ("/candidates/id", "/candidates/components[3]").
void validate(const std::vector<ProfileCandidate>& candidates, const TokenLayout& layout,
              const std::string& source = "<memory>");

// Measured cost of each candidate's kernel at the profiled shape (docs/FORMATS.md "/cost"): the time of one launch
// of the runtime's sparse attention computing `g` heads of the candidate, for the measured group sizes g, and (v2)
// the time of the two layer paths that launch no sparse kernel. svdit::search::CostModel fits the launch model the
// search prices with (docs/SEARCH.md "Cost model") from these measurements.
struct CostTable {
  int64_t version = 2;      // layout of /cost: 2 (written by this svdit) or 1 (read from a version-1 profile)
  std::string source;       // "cupti" (GPU kernel time), "cpu-aten" (v2: the runtime's CPU path, wall clock) or
                            // "cpu-wallclock" (v1 only: the fp64 CPU reference)
  std::string device;       // e.g. "NVIDIA H200" or "<cpu model> (runtime CPU path, N threads)"
  int64_t repetitions = 0;  // timed launches per entry; the entry is their median
  int64_t num_candidates = 0;
  int64_t max_group = 0;               // the largest measured group size (≤ heads)
  std::vector<int64_t> group_sizes{};  // measured group sizes, strictly ascending in 1..max_group; empty = every
                                       // size 1..max_group (a version-1 table)
  std::vector<double> us{};            // [candidate, size index] median µs of one launch of that many heads (all
                                       // its kernels: a permuted layout's pre-pass, then the attention kernel)
  std::vector<double> permute_us{};    // [candidate, size index] the pre-pass part of `us` (v2; empty = unknown)
  double dense_layer_us = 0;           // v2: one layer of every head dense on the runtime's dense path (SDPA)
  double skip_layer_us = 0;            // v2: one layer of every head skip (the runtime writes zeros)

  int64_t num_sizes() const { return group_sizes.empty() ? max_group : static_cast<int64_t>(group_sizes.size()); }
  int64_t group_size_at(int64_t i) const { return group_sizes.empty() ? i + 1 : group_sizes.at(static_cast<size_t>(i)); }
  size_t index(int64_t candidate, int64_t group_size) const;  // throws std::out_of_range for an unmeasured size
  double time_us(int64_t candidate, int64_t group_size) const { return us[index(candidate, group_size)]; }
  double& time_us(int64_t candidate, int64_t group_size) { return us[index(candidate, group_size)]; }
  bool operator==(const CostTable&) const = default;
};

// One kernel launch as the tracer recorded it (raw material behind CostTable).
struct KernelRecord {
  std::string name;      // kernel (demangled) name
  int64_t start_ns = 0;  // device timestamps, ns
  int64_t end_ns = 0;
  int32_t grid_x = 0, grid_y = 0, grid_z = 0;
  int32_t block_x = 0, block_y = 0, block_z = 0;
  int32_t registers = 0;            // registers per thread
  int64_t shared_memory_bytes = 0;  // static + dynamic shared memory per block
  int32_t candidate = -1;           // candidate index it measured; -1 for a launch that is no candidate's
  int32_t group_size = 0;           // heads fused in the launch
  bool operator==(const KernelRecord&) const = default;
};

// A dense row-major 5-D array; /error and /recall are Array5<float> [prompt, step, layer, head, candidate].
template <class T>
struct Array5 {
  std::array<int64_t, 5> shape{};
  std::vector<T> data;

  Array5() = default;
  Array5(std::array<int64_t, 5> shape_, T fill) : shape(shape_), data(static_cast<size_t>(count(shape_)), fill) {}

  static int64_t count(const std::array<int64_t, 5>& s) { return s[0] * s[1] * s[2] * s[3] * s[4]; }
  int64_t size() const { return count(shape); }

  // Offset of element (i0 … i4); throws std::out_of_range when an index is outside the shape.
  size_t offset(int64_t i0, int64_t i1, int64_t i2, int64_t i3, int64_t i4) const {
    const std::array<int64_t, 5> i{i0, i1, i2, i3, i4};
    int64_t flat = 0;
    for (size_t d = 0; d < 5; ++d) {
      if (i[d] < 0 || i[d] >= shape[d]) {
        throw std::out_of_range("Array5 index " + std::to_string(i[d]) + " out of range [0, " +
                                std::to_string(shape[d]) + ") in dimension " + std::to_string(d));
      }
      flat = flat * shape[d] + i[d];
    }
    return static_cast<size_t>(flat);
  }
  T& at(int64_t i0, int64_t i1, int64_t i2, int64_t i3, int64_t i4) { return data[offset(i0, i1, i2, i3, i4)]; }
  const T& at(int64_t i0, int64_t i1, int64_t i2, int64_t i3, int64_t i4) const {
    return data[offset(i0, i1, i2, i3, i4)];
  }
  bool operator==(const Array5&) const = default;
};

}  // namespace svdit::data
