// Pattern definitions, their token-level mask, exact token density and JSON form.
#include "svdit/data/pattern.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/size_limits.h"

namespace svdit::data {

const char* to_string(ComponentKind kind) {
  switch (kind) {
    case ComponentKind::dense: return "dense";
    case ComponentKind::skip: return "skip";
    case ComponentKind::window: return "window";
    case ComponentKind::temporal: return "temporal";
    case ComponentKind::stripe: return "stripe";
  }
  return "?";
}

bool Pattern::is_skip() const { return find(ComponentKind::skip) != nullptr; }
bool Pattern::is_dense() const { return find(ComponentKind::dense) != nullptr; }

const Component* Pattern::find(ComponentKind kind) const {
  for (const Component& c : components) {
    if (c.kind == kind) return &c;
  }
  return nullptr;
}

Component dense_component() {
  Component c;
  c.kind = ComponentKind::dense;
  return c;
}

Component skip_component() {
  Component c;
  c.kind = ComponentKind::skip;
  return c;
}

Component window_component(int64_t w) {
  Component c;
  c.kind = ComponentKind::window;
  c.window = w;
  return c;
}

Component temporal_component(int64_t spatial_width, int64_t frame_width) {
  Component c;
  c.kind = ComponentKind::temporal;
  c.spatial_width = spatial_width;
  c.frame_width = frame_width;
  return c;
}

Component stripe_component(std::vector<TokenRange> columns, std::string rule) {
  Component c;
  c.kind = ComponentKind::stripe;
  c.columns = std::move(columns);
  c.rule = std::move(rule);
  return c;
}

Component first_frame_stripe(const TokenLayout& layout) {
  return stripe_component({{layout.video_begin(), layout.video_begin() + layout.tokens_per_frame()}}, "first_frame");
}

Pattern make_pattern(std::vector<Component> components) { return Pattern{std::move(components)}; }

void validate(const TokenLayout& layout, const std::string& source) {
  auto require = [&](bool ok, const std::string& field, const std::string& what) {
    if (!ok) throw FormatError(source, "layout." + field, what);
  };
  require(layout.frames > 0, "frames", "expected > 0, got " + std::to_string(layout.frames));
  require(layout.height > 0, "height", "expected > 0, got " + std::to_string(layout.height));
  require(layout.width > 0, "width", "expected > 0, got " + std::to_string(layout.width));
  require(layout.text_prefix >= 0, "text_prefix", "expected >= 0, got " + std::to_string(layout.text_prefix));
  require(layout.text_suffix >= 0, "text_suffix", "expected >= 0, got " + std::to_string(layout.text_suffix));
  require(layout.block_size == 64 || layout.block_size == 128, "block_size",
          "expected 64 or 128, got " + std::to_string(layout.block_size));
  // Kernels index tokens with int32; keep every size (and F·P products) comfortably inside that range.
  constexpr int64_t kMaxTokens = int64_t{1} << 30;
  require(layout.frames < kMaxTokens && layout.height < kMaxTokens && layout.width < kMaxTokens &&
              layout.text_prefix < kMaxTokens && layout.text_suffix < kMaxTokens &&
              layout.tokens_per_frame() < kMaxTokens && layout.seq_len() < kMaxTokens,
          "seq_len", "expected fewer than 2^30 tokens");
  // Patterns compile to [G] lists of up to G key blocks and profiles hold [G, G] maps per head: bound G before any
  // reader allocates for it (a plan with S just under 2^30 made `svdit inspect` allocate 5 GB and die).
  const int64_t blocks = (layout.seq_len() + layout.block_size - 1) / layout.block_size;
  if (blocks > kMaxBlocks) {
    throw FormatError(source, "layout.seq_len",
                      "S = " + std::to_string(layout.seq_len()) + " tokens make G = " + std::to_string(blocks) +
                          " blocks of " + std::to_string(layout.block_size) + ", which exceeds the bound " +
                          std::to_string(kMaxBlocks) + " blocks (S <= " + std::to_string(kMaxBlocks) + " * b)");
  }
}

std::string describe(const TokenLayout& layout) {
  std::ostringstream out;
  out << "F=" << layout.frames << " H'=" << layout.height << " W'=" << layout.width
      << " (P=" << layout.tokens_per_frame() << ") T0=" << layout.text_prefix << " T1=" << layout.text_suffix
      << " S=" << layout.seq_len() << " b=" << layout.block_size;
  return out.str();
}

void validate(const Pattern& pattern, const TokenLayout& layout, const std::string& source,
              const std::string& object) {
  auto fail = [&](const std::string& field, const std::string& what) {
    throw FormatError(source, object + field, what);
  };
  if (pattern.components.empty()) fail("", "expected at least one component (use \"skip\" for a head that computes nothing)");
  const bool alone_required = pattern.is_skip() || pattern.is_dense();
  if (alone_required && pattern.components.size() != 1) {
    fail("", std::string("\"") + (pattern.is_skip() ? "skip" : "dense") + "\" must be the only component, got " +
                 std::to_string(pattern.components.size()) + " components");
  }
  const int64_t seq_len = layout.seq_len();
  for (size_t i = 0; i < pattern.components.size(); ++i) {
    const Component& c = pattern.components[i];
    const std::string at = "[" + std::to_string(i) + "]";
    for (size_t k = 0; k < i; ++k) {
      if (pattern.components[k].kind == c.kind) {
        fail(at + ".type", std::string("a pattern holds at most one \"") + to_string(c.kind) + "\" component");
      }
    }
    switch (c.kind) {
      case ComponentKind::dense:
      case ComponentKind::skip: break;
      case ComponentKind::window:
        if (c.window < 0) fail(at + ".w", "expected >= 0, got " + std::to_string(c.window));
        break;
      case ComponentKind::temporal:
        if (c.spatial_width < 0) fail(at + ".w_s", "expected >= 0, got " + std::to_string(c.spatial_width));
        if (c.frame_width < 0) fail(at + ".w_f", "expected >= 0, got " + std::to_string(c.frame_width));
        break;
      case ComponentKind::stripe: {
        int64_t previous_end = 0;
        for (size_t r = 0; r < c.columns.size(); ++r) {
          const TokenRange& range = c.columns[r];
          const std::string field = at + ".columns[" + std::to_string(r) + "]";
          if (range.begin < 0 || range.end > seq_len || range.begin >= range.end) {
            fail(field, "expected a non-empty range inside [0, " + std::to_string(seq_len) + "), got [" +
                            std::to_string(range.begin) + ", " + std::to_string(range.end) + ")");
          }
          if (r > 0 && range.begin < previous_end) {
            fail(field, "expected ranges sorted and disjoint; starts at " + std::to_string(range.begin) +
                            " before the previous range ends at " + std::to_string(previous_end));
          }
          previous_end = range.end;
        }
        break;
      }
    }
  }
}

namespace {

struct VideoCoord {
  int64_t f;
  int64_t p;
};

bool is_video(const TokenLayout& layout, int64_t token) {
  return token >= layout.video_begin() && token < layout.video_end();
}

VideoCoord video_coord(const TokenLayout& layout, int64_t token) {
  const int64_t v = token - layout.video_begin();
  return {v / layout.tokens_per_frame(), v % layout.tokens_per_frame()};
}

bool in_columns(const std::vector<TokenRange>& columns, int64_t token) {
  auto it = std::upper_bound(columns.begin(), columns.end(), token,
                             [](int64_t t, const TokenRange& r) { return t < r.begin; });
  return it != columns.begin() && token < std::prev(it)->end;
}

}  // namespace

bool attends(const Pattern& pattern, const TokenLayout& layout, int64_t i, int64_t j) {
  if (pattern.is_skip()) return false;
  if (pattern.is_dense()) return true;
  if (!is_video(layout, i) || !is_video(layout, j)) return true;  // text rows and columns are dense
  const VideoCoord qi = video_coord(layout, i);
  const VideoCoord kj = video_coord(layout, j);
  for (const Component& c : pattern.components) {
    switch (c.kind) {
      case ComponentKind::window:
        if (std::abs(i - j) <= c.window) return true;
        break;
      case ComponentKind::temporal:
        if (std::abs(qi.p - kj.p) <= c.spatial_width && std::abs(qi.f - kj.f) <= c.frame_width) return true;
        break;
      case ComponentKind::stripe:
        if (in_columns(c.columns, j)) return true;
        break;
      case ComponentKind::dense:
      case ComponentKind::skip: break;
    }
  }
  return false;
}

namespace {

// Counts of stripe columns among video tokens, per frame, for O(1) "how many stripe keys in frame f, positions
// [a, b]" queries: prefix[f][p] = number of stripe video tokens (f, p') with p' < p.
class StripeCounter {
 public:
  StripeCounter(const TokenLayout& layout, const Component* stripe)
      : frames_(layout.frames), positions_(layout.tokens_per_frame()) {
    if (stripe == nullptr) return;
    prefix_.assign(static_cast<size_t>(frames_ * (positions_ + 1)), 0);
    for (const TokenRange& range : stripe->columns) {
      for (int64_t t = std::max(range.begin, layout.video_begin()); t < std::min(range.end, layout.video_end()); ++t) {
        const VideoCoord c = video_coord(layout, t);
        prefix_[static_cast<size_t>(c.f * (positions_ + 1) + c.p + 1)] = 1;
        ++total_;
      }
    }
    for (int64_t f = 0; f < frames_; ++f) {
      int64_t* row = &prefix_[static_cast<size_t>(f * (positions_ + 1))];
      for (int64_t p = 1; p <= positions_; ++p) row[p] += row[p - 1];
    }
  }
  int64_t total() const { return total_; }
  // Stripe video tokens in frame f with position in [a, b] (inclusive; empty when a > b).
  int64_t count(int64_t f, int64_t a, int64_t b) const {
    if (prefix_.empty() || a > b) return 0;
    const int64_t* row = &prefix_[static_cast<size_t>(f * (positions_ + 1))];
    return row[b + 1] - row[a];
  }

