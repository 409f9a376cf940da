// Pareto filtering of the time-budget sweep.
#include "svdit/search/frontier.h"

#include <algorithm>

namespace svdit::search {

std::vector<FrontierPoint> pareto_frontier(std::vector<FrontierPoint> points) {
  // Fastest first; at equal time the lowest error first, so that a sweep keeping only points that lower the
  // best error so far keeps exactly the non-dominated ones.
  std::stable_sort(points.begin(), points.end(), [](const FrontierPoint& a, const FrontierPoint& b) {
    return a.time < b.time || (a.time == b.time && a.error < b.error);
  });
  std::vector<FrontierPoint> kept;
  for (const FrontierPoint& p : points)
    if (kept.empty() || p.error < kept.back().error) kept.push_back(p);
  std::reverse(kept.begin(), kept.end());
  return kept;
}

}  // namespace svdit::search
