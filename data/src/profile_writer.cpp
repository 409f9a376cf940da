// Writing a profile slice by slice into "<target>.partial", resuming one, and committing it (profile_writer.h).
#include "svdit/data/profile_writer.h"


#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <optional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "hdf5_file.h"
#include "hdf5_float16.h"
#include "profile_journal.h"
#include "profile_schema.h"
#include "svdit/data/atomic_file.h"
#include "svdit/data/error.h"
#include "svdit/data/target_lock.h"

namespace svdit::data {

namespace schema = profile_schema;
using profile_journal::Journal;
using profile_journal::Unit;
using hdf5::Dtype;
using hdf5::Shape;

struct ProfileWriter::State {
  TargetLock lock;  // held from before the partial file is touched until the target is in place
  std::filesystem::path target;
  std::filesystem::path partial;
  hdf5::File file;
  ProfileMeta meta;
  std::vector<ProfileCandidate> candidates;
  // Mirrors of what the file holds, so that slice_written() and finish() need not read it back.
  Array5<float> error;                // [prompt, step, layer, head, candidate]
  Array5<float> recall;               // [prompt, step, layer, head, candidate]
  std::vector<uint8_t> maps_written;  // [step, layer, head]: 0 not yet, 1 stored, 2 omitted
  bool cost_written = false;
  Journal journal;  // what of the partial file a resume may trust (profile_journal.h)
};

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

hsize_t dim(int64_t n) { return static_cast<hsize_t>(n); }

void check_index(const char* function, const char* name, int64_t value, int64_t size) {
  if (value < 0 || value >= size) {
    throw std::out_of_range(std::string("ProfileWriter::") + function + ": " + name + " " + std::to_string(value) +
                            " outside [0, " + std::to_string(size) + ")");
  }
}

void check_length(const char* function, const char* name, size_t found, int64_t expected, const char* shape) {
  if (found != static_cast<size_t>(expected)) {
    throw std::invalid_argument(std::string("ProfileWriter::") + function + ": " + name + " has " +
                                std::to_string(found) + " values, expected " + std::to_string(expected) + " " + shape);
  }
}

void write_header(hdf5::File& file, const ProfileMeta& meta) {
  file.write_attribute("/", "format", std::string(schema::kFormat));
  file.write_attribute("/", "version", schema::kVersion);
  file.write_attribute("/", "tool_version", meta.tool_version);
  file.write_attribute("/", "model", meta.model);
  if (!meta.family.empty()) file.write_attribute("/", "family", meta.family);  // profiles before it have none
  file.write_attribute("/", "created", meta.created);
  file.write_attribute("/", "synthetic", int64_t{meta.synthetic ? 1 : 0});
  file.write_attribute("/", "complete", int64_t{0});
}

void write_meta(hdf5::File& file, const ProfileMeta& meta) {
  file.create_group(schema::kMeta);
  const TokenLayout& layout = meta.layout;
  for (const auto& [name, value] : {std::pair<const char*, int64_t>{"layers", meta.layers},
                                    {"heads", meta.heads},
                                    {"head_dim", meta.head_dim},
                                    {"frames", layout.frames},
                                    {"height", layout.height},
                                    {"width", layout.width},
                                    {"text_prefix", layout.text_prefix},
                                    {"text_suffix", layout.text_suffix},
                                    {"block_size", layout.block_size},
                                    {"sampling_steps", meta.sampling_steps}}) {
    file.write_attribute(schema::kMeta, name, value);
  }
  file.write_attribute(schema::kMeta, "dtype", meta.dtype);
  file.create_dataset(schema::kSteps, Dtype::int64, {dim(meta.num_steps())});
  file.write(schema::kSteps, meta.steps);
  file.create_dataset(schema::kTimesteps, Dtype::float64, {dim(meta.num_steps())});
  file.write(schema::kTimesteps, meta.timesteps);
  file.write_strings(schema::kPrompts, meta.prompts);
}

void write_candidates(hdf5::File& file, const std::vector<ProfileCandidate>& candidates) {
  file.create_group(schema::kCandidates);
  std::vector<int32_t> ids;
  std::vector<std::string> components;
  std::vector<double> block_density;
  std::vector<double> token_density;
  for (const ProfileCandidate& c : candidates) {
    ids.push_back(c.id);
    components.push_back(to_json(c.pattern).dump());
    block_density.push_back(c.block_density);
    token_density.push_back(c.token_density);
  }
  const Shape shape{dim(static_cast<int64_t>(candidates.size()))};
  file.create_dataset(schema::kCandidateId, Dtype::int32, shape);
  file.write(schema::kCandidateId, ids);
  file.write_strings(schema::kCandidateComponents, components);
  file.create_dataset(schema::kCandidateBlockDensity, Dtype::float64, shape);
  file.write(schema::kCandidateBlockDensity, block_density);
  file.create_dataset(schema::kCandidateTokenDensity, Dtype::float64, shape);
  file.write(schema::kCandidateTokenDensity, token_density);
}

// The bulk datasets, chunked along the unit the profiler writes (one (prompt, step) of measurements, one head's
// maps), compressed, and filled with NaN so that what was never written reads as "not measured".
void create_bulk_datasets(hdf5::File& file, const ProfileMeta& meta, int64_t num_candidates) {
  constexpr int kDeflate = 4;  // past level 4 zlib gains little on float data and costs the profiler time
  const Shape measurements = schema::measurement_shape(meta, num_candidates);
  const Shape measurement_chunk{1, 1, measurements[2], measurements[3], measurements[4]};
  file.create_dataset(schema::kError, Dtype::float32, measurements, {measurement_chunk, kDeflate, &kNaN});
  file.create_dataset(schema::kRecall, Dtype::float32, measurements, {measurement_chunk, kDeflate, &kNaN});

  file.create_group(schema::kMaps);
  const Shape pooled = schema::pooled_shape(meta);
  const Shape frames = schema::frames_shape(meta);
  const uint16_t half_nan = hdf5::kHalfNaN;
  file.create_dataset(schema::kPooled, Dtype::float16, pooled, {{1, 1, 1, pooled[3], pooled[4]}, kDeflate, &half_nan});
  file.create_dataset(schema::kFrames, Dtype::float32, frames, {{1, 1, 1, frames[3], frames[4]}, kDeflate, &kNaN});
  // Contiguous and written in full now: HDF5 allocates contiguous storage at the first partial write and, with no
  // user-defined fill value, leaves the rest as whatever the file space held (seen: a resumed run reading 82).
  const Shape written = schema::maps_written_shape(meta);
  file.create_dataset(schema::kMapsWritten, Dtype::uint8, written);
  file.write(schema::kMapsWritten, std::vector<uint8_t>(static_cast<size_t>(written[0] * written[1] * written[2]), 0));
}

bool all_numbers(const float* values, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (std::isnan(values[i])) return false;
  }
  return true;
}

