#pragma once
// Sparse attention patterns (docs/FORMATS.md "Patterns (JSON)"). A head's pattern is a union of components, each with
// explicit parameters. Token-level semantics (i = query, j = key, both original token indices):
//   dense     every (i, j).
//   skip      nothing; the head's output is zero. Must be the only component.
//   window    video i = (f, p), j = (f', p'):  |(f·P + p) − (f'·P + p')| ≤ w     (the paper's "diagonal")
//   temporal  video i, j:  |p − p'| ≤ w_s  and  |f − f'| ≤ w_f                     (the paper's "multi-diagonal")
//   stripe    every i attends every j in an explicit set of key columns            (the paper's "vertical stripe")
// Text rows and text columns are always dense when the layout has text tokens.
// A pattern holds at most one component of each kind (a union of two windows is the wider window).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "svdit/data/token_layout.h"

namespace svdit::data {

enum class ComponentKind { dense, skip, window, temporal, stripe };

const char* to_string(ComponentKind kind);

// Half-open range [begin, end) of original token indices.
struct TokenRange {
  int64_t begin = 0;
  int64_t end = 0;
  bool operator==(const TokenRange&) const = default;
};

struct Component {
  ComponentKind kind = ComponentKind::dense;
  int64_t window = 0;               // window: w, in tokens of frame-major order
  int64_t spatial_width = 0;        // temporal: w_s, in positions p within a frame
  int64_t frame_width = 0;          // temporal: w_f, in frames
  std::vector<TokenRange> columns;  // stripe: the key columns, sorted and disjoint
  std::string rule;                 // stripe: how the columns were chosen ("first_frame", "text", "top_k", …)

  bool operator==(const Component&) const = default;
};

struct Pattern {
  std::vector<Component> components;

  bool is_skip() const;
  bool is_dense() const;
  const Component* find(ComponentKind kind) const;  // nullptr when absent
  bool operator==(const Pattern&) const = default;
};

// Building blocks. The stripe helpers produce the columns the profiler's rules would choose.
Component dense_component();
Component skip_component();
Component window_component(int64_t w);
Component temporal_component(int64_t spatial_width, int64_t frame_width);
Component stripe_component(std::vector<TokenRange> columns, std::string rule);
Component first_frame_stripe(const TokenLayout& layout);  // all P tokens of frame 0
Pattern make_pattern(std::vector<Component> components);

// Throws FormatError(source, object, …) unless the pattern is well formed for this layout: skip/dense alone,
// at most one component per kind, non-negative widths, stripe columns sorted, disjoint and inside [0, S).
void validate(const Pattern& pattern, const TokenLayout& layout, const std::string& source = "<memory>",
              const std::string& object = "pattern");

// Token-level mask of the pattern: true when query i attends key j (original indices, 0 ≤ i, j < S).
// The reference definition; compile_pattern() must select exactly the blocks that contain a true pair.
bool attends(const Pattern& pattern, const TokenLayout& layout, int64_t i, int64_t j);

// Exact fraction of (i, j) pairs the mask keeps, from interval arithmetic (no S×S loop).
double token_density(const Pattern& pattern, const TokenLayout& layout);

// "window(w=3120)+stripe(first_frame, 1560 cols)"
std::string describe(const Pattern& pattern);

// JSON form used in plans and profiles (docs/FORMATS.md):
//   [{"type":"window","w":3120}, {"type":"stripe","rule":"first_frame","columns":[[0,1560]]}]
nlohmann::json to_json(const Pattern& pattern);
// Throws FormatError(source, object, …) naming the bad field.
Pattern pattern_from_json(const nlohmann::json& j, const std::string& source = "<memory>",
                          const std::string& object = "pattern");

}  // namespace svdit::data
