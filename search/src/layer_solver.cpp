// Local search for the fusion-aware per-layer assignment (see layer_solver.h).
//
// The time-budget sweep solves every (bucket, layer) once per multiplier — tens of thousands of solves for a
// Wan2.1-14B profile — so the inner loops are kept to a few loads and adds: for each candidate the solver keeps
// the weighted time change of one more head joining its group (join_) and of one head leaving it (leave_), and
// updates only the two entries a move touches.
#include "svdit/search/layer_solver.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "svdit/search/cost_model.h"

namespace svdit::search {

double LayerSolution::objective() const { return primary + time_weight * time; }

double layer_time(const CostModel& cost, std::span<const int32_t> choice) {
  std::vector<int64_t> counts(static_cast<size_t>(cost.num_candidates()), 0);
  for (const int32_t c : choice) ++counts[static_cast<size_t>(c)];
  double t = 0.0;
  for (int64_t c = 0; c < cost.num_candidates(); ++c) t += cost.group_time(c, counts[static_cast<size_t>(c)]);
  return t;
}

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// A change of (objective, tie-break). Improvements are judged lexicographically, with a tolerance on the
// objective so that rounding in sums of group times never passes for a gain.
struct Delta {
  double value = 0.0;
  double tie = 0.0;
};

class Search {
 public:
  explicit Search(const LayerProblem& p)
      : p_(p),
        heads_(static_cast<size_t>(p.heads)),
        candidates_(static_cast<size_t>(p.candidates)),
        choice_(heads_, -1),
        counts_(candidates_, 0),
        join_(candidates_, 0.0),
        leave_(candidates_, 0.0),
        left_(candidates_, 0) {
    if (p.cost == nullptr || p.cost->num_candidates() != p.candidates || p.cost->heads() < p.heads)
      throw std::invalid_argument("solve_layer: the cost model does not match the layer problem");
    if (p.primary.size() != heads_ * candidates_ || (!p.secondary.empty() && p.secondary.size() != heads_ * candidates_))
      throw std::invalid_argument("solve_layer: primary/secondary must hold heads x candidates values");
    if (!p.start.empty() && p.start.size() != heads_)
      throw std::invalid_argument("solve_layer: start must hold one candidate per head");
    times_.reserve(candidates_);
    for (size_t c = 0; c < candidates_; ++c) times_.push_back(p.cost->group_times(static_cast<int64_t>(c)));
    // Tolerance for rounding in sums of up to heads + 1 terms, scaled to the largest weighted group time (errors,
    // the other terms, are relative MSEs of order 1 or less).
    double scale = 1.0;
    for (size_t c = 0; c < candidates_; ++c) scale = std::max(scale, p.time_weight * times_[c][p.heads]);
    tol_ = 1e-12 * scale * static_cast<double>(heads_ + 1);
    for (size_t c = 0; c < candidates_; ++c) refresh(c);
    min_marginal_.resize(candidates_);
    for (size_t c = 0; c < candidates_; ++c)
      min_marginal_[c] = p.time_weight * p.cost->least_marginal(static_cast<int64_t>(c), p.heads);
  }

  LayerSolution run() {
    if (p_.start.empty() || !start_from_given()) start_independent();
    for (int pass = 0; pass < kMaxPasses; ++pass) {
      bool improved = single_moves();
      improved |= gather_moves();
      improved |= dissolve_moves();
      if (!improved) break;
    }
    return solution();
  }

 private:
  static constexpr int kMaxPasses = 64;

  double primary(size_t h, size_t c) const { return p_.primary[h * candidates_ + c]; }
  double tie(size_t h, size_t c) const { return p_.secondary.empty() ? 0.0 : p_.secondary[h * candidates_ + c]; }
  bool better(const Delta& a, const Delta& b) const {
    return a.value < b.value - tol_ || (a.value <= b.value + tol_ && a.tie < b.tie - tol_);
  }
  bool improves(const Delta& d) const { return better(d, Delta{}); }

  // join_[c]: weighted time added by one more head on c; leave_[c]: the (negative) change when one leaves.
  void refresh(size_t c) {
    const int64_t n = counts_[c];
    const double* t = times_[c];
    join_[c] = n < p_.heads ? p_.time_weight * (t[n + 1] - t[n]) : kInf;
    leave_[c] = n > 0 ? p_.time_weight * (t[n - 1] - t[n]) : 0.0;
  }

