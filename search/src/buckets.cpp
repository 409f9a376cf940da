// Step ranges of the plan's schedule from the profiled steps (see buckets.h).
#include "svdit/search/buckets.h"

#include <algorithm>

namespace svdit::search {

std::vector<Bucket> make_buckets(const data::ProfileMeta& meta, int64_t warmup_steps, int64_t count) {
  const int64_t n = meta.num_steps();
  std::vector<Bucket> ranges;  // one per profiled step that still covers a sparse step
  for (int64_t i = 0; i < n; ++i) {
    const int64_t begin = i == 0 ? 0 : meta.steps[static_cast<size_t>(i)];
    const int64_t end = i + 1 < n ? meta.steps[static_cast<size_t>(i + 1)] : meta.sampling_steps;
    const int64_t clipped = std::max(begin, warmup_steps);
    if (clipped < end) ranges.push_back(Bucket{clipped, end, {i}});
  }
  const auto m = static_cast<int64_t>(ranges.size());
  const int64_t groups = count <= 0 ? m : std::min(count, m);
  std::vector<Bucket> buckets;
  for (int64_t g = 0; g < groups; ++g) {
    // Group g takes ranges [g·m/groups, (g+1)·m/groups): sizes differ by at most one.
    const int64_t first = g * m / groups, last = (g + 1) * m / groups;
    Bucket b{ranges[static_cast<size_t>(first)].step_begin, ranges[static_cast<size_t>(last - 1)].step_end, {}};
    for (int64_t r = first; r < last; ++r) b.profiled.push_back(ranges[static_cast<size_t>(r)].profiled.front());
    buckets.push_back(std::move(b));
  }
  return buckets;
}

}  // namespace svdit::search
