#pragma once
// Which rank runs which head of each layer when the plan runs over N ranks with head-parallel (Ulysses)
// self-attention (docs/SEARCH.md "Ranks", docs/RUNTIME.md "Sequence parallel"). Every rank holds all tokens of its
// heads between the two all-to-alls, so a layer's attention takes as long as its slowest rank; heads of different
// patterns cost different time, and a plain split of the heads leaves ranks idle.
//
// A rank's time in a layer is CostModel::heads_time of the heads it runs — the search's one pricing model. Per
// layer the placement minimises the slowest rank's time over one generation (every sampling step: the plan's step
// ranges with their heads tables, warm-up and uncovered steps dense): longest processing time first — heads in
// falling order of their own time, each to the rank whose time grows least with it — and the contiguous split is
// kept when it is at least as good (so a balanced layer, all dense for instance, keeps the plain split).

#include <cstdint>
#include <span>
#include <vector>

#include "svdit/data/plan.h"
#include "svdit/search/cost_model.h"

namespace svdit::search {

struct SearchResult;

// One step range of a layer: `steps` sampling steps whose heads run `choice` (candidate indices, one per head).
struct WeightedChoice {
  double steps = 0.0;
  std::span<const int32_t> choice;
};

struct LayerPlacement {
  std::vector<int32_t> rank_of_head;  // [head] → rank in [0, ranks)
  bool balanced = false;              // true: the LPT assignment, which beat the contiguous split
  double time = 0.0;                  // Σ over the ranges of steps × the slowest rank's heads_time
  double contiguous_time = 0.0;       // the same for the contiguous split
  double single_time = 0.0;           // Σ steps × layer_time: the whole layer in one process
};

// Slowest-rank time of `rank_of_head` over the ranges (the objective place_layer minimises).
double placement_time(const CostModel& cost, std::span<const WeightedChoice> ranges,
                      std::span<const int32_t> rank_of_head, int ranks);

// One layer over `ranks` ranks (>= 1); ranges must not be empty.
LayerPlacement place_layer(const CostModel& cost, std::span<const WeightedChoice> ranges, int ranks);

struct RankPlacement {
  int ranks = 0;
  std::vector<LayerPlacement> layers;
  // Summed over layers, for one generation, in the cost unit: the slowest rank per layer chosen and contiguous,
  // and the ideal (the one-process time / ranks: perfect balance, no per-rank fixed parts).
  double time = 0.0, contiguous_time = 0.0, ideal_time = 0.0, single_time = 0.0;
  int64_t balanced_layers() const;
  data::PlanPlacement plan_placement() const;  // for data::Plan::placement
};

// Every layer of the result over result.options.ranks ranks (the choices of its buckets, warm-up steps dense).
RankPlacement place_heads(const SearchResult& result, int ranks);

}  // namespace svdit::search
