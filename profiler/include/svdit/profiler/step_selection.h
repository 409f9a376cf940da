#pragma once
// Which sampler steps a profile measures (--profile-steps) and which of those also get attention maps
// (--map-steps). Syntax: "all" | "none" | a comma list "0,5,10" | "every:K" (0, K, 2K, … below the step count) |
// "every:K+O" (O, O + K, …). Steps count from 0 in the sampler's order.

#include <cstdint>
#include <string_view>
#include <vector>

namespace svdit::profiler {

// Sorted, unique step indices in [0, sampling_steps). Throws std::invalid_argument naming `option` and the bad
// part (an index out of range, a malformed number, K < 1). "none" gives an empty list.
std::vector<int64_t> parse_steps(std::string_view text, int64_t sampling_steps, std::string_view option);

}  // namespace svdit::profiler
