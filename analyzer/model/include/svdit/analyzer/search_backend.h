#pragma once
// The analyzer's one door to the search: the trade-off view's frontier, the current plan's point on it, and
// live re-search from the ε / budget sliders, all through the project's search library (svdit_search,
// search_backend.cpp), so what the analyzer shows and saves is what `svdit search` computes.

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

// One plan on the speed/quality plane: predicted attention time of one denoising step (the mean over the
// steps the backend weighs) and mean error per (step, layer, head). NaN when the plan cannot be placed (it
// uses a pattern the profile did not measure).
struct TradeoffPoint {
  double time_us = 0;        // in `unit`: µs ("us"), or units of one dense head's time ("dense-head") when the
                             // profile has no GPU-measured cost table
  double error = 0;
  double parameter = 0;      // the knob that produced it (the time-budget sweep's multiplier μ)
  double dense_time_us = 0;  // the all-dense model on the same axis
  std::string unit = "us";
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
  // The plan of one frontier point (clicked in the trade-off view).
  virtual SearchResult solve_at(const data::ProfileReader& profile, const SearchSettings& settings,
                                const TradeoffPoint& point) = 0;
};

// The quantile over calibration samples that stands for a prompt aggregate in svdit_search: the worst prompt is
// the maximum (1); "mean of prompts" is taken as the median (0.5), the search having no mean.
double search_quantile(PromptAggregate a);

// The svdit_search backend.
std::unique_ptr<SearchBackend> make_search_backend();

// Keeps the points no other point beats on both axes (time ascending, error strictly descending).
std::vector<TradeoffPoint> pareto_front(std::vector<TradeoffPoint> points);

}  // namespace svdit::analyzer
