#pragma once
// Writes a profile file (docs/FORMATS.md "Profile (HDF5)") slice by slice as the profiler measures, so that an
// interrupted run loses at most the slice in flight and can resume.
//
// Resume contract:
//  - All writing goes to partial_path(target) = "<target>.partial". The target itself is touched only by
//    finish(), which reads the finished file back, checks it and renames it over the target atomically: readers
//    of the target see the old file or the complete new one, never a part.
//  - One writer per target: create() and resume() take TargetLock on the target (target_lock.h) before touching
//    anything and hold it until finish() has renamed the file (or the writer is destroyed). Another process's
//    create()/resume() on the same target throws TargetBusy naming the pid of the one writing.
//  - Every write_*() call flushes the partial file, then appends a record with a checksum of what it wrote to
//    "<target>.partial.journal". A writer killed at any point (kill -9, Ctrl-C, SIGTERM, a full disk) leaves a
//    partial file resume() can open: it clears HDF5's "open for write" mark of the dead writer and trusts a unit
//    (slice, head's maps, omitted step, cost) only when the journal has its record and the file's bytes match the
//    checksum; a unit cut off mid-write, or never recorded, reads as unwritten and is redone.
//  - resume(target) reports what it trusts: slice_written(prompt, step, layer), maps_written(step, layer, head),
//    cost_written(). The caller skips those and writes the rest. Meta and candidates come from the file; the
//    caller must check they describe its run (e.g. compare meta() with its own ProfileMeta, ignoring
//    created/tool_version) and create() afresh otherwise.
//  - A slice is "written" when every error and recall value of it is a number (and, after a resume, its journal
//    checksum matches). create() on a target whose partial file exists starts over (truncates it and its journal).
//  - Destroying a writer without finish() closes the partial file and leaves it for resume.
//
// Misuse (index out of range, wrong span length, NaN or out-of-range values, writing after finish) throws
// std::invalid_argument / std::out_of_range / std::logic_error naming the dataset; file problems throw FormatError.
// Not thread-safe (see profile_reader.h).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "svdit/data/profile.h"

namespace svdit::data {

class ProfileWriter {
 public:
  static std::filesystem::path partial_path(const std::filesystem::path& target);

  // Validates meta and candidates (throws FormatError naming the bad field) and writes them to a fresh partial
  // file with every measurement unwritten (NaN).
  static ProfileWriter create(const std::filesystem::path& target, ProfileMeta meta,
                              std::vector<ProfileCandidate> candidates);
  // Reopens partial_path(target), also after its writer was killed. Throws FormatError when it is missing,
  // unreadable or not a profile, or has no journal (see above); TargetBusy when another process writes it.
  static ProfileWriter resume(const std::filesystem::path& target);
  // Whether there is a partial file resume() can continue: it exists and its journal records a complete start.
  static bool resumable(const std::filesystem::path& target);

  ProfileWriter(ProfileWriter&&) noexcept;
  ProfileWriter& operator=(ProfileWriter&&) noexcept;
  ~ProfileWriter();

  const std::filesystem::path& target() const;
  const ProfileMeta& meta() const;
  const std::vector<ProfileCandidate>& candidates() const;

  bool slice_written(int64_t prompt, int64_t step, int64_t layer) const;
  bool maps_written(int64_t step, int64_t layer, int64_t head) const;  // stored (flag 1)
  bool maps_omitted(int64_t step) const;  // every head of the step marked "not recorded" (flag 2)
  bool cost_written() const;

  // error, recall: [head, candidate] for one (prompt, step, layer). error finite and ≥ 0; recall in [0, 1].
  void write_error_recall(int64_t prompt, int64_t step, int64_t layer, std::span<const float> error,
                          std::span<const float> recall);
  // pooled: [G, G], finite, ≥ 0, rows summing to 1 (±1e-2); stored as float16.
  // frames: [F, F], finite, ≥ 0, rows summing to at most 1 (+1e-2): mass on text tokens is in no frame.
  void write_maps(int64_t step, int64_t layer, int64_t head, std::span<const float> pooled,
                  std::span<const float> frames);
  // Marks the maps of every (layer, head) of profiled step `step` as deliberately not recorded (flag 2 in
  // /maps/written; the maps stay NaN), as `svdit profile --map-steps` does to bound the file's size. finish()
  // accepts such heads. Throws std::logic_error when a map of that step is already stored.
  void omit_maps(int64_t step);
  // Once per profile. table.num_candidates must equal candidates().size(); 1 ≤ max_group ≤ heads; every time
  // finite and ≥ 0; records' candidate in [-1, candidates) and group_size in [0, max_group].
  void write_cost(const CostTable& table, std::span<const KernelRecord> records);

  // Checks that everything is written (maps: stored or omitted) (throws FormatError naming the first missing slice otherwise), marks the
  // file complete, syncs it to disk and renames it over target(). The writer is closed afterwards.
  void finish();

 private:
  struct State;
  explicit ProfileWriter(std::unique_ptr<State> state);
  State& state() const;  // throws std::logic_error after finish()
  std::unique_ptr<State> state_;
};

}  // namespace svdit::data