// Forgets (in `contents`, which the writer then works from) every unit of the partial file that the journal does
// not vouch for: no record, or a checksum that does not match what the file holds now (a write cut off by a
// crash, a flush that never reached the disk). Those units read as unwritten, so the resumed run redoes them.
void trust_only_journaled(hdf5::File& file, const Journal& journal, schema::Contents& contents) {
  const ProfileMeta& meta = contents.meta;
  const auto per_slice = static_cast<size_t>(meta.heads) * contents.candidates.size();
  for (int64_t p = 0; p < meta.num_prompts(); ++p) {
    for (int64_t t = 0; t < meta.num_steps(); ++t) {
      for (int64_t l = 0; l < meta.layers; ++l) {
        const size_t begin = contents.error.offset(p, t, l, 0, 0);
        float* error = contents.error.data.data() + begin;
        float* recall = contents.recall.data.data() + begin;
        const bool any = std::any_of(error, error + per_slice, [](float x) { return !std::isnan(x); }) ||
                         std::any_of(recall, recall + per_slice, [](float x) { return !std::isnan(x); });
        if (!any) continue;
        const uint64_t held = profile_journal::slice_checksum({error, per_slice}, {recall, per_slice});
        if (journal.find(Unit::slice, p, t, l) != held) {
          std::fill_n(error, per_slice, kNaN);
          std::fill_n(recall, per_slice, kNaN);
        }
      }
    }
  }
  const int64_t g = meta.layout.num_blocks(), f = meta.layout.frames;
  std::vector<uint16_t> pooled(static_cast<size_t>(g * g));
  std::vector<float> frames(static_cast<size_t>(f * f));
  for (int64_t t = 0; t < meta.num_steps(); ++t) {
    for (int64_t l = 0; l < meta.layers; ++l) {
      for (int64_t h = 0; h < meta.heads; ++h) {
        uint8_t& flag = contents.maps_written[schema::head_index(meta, t, l, h)];
        if (flag == 2 && !journal.find(Unit::omit, t)) flag = 0;
        if (flag != 1) continue;
        const std::optional<uint64_t> recorded = journal.find(Unit::maps, t, l, h);
        if (!recorded) {  // never read what the journal does not vouch for: after a failed flush it can point anywhere
          flag = 0;
          continue;
        }
        try {
          file.read_slab(schema::kPooled, schema::pooled_shape(meta), {dim(t), dim(l), dim(h), 0, 0},
                         {1, 1, 1, dim(g), dim(g)}, pooled.data());
          file.read_slab(schema::kFrames, schema::frames_shape(meta), {dim(t), dim(l), dim(h), 0, 0},
                         {1, 1, 1, dim(f), dim(f)}, frames.data());
          if (*recorded != profile_journal::maps_checksum(pooled, frames)) flag = 0;
        } catch (const FormatError&) {
          flag = 0;  // unreadable (a chunk whose write was cut short): redone
        }
      }
    }
  }
  if (contents.cost) {
    const std::vector<KernelRecord> records =
        schema::read_kernel_records(file, static_cast<int64_t>(contents.candidates.size()), contents.cost->max_group);
    if (journal.find(Unit::cost) != profile_journal::cost_checksum(*contents.cost, records)) {
      file.remove(schema::kCost);
      contents.cost.reset();
    }
  }
}

}  // namespace

