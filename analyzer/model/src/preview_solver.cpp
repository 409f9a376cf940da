#include "svdit/analyzer/preview_solver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "svdit/analyzer/plan_edit.h"

namespace svdit::analyzer {

namespace {

// Per (profiled step, layer, head) choice of candidate under error-bound or paper.
std::vector<int64_t> choose(const ProfileView& p, Objective objective, double epsilon, double lambda,
                            PromptAggregate agg, int64_t dense) {
  const int64_t steps = p.meta.num_steps(), layers = p.meta.layers, heads = p.meta.heads;
  std::vector<int64_t> choice(static_cast<size_t>(steps * layers * heads), dense);
  for (int64_t s = 0; s < steps; ++s) {
    for (int64_t l = 0; l < layers; ++l) {
      for (int64_t h = 0; h < heads; ++h) {
        int64_t best = dense;
        double best_key = std::numeric_limits<double>::infinity(), best_error = best_key;
        for (int64_t c = 0; c < p.num_candidates(); ++c) {
          const double e = aggregate_error(p, agg, s, l, h, c);
          if (std::isnan(e)) continue;
          double key = 0;
          if (objective == Objective::paper) {
            key = e + lambda * p.candidates[static_cast<size_t>(c)].block_density;
            if (key > epsilon) continue;
          } else {
            if (e > epsilon) continue;
            key = group_time_us(p.cost, c, 1);
            if (std::isnan(key)) key = p.candidates[static_cast<size_t>(c)].block_density;  // no cost: density
          }
          if (key < best_key || (key == best_key && e < best_error)) {
            best = c;
            best_key = key;
            best_error = e;
          }
        }
        choice[static_cast<size_t>((s * layers + l) * heads + h)] = best;
      }
    }
  }
  return choice;
}

data::Plan plan_from_choice(const ProfileView& p, const std::vector<int64_t>& choice, nlohmann::json provenance) {
  data::Plan plan = make_dense_plan(p.meta, p.candidates, std::move(provenance));
  plan.patterns.clear();
  plan.schedule.clear();
  const int64_t steps = p.meta.num_steps(), cells = p.meta.layers * p.meta.heads;
  // Patterns in candidate order, under the candidates' ids (unique in a profile).
  std::vector<bool> used(p.candidates.size(), false);
  for (int64_t c : choice) used[static_cast<size_t>(c)] = true;
  for (size_t c = 0; c < p.candidates.size(); ++c) {
    if (used[c]) {
      const auto& cand = p.candidates[c];
      plan.patterns.push_back(data::PlanPattern{cand.id, cand.pattern, cand.block_density});
    }
  }
  for (int64_t s = 0; s < steps; ++s) {
    data::ScheduleEntry e;
    e.step_begin = s == 0 ? 0 : p.meta.steps[static_cast<size_t>(s)];
    e.step_end = s + 1 < steps ? p.meta.steps[static_cast<size_t>(s + 1)] : std::max<int64_t>(p.meta.sampling_steps, 1);
    e.heads.resize(static_cast<size_t>(cells));
    for (int64_t i = 0; i < cells; ++i) {
      e.heads[static_cast<size_t>(i)] = p.candidates[static_cast<size_t>(choice[static_cast<size_t>(s * cells + i)])].id;
    }
    if (!plan.schedule.empty() && plan.schedule.back().heads == e.heads) {
      plan.schedule.back().step_end = e.step_end;
    } else {
      plan.schedule.push_back(std::move(e));
    }
  }
  return plan;
}

int64_t dense_candidate(const ProfileView& p) {
  for (size_t c = 0; c < p.candidates.size(); ++c) {
    if (p.candidates[c].pattern.is_dense()) return static_cast<int64_t>(c);
  }
  throw std::invalid_argument("the profile has no dense candidate: the preview solver needs one as its fallback");
}

std::vector<double> epsilon_sweep(const ProfileView& p, PromptAggregate agg) {
  std::vector<double> errors;
  const int64_t steps = p.meta.num_steps();
  for (int64_t s = 0; s < steps; ++s)
    for (int64_t l = 0; l < p.meta.layers; ++l)
      for (int64_t h = 0; h < p.meta.heads; ++h)
        for (int64_t c = 0; c < p.num_candidates(); ++c) {
          const double e = aggregate_error(p, agg, s, l, h, c);
          if (std::isfinite(e)) errors.push_back(e);
        }
  std::sort(errors.begin(), errors.end());
  errors.erase(std::unique(errors.begin(), errors.end()), errors.end());
  // Every distinct error is a threshold where some choice changes; 64 evenly spaced ranks of them (and 0)
  // trace the frontier closely enough to plot, whatever the profile's size.
  constexpr size_t kPoints = 64;
  std::vector<double> sweep{0.0};
  if (errors.size() <= kPoints) {
    sweep.insert(sweep.end(), errors.begin(), errors.end());
  } else {
    for (size_t i = 0; i < kPoints; ++i) sweep.push_back(errors[i * (errors.size() - 1) / (kPoints - 1)]);
  }
  return sweep;
}

nlohmann::json provenance_of(const SearchSettings& s, const std::string& source) {
  nlohmann::json params = {{"aggregate", s.aggregate == PromptAggregate::worst ? "max" : "mean"}};
  if (s.objective == Objective::time_budget) {
    params["budget_fraction"] = s.budget_fraction;
  } else {
    params["epsilon"] = s.epsilon;
  }
  if (s.objective == Objective::paper) params["lambda"] = s.lambda;
  return nlohmann::json{{"objective", to_string(s.objective)},
                        {"parameters", params},
                        {"solver", "svdit analyze preview solver (per head, fusion not modelled in the choice)"},
                        {"source_profile", source}};
}

}  // namespace

TradeoffPoint preview_evaluate(const ProfileView& profile, const data::Plan& plan, const SearchSettings& settings) {
  const PlanFigures f = plan_figures(profile, plan, settings.aggregate);
  TradeoffPoint p;
  p.time_us = f.time_us;
  p.error = f.unknown_heads > 0 ? NAN : f.mean_error;  // a plan with unmeasured heads has no place on the plot
  p.parameter = settings.objective == Objective::time_budget ? settings.budget_fraction : settings.epsilon;
  p.dense_time_us = f.dense_time_us;
  return p;
}

std::vector<TradeoffPoint> preview_frontier(const ProfileView& profile, const SearchSettings& settings) {
  const int64_t dense = dense_candidate(profile);
  std::vector<TradeoffPoint> points;
  for (double eps : epsilon_sweep(profile, settings.aggregate)) {
    const auto choice = choose(profile, Objective::error_bound, eps, 0, settings.aggregate, dense);
    const data::Plan plan = plan_from_choice(profile, choice, nlohmann::json::object());
    TradeoffPoint pt = preview_evaluate(profile, plan, settings);
    pt.parameter = eps;
    points.push_back(pt);
  }
  return pareto_front(std::move(points));
}

data::Plan preview_solve(const ProfileView& profile, const SearchSettings& settings, const std::string& source) {
  const int64_t dense = dense_candidate(profile);
  double epsilon = settings.epsilon;
  Objective objective = settings.objective;
  if (objective == Objective::time_budget) {
    // The least-error frontier point within budget; the fastest one when none fits.
    const auto front = preview_frontier(profile, settings);
    const double dense_us = plan_figures(profile, make_dense_plan(profile.meta, profile.candidates, {}), settings.aggregate).time_us;
    const double budget = settings.budget_fraction * dense_us;
    // The frontier runs from fast and inexact to slow and exact: the last point within budget has the least
    // error; with none within budget, the first (fastest) point.
    epsilon = front.empty() ? 0.0 : front.front().parameter;
    for (const TradeoffPoint& pt : front) {
      if (pt.time_us <= budget) epsilon = pt.parameter;
    }
    objective = Objective::error_bound;
  }
  const auto choice = choose(profile, objective, epsilon, settings.lambda, settings.aggregate, dense);
  nlohmann::json prov = provenance_of(settings, source);
  if (settings.objective == Objective::time_budget) prov["parameters"]["epsilon_chosen"] = epsilon;
  data::Plan plan = plan_from_choice(profile, choice, std::move(prov));
  const PlanFigures f = plan_figures(profile, plan, settings.aggregate);
  if (f.time_known) {
    plan.provenance["predicted_attention_us"] = f.time_us;
    plan.provenance["speedup"] = f.speedup();
  }
  return plan;
}

}  // namespace svdit::analyzer