  void assign(size_t h, int32_t c) {
    if (choice_[h] >= 0) {
      const auto old = static_cast<size_t>(choice_[h]);
      --counts_[old];
      refresh(old);
    }
    choice_[h] = c;
    if (c >= 0) {
      ++counts_[static_cast<size_t>(c)];
      refresh(static_cast<size_t>(c));
    }
  }

  // Each head on its best candidate as if it ran alone (a group of one).
  void start_independent() {
    for (size_t h = 0; h < heads_; ++h) {
      int32_t best = -1;
      double best_value = kInf;
      for (size_t c = 0; c < candidates_; ++c) {
        const double v = primary(h, c) + p_.time_weight * times_[c][1];  // +inf when forbidden
        if (v < best_value + tol_ && (best < 0 || v < best_value - tol_ || tie(h, c) < tie(h, best) - tol_)) {
          best = static_cast<int32_t>(c);
          best_value = v;
        }
      }
      if (best < 0)
        throw std::invalid_argument("solve_layer: head " + std::to_string(h) + " has no allowed candidate");
      assign(h, best);
    }
  }

  Delta value() const {
    Delta v;
    for (size_t h = 0; h < heads_; ++h) {
      v.value += primary(h, static_cast<size_t>(choice_[h]));
      v.tie += tie(h, static_cast<size_t>(choice_[h]));
    }
    for (size_t c = 0; c < candidates_; ++c) v.value += p_.time_weight * times_[c][counts_[c]];
    return v;
  }

  // Starts from the given assignment; false (and nothing assigned) when it puts a head on a forbidden candidate.
  bool start_from_given() {
    for (size_t h = 0; h < heads_; ++h) {
      const int32_t c = p_.start[h];
      if (c < 0 || static_cast<size_t>(c) >= candidates_ || !(primary(h, static_cast<size_t>(c)) < kInf)) return false;
    }
    for (size_t h = 0; h < heads_; ++h) assign(h, p_.start[h]);
    return true;
  }

  // Change of moving head h from its candidate to c ≠ its candidate, given the current groups.
  Delta move_delta(size_t h, size_t c) const {
    const auto a = static_cast<size_t>(choice_[h]);
    return {primary(h, c) - primary(h, a) + join_[c] + leave_[a], tie(h, c) - tie(h, a)};
  }

  bool single_moves() {
    bool improved = false;
    for (size_t h = 0; h < heads_; ++h) {
      const auto a = static_cast<size_t>(choice_[h]);
      const double base = leave_[a] - primary(h, a);
      const double* row = &p_.primary[h * candidates_];
      size_t best = a;
      double best_value = 0.0;  // "stay"
      for (size_t c = 0; c < candidates_; ++c) {
        if (c == a) continue;
        const double d = row[c] + join_[c] + base;  // +inf for a forbidden candidate
        if (d < best_value + tol_ &&
            (d < best_value - tol_ || tie(h, c) - tie(h, a) < (best == a ? 0.0 : tie(h, best) - tie(h, a)) - tol_)) {
          best = c;
          best_value = d;
        }
      }
      if (best != a) {
        assign(h, static_cast<int32_t>(best));
        improved = true;
      }
    }
    return improved;
  }

