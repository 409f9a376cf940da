// --objective time-budget: the least total error whose predicted attention time fits a budget
// (--budget-us T, or --speedup S meaning T = all-dense time / S), by Lagrangian relaxation.
//
// For a multiplier μ ≥ 0 every (bucket, layer) is solved independently by the exact layer solver with
//     minimise  Σ_h error(h, c_h) + μ · layer time
// (both terms are per step, so a bucket's step count scales them alike and drops out). Small μ keeps the most
// accurate patterns; raising μ trades error for time. The sweep:
//   1. solves every layer on a geometric grid of μ, two points per decade from 1e-6 to 1e4 (× 1 / the time of one
//      dense head, so that the range suits µs and dense-head units alike): the two ends first, then midpoints,
//      coarse to fine, each between its two evaluated neighbours. The solver is exact, so a layer's optimal
//      assignment is piecewise constant in μ (time falling, error rising as μ grows), and a layer whose assignment
//      is the same at both neighbours keeps it; only the others are solved. Far from the budget most layers sit
//      on a plateau, and are not solved again;
//   2. bisects (geometrically, 12 times) the neighbouring multipliers whose times straddle the budget, the same
//      way.
// The plan is the evaluated solution of least error among those within the budget. Every evaluated solution is
// a (time, error) point; their Pareto frontier is printed and stored in the plan. Lagrangian relaxation reaches
// the lower convex hull of the trade-off only: a budget between two hull points gets the one below it, with
// some budget left unused.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "objectives.h"
#include "svdit/search/frontier.h"
#include "svdit/search/layer_solver.h"

namespace svdit::search::detail {

namespace {

// One multiplier's solution of every (bucket, layer after warm-up).
struct Evaluation {
  double multiplier = 0.0;
  double time = 0.0;                 // one generation, warm-up included
  double error = 0.0;                // mean per (step, layer, head)
  std::vector<int32_t> choice;       // [bucket, layer, head]
  std::vector<double> layer_time;    // [bucket, layer], one step
  std::vector<double> layer_error;   // [bucket, layer], Σ over heads, one step
};

class Sweep {
 public:
  Sweep(const SearchInput& input, const SearchResult& r) : r_(r), candidates_(input.num_candidates()) {
    // error per (bucket, layer, head, candidate); dense is exact by definition.
    const auto per_layer = static_cast<size_t>(r.heads * candidates_);
    primary_.resize(r.buckets.size() * static_cast<size_t>(r.layers) * per_layer, 0.0);
    for (size_t b = 0; b < r.buckets.size(); ++b)
      for (int64_t l = 0; l < r.layers; ++l)
        for (int64_t h = 0; h < r.heads; ++h) {
          const std::span<const float> error = r.errors.head(static_cast<int64_t>(b), l, h);
          for (int64_t c = 0; c < candidates_; ++c)
            primary_[layer_index(b, l) * per_layer + static_cast<size_t>(h * candidates_ + c)] =
                c == r.dense ? 0.0 : static_cast<double>(error[static_cast<size_t>(c)]);
        }
    // Tie-break among equal error + μ·time: the head's own time in the launch.
    secondary_.resize(per_layer);
    for (int64_t h = 0; h < r.heads; ++h)
      for (int64_t c = 0; c < candidates_; ++c)
        secondary_[static_cast<size_t>(h * candidates_ + c)] = r.cost.head_time(h, c);
    // Time of everything the sweep does not choose: warm-up steps (all dense) and warm-up layers.
    const double dense_layer = r.cost.dense_layer_time();
    int64_t sparse_steps = 0;
    for (const Bucket& b : r.buckets) sparse_steps += b.num_steps();
    fixed_time_ = static_cast<double>((r.sampling_steps - sparse_steps) * r.layers) * dense_layer +
                  static_cast<double>(sparse_steps * r.options.warmup_layers) * dense_layer;
    head_steps_ = static_cast<double>(r.sampling_steps * r.layers * r.heads);
  }

  // Solves at μ. With both neighbours given, a layer whose assignment is the same in both keeps it.
  const Evaluation& evaluate(double mu, const Evaluation* lo = nullptr, const Evaluation* hi = nullptr) {
    const auto heads = static_cast<size_t>(r_.heads);
    const size_t layers = r_.buckets.size() * static_cast<size_t>(r_.layers);
    Evaluation e;
    e.multiplier = mu;
    e.choice = lo ? lo->choice : std::vector<int32_t>(layers * heads, static_cast<int32_t>(r_.dense));
    e.layer_time.assign(layers, 0.0);
    e.layer_error.assign(layers, 0.0);
    for (size_t b = 0; b < r_.buckets.size(); ++b)
      for (int64_t l = r_.options.warmup_layers; l < r_.layers; ++l) {
        const size_t at = layer_index(b, l);
        const auto first = static_cast<std::ptrdiff_t>(at * heads), last = static_cast<std::ptrdiff_t>((at + 1) * heads);
        if (lo && hi && std::equal(lo->choice.begin() + first, lo->choice.begin() + last, hi->choice.begin() + first)) {
          e.layer_time[at] = lo->layer_time[at];
          e.layer_error[at] = lo->layer_error[at];
          continue;
        }
        const auto per_layer = static_cast<size_t>(r_.heads * candidates_);
        const LayerSolution s = solve_layer(LayerProblem{
            .heads = r_.heads,
            .candidates = candidates_,
            .primary = std::span<const double>(&primary_[at * per_layer], per_layer),
            .secondary = secondary_,
            .cost = &r_.cost,
            .time_weight = mu});
        std::copy(s.choice.begin(), s.choice.end(), e.choice.begin() + first);
        e.layer_time[at] = s.time;
        e.layer_error[at] = s.primary;
      }
    e.time = fixed_time_;
    for (size_t b = 0; b < r_.buckets.size(); ++b) {
      const auto steps = static_cast<double>(r_.buckets[b].num_steps());
      for (int64_t l = r_.options.warmup_layers; l < r_.layers; ++l) {
        e.time += steps * e.layer_time[layer_index(b, l)];
        e.error += steps * e.layer_error[layer_index(b, l)];
      }
    }
    e.error /= head_steps_;
    return evaluations_.emplace(mu, std::move(e)).first->second;
  }

