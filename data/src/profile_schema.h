#pragma once
// Where each part of a profile lives in the HDF5 file, and loading + validating it. Shared by ProfileReader
// (open) and ProfileWriter (resume), so that a file is judged by one set of rules. Internal to svdit_data; the
// layout itself is documented in docs/FORMATS.md "Profile (HDF5)" — keep the two in step.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "hdf5_file.h"
#include "svdit/data/profile.h"

namespace svdit::data::profile_schema {

inline constexpr const char* kFormat = "svdit-profile";
inline constexpr int64_t kVersion = 2;        // what the writer writes
inline constexpr int64_t kOldestVersion = 1;  // the reader also reads version 1 (whose /cost is the group table)

inline constexpr const char* kMeta = "/meta";
inline constexpr const char* kSteps = "/meta/steps";
inline constexpr const char* kTimesteps = "/meta/timesteps";
inline constexpr const char* kPrompts = "/meta/prompts";
inline constexpr const char* kCandidates = "/candidates";
inline constexpr const char* kCandidateId = "/candidates/id";
inline constexpr const char* kCandidateComponents = "/candidates/components";
inline constexpr const char* kCandidateBlockDensity = "/candidates/block_density";
inline constexpr const char* kCandidateTokenDensity = "/candidates/token_density";
inline constexpr const char* kError = "/error";
inline constexpr const char* kRecall = "/recall";
inline constexpr const char* kMaps = "/maps";
inline constexpr const char* kPooled = "/maps/pooled";
inline constexpr const char* kFrames = "/maps/frames";
inline constexpr const char* kMapsWritten = "/maps/written";
inline constexpr const char* kCost = "/cost";
inline constexpr const char* kCostTable = "/cost/table";
inline constexpr const char* kKernels = "/cost/kernels";
inline constexpr const char* kCostGroupSizes = "/cost/group_sizes";  // v2
inline constexpr const char* kCostPermute = "/cost/permute";          // v2
inline constexpr const char* kCostLayers = "/cost/layer_us";          // v2

// Recall is a probability mass; allow float summation to overshoot 1 by this much.
inline constexpr double kRecallSlack = 1e-4;
// Row sums of maps written by the profiler: 1 up to float accumulation (pooled), ≤ 1 (frames).
inline constexpr double kRowSumTolerance = 1e-2;

// Shapes of the datasets, from meta and the number of candidates.
hdf5::Shape measurement_shape(const ProfileMeta& meta,
                              int64_t num_candidates);    // [prompt, step, layer, head, candidate]
hdf5::Shape pooled_shape(const ProfileMeta& meta);        // [step, layer, head, G, G]
hdf5::Shape frames_shape(const ProfileMeta& meta);        // [step, layer, head, F, F]
hdf5::Shape maps_written_shape(const ProfileMeta& meta);  // [step, layer, head]
// Flat index of (step, layer, head) in a [step, layer, head] array; indices are the caller's to check.
inline size_t head_index(const ProfileMeta& meta, int64_t step, int64_t layer, int64_t head) {
  return static_cast<size_t>((step * meta.layers + layer) * meta.heads + head);
}

// Everything a profile file holds except the maps and kernel records (read lazily).
struct Contents {
  int64_t version = kVersion;  // the root `version` attribute
  ProfileMeta meta;
  std::vector<ProfileCandidate> candidates;
  Array5<float> error;                // [prompt, step, layer, head, candidate]
  Array5<float> recall;               // [prompt, step, layer, head, candidate]
  std::vector<uint8_t> maps_written;  // [step, layer, head] 0 not written, 1 stored, 2 omitted
  std::optional<CostTable> cost;
  bool complete = false;
};

// Loads and validates; every problem throws FormatError naming file.source() and the object.
Contents load(const hdf5::File& file);

std::vector<KernelRecord> read_kernel_records(const hdf5::File& file, int64_t num_candidates, int64_t max_group);

// The compound element of /cost/kernels: "name", a fixed-length string of name_size bytes, at offset 0, then the
// numeric members of KernelNumbers at offset name_size + offsetof(KernelNumbers, member). The name's width is
// data (the longest name in the file), so rows live in a byte buffer of kernel_row_size(name_size) per record.
struct KernelNumbers {
  int64_t start_ns, end_ns;
  int32_t grid_x, grid_y, grid_z, block_x, block_y, block_z;
  int32_t registers;
  int64_t shared_memory_bytes;
  int32_t candidate, group_size;
};
size_t kernel_row_size(size_t name_size);
hdf5::Id kernel_memory_type(size_t name_size);
hdf5::Id kernel_file_type(size_t name_size);  // the same members, packed
void write_kernel_records(hdf5::File& file, std::span<const KernelRecord> records);

// Value checks shared by the writer (on what it is given) and the loader (on what it finds).
bool valid_error(float value);   // finite and ≥ 0
bool valid_recall(float value);  // in [0, 1 + kRecallSlack]

}  // namespace svdit::data::profile_schema
