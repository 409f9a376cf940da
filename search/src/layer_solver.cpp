// The exact per-layer assignment (see layer_solver.h).
//
// The time-budget sweep solves every (bucket, layer) once per multiplier — tens of thousands of solves for a
// Wan2.1-14B profile — and each kind of layer below costs one pass over heads × candidates.
#include "svdit/search/layer_solver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "svdit/search/cost_model.h"

namespace svdit::search {

double LayerSolution::objective() const { return primary + time_weight * time; }

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A value and its tie-break, compared lexicographically with a tolerance on the value, so that rounding in sums
// of times never passes for a gain.
struct Score {
  double value = kInf;
  double tie = 0.0;
};

class Solver {
 public:
  explicit Solver(const LayerProblem& p)
      : p_(p), heads_(static_cast<size_t>(p.heads)), candidates_(static_cast<size_t>(p.candidates)) {
    if (p.cost == nullptr || p.cost->num_candidates() != p.candidates || p.cost->heads() != p.heads)
      throw std::invalid_argument("solve_layer: the cost model does not match the layer problem");
    if (p.heads < 1) throw std::invalid_argument("solve_layer: a layer has at least one head");
    if (p.primary.size() != heads_ * candidates_ || (!p.secondary.empty() && p.secondary.size() != heads_ * candidates_))
      throw std::invalid_argument("solve_layer: primary/secondary must hold heads x candidates values");
    double scale = 1.0;
    for (size_t c = 0; c < candidates_; ++c)
      scale = std::max(scale, p.time_weight * (std::abs(p.cost->head(static_cast<int64_t>(c))) +
                                               std::abs(p.cost->last(static_cast<int64_t>(c)))));
    scale = std::max(scale, p.time_weight * std::max(p.cost->dense_layer(), p.cost->skip_layer()));
    tol_ = 1e-12 * scale * static_cast<double>(heads_ + 1);
    for (size_t c = 0; c < candidates_; ++c) {
      if (is_dense(c)) dense_set_.push_back(c);
      if (is_skip(c)) skip_set_.push_back(c);
    }
  }

  LayerSolution run() {
    std::vector<int32_t> best;
    Score best_score;
    auto consider = [&](std::vector<int32_t> choice) {
      if (choice.empty()) return;
      const Score s = score(choice);
      if (best.empty() || better(s, best_score)) {
        best = std::move(choice);
        best_score = s;
      }
    };
    consider(uniform_kind(dense_set_));
    consider(uniform_kind(skip_set_));
    consider(mixed(/*allow_permuted=*/false));
    consider(mixed(/*allow_permuted=*/true));
    if (best.empty() || !std::isfinite(best_score.value))
      throw std::invalid_argument("solve_layer: no allowed assignment (a head has no allowed candidate)");
    LayerSolution s;
    s.choice = std::move(best);
    s.time_weight = p_.time_weight;
    for (size_t h = 0; h < heads_; ++h) {
      s.primary += primary(h, static_cast<size_t>(s.choice[h]));
      s.secondary += tie(h, static_cast<size_t>(s.choice[h]));
    }
    s.time = p_.cost->layer_time(s.choice);
    return s;
  }

 private:
  bool is_dense(size_t c) const { return p_.cost->dense(static_cast<int64_t>(c)); }
  bool is_skip(size_t c) const { return p_.cost->skip(static_cast<int64_t>(c)); }
  double primary(size_t h, size_t c) const { return p_.primary[h * candidates_ + c]; }
  double tie(size_t h, size_t c) const { return p_.secondary.empty() ? 0.0 : p_.secondary[h * candidates_ + c]; }
  bool better(const Score& a, const Score& b) const {
    return a.value < b.value - tol_ || (a.value <= b.value + tol_ && a.tie < b.tie - tol_);
  }
  // The head's own term in a mixed launch.
  Score own(size_t h, size_t c) const {
    return {primary(h, c) + p_.time_weight * p_.cost->head_time(static_cast<int64_t>(h), static_cast<int64_t>(c)),
            tie(h, c)};
  }
  Score score(const std::vector<int32_t>& choice) const {
    Score s{0.0, 0.0};
    for (size_t h = 0; h < heads_; ++h) {
      s.value += primary(h, static_cast<size_t>(choice[h]));
      s.tie += tie(h, static_cast<size_t>(choice[h]));
    }
    s.value += p_.time_weight * p_.cost->layer_time(choice);
    return s;
  }

  // Every head on a candidate of `set` (all dense, or all skip): the layer's time is fixed, so each head takes
  // its best allowed candidate of the set by primary, then tie. Empty when a head has none.
  std::vector<int32_t> uniform_kind(const std::vector<size_t>& set) const {
    if (set.empty()) return {};
    std::vector<int32_t> choice(heads_, -1);
    for (size_t h = 0; h < heads_; ++h) {
      Score best;
      for (const size_t c : set) {
        const Score s{primary(h, c), tie(h, c)};
        if (std::isfinite(s.value) && (choice[h] < 0 || better(s, best))) {
          choice[h] = static_cast<int32_t>(c);
          best = s;
        }
      }
      if (choice[h] < 0) return {};
    }
    return choice;
  }

