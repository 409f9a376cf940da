#include <algorithm>
#include <cmath>

#include "svdit/analyzer/search_backend.h"

namespace svdit::analyzer {

const char* to_string(Objective o) {
  switch (o) {
    case Objective::error_bound: return "error-bound";
    case Objective::time_budget: return "time-budget";
    case Objective::paper: return "paper";
  }
  return "?";
}

double search_quantile(PromptAggregate a) { return a == PromptAggregate::worst ? 1.0 : 0.5; }

std::vector<TradeoffPoint> pareto_front(std::vector<TradeoffPoint> points) {
  std::erase_if(points, [](const TradeoffPoint& p) { return !std::isfinite(p.time_us) || !std::isfinite(p.error); });
  std::sort(points.begin(), points.end(), [](const TradeoffPoint& a, const TradeoffPoint& b) {
    return a.time_us != b.time_us ? a.time_us < b.time_us : a.error < b.error;
  });
  std::vector<TradeoffPoint> front;
  for (const TradeoffPoint& p : points) {
    if (front.empty() || p.error < front.back().error) front.push_back(p);
  }
  return front;
}

}  // namespace svdit::analyzer
