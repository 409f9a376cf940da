#pragma once
// The analyzer's one door to the search: the trade-off view's frontier, the current plan's point on it, and
// live re-search from the ε / budget sliders. Two implementations exist and CMake links exactly one:
//   - search_backend_svdit.cpp: the project's search library (svdit_search), when the build has it;
//   - search_backend_preview.cpp: a small per-head solver of the analyzer's own, so the view works before the
//     search library lands (see docs/ANALYZER.md for what it does and does not model).
// Swapping them is a change to analyzer/CMakeLists.txt only.

#include <memory>
#include <string>
#include <vector>

#include "svdit/analyzer/metrics.h"
#include "svdit/data/plan.h"

namespace svdit::data {
class ProfileReader;
}

namespace svdit::analyzer {

enum class Objective { error_bound, time_budget, paper };
const char* to_string(Objective o);

struct SearchSettings {
  Objective objective = Objective::error_bound;
  double epsilon = 0.05;          // error-bound: largest aggregated error a head may have; paper: ε of its rule
  double budget_fraction = 0.5;   // time-budget: attention time allowed, as a fraction of the dense model's
  double lambda = 0.5;            // paper: L_c = error_c + λ·density_c
  PromptAggregate aggregate = PromptAggregate::worst;
};

// One plan on the speed/quality plane: predicted attention time of one denoising step (µs) and mean error per
// head (aggregated over prompts as the settings say), both averaged over the profiled steps.
struct TradeoffPoint {
  double time_us = 0;
  double error = 0;
  double parameter = 0;  // the knob that produced it (ε, or the budget fraction)
};

struct SearchResult {
  data::Plan plan;
  TradeoffPoint point;
  std::string summary;  // one line for the status bar
};

class SearchBackend {
 public:
  virtual ~SearchBackend() = default;
  virtual std::string name() const = 0;
  // A plan for the profile under `settings`.
  virtual SearchResult solve(const data::ProfileReader& profile, const SearchSettings& settings) = 0;
  // The Pareto frontier (time ascending, error descending) the search sweeps for these settings.
  virtual std::vector<TradeoffPoint> frontier(const data::ProfileReader& profile, const SearchSettings& settings) = 0;
  // Where an arbitrary plan (e.g. one edited by hand) sits on the same axes.
  virtual TradeoffPoint evaluate(const data::ProfileReader& profile, const data::Plan& plan,
                                 const SearchSettings& settings) = 0;
};

// Defined by whichever implementation CMake linked.
std::unique_ptr<SearchBackend> make_search_backend();

// Keeps the points no other point beats on both axes (time ascending, error strictly descending).
std::vector<TradeoffPoint> pareto_front(std::vector<TradeoffPoint> points);

}  // namespace svdit::analyzer
