#pragma once
// Which rank runs which attention head when a model runs over N ranks with head-parallel (Ulysses) self-attention
// (docs/RUNTIME.md "Sequence parallel"). Torch-free, so that the search (which writes a plan's placement), the
// runtime (which runs it) and their tests split heads and tokens by one rule.

#include <cstdint>
#include <string>
#include <vector>

#include "svdit/data/plan.h"

namespace svdit::data {

// Sizes of `parts` contiguous ranges covering n items: the first n mod parts ranges get one more. Throws
// std::invalid_argument unless n >= 0 and parts > 0.
std::vector<int64_t> even_split(int64_t n, int64_t parts);

// The plain split: heads in order, even_split(heads, ranks) per rank, the same in every layer.
HeadPlacement contiguous_head_placement(int64_t layers, int64_t heads, int ranks);

enum class PlacementSource {
  plan,        // the plan's placement, made for this many ranks
  contiguous,  // the plain split: the plan has no placement, or one for another number of ranks
};

struct ChosenPlacement {
  HeadPlacement placement;  // [plan.model.layers][plan.model.heads] → rank in [0, ranks)
  PlacementSource source = PlacementSource::contiguous;
  std::string label;        // for the tool's output: "the plan's placement for 2 ranks", "the contiguous split (…)"
};

// What a run of `plan` over `ranks` ranks places where: the plan's placement when it was made for exactly `ranks`
// ranks (a placement balanced for 4 ranks says nothing about 2), the contiguous split otherwise. The plan is
// assumed validated (read_plan); throws std::invalid_argument when ranks < 1.
ChosenPlacement head_placement(const Plan& plan, int ranks);

}  // namespace svdit::data
