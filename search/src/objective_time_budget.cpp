// --objective time-budget: the least total error whose predicted attention time fits a budget
// (--budget-us T, or --speedup S meaning T = all-dense time / S), by Lagrangian relaxation.
//
// For a multiplier μ ≥ 0 every (bucket, layer) is solved independently by the fusion-aware layer solver with
//     minimise  Σ_h error(h, c_h) + μ · layer time
// (both terms are per step, so a bucket's step count scales them alike and drops out). μ = 0 keeps the most
// accurate pattern; raising μ trades error for time. The sweep evaluates a geometric grid of μ, then bisects
// between the grid points that bracket the budget; the plan is the evaluated solution of least error among those
// within the budget. Every evaluated solution is a (time, error) point; their Pareto frontier is printed and
// stored in the plan. Lagrangian relaxation reaches the lower convex hull of the trade-off only: a budget that
// falls between two hull points gets the one below it, with some budget left unused.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "objectives.h"
#include "svdit/search/frontier.h"
#include "svdit/search/layer_solver.h"

namespace svdit::search::detail {

namespace {

struct Evaluation {
  double multiplier = 0.0, time = 0.0, error = 0.0;
  std::vector<std::vector<int32_t>> choice;
};

class Sweep {
 public:
  Sweep(const SearchInput& input, SearchResult& r) : r_(r), candidates_(input.num_candidates()) {
    // error per (bucket, layer ≥ warm-up, head, candidate); dense is exact by definition.
    const auto per_layer = static_cast<size_t>(r.heads * candidates_);
    primary_.resize(r.buckets.size() * static_cast<size_t>(r.layers) * per_layer, 0.0);
    for (size_t b = 0; b < r.buckets.size(); ++b)
      for (int64_t l = 0; l < r.layers; ++l)
        for (int64_t h = 0; h < r.heads; ++h) {
          const std::span<const float> error = r.errors.head(static_cast<int64_t>(b), l, h);
          for (int64_t c = 0; c < candidates_; ++c)
            primary_[offset(b, l) + static_cast<size_t>(h * candidates_ + c)] =
                c == r.dense ? 0.0 : static_cast<double>(error[static_cast<size_t>(c)]);
        }
    // Tie-break among equal error + μ·time: the faster candidate alone.
    secondary_.resize(per_layer);
    for (int64_t h = 0; h < r.heads; ++h)
      for (int64_t c = 0; c < candidates_; ++c)
        secondary_[static_cast<size_t>(h * candidates_ + c)] = r.cost.group_time(c, 1);
    // Time and error of everything the sweep does not choose: warm-up steps (all dense) and warm-up layers.
    const double dense_layer = r.cost.group_time(r.dense, r.heads);
    int64_t sparse_steps = 0;
    for (const Bucket& b : r.buckets) sparse_steps += b.num_steps();
    fixed_time_ = static_cast<double>((r.sampling_steps - sparse_steps) * r.layers) * dense_layer +
                  static_cast<double>(sparse_steps * r.options.warmup_layers) * dense_layer;
    head_steps_ = static_cast<double>(r.sampling_steps * r.layers * r.heads);
  }

  // Each layer starts from its solution at the previously evaluated μ (the sweep moves μ in small steps, so
  // few heads change), or from the independent choice when that is better.
  Evaluation evaluate(double mu) {
    Evaluation e{mu, fixed_time_, 0.0, previous_.empty() ? r_.choice : previous_};
    for (size_t b = 0; b < r_.buckets.size(); ++b) {
      const auto steps = static_cast<double>(r_.buckets[b].num_steps());
      for (int64_t l = r_.options.warmup_layers; l < r_.layers; ++l) {
        const LayerSolution s = solve_layer(LayerProblem{
            .heads = r_.heads,
            .candidates = candidates_,
            .primary = std::span<const double>(&primary_[offset(b, l)], static_cast<size_t>(r_.heads * candidates_)),
            .secondary = secondary_,
            .cost = &r_.cost,
            .time_weight = mu,
            .start = previous_.empty() ? std::span<const int32_t>()
                                       : std::span<const int32_t>(&previous_[b][static_cast<size_t>(l * r_.heads)],
                                                                  static_cast<size_t>(r_.heads))});
        e.time += steps * s.time;
        e.error += steps * s.primary;
        std::copy(s.choice.begin(), s.choice.end(), e.choice[b].begin() + l * r_.heads);
      }
    }
    e.error /= head_steps_;
    points_.push_back({mu, e.time, e.error});
    previous_ = e.choice;
    return e;
  }

