#pragma once
// An open profile and the plan being edited: the analyzer's state, with undo/redo. The GUI and the headless
// screenshot mode drive the same Document; so do the unit tests.
//
// Every edit goes through commit(): it computes the next plan, validates it (data::validate), and only then
// replaces the current one and records the previous one for undo. A failed edit leaves everything unchanged.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "svdit/analyzer/map_cache.h"
#include "svdit/analyzer/metrics.h"
#include "svdit/analyzer/overlay.h"
#include "svdit/analyzer/selection.h"
#include "svdit/data/plan.h"
#include "svdit/data/profile_reader.h"

namespace svdit::analyzer {

class Document {
 public:
  // Opens and validates the profile (throws data::FormatError naming the file and object) and starts from the
  // dense plan of its model (make_dense_plan).
  static std::unique_ptr<Document> open(const std::filesystem::path& profile, size_t map_budget_bytes = 256u << 20);
  Document(const Document&) = delete;  // the map loader refers to this object
  Document& operator=(const Document&) = delete;

  const data::ProfileReader& profile() const { return reader_; }
  ProfileView view() const { return ProfileView::of(reader_, cost_ ? &*cost_ : nullptr); }
  const data::ProfileMeta& meta() const { return reader_.meta(); }

  const data::Plan& plan() const { return plan_; }
  // The file the plan came from or was last saved to; empty for the dense starting plan.
  const std::filesystem::path& plan_path() const { return plan_path_; }
  bool dirty() const { return revision_ != saved_revision_; }
  // Changes whenever the plan does (edit, undo, redo, load): views cache derived figures per revision.
  uint64_t revision() const { return revision_; }
  const CandidateIndex& index() const { return index_; }

  // Reads a plan (data::read_plan) and checks it is for this profile's model and layout
  // (data::check_plan_matches); throws data::FormatError otherwise, leaving the current plan. Undoable.
  void load_plan(const std::filesystem::path& path);
  // Writes the plan (data::write_plan: validated, atomic) and marks the document clean.
  void save_plan(const std::filesystem::path& path);

  // --- edits (each one step of undo) ---
  // Head (layer, head) runs profile candidate `candidate` in the schedule entry covering profiled step `step`
  // (that entry's whole step range; see plan_edit.h for dense and uncovered steps).
  void assign_candidate(int64_t step, int64_t layer, int64_t head, int64_t candidate);
  // Every head of `layer` at profiled step `step` runs `candidate` (one undo step).
  void assign_candidate_to_layer(int64_t step, int64_t layer, int64_t candidate);
  // Gives profiled step `step` a schedule entry of its own: the entry covering it is split at that step's
  // sampler step and at the next profiled step's, so edits there leave other profiled steps alone.
  // Returns false (and records nothing) when it already has one.
  bool isolate_step(int64_t step);
  size_t remove_unused_patterns();
  void new_dense_plan();
  // A plan from elsewhere (a search). With merge_with_last, a replacement right after one with the same label
  // (and nothing undone since) updates that undo step instead of adding one: a live re-search while a slider
  // is dragged is one step of undo, not hundreds.
  void replace_plan(data::Plan plan, const std::string& label, bool merge_with_last = false);

  bool can_undo() const { return !undo_.empty(); }
  bool can_redo() const { return !redo_.empty(); }
  const std::string& undo_label() const;  // "" when nothing to undo
  const std::string& redo_label() const;
  bool undo();
  bool redo();

  // Maps of one head, read lazily and cached; nullptr when the profile does not store them (incomplete
  // profile). Throws data::FormatError when the stored map is unreadable.
  std::shared_ptr<const HeadMaps> maps(const MapKey& key);
  const MapCache& map_cache() const { return maps_; }
  OverlayCache& overlays() { return overlays_; }

  // Pattern of a plan id (nullptr if absent) and the profile candidate it is.
  const data::Pattern* pattern(int32_t id) const;

 private:
  struct Snapshot {
    std::string label;
    data::Plan plan;
    uint64_t revision;
    std::filesystem::path path;
  };
  explicit Document(data::ProfileReader reader, size_t map_budget_bytes);
  void commit(const std::string& label, data::Plan next, std::filesystem::path path);
  void set_plan(data::Plan plan, uint64_t revision, std::filesystem::path path);
  int32_t dense_preferred_id() const;

  data::ProfileReader reader_;
  std::optional<search::CostModel> cost_;  // the search's cost model of the profile, built once
  data::Plan plan_;
  std::filesystem::path plan_path_;
  CandidateIndex index_;
  uint64_t revision_ = 0, saved_revision_ = 0, next_revision_ = 1;
  std::vector<Snapshot> undo_, redo_;
  MapCache maps_;
  OverlayCache overlays_;

  static constexpr size_t kHistoryLimit = 200;  // a 14B plan is ~10 KB per schedule entry: 200 cost little
};

}  // namespace svdit::analyzer
