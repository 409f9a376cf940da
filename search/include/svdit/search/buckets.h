#pragma once
// Which sampler steps each heads table of the plan covers, and which profiled steps it is decided from.
//
// Profiled step i (sampler step s_i) stands for the steps [s_i, s_{i+1}) up to the next profiled one; the first
// also covers the steps before it, the last runs to the end of sampling. Warm-up steps [0, k) are cut off (they
// run dense), and a profiled step left with no steps drops out. The remaining m ranges are then grouped into
// `count` contiguous buckets (as even as possible; 0 = m buckets, one per profiled step; more than m is clamped to
// m). A bucket's table is chosen from the measurements of all its profiled steps together.

#include <cstdint>
#include <vector>

#include "svdit/data/profile.h"

namespace svdit::search {

struct Bucket {
  int64_t step_begin = 0, step_end = 0;  // sampler steps [begin, end) this table covers
  std::vector<int64_t> profiled;         // indices into meta.steps whose measurements decide it
  int64_t num_steps() const { return step_end - step_begin; }
};

std::vector<Bucket> make_buckets(const data::ProfileMeta& meta, int64_t warmup_steps, int64_t count);

}  // namespace svdit::search
