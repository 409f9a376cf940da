#include "svdit/analyzer/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "svdit/data/profile_reader.h"

namespace svdit::analyzer {

ProfileView ProfileView::of(const data::ProfileReader& reader, const search::CostModel* cost) {
  return ProfileView{reader.meta(), reader.candidates(), reader.error(), reader.recall(), cost};
}

std::optional<search::CostModel> cost_model_of(const data::ProfileReader& reader) {
  const auto& cands = reader.candidates();
  if (std::none_of(cands.begin(), cands.end(), [](const data::ProfileCandidate& c) { return c.pattern.is_dense(); }))
    return std::nullopt;
  return search::CostModel(reader.meta(), cands, reader.cost() ? &*reader.cost() : nullptr);
}

const char* to_string(PromptAggregate a) { return a == PromptAggregate::worst ? "worst prompt" : "mean of prompts"; }

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Worst = the max for error (higher is worse) and the min for recall (lower is worse). NaN if any prompt is
// unmeasured: a figure over some of the prompts would look better than it is.
double aggregate(const data::Array5<float>& a, PromptAggregate how, bool higher_is_worse, int64_t step,
                 int64_t layer, int64_t head, int64_t candidate) {
  const int64_t prompts = a.shape[0];
  if (prompts == 0) return kNaN;
  double acc = how == PromptAggregate::mean ? 0.0 : (higher_is_worse ? -INFINITY : INFINITY);
  for (int64_t p = 0; p < prompts; ++p) {
    const double v = a.at(p, step, layer, head, candidate);
    if (std::isnan(v)) return kNaN;
    if (how == PromptAggregate::mean) {
      acc += v;
    } else {
      acc = higher_is_worse ? std::max(acc, v) : std::min(acc, v);
    }
  }
  return how == PromptAggregate::mean ? acc / static_cast<double>(prompts) : acc;
}

}  // namespace

double aggregate_error(const ProfileView& p, PromptAggregate a, int64_t step, int64_t layer, int64_t head,
                       int64_t candidate) {
  return aggregate(p.error, a, true, step, layer, head, candidate);
}

double aggregate_recall(const ProfileView& p, PromptAggregate a, int64_t step, int64_t layer, int64_t head,
                        int64_t candidate) {
  return aggregate(p.recall, a, false, step, layer, head, candidate);
}

std::optional<int64_t> find_candidate(const ProfileView& profile, const data::Pattern& pattern) {
  for (size_t c = 0; c < profile.candidates.size(); ++c) {
    if (profile.candidates[c].pattern == pattern) return static_cast<int64_t>(c);
  }
  return std::nullopt;
}

CandidateIndex::CandidateIndex(const ProfileView& profile, const data::Plan& plan) {
  for (const data::PlanPattern& pp : plan.patterns) {
    if (auto c = find_candidate(profile, pp.pattern)) map_.emplace_back(pp.id, *c);
  }
  std::sort(map_.begin(), map_.end());
  for (size_t c = 0; c < profile.candidates.size(); ++c) {
    const data::Pattern& p = profile.candidates[c].pattern;
    if (p.is_dense() && !dense_) dense_ = static_cast<int64_t>(c);
    keys_.push_back(sparse_);
    if (!p.is_dense() && !p.is_skip()) ++sparse_;
  }
}

std::optional<int64_t> CandidateIndex::candidate_of(int32_t pattern_id) const {
  auto it = std::lower_bound(map_.begin(), map_.end(), std::make_pair(pattern_id, std::numeric_limits<int64_t>::min()));
  if (it == map_.end() || it->first != pattern_id) return std::nullopt;
  return it->second;
}

Rgba8 plan_colour(const data::Plan& plan, const CandidateIndex& index, std::optional<int32_t> pattern_id) {
  if (!pattern_id) return dense_colour();
  for (size_t i = 0; i < plan.patterns.size(); ++i) {
    if (plan.patterns[i].id == *pattern_id) {
      const auto c = index.candidate_of(*pattern_id);
      const int64_t key = c ? index.colour_key(*c) : index.sparse_candidates() + static_cast<int64_t>(i);
      return pattern_colour(plan.patterns[i].pattern, key);
    }
  }
  return dense_colour();
}

Rgba8 candidate_colour(const ProfileView& profile, const CandidateIndex& index, int64_t candidate) {
  return pattern_colour(profile.candidates.at(static_cast<size_t>(candidate)).pattern, index.colour_key(candidate));
}

std::vector<CandidateRow> candidate_rows(const ProfileView& p, PromptAggregate a, int64_t step, int64_t layer,
                                         int64_t head, std::optional<int64_t> chosen_candidate) {
  std::vector<CandidateRow> rows;
  rows.reserve(p.candidates.size());
  for (int64_t c = 0; c < p.num_candidates(); ++c) {
    const data::ProfileCandidate& cand = p.candidates[static_cast<size_t>(c)];
    CandidateRow row;
    row.candidate = c;
    row.id = cand.id;
    row.pattern = data::describe(cand.pattern);
    row.block_density = cand.block_density;
    row.token_density = cand.token_density;
    row.error = aggregate_error(p, a, step, layer, head, c);
    row.recall = aggregate_recall(p, a, step, layer, head, c);
    row.time_us = p.cost && p.cost->measured() ? p.cost->head_time(head, c) : kNaN;
    row.chosen = chosen_candidate && *chosen_candidate == c;
    rows.push_back(std::move(row));
  }
  return rows;
}

