// The candidate patterns of a profile (see candidate_family.h).

#include "svdit/profiler/candidate_family.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "svdit/data/pattern.h"

namespace svdit::profiler {

namespace {

int64_t round_positive(double x) { return std::max<int64_t>(1, std::llround(x)); }

bool is_top_k_stripe(const data::Component& c) {
  return c.kind == data::ComponentKind::stripe && c.rule == kTopKRule;
}

// The pattern with the columns of its top_k stripe removed (to compare patterns whatever the calibration chose).
data::Pattern without_top_k_columns(data::Pattern pattern) {
  for (data::Component& c : pattern.components) {
    if (is_top_k_stripe(c)) c.columns.clear();
  }
  return pattern;
}

}  // namespace

int64_t default_top_k_blocks(const data::TokenLayout& layout) {
  const int64_t k = round_positive(static_cast<double>(layout.tokens_per_frame()) /
                                   static_cast<double>(layout.block_size));
  return std::max<int64_t>(1, std::min(k, layout.num_blocks() - 1));
}

std::vector<data::ProfileCandidate> default_candidates(const data::TokenLayout& layout,
                                                       const std::vector<data::TokenRange>& top_k_columns) {
  data::validate(layout);
  const int64_t P = layout.tokens_per_frame(), F = layout.frames, W = layout.width;
  const int64_t video = layout.video_tokens();
  std::vector<data::Pattern> patterns;
  auto add = [&](data::Pattern p) {
    if (std::find(patterns.begin(), patterns.end(), p) == patterns.end()) patterns.push_back(std::move(p));
  };
  add(data::make_pattern({data::dense_component()}));
  add(data::make_pattern({data::skip_component()}));

  // window: only widths that leave some video pair out (w ≥ F·P − 1 keeps every pair).
  for (const double x : {0.5, 1.0, 2.0, 4.0}) {
    const int64_t w = round_positive(x * static_cast<double>(P));
    if (w < video - 1) add(data::make_pattern({data::window_component(w)}));
  }
  // temporal: the same spatial neighbourhood across frames.
  if (F > 1) {
    const int64_t all_frames = F - 1;
    const int64_t some_frames = std::max<int64_t>(1, (F - 1 + 3) / 4);
    for (const int64_t ws : {round_positive(0.5 * static_cast<double>(W)), W, 2 * W}) {
      if (ws >= P - 1) continue;  // every position: not a temporal pattern any more
      for (const int64_t wf : {all_frames, some_frames}) add(data::make_pattern({data::temporal_component(ws, wf)}));
    }
  }
  const int64_t half_frame = round_positive(0.5 * static_cast<double>(P));
  if (F > 1) {
    const data::Component first = data::first_frame_stripe(layout);
    add(data::make_pattern({first}));
    add(data::make_pattern({data::window_component(half_frame), first}));
    add(data::make_pattern({data::window_component(P), first}));
  }
  const data::Component top_k = data::stripe_component(top_k_columns, kTopKRule);
  add(data::make_pattern({top_k}));
  add(data::make_pattern({data::window_component(half_frame), top_k}));
  add(data::make_pattern({data::window_component(P), top_k}));

  std::vector<data::ProfileCandidate> out;
  for (size_t i = 0; i < patterns.size(); ++i) {
    out.push_back(data::ProfileCandidate{static_cast<int32_t>(i), std::move(patterns[i]), 0.0, 0.0});
  }
  if (!top_k_columns.empty()) compute_densities(out, layout);
  return out;
}

bool has_top_k_placeholders(const std::vector<data::ProfileCandidate>& candidates) {
  for (const data::ProfileCandidate& c : candidates) {
    for (const data::Component& comp : c.pattern.components) {
      if (is_top_k_stripe(comp) && comp.columns.empty()) return true;
    }
  }
  return false;
}

void fill_top_k(std::vector<data::ProfileCandidate>& candidates, const std::vector<data::TokenRange>& columns,
                const data::TokenLayout& layout) {
  for (data::ProfileCandidate& c : candidates) {
    for (data::Component& comp : c.pattern.components) {
      if (is_top_k_stripe(comp) && comp.columns.empty()) comp.columns = columns;
    }
  }
  compute_densities(candidates, layout);
}

void compute_densities(std::vector<data::ProfileCandidate>& candidates, const data::TokenLayout& layout) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    data::ProfileCandidate& c = candidates[i];
    data::validate(c.pattern, layout, "<candidates>", "candidate " + std::to_string(i) + " (id " +
                                                          std::to_string(c.id) + ")");
    c.block_density = data::compile_pattern(c.pattern, layout).block_density();
    c.token_density = data::token_density(c.pattern, layout);
  }
}

