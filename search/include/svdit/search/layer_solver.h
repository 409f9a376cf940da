#pragma once
// The assignment of one layer's heads to candidates, shared by the error-bound and time-budget objectives
// (docs/SEARCH.md "The layer solver"). It minimises
//
//     Σ_h primary[h][c_h]  +  time_weight · layer_time(c_0 … c_{H-1})        (CostModel::layer_time)
//
// and, among assignments of equal value, Σ_h secondary[h][c_h]. primary = +∞ forbids a candidate for a head.
// error-bound: primary = 0 where the error is ≤ ε (else +∞), time_weight = 1, secondary = error.
// time-budget: primary = error, time_weight = the Lagrange multiplier μ, secondary = the head's time.
//
// The runtime runs a mixed layer as one launch, so its time is a sum of per-head terms plus fixed parts that
// depend only on the layer's kind (all dense, all skip, mixed, mixed with a permuted head) and on the last head's
// candidate. For each kind the best assignment is therefore separable — every head on its own best candidate —
// up to "at least one head of this kind" constraints, which one head's cheapest deviation satisfies. The solver
// takes the best of the four kinds: it is exact (tests compare it with enumeration).

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
};

struct LayerSolution {
  std::vector<int32_t> choice;  // [head] candidate index
  double time = 0.0;            // CostModel::layer_time(choice)
  double primary = 0.0;         // Σ_h primary[h][c_h]
  double secondary = 0.0;       // Σ_h secondary[h][c_h]
  double objective() const;     // primary + time_weight · time, with the problem's weight
  double time_weight = 1.0;
};

// Throws std::invalid_argument when no assignment is allowed.
LayerSolution solve_layer(const LayerProblem& problem);

// The exact optimum by enumerating all candidates^heads assignments. For tests on tiny layers only.
LayerSolution solve_layer_brute_force(const LayerProblem& problem);

}  // namespace svdit::search
