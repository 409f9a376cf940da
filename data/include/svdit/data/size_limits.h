#pragma once
// Sanity bounds on sizes read from files (profiles, plans, model configs): every size is checked against these
// before any arithmetic or allocation that depends on it, so a damaged or hostile file is refused with a message
// naming the file, the field, the value and the bound — not a std::bad_alloc, an overflow or an hours-long loop.
// Each bound is far above every real model (Wan2.1-14B: 40 layers, 40 heads × 128, 1182 blocks at 720p / b = 64,
// 50 sampling steps) and keeps the products svdit forms (layers × heads × G², text_len × text_dim …) in range.

#include <cstdint>
#include <string>

namespace svdit::data {

inline constexpr int64_t kMaxLayers = 1024;
inline constexpr int64_t kMaxHeads = 1024;
inline constexpr int64_t kMaxHeadDim = 1024;
inline constexpr int64_t kMaxBlocks = 8192;          // G = ⌈S/b⌉: a [G, G] map is at most 64 Mi elements
inline constexpr int64_t kMaxSamplingSteps = 10000;  // denoising steps of one run
inline constexpr int64_t kMaxRanks = 65536;          // processes of one sequence-parallel run (a plan's placement)

// Throws FormatError(source, object, "<value> exceeds the bound <bound> (<why>)") when value > bound.
void require_at_most(int64_t value, int64_t bound, const std::string& source, const std::string& object,
                     const std::string& why);

}  // namespace svdit::data
