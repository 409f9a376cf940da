// Reading a profile: eager load and validation through profile_schema, maps and kernel records on demand.
#include "svdit/data/profile_reader.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "hdf5_file.h"
#include "hdf5_float16.h"
#include "profile_schema.h"
#include "svdit/data/error.h"

namespace svdit::data {

namespace schema = profile_schema;

struct ProfileReader::State {
  std::filesystem::path path;
  hdf5::File file;  // kept open for the lazy reads
  schema::Contents contents;
};

ProfileReader ProfileReader::open(const std::filesystem::path& path) {
  hdf5::File file = hdf5::File::open(path, /*writable=*/false);
  schema::Contents contents = schema::load(file);
  return ProfileReader(std::make_unique<State>(State{path, std::move(file), std::move(contents)}));
}

ProfileReader::ProfileReader(std::unique_ptr<State> state) : state_(std::move(state)) {}
ProfileReader::ProfileReader(ProfileReader&&) noexcept = default;
ProfileReader& ProfileReader::operator=(ProfileReader&&) noexcept = default;
ProfileReader::~ProfileReader() = default;

const std::filesystem::path& ProfileReader::path() const { return state_->path; }
const ProfileMeta& ProfileReader::meta() const { return state_->contents.meta; }
const std::vector<ProfileCandidate>& ProfileReader::candidates() const { return state_->contents.candidates; }
bool ProfileReader::complete() const { return state_->contents.complete; }
const Array5<float>& ProfileReader::error() const { return state_->contents.error; }
const Array5<float>& ProfileReader::recall() const { return state_->contents.recall; }
const std::optional<CostTable>& ProfileReader::cost() const { return state_->contents.cost; }

bool ProfileReader::measured(int64_t prompt, int64_t step, int64_t layer, int64_t head, int64_t candidate) const {
  const size_t i = error().offset(prompt, step, layer, head, candidate);  // throws std::out_of_range
  return !std::isnan(error().data[i]) && !std::isnan(recall().data[i]);
}

std::vector<KernelRecord> ProfileReader::kernel_records() const {
  const std::optional<CostTable>& table = cost();
  if (!table) return {};
  return schema::read_kernel_records(state_->file, table->num_candidates, table->max_group);
}

namespace {

size_t head_offset(const ProfileMeta& meta, int64_t step, int64_t layer, int64_t head) {
  auto check = [&](const char* name, int64_t value, int64_t size) {
    if (value < 0 || value >= size) {
      throw std::out_of_range(std::string("ProfileReader: ") + name + " " + std::to_string(value) + " outside [0, " +
                              std::to_string(size) + ")");
    }
  };
  check("step", step, meta.num_steps());
  check("layer", layer, meta.layers);
  check("head", head, meta.heads);
  return schema::head_index(meta, step, layer, head);
}

}  // namespace

bool ProfileReader::maps_written(int64_t step, int64_t layer, int64_t head) const {
  return state_->contents.maps_written[head_offset(meta(), step, layer, head)] == 1;
}

namespace {

// Reads the [n, n] map of one head from a [step, layer, head, n, n] dataset, refusing NaN: a map marked written
// must be complete.
template <class Stored>
std::vector<float> read_map(const hdf5::File& file, const char* path, const hdf5::Shape& shape, int64_t step,
                            int64_t layer, int64_t head, float (*to_float)(Stored)) {
  const hsize_t n = shape[3];
  std::vector<Stored> stored(static_cast<size_t>(n * n));
  file.read_slab(path, shape,
                 {static_cast<hsize_t>(step), static_cast<hsize_t>(layer), static_cast<hsize_t>(head), 0, 0},
                 {1, 1, 1, n, n}, stored.data());
  std::vector<float> map(stored.size());
  for (size_t i = 0; i < map.size(); ++i) {
    map[i] = to_float(stored[i]);
    if (std::isnan(map[i])) {
      file.fail(path, "map of (step " + std::to_string(step) + ", layer " + std::to_string(layer) + ", head " +
                          std::to_string(head) + ") holds NaN at [" + std::to_string(i / n) + ", " +
                          std::to_string(i % n) + "] although /maps/written marks it written");
    }
  }
  return map;
}

float identity(float value) { return value; }

}  // namespace

namespace {

void require_maps(const ProfileReader& reader, const char* function, int64_t step, int64_t layer, int64_t head) {
  if (!reader.maps_written(step, layer, head)) {
    throw std::logic_error(std::string("ProfileReader::") + function + ": the maps of (step " + std::to_string(step) +
                           ", layer " + std::to_string(layer) + ", head " + std::to_string(head) +
                           ") are not written yet; check maps_written() first");
  }
}

}  // namespace

std::vector<float> ProfileReader::pooled_map(int64_t step, int64_t layer, int64_t head) const {
  require_maps(*this, "pooled_map", step, layer, head);
  return read_map<uint16_t>(state_->file, schema::kPooled, schema::pooled_shape(meta()), step, layer, head,
                            hdf5::half_to_float);
}

std::vector<float> ProfileReader::frame_map(int64_t step, int64_t layer, int64_t head) const {
  require_maps(*this, "frame_map", step, layer, head);
  return read_map<float>(state_->file, schema::kFrames, schema::frames_shape(meta()), step, layer, head, identity);
}

}  // namespace svdit::data
