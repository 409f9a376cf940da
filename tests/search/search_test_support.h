#pragma once
// Synthetic in-memory search inputs with chosen errors, densities and costs, so that each test knows its answer.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "svdit/data/pattern.h"
#include "svdit/data/profile.h"
#include "svdit/search/input.h"

namespace svdit::search::testing {

// A small layout (S = 128, 2 blocks of 64) that every pattern below is valid for.
inline data::TokenLayout small_layout() {
  return data::TokenLayout{.frames = 4, .height = 4, .width = 8, .text_prefix = 0, .text_suffix = 0, .block_size = 64};
}

inline data::Pattern dense() { return data::make_pattern({data::dense_component()}); }
inline data::Pattern skip() { return data::make_pattern({data::skip_component()}); }
inline data::Pattern window(int64_t w) { return data::make_pattern({data::window_component(w)}); }
inline data::Pattern temporal(int64_t ws, int64_t wf) { return data::make_pattern({data::temporal_component(ws, wf)}); }

using ErrorFunction = std::function<float(int64_t prompt, int64_t step, int64_t layer, int64_t head, int64_t candidate)>;
using CostFunction = std::function<double(int64_t candidate, int64_t group_size)>;

class InputBuilder {
 public:
  InputBuilder(int64_t layers, int64_t heads, std::vector<int64_t> steps = {0}, int64_t sampling_steps = 10,
               int64_t prompts = 2) {
    data::ProfileMeta& m = input_.meta;
    m.model = "search-test-model";
    m.layers = layers;
    m.heads = heads;
    m.head_dim = 64;
    m.layout = small_layout();
    m.dtype = "bfloat16";
    m.sampling_steps = sampling_steps;
    m.steps = std::move(steps);
    for (size_t s = 0; s < m.steps.size(); ++s) m.timesteps.push_back(1000.0 - static_cast<double>(s));
    for (int64_t p = 0; p < prompts; ++p) m.prompts.push_back("prompt " + std::to_string(p));
    m.synthetic = true;
  }

  // Candidates get ids 100, 101, … in the order added (ids differ from indices on purpose: plans use ids).
  InputBuilder& candidate(data::Pattern pattern, double block_density) {
    const auto id = static_cast<int32_t>(100 + input_.candidates.size());
    input_.candidates.push_back({id, std::move(pattern), block_density, block_density});
    return *this;
  }

  InputBuilder& errors(const ErrorFunction& f) {
    const data::ProfileMeta& m = input_.meta;
    const auto c = static_cast<int64_t>(input_.candidates.size());
    input_.error = data::Array5<float>({m.num_prompts(), m.num_steps(), m.layers, m.heads, c}, 0.0f);
    for (int64_t p = 0; p < m.num_prompts(); ++p)
      for (int64_t s = 0; s < m.num_steps(); ++s)
        for (int64_t l = 0; l < m.layers; ++l)
          for (int64_t h = 0; h < m.heads; ++h)
            for (int64_t k = 0; k < c; ++k) input_.error.at(p, s, l, h, k) = f(p, s, l, h, k);
    return *this;
  }

  // A measured table: f(c, g) for every group size 1..max_group. A version-2 table ("cupti", "cpu-aten") also
  // needs the all-dense and all-skip layer times; by default the all-dense layer is f(dense, g) scaled to every
  // head, and the all-skip layer 0. "cpu-wallclock" makes a version-1 table (the only version that source exists in).
  InputBuilder& cost(const CostFunction& f, int64_t max_group, std::string source = "cupti") {
    data::CostTable t{.version = source == "cpu-wallclock" ? 1 : 2, .source = std::move(source),
                      .device = "test device", .repetitions = 1,
                      .num_candidates = static_cast<int64_t>(input_.candidates.size()), .max_group = max_group,
                      .group_sizes = {}, .us = {}};
    for (int64_t c = 0; c < t.num_candidates; ++c)
      for (int64_t g = 1; g <= max_group; ++g) t.us.push_back(f(c, g));
    for (size_t c = 0; c < input_.candidates.size(); ++c)
      if (input_.candidates[c].pattern.is_dense()) {
        t.dense_layer_us = f(static_cast<int64_t>(c), max_group) * static_cast<double>(input_.meta.heads) /
                           static_cast<double>(max_group);
        break;
      }
    input_.cost = std::move(t);
    return *this;
  }

  // A version-2 table that the launch model fits exactly: one launch of g heads of c takes
  // last[c] + g·head[c] (+ permute_launch + g·permute_head for a permuted c, of which that part is the pre-pass),
  // measured at `sizes`.
  InputBuilder& launch_cost(const std::vector<double>& head, const std::vector<double>& last, double dense_layer,
                            double skip_layer, std::vector<int64_t> sizes, double permute_launch = 0.0,
                            double permute_head = 0.0, const std::vector<bool>& permuted = {}) {
    data::CostTable t{.version = 2, .source = "cupti", .device = "test device", .repetitions = 1,
                      .num_candidates = static_cast<int64_t>(input_.candidates.size()), .max_group = sizes.back(),
                      .group_sizes = sizes, .us = {}};
    for (size_t c = 0; c < input_.candidates.size(); ++c)
      for (const int64_t g : sizes) {
        const auto n = static_cast<double>(g);
        const bool perm = c < permuted.size() && permuted[c];
        const double pre = perm ? permute_launch + n * permute_head : 0.0;
        t.us.push_back(last[c] + n * head[c] + pre);
        t.permute_us.push_back(pre);
      }
    t.dense_layer_us = dense_layer;
    t.skip_layer_us = skip_layer;
    input_.cost = std::move(t);
    return *this;
  }

  SearchInput build() const { return input_; }

 private:
  SearchInput input_;
};

// splitmix64: deterministic random numbers for seeded random inputs.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  double uniform() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1p-53;
  }

 private:
  uint64_t state_;
};

// A random but profile-like input: candidates dense, skip, and `sparse` windows of rising density; error falls with
// density and varies by head, prompt and step; cost = a launch of g heads takes 3 + g x (1 + 50 x density) us.
inline SearchInput random_input(uint64_t seed, int64_t layers, int64_t heads, std::vector<int64_t> steps,
                                int64_t sampling_steps, int64_t prompts, int64_t sparse = 5) {
  InputBuilder b(layers, heads, std::move(steps), sampling_steps, prompts);
  b.candidate(dense(), 1.0).candidate(skip(), 0.0);
  for (int64_t k = 0; k < sparse; ++k)
    b.candidate(window(4 + 8 * k), 0.15 + 0.7 * static_cast<double>(k) / static_cast<double>(std::max<int64_t>(1, sparse - 1)));
  const SearchInput shape = b.build();
  Random random(seed);
  std::vector<double> head_scale(static_cast<size_t>(layers * heads));
  for (double& s : head_scale) s = 0.02 + 0.3 * random.uniform();
  b.errors([&](int64_t, int64_t, int64_t l, int64_t h, int64_t c) {
    if (c == 0) return 0.0f;
    if (c == 1) return 1.0f;
    const double density = shape.candidates[static_cast<size_t>(c)].block_density;
    return static_cast<float>(head_scale[static_cast<size_t>(l * heads + h)] * (1.0 - density) * (0.5 + random.uniform()));
  });
  b.cost([&](int64_t c, int64_t g) {
    return 3.0 + static_cast<double>(g) * (1.0 + 50.0 * shape.candidates[static_cast<size_t>(c)].block_density);
  }, heads);
  return b.build();
}

}  // namespace svdit::search::testing