std::filesystem::path ProfileWriter::partial_path(const std::filesystem::path& target) {
  std::filesystem::path partial = target;
  partial += ".partial";
  return partial;
}

ProfileWriter::ProfileWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
ProfileWriter::ProfileWriter(ProfileWriter&&) noexcept = default;
ProfileWriter& ProfileWriter::operator=(ProfileWriter&&) noexcept = default;
ProfileWriter::~ProfileWriter() = default;

ProfileWriter::State& ProfileWriter::state() const {
  if (!state_) throw std::logic_error("ProfileWriter: used after finish() (or after being moved from)");
  return *state_;
}

ProfileWriter ProfileWriter::create(const std::filesystem::path& target, ProfileMeta meta,
                                    std::vector<ProfileCandidate> candidates) {
  const std::filesystem::path partial = partial_path(target);
  validate(meta, target.string());
  validate(candidates, meta.layout, target.string());
  if (meta.tool_version.empty()) meta.tool_version = "svdit " SVDIT_VERSION;
  if (meta.created.empty()) meta.created = utc_now();

  TargetLock lock = TargetLock::acquire(target);  // before the partial file is truncated
  // From here until the journal records `begin`, a crash leaves a partial file that no resume trusts.
  Journal::remove(partial);
  hdf5::File file = hdf5::File::create(partial);
  write_header(file, meta);
  write_meta(file, meta);
  write_candidates(file, candidates);
  const int64_t num_candidates = static_cast<int64_t>(candidates.size());
  create_bulk_datasets(file, meta, num_candidates);
  file.flush();
  Journal journal = Journal::create(partial);

  const Shape measurements = schema::measurement_shape(meta, num_candidates);
  std::array<int64_t, 5> shape{};
  for (size_t d = 0; d < 5; ++d) shape[d] = static_cast<int64_t>(measurements[d]);
  const size_t num_heads = static_cast<size_t>(meta.num_steps() * meta.layers * meta.heads);
  auto state = std::make_unique<State>(State{.lock = std::move(lock),
                                             .target = target,
                                             .partial = partial,
                                             .file = std::move(file),
                                             .meta = std::move(meta),
                                             .candidates = std::move(candidates),
                                             .error = Array5<float>(shape, kNaN),
                                             .recall = Array5<float>(shape, kNaN),
                                             .maps_written = std::vector<uint8_t>(num_heads, 0),
                                             .cost_written = false,
                                             .journal = std::move(journal)});
  return ProfileWriter(std::move(state));
}

