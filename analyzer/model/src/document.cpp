#include "svdit/analyzer/document.h"

#include <stdexcept>

#include "svdit/analyzer/plan_edit.h"
#include "svdit/data/error.h"

namespace svdit::analyzer {

namespace {

nlohmann::json dense_provenance(const std::filesystem::path& profile) {
  return nlohmann::json{{"objective", "dense (analyzer starting plan)"}, {"source_profile", profile.string()}};
}

}  // namespace

std::unique_ptr<Document> Document::open(const std::filesystem::path& profile, size_t map_budget_bytes) {
  return std::unique_ptr<Document>(new Document(data::ProfileReader::open(profile), map_budget_bytes));
}

Document::Document(data::ProfileReader reader, size_t map_budget_bytes)
    : reader_(std::move(reader)),
      cost_(cost_model_of(reader_)),
      maps_(
          [this](const MapKey& k) {
            HeadMaps m;
            m.blocks = reader_.num_blocks();
            m.pooled = reader_.pooled_map(k.step, k.layer, k.head);
            m.frames = reader_.meta().layout.frames;
            m.frame = reader_.frame_map(k.step, k.layer, k.head);
            return m;
          },
          map_budget_bytes),
      overlays_(reader_.meta().layout) {
  plan_ = make_dense_plan(reader_.meta(), reader_.candidates(), dense_provenance(reader_.path()));
  data::validate(plan_, "dense plan for " + reader_.path().string());
  index_ = CandidateIndex(view(), plan_);
}

void Document::set_plan(data::Plan plan, uint64_t revision, std::filesystem::path path) {
  plan_ = std::move(plan);
  revision_ = revision;
  plan_path_ = std::move(path);
  index_ = CandidateIndex(view(), plan_);
}

void Document::commit(const std::string& label, data::Plan next, std::filesystem::path path) {
  data::validate(next, "edited plan");  // throws before anything changes
  undo_.push_back(Snapshot{label, plan_, revision_, plan_path_});
  if (undo_.size() > kHistoryLimit) undo_.erase(undo_.begin());
  redo_.clear();
  set_plan(std::move(next), next_revision_++, std::move(path));
}

void Document::load_plan(const std::filesystem::path& path) {
  data::Plan plan = data::read_plan(path);
  const data::ProfileMeta& m = reader_.meta();
  data::check_plan_matches(plan, data::PlanModel{m.model, m.layers, m.heads, m.head_dim, m.family}, m.layout,
                           path.string());
  commit("open " + path.filename().string(), std::move(plan), path);
  saved_revision_ = revision_;  // what is on disk
}

void Document::save_plan(const std::filesystem::path& path) {
  data::write_plan(plan_, path);
  plan_path_ = path;
  saved_revision_ = revision_;
}

int32_t Document::dense_preferred_id() const {
  if (auto c = index_.dense_candidate()) return reader_.candidates()[static_cast<size_t>(*c)].id;
  return 0;
}

void Document::assign_candidate(int64_t step, int64_t layer, int64_t head, int64_t candidate) {
  const data::ProfileCandidate& cand = reader_.candidates().at(static_cast<size_t>(candidate));
  const int64_t sampler_step = reader_.meta().steps.at(static_cast<size_t>(step));
  data::Plan next = plan_;
  assign_pattern(next, sampler_step, layer, head, cand.pattern, cand.id, overlays_.block_density(cand.pattern),
                 reader_.meta().sampling_steps, dense_preferred_id());
  commit("L" + std::to_string(layer) + " H" + std::to_string(head) + " -> " + data::describe(cand.pattern),
         std::move(next), plan_path_);
}

void Document::assign_candidate_to_layer(int64_t step, int64_t layer, int64_t candidate) {
  const data::ProfileCandidate& cand = reader_.candidates().at(static_cast<size_t>(candidate));
  const int64_t sampler_step = reader_.meta().steps.at(static_cast<size_t>(step));
  data::Plan next = plan_;
  const double density = overlays_.block_density(cand.pattern);
  for (int64_t h = 0; h < next.model.heads; ++h) {
    assign_pattern(next, sampler_step, layer, h, cand.pattern, cand.id, density, reader_.meta().sampling_steps,
                   dense_preferred_id());
  }
  commit("L" + std::to_string(layer) + " all heads -> " + data::describe(cand.pattern), std::move(next), plan_path_);
}

bool Document::isolate_step(int64_t step) {
  const auto& steps = reader_.meta().steps;
  const int64_t begin = steps.at(static_cast<size_t>(step));
  data::Plan next = plan_;
  bool changed = split_entry(next, begin);
  if (static_cast<size_t>(step + 1) < steps.size()) changed = split_entry(next, steps[static_cast<size_t>(step + 1)]) || changed;
  if (!changed) return false;
  commit("own schedule entry for step " + std::to_string(begin), std::move(next), plan_path_);
  return true;
}

size_t Document::remove_unused_patterns() {
  data::Plan next = plan_;
  const size_t removed = analyzer::remove_unused_patterns(next);
  if (removed > 0) commit("remove " + std::to_string(removed) + " unused patterns", std::move(next), plan_path_);
  return removed;
}

void Document::new_dense_plan() {
  commit("new dense plan", make_dense_plan(reader_.meta(), reader_.candidates(), dense_provenance(reader_.path())), {});
}

void Document::replace_plan(data::Plan plan, const std::string& label, bool merge_with_last) {
  const data::ProfileMeta& m = reader_.meta();
  data::check_plan_matches(plan, data::PlanModel{m.model, m.layers, m.heads, m.head_dim, m.family}, m.layout,
                           label);
  if (merge_with_last && !undo_.empty() && undo_.back().label == label && redo_.empty()) {
    data::validate(plan, label);
    set_plan(std::move(plan), next_revision_++, plan_path_);
    return;
  }
  commit(label, std::move(plan), plan_path_);
}

const std::string& Document::undo_label() const {
  static const std::string none;
  return undo_.empty() ? none : undo_.back().label;
}

const std::string& Document::redo_label() const {
  static const std::string none;
  return redo_.empty() ? none : redo_.back().label;
}

bool Document::undo() {
  if (undo_.empty()) return false;
  Snapshot s = std::move(undo_.back());
  undo_.pop_back();
  redo_.push_back(Snapshot{s.label, plan_, revision_, plan_path_});
  set_plan(std::move(s.plan), s.revision, std::move(s.path));
  return true;
}

bool Document::redo() {
  if (redo_.empty()) return false;
  Snapshot s = std::move(redo_.back());
  redo_.pop_back();
  undo_.push_back(Snapshot{s.label, plan_, revision_, plan_path_});
  set_plan(std::move(s.plan), s.revision, std::move(s.path));
  return true;
}

std::shared_ptr<const HeadMaps> Document::maps(const MapKey& key) {
  if (!reader_.maps_written(key.step, key.layer, key.head)) return nullptr;
  return maps_.get(key);
}

const data::Pattern* Document::pattern(int32_t id) const {
  const data::PlanPattern* p = plan_.find_pattern(id);
  return p ? &p->pattern : nullptr;
}

}  // namespace svdit::analyzer
