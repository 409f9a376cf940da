#pragma once
// What a head's block layout computes, drawn over its attention map. The pooled map is in *original* token
// order (blocks of b consecutive tokens), while a pattern with a temporal or stripe component computes blocks
// of its *layout* order (a token permutation). The overlay is therefore expressed at token granularity in
// original order: for each original-order cell (query block, key block), the fraction of its token pairs that
// fall in a computed layout block. Unpermuted layouts give exactly 1 on computed blocks and 0 elsewhere; a
// temporal layout gives fractions, because one layout block gathers tokens of many original blocks.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"

namespace svdit::analyzer {

// A cell edge, in cell coordinates (x across = key block, y down = query block).
struct Segment {
  float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  bool operator==(const Segment&) const = default;
};

struct PatternOverlay {
  int64_t blocks = 0;  // G
  bool skip = false;
  bool permuted = false;
  double block_density = 0;     // of the compiled layout (layout blocks)
  std::vector<float> coverage;  // [G, G] original order: fraction of each cell's token pairs computed
  std::vector<Segment> contour; // edges between cells with coverage > 0 and cells without (or the grid's edge)

  float at(int64_t query_block, int64_t key_block) const {
    return coverage[static_cast<size_t>(query_block * blocks + key_block)];
  }
};

PatternOverlay make_overlay(const data::BlockLayout& layout);

// Compiled layouts and overlays per pattern at one token layout, computed once and kept (a profile has tens
// of candidates; compiling one at 14B size takes tens of milliseconds, too much to repeat every frame).
class OverlayCache {
 public:
  explicit OverlayCache(data::TokenLayout layout) : layout_(layout) {}
  std::shared_ptr<const PatternOverlay> get(const data::Pattern& pattern);
  std::shared_ptr<const data::BlockLayout> layout_of(const data::Pattern& pattern);
  double block_density(const data::Pattern& pattern) { return layout_of(pattern)->block_density(); }
  const data::TokenLayout& token_layout() const { return layout_; }

 private:
  data::TokenLayout layout_;
  std::map<std::string, std::shared_ptr<const data::BlockLayout>> layouts_;
  std::map<std::string, std::shared_ptr<const PatternOverlay>> overlays_;
};

}  // namespace svdit::analyzer