bool ProfileWriter::resumable(const std::filesystem::path& target) {
  const std::filesystem::path partial = partial_path(target);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(partial, ec)) return false;
  const std::optional<Journal> journal = Journal::open(partial);
  return journal && journal->begun();
}

ProfileWriter ProfileWriter::resume(const std::filesystem::path& target) {
  TargetLock lock = TargetLock::acquire(target);  // no other writer has the partial file open from here on
  const std::filesystem::path partial = partial_path(target);
  hdf5::File file = hdf5::File::open_after_crash(partial);
  std::optional<Journal> journal = Journal::open(partial);
  if (!journal || !journal->begun()) {
    throw FormatError(partial.string(), Journal::path_for(partial).string(),
                      "no journal of what was written (the run was cut off while creating the file, or an older "
                      "svdit wrote it): nothing in the file can be trusted; start over instead of resuming");
  }
  // A run cut off inside write_cost() can leave /cost half made; without its journal record it is redone.
  if (!journal->find(Unit::cost) && file.exists(schema::kCost)) file.remove(schema::kCost);
  schema::Contents contents = schema::load(file);
  if (contents.version != schema::kVersion) {
    throw FormatError(partial.string(), "/ attribute version",
                      "profile version " + std::to_string(contents.version) + " was written by an older svdit; this one "
                      "writes version " + std::to_string(schema::kVersion) + ": start over instead of resuming");
  }
  trust_only_journaled(file, *journal, contents);
  auto state = std::make_unique<State>(State{.lock = std::move(lock),
                                             .target = target,
                                             .partial = partial,
                                             .file = std::move(file),
                                             .meta = std::move(contents.meta),
                                             .candidates = std::move(contents.candidates),
                                             .error = std::move(contents.error),
                                             .recall = std::move(contents.recall),
                                             .maps_written = std::move(contents.maps_written),
                                             .cost_written = contents.cost.has_value(),
                                             .journal = std::move(*journal)});
  return ProfileWriter(std::move(state));
}

const std::filesystem::path& ProfileWriter::target() const { return state().target; }
const ProfileMeta& ProfileWriter::meta() const { return state().meta; }
const std::vector<ProfileCandidate>& ProfileWriter::candidates() const { return state().candidates; }

bool ProfileWriter::slice_written(int64_t prompt, int64_t step, int64_t layer) const {
  const State& s = state();
  check_index("slice_written", "prompt", prompt, s.meta.num_prompts());
  check_index("slice_written", "step", step, s.meta.num_steps());
  check_index("slice_written", "layer", layer, s.meta.layers);
  const size_t begin = s.error.offset(prompt, step, layer, 0, 0);
  const size_t count = static_cast<size_t>(s.meta.heads) * s.candidates.size();
  return all_numbers(s.error.data.data() + begin, count) && all_numbers(s.recall.data.data() + begin, count);
}

bool ProfileWriter::maps_written(int64_t step, int64_t layer, int64_t head) const {
  const State& s = state();
  check_index("maps_written", "step", step, s.meta.num_steps());
  check_index("maps_written", "layer", layer, s.meta.layers);
  check_index("maps_written", "head", head, s.meta.heads);
  return s.maps_written[schema::head_index(s.meta, step, layer, head)] == 1;
}

bool ProfileWriter::maps_omitted(int64_t step) const {
  const State& s = state();
  check_index("maps_omitted", "step", step, s.meta.num_steps());
  const size_t begin = schema::head_index(s.meta, step, 0, 0);
  const auto count = static_cast<size_t>(s.meta.layers * s.meta.heads);
  return std::all_of(s.maps_written.begin() + static_cast<std::ptrdiff_t>(begin),
                     s.maps_written.begin() + static_cast<std::ptrdiff_t>(begin + count),
                     [](uint8_t flag) { return flag == 2; });
}