  // The best mixed launch: with permuted heads allowed, at least one head must be permuted (else the launch
  // pays the pre-pass for nothing, and the other kind is better); it is also never all dense nor all skip
  // (those layers take the other paths). Each head on its best candidate, then, if a constraint fails, the one
  // head whose cheapest move satisfies it moves.
  std::vector<int32_t> mixed(bool allow_permuted) const {
    auto allowed = [&](size_t c) { return allow_permuted || !p_.cost->permuted(static_cast<int64_t>(c)); };
    std::vector<int32_t> choice(heads_, -1);
    std::vector<Score> own_score(heads_);
    for (size_t h = 0; h < heads_; ++h) {
      for (size_t c = 0; c < candidates_; ++c) {
        if (!allowed(c)) continue;
        const Score s = own(h, c);
        if (std::isfinite(s.value) && (choice[h] < 0 || better(s, own_score[h]))) {
          choice[h] = static_cast<int32_t>(c);
          own_score[h] = s;
        }
      }
      if (choice[h] < 0) return {};
    }
    // Constraints, each a predicate an assignment must meet and the candidates that can meet it by one move.
    auto all_of = [&](auto pred) {
      return std::all_of(choice.begin(), choice.end(), [&](int32_t c) { return pred(static_cast<size_t>(c)); });
    };
    auto dense = [&](size_t c) { return is_dense(c); };
    auto skip = [&](size_t c) { return is_skip(c); };
    auto permuted = [&](size_t c) { return p_.cost->permuted(static_cast<int64_t>(c)); };
    // Moves one head onto a candidate with `wanted`, the cheapest such move; false when none exists.
    auto deviate = [&](auto wanted) {
      size_t best_h = heads_, best_c = 0;
      Score best_delta;
      for (size_t h = 0; h < heads_; ++h) {
        for (size_t c = 0; c < candidates_; ++c) {
          if (!allowed(c) || !wanted(c)) continue;
          const Score s = own(h, c);
          if (!std::isfinite(s.value)) continue;
          const Score delta{s.value - own_score[h].value, s.tie - own_score[h].tie};
          if (best_h == heads_ || better(delta, best_delta)) {
            best_h = h;
            best_c = c;
            best_delta = delta;
          }
        }
      }
      if (best_h == heads_) return false;
      choice[best_h] = static_cast<int32_t>(best_c);
      return true;
    };
    if (allow_permuted) {
      // One permuted head makes the launch neither all dense nor all skip.
      if (!std::any_of(choice.begin(), choice.end(), [&](int32_t c) { return permuted(static_cast<size_t>(c)); }) &&
          !deviate(permuted))
        return {};
      return choice;
    }
    if (heads_ == 1) {
      // One head: mixed means neither dense nor skip.
      if ((dense(static_cast<size_t>(choice[0])) || skip(static_cast<size_t>(choice[0]))) &&
          !deviate([&](size_t c) { return !dense(c) && !skip(c); }))
        return {};
      return choice;
    }
    if (all_of(dense) && !deviate([&](size_t c) { return !dense(c); })) return {};
    if (all_of(skip) && !deviate([&](size_t c) { return !skip(c); })) return {};
    return choice;
  }

  const LayerProblem& p_;
  size_t heads_, candidates_;
  std::vector<size_t> dense_set_, skip_set_;
  double tol_ = 0.0;
};

}  // namespace

LayerSolution solve_layer(const LayerProblem& problem) { return Solver(problem).run(); }

LayerSolution solve_layer_brute_force(const LayerProblem& problem) {
  const auto heads = static_cast<size_t>(problem.heads);
  const auto candidates = static_cast<size_t>(problem.candidates);
  std::vector<int32_t> choice(heads, 0);
  LayerSolution best;
  bool found = false;
  for (;;) {
    bool allowed = true;
    LayerSolution s;
    s.time_weight = problem.time_weight;
    for (size_t h = 0; h < heads && allowed; ++h) {
      const size_t at = h * candidates + static_cast<size_t>(choice[h]);
      allowed = std::isfinite(problem.primary[at]);
      s.primary += problem.primary[at];
      s.secondary += problem.secondary.empty() ? 0.0 : problem.secondary[at];
    }
    if (allowed) {
      s.choice = choice;
      s.time = problem.cost->layer_time(choice);
      const double scale = 1e-12 * (1.0 + std::abs(s.objective()));
      if (!found || s.objective() < best.objective() - scale ||
          (s.objective() <= best.objective() + scale && s.secondary < best.secondary - scale)) {
        best = s;
        found = true;
      }
    }
    size_t h = 0;  // next assignment, odometer style
    while (h < heads && ++choice[h] == static_cast<int32_t>(candidates)) choice[h++] = 0;
    if (h == heads) break;
  }
  if (!found) throw std::invalid_argument("solve_layer_brute_force: no allowed assignment");
  return best;
}

}  // namespace svdit::search