  // Moving several heads onto an unused candidate c at once can pay where no single move does (the first head
  // alone would pay a whole launch): try the heads in order of their own gain, and keep the best prefix. The
  // k-th head to join pays only the marginal time(c, k) − time(c, k − 1); a head whose gain stays positive even
  // at the smallest marginal can never help, so only heads below that bound are movers. (Onto a candidate in
  // use, every head already pays only a marginal: single moves cover it.)
  bool gather_moves() {
    bool improved = false;
    for (size_t c = 0; c < candidates_; ++c) {
      if (counts_[c] > 0) continue;
      movers_.clear();
      const double bound = join_[c] - min_marginal_[c];  // the most sharing can save one mover
      for (size_t h = 0; h < heads_; ++h) {
        if (static_cast<size_t>(choice_[h]) == c) continue;
        const auto a = static_cast<size_t>(choice_[h]);
        const double gain = primary(h, c) - primary(h, a) + join_[c] + leave_[a];  // +inf when c is forbidden
        if (gain < bound - tol_) movers_.emplace_back(gain, h);
      }
      if (movers_.size() < 2) continue;  // one mover is a single move, already tried
      std::sort(movers_.begin(), movers_.end());  // by gain, then head: deterministic
      // Prefix values without moving anyone: the k-th mover joins a group of k − 1 on c and leaves its own group
      // after the earlier movers from the same group left (left_ counts them).
      const double* tc = times_[c];
      Delta total{}, best_total{};
      size_t best_prefix = 0;
      for (size_t k = 0; k < movers_.size(); ++k) {
        const size_t h = movers_[k].second;
        const auto a = static_cast<size_t>(choice_[h]);
        const int64_t n = counts_[a] - left_[a]++;
        const auto joined = static_cast<int64_t>(k);
        total.value += primary(h, c) - primary(h, a) +
                       p_.time_weight * (tc[joined + 1] - tc[joined] + times_[a][n - 1] - times_[a][n]);
        total.tie += tie(h, c) - tie(h, a);
        if (better(total, best_total)) {
          best_total = total;
          best_prefix = k + 1;
        }
      }
      for (const auto& [ignored, h] : movers_) left_[static_cast<size_t>(choice_[h])] = 0;
      for (size_t k = 0; k < best_prefix; ++k) assign(movers_[k].second, static_cast<int32_t>(c));
      if (best_prefix > 0) improved = true;
    }
    return improved;
  }

  // Emptying a group can pay where moving its heads one by one does not (the launch is saved only when the last
  // head leaves): send every head of candidate a to its best other candidate, keep it if the layer gains.
  bool dissolve_moves() {
    bool improved = false;
    for (size_t a = 0; a < candidates_; ++a) {
      if (counts_[a] < 2) continue;  // dissolving a group of one is a single move, already tried
      members_.clear();
      for (size_t h = 0; h < heads_; ++h)
        if (static_cast<size_t>(choice_[h]) == a) members_.push_back(h);
      Delta total{};
      applied_.clear();
      bool possible = true;
      for (const size_t h : members_) {
        const double base = leave_[a] - primary(h, a);
        const double* row = &p_.primary[h * candidates_];
        size_t best = a;
        double best_value = kInf;
        for (size_t c = 0; c < candidates_; ++c) {
          if (c == a) continue;
          const double d = row[c] + join_[c] + base;  // +inf when forbidden
          if (d < best_value + tol_ && (best == a || d < best_value - tol_ || tie(h, c) < tie(h, best) - tol_)) {
            best = c;
            best_value = d;
          }
        }
        if (best == a) {
          possible = false;
          break;
        }
        const Delta best_delta = move_delta(h, best);
        total.value += best_delta.value;
        total.tie += best_delta.tie;
        applied_.emplace_back(h, choice_[h]);
        assign(h, static_cast<int32_t>(best));
      }
      if (possible && improves(total)) {
        improved = true;
        continue;
      }
      for (size_t i = applied_.size(); i-- > 0;) assign(applied_[i].first, applied_[i].second);
    }
    return improved;
  }

  LayerSolution solution() const {
    LayerSolution s;
    s.choice = choice_;
    s.time_weight = p_.time_weight;
    for (size_t h = 0; h < heads_; ++h) {
      s.primary += primary(h, static_cast<size_t>(choice_[h]));
      s.secondary += tie(h, static_cast<size_t>(choice_[h]));
    }
    for (size_t c = 0; c < candidates_; ++c) s.time += times_[c][counts_[c]];
    return s;
  }

  const LayerProblem& p_;
  size_t heads_, candidates_;
  std::vector<const double*> times_;  // [candidate] → group times for n = 0 … heads
  std::vector<int32_t> choice_;
  std::vector<int64_t> counts_;
  std::vector<double> join_, leave_;
  std::vector<double> min_marginal_;  // [candidate] weighted least time one more head can add to its group
  std::vector<int64_t> left_;         // gather: movers counted out of each group so far (zero between uses)
  double tol_ = 0.0;
  std::vector<std::pair<double, size_t>> movers_;    // gather: (own gain, head)
  std::vector<size_t> members_;                      // dissolve: heads of the group
  std::vector<std::pair<size_t, int32_t>> applied_;  // (head, previous candidate), for undoing
};

}  // namespace

LayerSolution solve_layer(const LayerProblem& problem) { return Search(problem).run(); }

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
      s.time = layer_time(*problem.cost, choice);
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