std::vector<data::TokenRange> choose_top_k_columns(std::span<const double> column_mass,
                                                   const data::TokenLayout& layout, int64_t k_blocks) {
  const int64_t S = layout.seq_len(), b = layout.block_size;
  if (static_cast<int64_t>(column_mass.size()) != S) {
    throw std::invalid_argument("choose_top_k_columns: column_mass has " + std::to_string(column_mass.size()) +
                                " values, expected S = " + std::to_string(S));
  }
  if (k_blocks < 1) throw std::invalid_argument("choose_top_k_columns: k_blocks must be >= 1");
  const int64_t v0 = layout.video_begin(), v1 = layout.video_end();
  struct Block {
    int64_t begin, end;
    double mass;
  };
  std::vector<Block> blocks;
  for (int64_t g = 0; g * b < S; ++g) {
    const int64_t begin = std::max(g * b, v0), end = std::min((g + 1) * b, v1);
    if (begin >= end) continue;
    double mass = 0;
    for (int64_t j = begin; j < end; ++j) mass += column_mass[static_cast<size_t>(j)];
    blocks.push_back({begin, end, mass});
  }
  std::stable_sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& c) { return a.mass > c.mass; });
  blocks.resize(std::min<size_t>(blocks.size(), static_cast<size_t>(k_blocks)));
  std::sort(blocks.begin(), blocks.end(), [](const Block& a, const Block& c) { return a.begin < c.begin; });
  std::vector<data::TokenRange> ranges;
  for (const Block& blk : blocks) {
    if (!ranges.empty() && ranges.back().end == blk.begin) {
      ranges.back().end = blk.end;
    } else {
      ranges.push_back({blk.begin, blk.end});
    }
  }
  return ranges;
}

std::vector<data::ProfileCandidate> read_candidates_file(const std::filesystem::path& path,
                                                         const data::TokenLayout& layout) {
  const std::string source = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw data::FormatError(source, "file", "cannot open the candidates file");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw data::FormatError(source, "JSON", std::string("not valid JSON: ") + e.what());
  }
  if (!json.is_array() || json.empty()) {
    throw data::FormatError(source, "top level", "expected a non-empty array of patterns");
  }
  std::vector<data::ProfileCandidate> out;
  std::set<int32_t> ids;
  bool has_dense = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const std::string at = "[" + std::to_string(i) + "]";
    const nlohmann::json& item = json[i];
    int64_t id = static_cast<int64_t>(i);
    const nlohmann::json* components = &item;
    if (item.is_object()) {
      for (const auto& [key, value] : item.items()) {
        if (key != "id" && key != "components") {
          throw data::FormatError(source, at + "." + key, "unknown field (expected \"id\" and \"components\")");
        }
        static_cast<void>(value);
      }
      if (!item.contains("id") || !item.at("id").is_number_integer()) {
        throw data::FormatError(source, at + ".id", "expected an integer id");
      }
      id = item.at("id").get<int64_t>();
      if (!item.contains("components")) throw data::FormatError(source, at + ".components", "missing");
      components = &item.at("components");
    } else if (!item.is_array()) {
      throw data::FormatError(source, at, "expected a pattern (array of components) or {\"id\", \"components\"}");
    }
    if (id < 0 || id > INT32_MAX) throw data::FormatError(source, at + ".id", "expected an id in [0, 2^31)");
    if (!ids.insert(static_cast<int32_t>(id)).second) {
      throw data::FormatError(source, at + ".id", "id " + std::to_string(id) + " appears twice");
    }
    data::Pattern pattern = data::pattern_from_json(*components, source, at);
    data::validate(pattern, layout, source, at);
    has_dense = has_dense || pattern.is_dense();
    out.push_back(data::ProfileCandidate{static_cast<int32_t>(id), std::move(pattern), 0.0, 0.0});
  }
  if (!has_dense) {
    throw data::FormatError(source, "candidates",
                            "no dense candidate ([{\"type\": \"dense\"}]): it is the reference of every error and "
                            "the baseline of the search");
  }
  compute_densities(out, layout);
  return out;
}

bool same_candidates(const std::vector<data::ProfileCandidate>& file,
                     const std::vector<data::ProfileCandidate>& requested, std::string* why) {
  auto fail = [&](const std::string& what) {
    if (why) *why = what;
    return false;
  };
  if (file.size() != requested.size()) {
    return fail("the file has " + std::to_string(file.size()) + " candidates, this run " +
                std::to_string(requested.size()));
  }
  for (size_t i = 0; i < file.size(); ++i) {
    const data::ProfileCandidate& f = file[i];
    const data::ProfileCandidate& r = requested[i];
    const bool placeholder = has_top_k_placeholders({r});
    const bool same_pattern = placeholder ? without_top_k_columns(f.pattern) == without_top_k_columns(r.pattern)
                                          : f.pattern == r.pattern;
    if (f.id != r.id || !same_pattern) {
      return fail("candidate " + std::to_string(i) + ": the file has id " + std::to_string(f.id) + " " +
                  data::describe(f.pattern) + ", this run id " + std::to_string(r.id) + " " +
                  data::describe(r.pattern));
    }
  }
  return true;
}

}  // namespace svdit::profiler
