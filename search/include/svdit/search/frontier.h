#pragma once
// The time/error trade-off the time-budget objective sweeps, reduced to its Pareto frontier: the points no other
// point beats on both time and error.

#include <vector>

#include "svdit/search/search.h"

namespace svdit::search {

// The non-dominated points, ordered by time strictly descending — hence error strictly ascending. Of points
// with equal time and error, the first given is kept.
std::vector<FrontierPoint> pareto_frontier(std::vector<FrontierPoint> points);

}  // namespace svdit::search