void ProfileWriter::omit_maps(int64_t step) {
  State& s = state();
  check_index("omit_maps", "step", step, s.meta.num_steps());
  const size_t begin = schema::head_index(s.meta, step, 0, 0);
  const auto count = static_cast<size_t>(s.meta.layers * s.meta.heads);
  for (size_t i = begin; i < begin + count; ++i) {
    if (s.maps_written[i] == 1) {
      throw std::logic_error("ProfileWriter::omit_maps: step " + std::to_string(step) +
                             " already has stored maps (/maps/written element " + std::to_string(i) + ")");
    }
  }
  const std::vector<uint8_t> two(count, 2);
  s.file.write_slab(schema::kMapsWritten, {dim(step), 0, 0}, {1, dim(s.meta.layers), dim(s.meta.heads)}, two.data());
  s.file.flush();
  s.journal.record(Unit::omit, step, 0, 0, 0);
  std::fill_n(s.maps_written.begin() + static_cast<std::ptrdiff_t>(begin), count, uint8_t{2});
}

bool ProfileWriter::cost_written() const { return state().cost_written; }

void ProfileWriter::write_error_recall(int64_t prompt, int64_t step, int64_t layer, std::span<const float> error,
                                       std::span<const float> recall) {
  State& s = state();
  constexpr const char* fn = "write_error_recall";
  check_index(fn, "prompt", prompt, s.meta.num_prompts());
  check_index(fn, "step", step, s.meta.num_steps());
  check_index(fn, "layer", layer, s.meta.layers);
  const int64_t num_candidates = static_cast<int64_t>(s.candidates.size());
  check_length(fn, "error", error.size(), s.meta.heads * num_candidates, "[head, candidate]");
  check_length(fn, "recall", recall.size(), s.meta.heads * num_candidates, "[head, candidate]");
  for (size_t i = 0; i < error.size(); ++i) {
    const std::string at = "[" + std::to_string(i / static_cast<size_t>(num_candidates)) + ", " +
                           std::to_string(i % static_cast<size_t>(num_candidates)) + "] [head, candidate]";
    if (!schema::valid_error(error[i])) {
      throw std::invalid_argument(std::string("ProfileWriter::") + fn + ": /error " + at +
                                  ": expected a finite relative MSE >= 0, got " + std::to_string(error[i]));
    }
    if (!schema::valid_recall(recall[i])) {
      throw std::invalid_argument(std::string("ProfileWriter::") + fn + ": /recall " + at +
                                  ": expected a mass in [0, 1], got " + std::to_string(recall[i]));
    }
  }
  const Shape start{dim(prompt), dim(step), dim(layer), 0, 0};
  const Shape count{1, 1, 1, dim(s.meta.heads), dim(num_candidates)};
  s.file.write_slab(schema::kError, start, count, error.data());
  s.file.write_slab(schema::kRecall, start, count, recall.data());
  s.file.flush();
  s.journal.record(Unit::slice, prompt, step, layer, profile_journal::slice_checksum(error, recall));
  const size_t begin = s.error.offset(prompt, step, layer, 0, 0);
  std::copy(error.begin(), error.end(), s.error.data.begin() + static_cast<std::ptrdiff_t>(begin));
  std::copy(recall.begin(), recall.end(), s.recall.data.begin() + static_cast<std::ptrdiff_t>(begin));
}

