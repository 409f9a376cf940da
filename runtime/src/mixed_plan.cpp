// Synthetic mixed plans (see mixed_plan.h).

#include "svdit/runtime/mixed_plan.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"

namespace svdit::runtime {

namespace {

const std::vector<std::string>& kinds() {
  static const std::vector<std::string> k = {"dense", "skip", "window", "temporal", "stripe"};
  return k;
}

data::Pattern pattern_of(const std::string& kind, const data::TokenLayout& layout) {
  const int64_t P = layout.tokens_per_frame();
  if (kind == "dense") return data::make_pattern({data::dense_component()});
  if (kind == "skip") return data::make_pattern({data::skip_component()});
  if (kind == "window") return data::make_pattern({data::window_component(P)});
  if (kind == "temporal") return data::make_pattern({data::temporal_component(layout.width, layout.frames)});
  if (kind == "stripe") {
    return data::make_pattern({data::first_frame_stripe(layout), data::window_component(std::max<int64_t>(P / 2, 1))});
  }
  throw std::invalid_argument("mix: unknown pattern kind \"" + kind + "\" (expected dense, skip, window, temporal, stripe)");
}

}  // namespace

std::vector<MixEntry> parse_mix(std::string_view text) {
  std::vector<MixEntry> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string part(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    MixEntry e;
    e.kind = part.substr(0, eq);
    if (std::find(kinds().begin(), kinds().end(), e.kind) == kinds().end()) {
      throw std::invalid_argument("--mix: unknown pattern kind \"" + e.kind +
                                  "\" (expected dense, skip, window, temporal, stripe)");
    }
    try {
      e.weight = eq == std::string::npos ? 1.0 : std::stod(part.substr(eq + 1));
    } catch (const std::exception&) {
      throw std::invalid_argument("--mix: \"" + part + "\": expected KIND=WEIGHT");
    }
    if (!(e.weight >= 0)) throw std::invalid_argument("--mix: \"" + part + "\": negative weight");
    out.push_back(e);
  }
  double total = 0;
  for (const MixEntry& e : out) total += e.weight;
  if (out.empty() || !(total > 0)) throw std::invalid_argument("--mix: expected at least one positive weight");
  return out;
}

data::Plan make_mixed_plan(const WanConfig& config, const data::TokenLayout& layout, const MixedPlanOptions& o) {
  return make_mixed_plan(plan_model(config), layout, o);
}

data::Plan make_mixed_plan(const data::PlanModel& model, const data::TokenLayout& layout, const MixedPlanOptions& o) {
  data::Plan plan;
  plan.model = model;
  plan.layout = layout;
  // Pattern ids in a fixed order; only the kinds the mix uses (and dense, for warm-up layers).
  std::map<std::string, int32_t> id_of;
  auto add_pattern = [&](const std::string& kind) {
    if (id_of.contains(kind)) return;
    const auto id = static_cast<int32_t>(plan.patterns.size());
    data::PlanPattern p;
    p.id = id;
    p.pattern = pattern_of(kind, layout);
    p.density = data::compile_pattern(p.pattern, layout).block_density();
    plan.patterns.push_back(std::move(p));
    id_of[kind] = id;
  };
  add_pattern("dense");
  for (const MixEntry& e : o.mix) {
    if (e.weight > 0) add_pattern(e.kind);
  }

  // Exact proportions over the sparse layers' heads (largest remainder), then a seeded Fisher–Yates shuffle.
  const int64_t sparse_layers = std::max<int64_t>(model.layers - o.dense_layers, 0);
  const int64_t slots = sparse_layers * model.heads;
  double total = 0;
  for (const MixEntry& e : o.mix) total += e.weight;
  std::vector<int32_t> assignment;
  std::vector<std::pair<double, int32_t>> remainders;
  for (const MixEntry& e : o.mix) {
    if (e.weight <= 0) continue;
    const double exact = static_cast<double>(slots) * e.weight / total;
    const auto whole = static_cast<int64_t>(std::floor(exact));
    assignment.insert(assignment.end(), static_cast<size_t>(whole), id_of.at(e.kind));
    remainders.emplace_back(exact - static_cast<double>(whole), id_of.at(e.kind));
  }
  std::stable_sort(remainders.begin(), remainders.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; static_cast<int64_t>(assignment.size()) < slots; ++i) {
    assignment.push_back(remainders[i % remainders.size()].second);
  }
  std::mt19937_64 rng(o.seed);
  for (size_t i = assignment.size(); i > 1; --i) std::swap(assignment[i - 1], assignment[rng() % i]);

  data::ScheduleEntry sparse;
  sparse.step_begin = std::clamp<int64_t>(o.dense_steps, 0, o.steps);
  sparse.step_end = o.steps;
  sparse.heads.assign(static_cast<size_t>(model.layers * model.heads), id_of.at("dense"));
  std::copy(assignment.begin(), assignment.end(),
            sparse.heads.begin() + static_cast<std::ptrdiff_t>((model.layers - sparse_layers) * model.heads));
  if (sparse.step_begin > 0) {
    data::ScheduleEntry warm;
    warm.step_begin = 0;
    warm.step_end = sparse.step_begin;
    warm.dense = true;
    plan.schedule.push_back(warm);
  }
  if (sparse.step_begin < sparse.step_end) plan.schedule.push_back(std::move(sparse));

  std::string mix;
  for (const MixEntry& e : o.mix) mix += (mix.empty() ? "" : ",") + e.kind + "=" + std::to_string(e.weight);
  plan.provenance = {{"objective", "synthetic mix for benchmarking (svdit bench e2e), not a search result"},
                     {"mix", mix},
                     {"dense_layers", o.dense_layers},
                     {"dense_steps", o.dense_steps},
                     {"seed", o.seed}};
  data::validate(plan, "mixed plan");
  return plan;
}

}  // namespace svdit::runtime
