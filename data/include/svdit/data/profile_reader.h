#pragma once
// Reads a profile file (docs/FORMATS.md "Profile (HDF5)"). open() validates the whole structure — format and
// version, every dataset's presence, dtype and shape, the candidates' patterns against the layout, and, in a
// profile marked complete, that every measurement is present (no NaN) — and loads meta, candidates, error,
// recall and cost. Attention maps and raw kernel records are read on demand: they are the bulk of the file.
//
// Every problem with the file throws FormatError(file, object, what) naming the dataset or attribute.
// Not thread-safe: HDF5 (as packaged) serialises nothing, so use the reader from one thread at a time, and do
// not call into HDF5 from other threads meanwhile.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "svdit/data/profile.h"

namespace svdit::data {

class ProfileReader {
 public:
  static ProfileReader open(const std::filesystem::path& path);

  ProfileReader(ProfileReader&&) noexcept;
  ProfileReader& operator=(ProfileReader&&) noexcept;
  ~ProfileReader();

  const std::filesystem::path& path() const;
  const ProfileMeta& meta() const;
  const std::vector<ProfileCandidate>& candidates() const;
  int64_t num_candidates() const { return static_cast<int64_t>(candidates().size()); }
  int64_t num_blocks() const { return meta().layout.num_blocks(); }  // G: side of a pooled map

  // True once ProfileWriter::finish() ran: every measurement, map and the cost table are present.
  bool complete() const;

  // [prompt, step, layer, head, candidate]. Relative MSE ‖O_c − O‖²/‖O‖² of the head's attention output
  // (0 for dense, 1 for skip), and the fraction of attention probability mass the candidate keeps (recall).
  // NaN marks an entry not measured yet — possible only when !complete().
  const Array5<float>& error() const;
  const Array5<float>& recall() const;
  bool measured(int64_t prompt, int64_t step, int64_t layer, int64_t head, int64_t candidate) const;

  // Absent only in a profile that is not complete.
  const std::optional<CostTable>& cost() const;
  std::vector<KernelRecord> kernel_records() const;  // read from the file on each call; empty without cost

  // Whether the maps of (step, layer, head) are stored. A complete profile stores every step's maps except those
  // of steps the run chose not to record (`svdit profile --map-steps`; /maps/written = 2 there).
  bool maps_written(int64_t step, int64_t layer, int64_t head) const;
  // [G, G] block-pooled attention probabilities (rows sum to 1 within float16 rounding). Read from the file on
  // each call. Throws std::out_of_range for indices outside the profile, std::logic_error when
  // !maps_written(step, layer, head), FormatError when the stored map is unreadable or holds NaN.
  std::vector<float> pooled_map(int64_t step, int64_t layer, int64_t head) const;
  // [F, F] frame-to-frame attention mass: row f is the mean over queries of frame f of the mass on frame f'.
  std::vector<float> frame_map(int64_t step, int64_t layer, int64_t head) const;

 private:
  struct State;
  explicit ProfileReader(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace svdit::data