 private:
  int64_t frames_;
  int64_t positions_;
  int64_t total_ = 0;
  std::vector<int64_t> prefix_;
};

}  // namespace

double token_density(const Pattern& pattern, const TokenLayout& layout) {
  const int64_t seq_len = layout.seq_len();
  const double all_pairs = static_cast<double>(seq_len) * static_cast<double>(seq_len);
  if (pattern.is_skip()) return 0.0;
  if (pattern.is_dense()) return 1.0;

  const int64_t frames = layout.frames;
  const int64_t positions = layout.tokens_per_frame();
  const int64_t video = layout.video_tokens();
  const int64_t text = seq_len - video;
  const Component* window = pattern.find(ComponentKind::window);
  const Component* temporal = pattern.find(ComponentKind::temporal);
  const StripeCounter stripes(layout, pattern.find(ComponentKind::stripe));

  // Text rows see every key; video rows see every text key plus the union of their video components, counted
  // by inclusion–exclusion over A = window interval, B = temporal rectangle, C = stripe columns.
  int64_t kept = text * seq_len;
  for (int64_t f = 0; f < frames; ++f) {
    for (int64_t p = 0; p < positions; ++p) {
      const int64_t v = f * positions + p;  // frame-major video index of the row
      const int64_t a_lo = window ? std::max<int64_t>(0, v - window->window) : 0;
      const int64_t a_hi = window ? std::min(video - 1, v + window->window) : -1;
      const int64_t b_f0 = temporal ? std::max<int64_t>(0, f - temporal->frame_width) : 0;
      const int64_t b_f1 = temporal ? std::min(frames - 1, f + temporal->frame_width) : -1;
      const int64_t b_p0 = temporal ? std::max<int64_t>(0, p - temporal->spatial_width) : 0;
      const int64_t b_p1 = temporal ? std::min(positions - 1, p + temporal->spatial_width) : -1;

      int64_t size_a = window ? a_hi - a_lo + 1 : 0;
      int64_t size_b = temporal ? (b_f1 - b_f0 + 1) * (b_p1 - b_p0 + 1) : 0;
      int64_t size_c = stripes.total();
      int64_t ab = 0, ac = 0, bc = 0, abc = 0;
      // Per frame f', the window covers positions [lo, hi] of that frame.
      for (int64_t g = 0; g < frames; ++g) {
        const bool in_b = temporal && g >= b_f0 && g <= b_f1;
        int64_t lo = 0, hi = -1;
        if (window) {
          lo = std::max(a_lo, g * positions) - g * positions;
          hi = std::min(a_hi, g * positions + positions - 1) - g * positions;
        }
        if (lo <= hi) {
          ac += stripes.count(g, lo, hi);
          if (in_b) {
            const int64_t i0 = std::max(lo, b_p0), i1 = std::min(hi, b_p1);
            if (i0 <= i1) {
              ab += i1 - i0 + 1;
              abc += stripes.count(g, i0, i1);
            }
          }
        }
        if (in_b) bc += stripes.count(g, b_p0, b_p1);
      }
      kept += text + size_a + size_b + size_c - ab - ac - bc + abc;
    }
  }
  return static_cast<double>(kept) / all_pairs;
}

std::string describe(const Pattern& pattern) {
  std::ostringstream out;
  for (size_t i = 0; i < pattern.components.size(); ++i) {
    const Component& c = pattern.components[i];
    if (i > 0) out << '+';
    out << to_string(c.kind);
    switch (c.kind) {
      case ComponentKind::window: out << "(w=" << c.window << ')'; break;
      case ComponentKind::temporal: out << "(w_s=" << c.spatial_width << ",w_f=" << c.frame_width << ')'; break;
      case ComponentKind::stripe: {
        int64_t count = 0;
        for (const TokenRange& r : c.columns) count += r.end - r.begin;
        out << '(' << (c.rule.empty() ? "explicit" : c.rule) << ", " << count << " cols)";
        break;
      }
      case ComponentKind::dense:
      case ComponentKind::skip: break;
    }
  }
  return out.str();
}

nlohmann::json to_json(const Pattern& pattern) {
  nlohmann::json components = nlohmann::json::array();
  for (const Component& c : pattern.components) {
    nlohmann::json j = {{"type", to_string(c.kind)}};
    switch (c.kind) {
      case ComponentKind::window: j["w"] = c.window; break;
      case ComponentKind::temporal:
        j["w_s"] = c.spatial_width;
        j["w_f"] = c.frame_width;
        break;
      case ComponentKind::stripe: {
        j["rule"] = c.rule;
        nlohmann::json columns = nlohmann::json::array();
        for (const TokenRange& r : c.columns) columns.push_back({r.begin, r.end});
        j["columns"] = std::move(columns);
        break;
      }
      case ComponentKind::dense:
      case ComponentKind::skip: break;
    }
    components.push_back(std::move(j));
  }
  return components;
}

namespace {

int64_t require_integer(const nlohmann::json& j, const char* key, const std::string& source, const std::string& at) {
  if (!j.contains(key)) throw FormatError(source, at + "." + key, "missing (expected an integer)");
  const nlohmann::json& v = j.at(key);
  if (!v.is_number_integer()) {
    throw FormatError(source, at + "." + key, std::string("expected an integer, got ") + v.type_name());
  }
  return v.get<int64_t>();
}

}  // namespace

Pattern pattern_from_json(const nlohmann::json& j, const std::string& source, const std::string& object) {
  if (!j.is_array()) {
    throw FormatError(source, object, std::string("expected an array of components, got ") + j.type_name());
  }
  Pattern pattern;
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& item = j[i];
    const std::string at = object + "[" + std::to_string(i) + "]";
    if (!item.is_object()) throw FormatError(source, at, std::string("expected an object, got ") + item.type_name());
    if (!item.contains("type") || !item.at("type").is_string()) {
      throw FormatError(source, at + ".type", "missing (expected one of dense, skip, window, temporal, stripe)");
    }
    const std::string type = item.at("type").get<std::string>();
    // Each type has exactly the fields of docs/FORMATS.md §Patterns ("rule" optional): an extra field is refused,
    // since a reader that ignored it would run something else than the file's writer meant (a misspelt "w").
    static const std::map<std::string, std::set<std::string>> kFields = {
        {"dense", {"type"}},          {"skip", {"type"}},
        {"window", {"type", "w"}},    {"temporal", {"type", "w_s", "w_f"}},
        {"stripe", {"type", "rule", "columns"}}};
    if (const auto fields = kFields.find(type); fields != kFields.end()) {
      for (const auto& [key, value] : item.items()) {
        if (!fields->second.contains(key)) {
          throw FormatError(source, at + "." + key, "unknown field of a \"" + type + "\" component");
        }
      }
    }
    Component c;
    if (type == "dense") {
      c = dense_component();
    } else if (type == "skip") {
      c = skip_component();
    } else if (type == "window") {
      c = window_component(require_integer(item, "w", source, at));
    } else if (type == "temporal") {
      c = temporal_component(require_integer(item, "w_s", source, at), require_integer(item, "w_f", source, at));
    } else if (type == "stripe") {
      std::string rule;
      if (item.contains("rule")) {
        if (!item.at("rule").is_string()) throw FormatError(source, at + ".rule", "expected a string");
        rule = item.at("rule").get<std::string>();
      }
      if (!item.contains("columns") || !item.at("columns").is_array()) {
        throw FormatError(source, at + ".columns", "missing (expected an array of [begin, end) pairs)");
      }
      std::vector<TokenRange> columns;
      const nlohmann::json& cols = item.at("columns");
      for (size_t r = 0; r < cols.size(); ++r) {
        const nlohmann::json& pair = cols[r];
        if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number_integer() || !pair[1].is_number_integer()) {
          throw FormatError(source, at + ".columns[" + std::to_string(r) + "]",
                            "expected a pair of integers [begin, end)");
        }
        columns.push_back({pair[0].get<int64_t>(), pair[1].get<int64_t>()});
      }
      c = stripe_component(std::move(columns), std::move(rule));
    } else {
      throw FormatError(source, at + ".type",
                        "expected one of dense, skip, window, temporal, stripe, got \"" + type + "\"");
    }
    pattern.components.push_back(std::move(c));
  }
  return pattern;
}

}  // namespace svdit::data
