#include "svdit/analyzer/overlay.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

namespace svdit::analyzer {

namespace {

// For each layout block: the original-order blocks its tokens come from, with token counts, sorted by block.
std::vector<std::vector<std::pair<int64_t, int64_t>>> origin_histograms(const data::BlockLayout& layout) {
  const int64_t b = layout.block_size, g = layout.num_blocks, s = layout.seq_len;
  std::vector<std::vector<std::pair<int64_t, int64_t>>> hist(static_cast<size_t>(g));
  for (int64_t q = 0; q < g; ++q) {
    auto& h = hist[static_cast<size_t>(q)];
    const int64_t end = std::min(s, (q + 1) * b);
    if (!layout.permuted()) {
      h.emplace_back(q, end - q * b);
      continue;
    }
    std::vector<int64_t> origins;
    origins.reserve(static_cast<size_t>(end - q * b));
    for (int64_t l = q * b; l < end; ++l) origins.push_back(layout.token_at(l) / b);
    std::sort(origins.begin(), origins.end());
    for (int64_t o : origins) {
      if (!h.empty() && h.back().first == o) {
        ++h.back().second;
      } else {
        h.emplace_back(o, 1);
      }
    }
  }
  return hist;
}

std::string key_of(const data::Pattern& pattern) { return data::to_json(pattern).dump(); }

}  // namespace

PatternOverlay make_overlay(const data::BlockLayout& layout) {
  PatternOverlay out;
  const int64_t g = layout.num_blocks, b = layout.block_size, s = layout.seq_len;
  out.blocks = g;
  out.skip = layout.skip;
  out.permuted = layout.permuted();
  out.block_density = layout.block_density();
  out.coverage.assign(static_cast<size_t>(g * g), 0.0f);
  if (g == 0) return out;

  // coverage[qb][kb] = Σ over computed layout blocks (Q, K) of n(Q, qb)·n(K, kb), divided by the token pairs of
  // the cell. Summing the key histograms of a query block first makes it O(computed · |h| + G · |h| · G).
  const auto hist = origin_histograms(layout);
  std::vector<double> acc(static_cast<size_t>(g * g), 0.0);
  std::vector<double> keys(static_cast<size_t>(g));
  for (int64_t q = 0; q < g; ++q) {
    const auto key_blocks = layout.keys_of(q);
    if (key_blocks.empty()) continue;
    std::fill(keys.begin(), keys.end(), 0.0);
    for (int32_t k : key_blocks) {
      for (const auto& [kb, n] : hist[static_cast<size_t>(k)]) keys[static_cast<size_t>(kb)] += static_cast<double>(n);
    }
    for (const auto& [qb, nq] : hist[static_cast<size_t>(q)]) {
      double* row = acc.data() + qb * g;
      for (int64_t kb = 0; kb < g; ++kb) row[kb] += static_cast<double>(nq) * keys[static_cast<size_t>(kb)];
    }
  }
  auto size_of = [&](int64_t block) { return static_cast<double>(std::min(s, (block + 1) * b) - block * b); };
  for (int64_t qb = 0; qb < g; ++qb) {
    for (int64_t kb = 0; kb < g; ++kb) {
      const size_t i = static_cast<size_t>(qb * g + kb);
      out.coverage[i] = static_cast<float>(std::min(1.0, acc[i] / (size_of(qb) * size_of(kb))));
    }
  }

  // Contour: every edge between a covered cell and an uncovered one (or the outside).
  auto covered = [&](int64_t r, int64_t c) {
    return r >= 0 && c >= 0 && r < g && c < g && out.coverage[static_cast<size_t>(r * g + c)] > 0.0f;
  };
  for (int64_t r = 0; r < g; ++r) {
    for (int64_t c = 0; c < g; ++c) {
      if (!covered(r, c)) continue;
      const auto x = static_cast<float>(c), y = static_cast<float>(r);
      if (!covered(r - 1, c)) out.contour.push_back({x, y, x + 1, y});
      if (!covered(r + 1, c)) out.contour.push_back({x, y + 1, x + 1, y + 1});
      if (!covered(r, c - 1)) out.contour.push_back({x, y, x, y + 1});
      if (!covered(r, c + 1)) out.contour.push_back({x + 1, y, x + 1, y + 1});
    }
  }
  return out;
}

std::shared_ptr<const data::BlockLayout> OverlayCache::layout_of(const data::Pattern& pattern) {
  const std::string key = key_of(pattern);
  auto& slot = layouts_[key];
  if (!slot) slot = std::make_shared<const data::BlockLayout>(data::compile_pattern(pattern, layout_));
  return slot;
}

std::shared_ptr<const PatternOverlay> OverlayCache::get(const data::Pattern& pattern) {
  const std::string key = key_of(pattern);
  auto& slot = overlays_[key];
  if (!slot) slot = std::make_shared<const PatternOverlay>(make_overlay(*layout_of(pattern)));
  return slot;
}

}  // namespace svdit::analyzer
