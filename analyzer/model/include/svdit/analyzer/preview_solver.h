#pragma once
// The analyzer's own small solver, behind SearchBackend until the project's search library is linked (and
// kept afterwards as a cross-check). Per profiled step and head, independently:
//   error-bound  the candidate with the least measured time alone (group size 1) whose aggregated error is
//                ≤ ε; dense when none is;
//   paper        Sparse-vDiT's rule: L_c = error_c + λ·density_c, dense when every L_c > ε, else argmin L_c;
//   time-budget  the frontier plan with the least error whose predicted time fits the budget.
// It does not model fusion when choosing (the evaluation does), nor warm-up steps or layers: it is a preview.
// Each profiled step gets its own schedule entry, from its sampler step to the next profiled one (the first
// from 0, the last to the end of sampling); neighbouring entries with equal tables are merged.

#include <string>
#include <vector>

#include "svdit/analyzer/metrics.h"
#include "svdit/analyzer/search_backend.h"
#include "svdit/data/plan.h"

namespace svdit::analyzer {

data::Plan preview_solve(const ProfileView& profile, const SearchSettings& settings, const std::string& source);
std::vector<TradeoffPoint> preview_frontier(const ProfileView& profile, const SearchSettings& settings);
TradeoffPoint preview_evaluate(const ProfileView& profile, const data::Plan& plan, const SearchSettings& settings);

}  // namespace svdit::analyzer