void ProfileWriter::write_maps(int64_t step, int64_t layer, int64_t head, std::span<const float> pooled,
                               std::span<const float> frames) {
  State& s = state();
  constexpr const char* fn = "write_maps";
  check_index(fn, "step", step, s.meta.num_steps());
  check_index(fn, "layer", layer, s.meta.layers);
  check_index(fn, "head", head, s.meta.heads);
  if (s.maps_written[schema::head_index(s.meta, step, layer, head)] == 2) {
    throw std::logic_error(std::string("ProfileWriter::") + fn + ": the maps of step " + std::to_string(step) +
                           " are marked omitted (omit_maps)");
  }
  const int64_t g = s.meta.layout.num_blocks();
  const int64_t f = s.meta.layout.frames;
  check_length(fn, "pooled", pooled.size(), g * g, "[G, G]");
  check_length(fn, "frames", frames.size(), f * f, "[F, F]");
  // Rows of the pooled map cover every key, so they sum to 1; frame rows miss the mass on text tokens.
  auto check_rows = [&](std::span<const float> map, int64_t n, const char* name, bool sums_to_one) {
    for (int64_t row = 0; row < n; ++row) {
      double sum = 0.0;
      for (int64_t col = 0; col < n; ++col) {
        const float value = map[static_cast<size_t>(row * n + col)];
        if (!(std::isfinite(value) && value >= 0.0f)) {
          throw std::invalid_argument(std::string("ProfileWriter::") + fn + ": " + name + " [" + std::to_string(row) +
                                      ", " + std::to_string(col) + "]: expected a finite mass >= 0, got " +
                                      std::to_string(value));
        }
        sum += value;
      }
      const bool ok =
          sums_to_one ? std::abs(sum - 1.0) <= schema::kRowSumTolerance : sum <= 1.0 + schema::kRowSumTolerance;
      if (!ok) {
        throw std::invalid_argument(std::string("ProfileWriter::") + fn + ": " + name + " row " + std::to_string(row) +
                                    " sums to " + std::to_string(sum) + ", expected " + (sums_to_one ? "1" : "<= 1") +
                                    " (attention probabilities)");
      }
    }
  };
  check_rows(pooled, g, "/maps/pooled", true);
  check_rows(frames, f, "/maps/frames", false);

  std::vector<uint16_t> half(pooled.size());
  for (size_t i = 0; i < pooled.size(); ++i) half[i] = hdf5::float_to_half(pooled[i]);
  s.file.write_slab(schema::kPooled, {dim(step), dim(layer), dim(head), 0, 0}, {1, 1, 1, dim(g), dim(g)}, half.data());
  s.file.write_slab(schema::kFrames, {dim(step), dim(layer), dim(head), 0, 0}, {1, 1, 1, dim(f), dim(f)},
                    frames.data());
  // The flag goes last: a map is "written" only once both maps are in the file.
  const uint8_t one = 1;
  s.file.write_slab(schema::kMapsWritten, {dim(step), dim(layer), dim(head)}, {1, 1, 1}, &one);
  s.file.flush();
  s.journal.record(Unit::maps, step, layer, head, profile_journal::maps_checksum(half, frames));
  s.maps_written[schema::head_index(s.meta, step, layer, head)] = 1;
}

void ProfileWriter::write_cost(const CostTable& table, std::span<const KernelRecord> records) {
  State& s = state();
  const std::string fn = "ProfileWriter::write_cost: ";
  if (s.cost_written) throw std::logic_error(fn + "the cost is already written (once per profile)");
  const int64_t num_candidates = static_cast<int64_t>(s.candidates.size());
  auto require = [&](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument(fn + what);
  };
  require(table.version == schema::kVersion,
          "the table has /cost layout version " + std::to_string(table.version) + "; only version " +
              std::to_string(schema::kVersion) + " is written");
  require(table.source == "cupti" || table.source == "cpu-aten",
          "source must be \"cupti\" or \"cpu-aten\", got \"" + table.source + "\"");
  require(table.repetitions >= 1, "repetitions must be >= 1, got " + std::to_string(table.repetitions));
  require(table.num_candidates == num_candidates, "num_candidates is " + std::to_string(table.num_candidates) +
                                                      ", the profile has " + std::to_string(num_candidates));
  require(
      table.max_group >= 1 && table.max_group <= s.meta.heads,
      "max_group must be in [1, heads = " + std::to_string(s.meta.heads) + "], got " + std::to_string(table.max_group));
  std::vector<int64_t> sizes = table.group_sizes;
  if (sizes.empty()) {
    for (int64_t g = 1; g <= table.max_group; ++g) sizes.push_back(g);
  }
  for (size_t i = 0; i < sizes.size(); ++i) {
    require(sizes[i] >= 1 && sizes[i] <= table.max_group && (i == 0 || sizes[i] > sizes[i - 1]),
            "group_sizes must ascend strictly within [1, max_group = " + std::to_string(table.max_group) + "]");
  }
  require(sizes.back() == table.max_group, "the last group size must be max_group");
  const size_t entries = static_cast<size_t>(num_candidates) * sizes.size();
  require(table.us.size() == entries, "us has " + std::to_string(table.us.size()) +
                                          " values, expected [candidate, group size] = " + std::to_string(entries));
  std::vector<double> permute = table.permute_us;
  if (permute.empty()) permute.assign(entries, 0.0);
  require(permute.size() == entries, "permute_us has " + std::to_string(permute.size()) + " values, expected " +
                                         std::to_string(entries));
  for (size_t i = 0; i < table.us.size(); ++i) {
    require(std::isfinite(table.us[i]) && table.us[i] >= 0.0,
            "us[" + std::to_string(i) + "] must be a finite time >= 0, got " + std::to_string(table.us[i]));
    require(std::isfinite(permute[i]) && permute[i] >= 0.0 && permute[i] <= table.us[i],
            "permute_us[" + std::to_string(i) + "] must be a time in [0, us[i]], got " + std::to_string(permute[i]));
  }
  for (const double t : {table.dense_layer_us, table.skip_layer_us}) {
    require(std::isfinite(t) && t >= 0.0, "dense_layer_us and skip_layer_us must be finite times >= 0");
  }
  for (size_t i = 0; i < records.size(); ++i) {
    require(records[i].candidate >= -1 && records[i].candidate < num_candidates && records[i].group_size >= 0 &&
                records[i].group_size <= table.max_group,
            "record " + std::to_string(i) + " has candidate " + std::to_string(records[i].candidate) +
                " / group_size " + std::to_string(records[i].group_size) + " outside the table");
  }

  s.file.create_group(schema::kCost);
  s.file.write_attribute(schema::kCost, "source", table.source);
  s.file.write_attribute(schema::kCost, "device", table.device);
  s.file.write_attribute(schema::kCost, "repetitions", table.repetitions);
  const hsize_t n = static_cast<hsize_t>(sizes.size());
  s.file.create_dataset(schema::kCostGroupSizes, Dtype::int64, {n});
  s.file.write(schema::kCostGroupSizes, sizes);
  s.file.create_dataset(schema::kCostTable, Dtype::float64, {dim(num_candidates), n});
  s.file.write(schema::kCostTable, table.us);
  s.file.create_dataset(schema::kCostPermute, Dtype::float64, {dim(num_candidates), n});
  s.file.write(schema::kCostPermute, permute);
  s.file.create_dataset(schema::kCostLayers, Dtype::float64, {2});
  s.file.write(schema::kCostLayers, std::vector<double>{table.dense_layer_us, table.skip_layer_us});

  schema::write_kernel_records(s.file, records);
  s.file.flush();
  CostTable stored = table;  // as the reader will see it: explicit sizes and pre-pass times
  stored.group_sizes = sizes;
  stored.permute_us = permute;
  s.journal.record(Unit::cost, 0, 0, 0, profile_journal::cost_checksum(stored, records));
  s.cost_written = true;
}

