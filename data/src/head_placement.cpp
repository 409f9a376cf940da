// The head placement rules of head_placement.h.
#include "svdit/data/head_placement.h"

#include <stdexcept>

namespace svdit::data {

std::vector<int64_t> even_split(int64_t n, int64_t parts) {
  if (parts <= 0 || n < 0)
    throw std::invalid_argument("even_split: expected n >= 0 and parts > 0, found n = " + std::to_string(n) +
                                ", parts = " + std::to_string(parts));
  std::vector<int64_t> sizes(static_cast<size_t>(parts), n / parts);
  for (int64_t i = 0; i < n % parts; ++i) ++sizes[static_cast<size_t>(i)];
  return sizes;
}

HeadPlacement contiguous_head_placement(int64_t layers, int64_t heads, int ranks) {
  if (layers < 0)
    throw std::invalid_argument("contiguous_head_placement: negative layer count " + std::to_string(layers));
  std::vector<int32_t> row;
  row.reserve(static_cast<size_t>(heads));
  const std::vector<int64_t> sizes = even_split(heads, ranks);
  for (int r = 0; r < ranks; ++r) row.insert(row.end(), static_cast<size_t>(sizes[static_cast<size_t>(r)]), r);
  return HeadPlacement(static_cast<size_t>(layers), row);
}

namespace {
std::string count_of_ranks(int ranks) { return std::to_string(ranks) + (ranks == 1 ? " rank" : " ranks"); }
}  // namespace

ChosenPlacement head_placement(const Plan& plan, int ranks) {
  if (ranks < 1) throw std::invalid_argument("head_placement: expected at least 1 rank, found " + std::to_string(ranks));
  if (plan.placement && plan.placement->ranks == ranks)
    return {plan.placement->layers, PlacementSource::plan, "the plan's placement for " + count_of_ranks(ranks)};
  const std::string why = plan.placement ? "the plan's placement is for " + count_of_ranks(plan.placement->ranks)
                                         : "the plan has no placement";
  return {contiguous_head_placement(plan.model.layers, plan.model.heads, ranks), PlacementSource::contiguous,
          "the contiguous split over " + count_of_ranks(ranks) + " (" + why + ")"};
}

}  // namespace svdit::data
