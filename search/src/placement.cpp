// Per-layer head placement over ranks: LPT against the contiguous split, priced by CostModel::heads_time.
#include "svdit/search/placement.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

#include "svdit/data/head_placement.h"
#include "svdit/search/search.h"

namespace svdit::search {

namespace {

// The heads of each rank, ascending (the order the runtime's head-parallel attention hands them to the kernel).
std::vector<std::vector<int32_t>> heads_per_rank(std::span<const int32_t> rank_of_head, int ranks) {
  std::vector<std::vector<int32_t>> heads(static_cast<size_t>(ranks));
  for (size_t h = 0; h < rank_of_head.size(); ++h)
    heads[static_cast<size_t>(rank_of_head[h])].push_back(static_cast<int32_t>(h));
  return heads;
}

// A rank's time summed over the ranges: what LPT balances.
double rank_load(const CostModel& cost, std::span<const WeightedChoice> ranges, std::span<const int32_t> heads) {
  double t = 0.0;
  for (const WeightedChoice& r : ranges) t += r.steps * cost.heads_time(r.choice, heads);
  return t;
}

}  // namespace

double placement_time(const CostModel& cost, std::span<const WeightedChoice> ranges,
                      std::span<const int32_t> rank_of_head, int ranks) {
  const std::vector<std::vector<int32_t>> heads = heads_per_rank(rank_of_head, ranks);
  double t = 0.0;
  for (const WeightedChoice& r : ranges) {
    double slowest = 0.0;
    for (const std::vector<int32_t>& mine : heads) slowest = std::max(slowest, cost.heads_time(r.choice, mine));
    t += r.steps * slowest;
  }
  return t;
}

LayerPlacement place_layer(const CostModel& cost, std::span<const WeightedChoice> ranges, int ranks) {
  if (ranks < 1) throw std::invalid_argument("place_layer: expected at least 1 rank, found " + std::to_string(ranks));
  if (ranges.empty()) throw std::invalid_argument("place_layer: no step ranges to place the heads for");
  const int64_t heads = cost.heads();

  LayerPlacement out;
  for (const WeightedChoice& r : ranges) out.single_time += r.steps * cost.layer_time(r.choice);
  const std::vector<int32_t> contiguous = data::contiguous_head_placement(1, heads, ranks)[0];
  out.contiguous_time = placement_time(cost, ranges, contiguous, ranks);

  // Longest processing time first: each head's own time over the ranges (a rank running it alone), largest first,
  // ties by head index so that the result does not depend on the sort's implementation.
  std::vector<double> own(static_cast<size_t>(heads));
  for (int64_t h = 0; h < heads; ++h) {
    const int32_t one[] = {static_cast<int32_t>(h)};
    own[static_cast<size_t>(h)] = rank_load(cost, ranges, one);
  }
  std::vector<int32_t> order(static_cast<size_t>(heads));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return own[static_cast<size_t>(a)] > own[static_cast<size_t>(b)]; });

  // Each head goes to the rank whose load is least after taking it. The rank's load is re-priced with the head
  // added rather than summed, because a launch is not a sum of heads: the last head sets the tail and one
  // permuted head brings the pre-pass.
  std::vector<std::vector<int32_t>> mine(static_cast<size_t>(ranks));
  std::vector<int32_t> lpt(static_cast<size_t>(heads), 0);
  for (const int32_t h : order) {
    int best = 0;
    double best_load = 0.0;
    for (int r = 0; r < ranks; ++r) {
      std::vector<int32_t> with = mine[static_cast<size_t>(r)];
      with.insert(std::upper_bound(with.begin(), with.end(), h), h);
      const double load = rank_load(cost, ranges, with);
      if (r == 0 || load < best_load) {
        best = r;
        best_load = load;
      }
    }
    std::vector<int32_t>& target = mine[static_cast<size_t>(best)];
    target.insert(std::upper_bound(target.begin(), target.end(), h), h);
    lpt[static_cast<size_t>(h)] = best;
  }
  const double lpt_time = placement_time(cost, ranges, lpt, ranks);

  // The plain split stays unless LPT is strictly faster: the same time is not worth an unusual placement.
  out.balanced = lpt_time < out.contiguous_time;
  out.rank_of_head = out.balanced ? lpt : contiguous;
  out.time = out.balanced ? lpt_time : out.contiguous_time;
  return out;
}

int64_t RankPlacement::balanced_layers() const {
  return std::count_if(layers.begin(), layers.end(), [](const LayerPlacement& l) { return l.balanced; });
}

data::PlanPlacement RankPlacement::plan_placement() const {
  data::PlanPlacement p;
  p.ranks = ranks;
  for (const LayerPlacement& l : layers) p.layers.push_back(l.rank_of_head);
  return p;
}

RankPlacement place_heads(const SearchResult& r, int ranks) {
  RankPlacement out;
  out.ranks = ranks;
  // The steps no bucket covers (warm-up) run dense, as update_figures counts them.
  int64_t covered = 0;
  for (const Bucket& b : r.buckets) covered += b.num_steps();
  const std::vector<int32_t> dense_row(static_cast<size_t>(r.heads), static_cast<int32_t>(r.dense));
  for (int64_t l = 0; l < r.layers; ++l) {
    std::vector<WeightedChoice> ranges;
    for (size_t b = 0; b < r.buckets.size(); ++b)
      ranges.push_back({static_cast<double>(r.buckets[b].num_steps()),
                        std::span<const int32_t>(&r.choice[b][static_cast<size_t>(l * r.heads)],
                                                 static_cast<size_t>(r.heads))});
    if (r.sampling_steps > covered) ranges.push_back({static_cast<double>(r.sampling_steps - covered), dense_row});
    LayerPlacement& layer = out.layers.emplace_back(place_layer(r.cost, ranges, ranks));
    out.time += layer.time;
    out.contiguous_time += layer.contiguous_time;
    out.single_time += layer.single_time;
  }
  out.ideal_time = out.single_time / static_cast<double>(ranks);
  return out;
}

}  // namespace svdit::search
