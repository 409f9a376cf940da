#pragma once
// Predicted attention time of a layer (docs/SEARCH.md "Cost model and fusion"). Heads of one layer that share a
// pattern run as one fused launch, so the unit of cost is a *group*: g heads on candidate c cost table(c, g),
// measured by the profiler for g = 1 … max_group; a larger group is split into launches of max_group heads plus one
// of the remainder. A layer's time is the sum over its groups.
//
// Without a GPU-measured table (none in the profile, or one timed on the CPU reference, whose times say nothing
// about the kernels) the model falls back to block density: g heads on c cost g × density(c), in units of one
// dense head. It then predicts ratios (speed-up), not microseconds, and knows nothing of fusion — the output and
// the plan's provenance say so.

#include <cstdint>
#include <string>
#include <vector>

namespace svdit::search {

struct SearchInput;

class CostModel {
 public:
  CostModel() = default;
  explicit CostModel(const SearchInput& input);

  bool measured() const { return measured_; }
  const std::string& source() const { return source_; }  // "cupti" or "density-proportional"
  const std::string& unit() const { return unit_; }      // "us" or "dense-head"
  const std::string& note() const { return note_; }      // one sentence: where the times come from
  int64_t max_group() const { return max_group_; }
  int64_t heads() const { return heads_; }
  int64_t num_candidates() const { return candidates_; }

  // Time of one launch of g heads on candidate c, 1 ≤ g ≤ max_group (the table entry itself).
  double launch_time(int64_t candidate, int64_t group_size) const;
  // Time of n heads (0 ≤ n ≤ heads) sharing candidate c, split into launches of at most max_group heads.
  double group_time(int64_t candidate, int64_t n) const {
    return group_[static_cast<size_t>(candidate * (heads_ + 1) + n)];
  }
  // The least time one more head can add to a group of candidate c holding fewer than `heads` heads:
  // min over 1 ≤ n ≤ heads of group_time(c, n) − group_time(c, n − 1).
  double least_marginal(int64_t candidate, int64_t heads) const {
    return least_marginal_[static_cast<size_t>(candidate * (heads_ + 1) + heads)];
  }
  // All of candidate c's group times, n = 0 … heads: the solvers' inner loop reads these directly.
  const double* group_times(int64_t candidate) const { return &group_[static_cast<size_t>(candidate * (heads_ + 1))]; }

 private:
  bool measured_ = false;
  std::string source_, unit_, note_;
  int64_t max_group_ = 1, heads_ = 0, candidates_ = 0;
  std::vector<double> launch_;  // [candidate, group size - 1]
  std::vector<double> group_;   // [candidate, n = 0 … heads]
  std::vector<double> least_marginal_;  // [candidate, heads = 0 … heads]
};

}  // namespace svdit::search