void ProfileWriter::finish() {
  State& s = state();
  const std::string source = s.partial.string();
  for (int64_t p = 0; p < s.meta.num_prompts(); ++p) {
    for (int64_t t = 0; t < s.meta.num_steps(); ++t) {
      for (int64_t l = 0; l < s.meta.layers; ++l) {
        if (!slice_written(p, t, l)) {
          throw FormatError(source, schema::kError,
                            "slice (prompt " + std::to_string(p) + ", step " + std::to_string(t) + ", layer " +
                                std::to_string(l) + ") is not written; finish() needs every measurement");
        }
      }
    }
  }
  for (size_t i = 0; i < s.maps_written.size(); ++i) {
    if (s.maps_written[i] == 0) {
      const auto heads = static_cast<size_t>(s.meta.heads);
      const auto layers = static_cast<size_t>(s.meta.layers);
      throw FormatError(source, schema::kMapsWritten,
                        "maps of (step " + std::to_string(i / (heads * layers)) + ", layer " +
                            std::to_string(i / heads % layers) + ", head " + std::to_string(i % heads) +
                            ") are not written; finish() needs every map stored or omitted");
    }
  }
  if (!s.cost_written) throw FormatError(source, schema::kCost, "the cost table is not written; finish() needs it");

  s.file.write_attribute("/", "complete", int64_t{1});
  s.file.close();
  // Rename only a file that reads back as what was written: a profile HDF5 cannot read is never made the target.
  {
    const schema::Contents written = schema::load(hdf5::File::open(s.partial, /*writable=*/false));
    if (!written.complete || written.error.data != s.error.data || written.recall.data != s.recall.data ||
        !written.cost) {
      throw FormatError(source, "file", "reads back differently from what was written; the target is left as it was");
    }
  }
  commit_file_atomically(s.partial, s.target);
  Journal::remove(s.partial);
  state_.reset();  // releases the lock, now that the target is in place
}

}  // namespace svdit::data
