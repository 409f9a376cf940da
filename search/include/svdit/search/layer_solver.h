#pragma once
// The fusion-aware assignment of one layer's heads to candidates, shared by the error-bound and time-budget
// objectives (docs/SEARCH.md "The layer solver"). It minimises
//
//     Σ_h primary[h][c_h]  +  time_weight · Σ_c group_time(c, n_c)         n_c = heads assigned to c
//
// and, among assignments of equal value, Σ_h secondary[h][c_h]. primary = +∞ forbids a candidate for a head.
// error-bound: primary = 0 where the error is ≤ ε (else +∞), time_weight = 1, secondary = error.
// time-budget: primary = error, time_weight = the Lagrange multiplier μ, secondary = 0.
//
// Because a group's time is not the sum of its heads' times (one launch of g heads usually costs less than g
// launches), the best candidate for a head depends on what the other heads of the layer run; the problem is a
// small concave-cost assignment, hard in general. The solver starts from every head's best candidate on its own
// and improves by local search until no move helps: (1) move one head to another candidate; (2) gather onto a
// candidate c the best-gaining prefix of the heads that would gain from c were its launch free (only they can
// profit from sharing it); (3) dissolve a group, sending each of its heads
// to its best other candidate. Each move is applied only when it lowers the objective, so the result is never
// worse than the independent per-head choice.

#include <cstdint>
#include <span>
#include <vector>

namespace svdit::search {

class CostModel;

struct LayerProblem {
  int64_t heads = 0, candidates = 0;
  std::span<const double> primary;    // [head, candidate]; +inf = not allowed
  std::span<const double> secondary;  // [head, candidate] tie-break; empty = none
  const CostModel* cost = nullptr;
  double time_weight = 1.0;
  // Optional [head] assignment to start from (e.g. the solution at a nearby multiplier in a sweep); the
  // search starts from whichever is better, it or the independent per-head choice.
  std::span<const int32_t> start;
};

struct LayerSolution {
  std::vector<int32_t> choice;  // [head] candidate index
  double time = 0.0;            // Σ_c group_time(c, n_c)
  double primary = 0.0;         // Σ_h primary[h][c_h]
  double secondary = 0.0;       // Σ_h secondary[h][c_h]
  double objective() const;     // primary + time_weight · time, with the problem's weight
  double time_weight = 1.0;
};

// Throws std::invalid_argument when a head has no allowed candidate.
LayerSolution solve_layer(const LayerProblem& problem);

// The exact optimum by enumerating all candidates^heads assignments. For tests on tiny layers only.
LayerSolution solve_layer_brute_force(const LayerProblem& problem);

// Σ over the groups of `choice` (candidate per head) of group_time(c, n_c).
double layer_time(const CostModel& cost, std::span<const int32_t> choice);

}  // namespace svdit::search