void sort_rows(std::vector<CandidateRow>& rows, CandidateColumn column, bool ascending) {
  auto key = [column](const CandidateRow& r) -> double {
    switch (column) {
      case CandidateColumn::id: return r.id;
      case CandidateColumn::block_density: return r.block_density;
      case CandidateColumn::token_density: return r.token_density;
      case CandidateColumn::error: return r.error;
      case CandidateColumn::recall: return r.recall;
      case CandidateColumn::time: return r.time_us;
      case CandidateColumn::pattern: return 0;
    }
    return 0;
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const CandidateRow& x, const CandidateRow& y) {
    if (column == CandidateColumn::pattern) return ascending ? x.pattern < y.pattern : y.pattern < x.pattern;
    const double kx = key(x), ky = key(y);
    if (std::isnan(kx) || std::isnan(ky)) return !std::isnan(kx) && std::isnan(ky);  // NaN last
    return ascending ? kx < ky : ky < kx;
  });
}

std::vector<FusedGroup> fused_groups(const data::Plan& plan, int64_t sampler_step, int64_t layer) {
  std::vector<FusedGroup> groups;
  const data::ScheduleEntry* entry = plan.entry_for(sampler_step);
  if (entry == nullptr || entry->dense) {
    FusedGroup all;
    for (int64_t h = 0; h < plan.model.heads; ++h) all.heads.push_back(h);
    groups.push_back(std::move(all));
    return groups;
  }
  for (int64_t h = 0; h < plan.model.heads; ++h) {
    const int32_t id = entry->heads[static_cast<size_t>(layer * plan.model.heads + h)];
    auto it = std::find_if(groups.begin(), groups.end(), [id](const FusedGroup& g) { return g.pattern_id == id; });
    if (it == groups.end()) {
      groups.push_back(FusedGroup{id, {h}});
    } else {
      it->heads.push_back(h);
    }
  }
  return groups;
}

HeadFigures head_figures(const ProfileView& p, const data::Plan& plan, const CandidateIndex& index,
                         PromptAggregate a, int64_t step, int64_t layer, int64_t head) {
  HeadFigures f;
  const int64_t sampler_step = p.meta.steps.at(static_cast<size_t>(step));
  f.pattern_id = plan.pattern_for(sampler_step, layer, head);
  if (f.pattern_id) {
    const data::PlanPattern* pp = plan.find_pattern(*f.pattern_id);
    if (pp != nullptr) {
      f.pattern = &pp->pattern;
      f.density = pp->density;
    }
    f.candidate = index.candidate_of(*f.pattern_id);
  } else {
    f.candidate = index.dense_candidate();
    f.density = 1;
  }
  for (const FusedGroup& g : fused_groups(plan, sampler_step, layer)) {
    if (std::find(g.heads.begin(), g.heads.end(), head) != g.heads.end()) {
      f.group_size = static_cast<int64_t>(g.heads.size());
    }
  }
  if (f.candidate) {
    f.error = aggregate_error(p, a, step, layer, head, *f.candidate);
    f.recall = aggregate_recall(p, a, step, layer, head, *f.candidate);
    if (p.cost && p.cost->measured()) f.share_us = p.cost->head_time(head, *f.candidate);
  }
  f.layer_us = layer_time_us(p, plan, index, step, layer);
  return f;
}

double layer_time_us(const ProfileView& p, const data::Plan& plan, const CandidateIndex& index, int64_t step,
                     int64_t layer) {
  if (p.cost == nullptr || !p.cost->measured()) return kNaN;
  const int64_t sampler_step = p.meta.steps.at(static_cast<size_t>(step));
  std::vector<int32_t> row(static_cast<size_t>(p.meta.heads));
  for (int64_t h = 0; h < p.meta.heads; ++h) {
    const std::optional<int32_t> id = plan.pattern_for(sampler_step, layer, h);
    const std::optional<int64_t> c = id ? index.candidate_of(*id) : index.dense_candidate();
    if (!c) return kNaN;
    row[static_cast<size_t>(h)] = static_cast<int32_t>(*c);
  }
  return p.cost->layer_time(row);
}

PlanErrors plan_errors(const ProfileView& p, const data::Plan& plan, PromptAggregate a) {
  PlanErrors out;
  const CandidateIndex index(p, plan);
  const auto dense = index.dense_candidate();
  double error_sum = 0;
  int64_t error_count = 0;
  for (int64_t s = 0; s < p.meta.num_steps(); ++s) {
    const int64_t sampler_step = p.meta.steps[static_cast<size_t>(s)];
    for (int64_t l = 0; l < p.meta.layers; ++l) {
      for (int64_t h = 0; h < p.meta.heads; ++h) {
        const std::optional<int32_t> id = plan.pattern_for(sampler_step, l, h);
        const std::optional<int64_t> c = id ? index.candidate_of(*id) : dense;
        const double e = c ? aggregate_error(p, a, s, l, h, *c) : kNaN;
        if (std::isnan(e)) {
          ++out.unknown_heads;
          continue;
        }
        error_sum += e;
        out.max_error = std::max(out.max_error, e);
        ++error_count;
      }
    }
  }
  out.mean_error = error_count > 0 ? error_sum / static_cast<double>(error_count) : 0.0;
  return out;
}

}  // namespace svdit::analyzer
