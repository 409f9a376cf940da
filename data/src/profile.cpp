// Validation of profile metadata and the CostTable accessor (plain data in profile.h).
#include "svdit/data/profile.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "svdit/data/error.h"
#include "svdit/data/size_limits.h"

namespace svdit::data {

void validate(const ProfileMeta& meta, const std::string& source) {
  auto require = [&](bool ok, const std::string& object, const std::string& what) {
    if (!ok) throw FormatError(source, object, what);
  };
  auto positive = [&](int64_t value, const char* name) {
    require(value >= 1, std::string("/meta attribute ") + name, "expected >= 1, found " + std::to_string(value));
  };
  require(!meta.model.empty(), "/ attribute model", "expected a model name, found an empty string");
  positive(meta.layers, "layers");
  positive(meta.heads, "heads");
  positive(meta.head_dim, "head_dim");
  require_at_most(meta.layers, kMaxLayers, source, "/meta attribute layers", "transformer blocks");
  require_at_most(meta.heads, kMaxHeads, source, "/meta attribute heads", "attention heads per layer");
  require_at_most(meta.head_dim, kMaxHeadDim, source, "/meta attribute head_dim", "channels per head");
  try {
    validate(meta.layout, source);
  } catch (const FormatError& e) {
    // validate(TokenLayout) names fields "layout.<field>"; in a profile they are attributes of /meta.
    const std::string message = e.what();
    const std::string what = message.substr(e.source().size() + 2 + e.object().size() + 2);
    const std::string field = e.object().substr(e.object().find('.') + 1);
    throw FormatError(source, "/meta attribute " + field, what);
  }
  require(meta.dtype == "float32" || meta.dtype == "float16" || meta.dtype == "bfloat16", "/meta attribute dtype",
          "expected \"float32\", \"float16\" or \"bfloat16\", found \"" + meta.dtype + "\"");
  positive(meta.sampling_steps, "sampling_steps");
  // The analyzer walks the sampling steps for its timeline: 2^62 of them made it hang.
  require_at_most(meta.sampling_steps, kMaxSamplingSteps, source, "/meta attribute sampling_steps",
                  "denoising steps of one run");

  require(!meta.steps.empty(), "/meta/steps", "expected at least one profiled step, found none");
  for (size_t s = 0; s < meta.steps.size(); ++s) {
    const std::string at = "element " + std::to_string(s) + " = " + std::to_string(meta.steps[s]);
    require(meta.steps[s] >= 0 && meta.steps[s] < meta.sampling_steps, "/meta/steps",
            at + ": expected a step index in [0, sampling_steps = " + std::to_string(meta.sampling_steps) + ")");
    require(s == 0 || meta.steps[s] > meta.steps[s - 1], "/meta/steps", at + ": expected strictly ascending steps");
  }
  require(meta.timesteps.size() == meta.steps.size(), "/meta/timesteps",
          "expected one timestep per profiled step (" + std::to_string(meta.steps.size()) + "), found " +
              std::to_string(meta.timesteps.size()));
  for (size_t s = 0; s < meta.timesteps.size(); ++s) {
    require(std::isfinite(meta.timesteps[s]), "/meta/timesteps",
            "element " + std::to_string(s) + ": expected a finite number, found " + std::to_string(meta.timesteps[s]));
  }
  require(!meta.prompts.empty(), "/meta/prompts", "expected at least one prompt, found none");
}

void validate(const std::vector<ProfileCandidate>& candidates, const TokenLayout& layout, const std::string& source) {
  if (candidates.empty()) throw FormatError(source, "/candidates/id", "expected at least one candidate, found none");
  std::set<int32_t> seen;
  for (size_t c = 0; c < candidates.size(); ++c) {
    const ProfileCandidate& candidate = candidates[c];
    const std::string row = "row " + std::to_string(c);
    if (candidate.id < 0 || !seen.insert(candidate.id).second) {
      throw FormatError(source, "/candidates/id",
                        row + ": expected a unique id >= 0, found " + std::to_string(candidate.id));
    }
    validate(candidate.pattern, layout, source, "/candidates/components[" + std::to_string(c) + "]");
    auto density = [&](double value, const char* object) {
      if (!(value >= 0.0 && value <= 1.0)) {
        throw FormatError(source, object, row + ": expected a density in [0, 1], found " + std::to_string(value));
      }
    };
    density(candidate.block_density, "/candidates/block_density");
    density(candidate.token_density, "/candidates/token_density");
  }
}

size_t CostTable::index(int64_t candidate, int64_t group_size) const {
  int64_t at = -1;
  if (group_sizes.empty()) {
    if (group_size >= 1 && group_size <= max_group) at = group_size - 1;
  } else {
    const auto it = std::lower_bound(group_sizes.begin(), group_sizes.end(), group_size);
    if (it != group_sizes.end() && *it == group_size) at = it - group_sizes.begin();
  }
  if (candidate < 0 || candidate >= num_candidates || at < 0) {
    throw std::out_of_range("CostTable: (candidate " + std::to_string(candidate) + ", group size " +
                            std::to_string(group_size) + ") is not measured (candidates [0, " +
                            std::to_string(num_candidates) + "), group sizes " +
                            (group_sizes.empty() ? "1.." + std::to_string(max_group) : "listed in group_sizes") + ")");
  }
  return static_cast<size_t>(candidate * num_sizes() + at);
}

}  // namespace svdit::data