  const std::vector<FrontierPoint>& points() const { return points_; }

 private:
  size_t offset(size_t b, int64_t l) const {
    return (b * static_cast<size_t>(r_.layers) + static_cast<size_t>(l)) * static_cast<size_t>(r_.heads * candidates_);
  }

  SearchResult& r_;
  int64_t candidates_;
  std::vector<double> primary_;    // [bucket, layer, head, candidate]
  std::vector<double> secondary_;  // [head, candidate]
  double fixed_time_ = 0.0, head_steps_ = 1.0;
  std::vector<FrontierPoint> points_;
  std::vector<std::vector<int32_t>> previous_;  // [bucket][layer * heads + head] of the last evaluation
};

std::string figure(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

}  // namespace

void choose_time_budget(const SearchInput& input, SearchResult& r) {
  const double dense_time = static_cast<double>(r.sampling_steps * r.layers) * r.cost.group_time(r.dense, r.heads);
  r.budget = r.options.budget_us ? *r.options.budget_us : dense_time / *r.options.speedup;

  Sweep sweep(input, r);
  // μ is error per unit of time; one dense head's time sets the scale, so the grid suits µs and dense-head units.
  const double dense_head = r.cost.group_time(r.dense, 1);
  const double scale = dense_head > 0.0 ? 1.0 / dense_head : 1.0;
  constexpr int kPerDecade = 2, kLowExponent = -12, kHighExponent = 8;  // μ = scale · 10^(k/2): 1e-6 … 1e4 × scale
  constexpr int kBisections = 10;  // brackets μ to within 10^(1/2)^(1/1024), far below what moves a head

  Evaluation best;
  bool have_best = false;
  auto consider = [&](Evaluation&& e) {
    const bool fits = e.time <= r.budget;
    if (fits && (!have_best || e.error < best.error || (e.error == best.error && e.time < best.time))) {
      best = std::move(e);
      have_best = true;
    }
    return fits;
  };

  double below = 0.0, above = 0.0;  // the bracketing multipliers: the largest μ over budget, the smallest within
  bool bracketed = false;
  double fastest = 0.0;
  for (int k = kLowExponent; k <= kHighExponent; ++k) {
    const double mu = scale * std::pow(10.0, static_cast<double>(k) / kPerDecade);
    Evaluation e = sweep.evaluate(mu);
    fastest = k == kLowExponent ? e.time : std::min(fastest, e.time);
    const bool fits = consider(std::move(e));
    if (!fits) below = mu;
    if (fits && !bracketed) {
      above = mu;
      bracketed = k > kLowExponent;  // within budget already at the smallest μ: nothing to bisect
    }
  }
  if (!have_best)
    throw OptionError(std::string(r.options.budget_us ? "--budget-us" : "--speedup") + ": the budget of " +
                      figure(r.budget) + " " + r.cost.unit() + " (all-dense " + figure(dense_time) +
                      ") is below the fastest plan the search found, " + figure(fastest) + " " + r.cost.unit() +
                      " (warm-up steps and layers run dense and count in full)");
  if (bracketed && below > 0.0 && below < above) {
    for (int i = 0; i < kBisections; ++i) {
      const double mu = std::sqrt(below * above);  // geometric midpoint: μ spans decades
      (consider(sweep.evaluate(mu)) ? above : below) = mu;
    }
  }
  r.choice = std::move(best.choice);
  r.multiplier = best.multiplier;
  r.frontier = pareto_frontier(sweep.points());
}

}  // namespace svdit::search::detail
