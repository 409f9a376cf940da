// Loading and validating what the search reads from a profile.
#include "svdit/search/input.h"

#include <cmath>
#include <string>

#include "svdit/data/error.h"
#include "svdit/data/profile_reader.h"
#include "svdit/search/digest.h"

namespace svdit::search {

using data::FormatError;

namespace {

std::string index_text(int64_t p, int64_t s, int64_t l, int64_t h, int64_t c) {
  return "[prompt " + std::to_string(p) + ", step " + std::to_string(s) + ", layer " + std::to_string(l) +
         ", head " + std::to_string(h) + ", candidate " + std::to_string(c) + "]";
}

std::string shape_text(const std::array<int64_t, 5>& shape) {
  std::string text = "[";
  for (size_t d = 0; d < shape.size(); ++d) text += (d ? ", " : "") + std::to_string(shape[d]);
  return text + "]";
}

void validate_error(const SearchInput& input) {
  const data::ProfileMeta& meta = input.meta;
  const std::array<int64_t, 5> expected{meta.num_prompts(), meta.num_steps(), meta.layers, meta.heads,
                                        input.num_candidates()};
  if (input.error.shape != expected || static_cast<int64_t>(input.error.data.size()) != data::Array5<float>::count(expected))
    throw FormatError(input.source, "/error",
                      "expected shape [prompt, step, layer, head, candidate] = " + shape_text(expected) + " with " +
                          std::to_string(data::Array5<float>::count(expected)) + " values, found shape " +
                          shape_text(input.error.shape) + " with " + std::to_string(input.error.data.size()) +
                          " values");
  // Scanned in storage order; the index is rebuilt only for the message.
  for (size_t i = 0; i < input.error.data.size(); ++i) {
    const float value = input.error.data[i];
    if (std::isfinite(value) && value >= 0.0f) continue;
    auto rest = static_cast<int64_t>(i);
    std::array<int64_t, 5> at{};
    for (size_t d = 5; d-- > 0;) {
      at[d] = rest % expected[d];
      rest /= expected[d];
    }
    const std::string where = index_text(at[0], at[1], at[2], at[3], at[4]);
    if (std::isnan(value))
      throw FormatError(input.source, "/error",
                        "entry " + where + " is NaN (not measured); the search needs every error measured" +
                            (input.complete ? std::string(" (and the profile claims to be complete)")
                                            : std::string(": the profile is incomplete, resume `svdit profile` first")));
    throw FormatError(input.source, "/error",
                      "entry " + where + " is " + std::to_string(value) + "; expected a finite relative MSE >= 0");
  }
}

void validate_cost(const SearchInput& input) {
  if (!input.cost) return;
  const data::CostTable& cost = *input.cost;
  if (cost.num_candidates != input.num_candidates())
    throw FormatError(input.source, "/cost/table",
                      "expected one row per candidate (" + std::to_string(input.num_candidates()) + "), found " +
                          std::to_string(cost.num_candidates) + " rows");
  if (cost.max_group < 1 || cost.max_group > input.meta.heads)
    throw FormatError(input.source, "/cost/table",
                      "expected group sizes within 1..heads (" + std::to_string(input.meta.heads) +
                          "), found a largest group size of " + std::to_string(cost.max_group));
  for (int64_t i = 0; i < cost.num_sizes(); ++i) {
    const int64_t g = cost.group_size_at(i);
    if (g < 1 || g > cost.max_group || (i > 0 && g <= cost.group_size_at(i - 1)))
      throw FormatError(input.source, "/cost/group_sizes",
                        "expected group sizes strictly ascending within 1..max_group (" +
                            std::to_string(cost.max_group) + "), found " + std::to_string(g) + " at [" +
                            std::to_string(i) + "]");
  }
  const auto expected = static_cast<size_t>(cost.num_candidates * cost.num_sizes());
  if (cost.us.size() != expected)
    throw FormatError(input.source, "/cost/table",
                      "expected [candidate, group size] = [" + std::to_string(cost.num_candidates) + ", " +
                          std::to_string(cost.num_sizes()) + "] = " + std::to_string(expected) + " times, found " +
                          std::to_string(cost.us.size()));
  if (!cost.permute_us.empty() && cost.permute_us.size() != expected)
    throw FormatError(input.source, "/cost/permute",
                      "expected " + std::to_string(expected) + " times (the shape of /cost/table), found " +
                          std::to_string(cost.permute_us.size()));
  for (int64_t c = 0; c < cost.num_candidates; ++c)
    for (int64_t i = 0; i < cost.num_sizes(); ++i) {
      const int64_t g = cost.group_size_at(i);
      const double us = cost.time_us(c, g);
      if (!std::isfinite(us) || us < 0.0)
        throw FormatError(input.source, "/cost/table",
                          "entry [candidate " + std::to_string(c) + ", group size " + std::to_string(g) + "] is " +
                              std::to_string(us) + "; expected a finite time in us >= 0");
    }
  for (const double t : {cost.dense_layer_us, cost.skip_layer_us})
    if (!std::isfinite(t) || t < 0.0)
      throw FormatError(input.source, "/cost/layer_us", "expected finite times in us >= 0, found " + std::to_string(t));
  if (cost.version >= 2 && !(cost.dense_layer_us > 0.0))
    throw FormatError(input.source, "/cost/layer_us",
                      "the all-dense layer has time " + std::to_string(cost.dense_layer_us) +
                          " us; expected a measured time > 0 (the baseline of every speed-up)");
  // Dense is the baseline of every speed-up: a zero time would make them all meaningless.
  const int64_t dense = dense_candidate(input);
  const double dense_us = cost.time_us(dense, cost.group_size_at(0));
  if (!(dense_us > 0.0))
    throw FormatError(input.source, "/cost/table",
                      "the dense candidate (row " + std::to_string(dense) + ") has time " + std::to_string(dense_us) +
                          " us for " + std::to_string(cost.group_size_at(0)) + " head(s); expected a measured time > 0");
}

}  // namespace

int64_t dense_candidate(const SearchInput& input) {
  for (size_t c = 0; c < input.candidates.size(); ++c)
    if (input.candidates[c].pattern.is_dense()) return static_cast<int64_t>(c);
  throw FormatError(input.source, "/candidates",
                    "no candidate is `dense`; the search needs dense as the fallback for heads no sparse pattern "
                    "serves (and as the baseline of the predicted speed-up)");
}

void validate(const SearchInput& input) {
  data::validate(input.meta, input.source);
  if (input.meta.num_prompts() < 1)
    throw FormatError(input.source, "/meta/prompts", "expected at least one calibration prompt, found none");
  if (input.meta.num_steps() < 1)
    throw FormatError(input.source, "/meta/steps", "expected at least one profiled step, found none");
  if (input.candidates.empty())
    throw FormatError(input.source, "/candidates", "expected at least one candidate pattern, found none");
  data::validate(input.candidates, input.meta.layout, input.source);
  dense_candidate(input);
  validate_error(input);
  validate_cost(input);
}

namespace {

SearchInput copy_from(const data::ProfileReader& reader) {
  SearchInput input;
  input.source = reader.path().string();
  input.meta = reader.meta();
  input.candidates = reader.candidates();
  input.error = reader.error();
  input.cost = reader.cost();
  input.complete = reader.complete();
  return input;
}

}  // namespace

SearchInput make_search_input(const data::ProfileReader& reader) {
  SearchInput input = copy_from(reader);
  validate(input);
  return input;
}

SearchInput load_search_input(const std::filesystem::path& profile) {
  SearchInput input = copy_from(data::ProfileReader::open(profile));
  const FileDigest digest = digest_file(profile);
  input.digest = digest.text;
  input.file_bytes = digest.bytes;
  validate(input);
  return input;
}

}  // namespace svdit::search