  const std::map<double, Evaluation>& evaluations() const { return evaluations_; }

 private:
  size_t layer_index(size_t b, int64_t l) const { return b * static_cast<size_t>(r_.layers) + static_cast<size_t>(l); }

  const SearchResult& r_;
  int64_t candidates_;
  std::vector<double> primary_;    // [bucket, layer, head, candidate]
  std::vector<double> secondary_;  // [head, candidate]
  double fixed_time_ = 0.0, head_steps_ = 1.0;
  std::map<double, Evaluation> evaluations_;  // by multiplier; std::map keeps references stable
};

std::string figure(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

}  // namespace

void choose_time_budget(const SearchInput& input, SearchResult& r) {
  const double dense_time = static_cast<double>(r.sampling_steps * r.layers) * r.cost.dense_layer_time();
  r.budget = r.options.budget_us ? *r.options.budget_us : dense_time / *r.options.speedup;

  Sweep sweep(input, r);
  // μ is error per unit of time; one dense head's time sets the scale, so the range suits µs and dense-head units.
  const double dense_head = r.cost.dense_layer_time() / static_cast<double>(r.heads);
  const double scale = dense_head > 0.0 ? 1.0 / dense_head : 1.0;
  constexpr int kPerDecade = 2, kLowExponent = -6 * kPerDecade, kHighExponent = 4 * kPerDecade;  // 1e-6 … 1e4
  constexpr int kBisections = 12;  // the bracket shrinks to 10^(1/kPerDecade/4096)

  auto grid = [&](int k) { return scale * std::pow(10.0, static_cast<double>(k) / kPerDecade); };
  // Ends first, then midpoints of index ranges (coarse to fine), each between its two evaluated neighbours.
  std::function<void(int, int, const Evaluation&, const Evaluation&)> fill = [&](int i, int j, const Evaluation& lo,
                                                                                 const Evaluation& hi) {
    if (j - i < 2) return;
    const int m = (i + j) / 2;
    const Evaluation& mid = sweep.evaluate(grid(m), &lo, &hi);
    fill(i, m, lo, mid);
    fill(m, j, mid, hi);
  };
  const Evaluation& low = sweep.evaluate(grid(kLowExponent));
  const Evaluation& high = sweep.evaluate(grid(kHighExponent), &low);
  fill(kLowExponent, kHighExponent, low, high);

  // The neighbours whose times straddle the budget (time falls as μ rises), bisected.
  const Evaluation* over = nullptr;
  const Evaluation* within = nullptr;
  for (const auto& [mu, e] : sweep.evaluations()) {
    if (e.time <= r.budget) {
      within = &e;
      break;
    }
    over = &e;
  }
  if (over != nullptr && within != nullptr) {
    for (int i = 0; i < kBisections; ++i) {
      const Evaluation& mid = sweep.evaluate(std::sqrt(over->multiplier * within->multiplier), over, within);
      (mid.time <= r.budget ? within : over) = &mid;
    }
  }

  const Evaluation* best = nullptr;
  double fastest = dense_time;
  std::vector<FrontierPoint> points;
  for (const auto& [mu, e] : sweep.evaluations()) {
    points.push_back({mu, e.time, e.error});
    fastest = std::min(fastest, e.time);
    if (e.time <= r.budget && (best == nullptr || e.error < best->error || (e.error == best->error && e.time < best->time)))
      best = &e;
  }
  if (best == nullptr)
    throw OptionError(std::string(r.options.budget_us ? "--budget-us" : "--speedup") + ": the budget of " +
                      figure(r.budget) + " " + r.cost.unit() + " (all-dense " + figure(dense_time) +
                      ") is below the fastest plan the search found, " + figure(fastest) + " " + r.cost.unit() +
                      " (warm-up steps and layers run dense and count in full)");
  const auto heads = static_cast<size_t>(r.heads);
  for (size_t b = 0; b < r.buckets.size(); ++b)
    for (int64_t l = r.options.warmup_layers; l < r.layers; ++l) {
      const size_t at = (b * static_cast<size_t>(r.layers) + static_cast<size_t>(l)) * heads;
      std::copy(best->choice.begin() + static_cast<std::ptrdiff_t>(at),
                best->choice.begin() + static_cast<std::ptrdiff_t>(at + heads),
                r.choice[b].begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(l) * heads));
    }
  r.multiplier = best->multiplier;
  r.frontier = pareto_frontier(std::move(points));
}

}  // namespace svdit::search::detail
