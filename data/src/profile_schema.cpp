// Loading and validating a profile file; see profile_schema.h and docs/FORMATS.md "Profile (HDF5)".
#include "profile_schema.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>

#include "svdit/data/error.h"
#include "svdit/data/strict_json.h"
#include "svdit/data/pattern.h"
#include "svdit/data/size_limits.h"

namespace svdit::data::profile_schema {

using hdf5::Dtype;
using hdf5::File;
using hdf5::Id;
using hdf5::Shape;

namespace {

hsize_t dim(int64_t n) { return static_cast<hsize_t>(n); }

// "[1, 0, 3]": the position of flat element `flat` of a row-major array, as h5py would index it.
std::string position(size_t flat, const Shape& shape) {
  std::vector<hsize_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    index[d] = flat % shape[d];
    flat /= static_cast<size_t>(shape[d]);
  }
  return hdf5::to_string(index);
}

int64_t check_header(const File& file) {
  const std::string format = file.read_string_attribute("/", "format");
  if (format != kFormat) {
    file.fail("/ attribute format", std::string("expected \"") + kFormat + "\", found \"" + format + "\"");
  }
  const int64_t version = file.read_int_attribute("/", "version");
  if (version < kOldestVersion || version > kVersion) {
    file.fail("/ attribute version", "expected " + std::to_string(kOldestVersion) + " or " + std::to_string(kVersion) +
                                         ", found " + std::to_string(version) + " (this svdit reads profile versions " +
                                         std::to_string(kOldestVersion) + ".." + std::to_string(kVersion) + ")");
  }
  return version;
}

bool read_flag(const File& file, const std::string& object, const std::string& name) {
  const int64_t value = file.read_int_attribute(object, name);
  if (value != 0 && value != 1) {
    file.fail(object + " attribute " + name, "expected 0 or 1, found " + std::to_string(value));
  }
  return value == 1;
}

ProfileMeta read_meta(const File& file) {
  ProfileMeta meta;
  meta.model = file.read_string_attribute("/", "model");
  if (file.has_attribute("/", "family")) meta.family = file.read_string_attribute("/", "family");  // optional
  meta.tool_version = file.read_string_attribute("/", "tool_version");
  meta.created = file.read_string_attribute("/", "created");
  meta.synthetic = file.has_attribute("/", "synthetic") && read_flag(file, "/", "synthetic");

  auto integer = [&](const char* name) { return file.read_int_attribute(kMeta, name); };
  meta.layers = integer("layers");
  meta.heads = integer("heads");
  meta.head_dim = integer("head_dim");
  meta.layout.frames = integer("frames");
  meta.layout.height = integer("height");
  meta.layout.width = integer("width");
  meta.layout.text_prefix = integer("text_prefix");
  meta.layout.text_suffix = integer("text_suffix");
  meta.layout.block_size = integer("block_size");
  meta.sampling_steps = integer("sampling_steps");
  meta.dtype = file.read_string_attribute(kMeta, "dtype");

  // The lengths of these datasets are data; each must be 1-D, and timesteps must match steps (checked below).
  auto length = [&](const char* path) {
    const Shape shape = file.dataset_shape(path);
    if (shape.size() != 1) file.fail(path, "expected a 1-D dataset, found shape " + hdf5::to_string(shape));
    return shape[0];
  };
  // Bounded before reading: a 1-D dataset can claim 2^31 elements in a file of a few kilobytes.
  const hsize_t num_steps = length(kSteps);
  require_at_most(static_cast<int64_t>(num_steps), kMaxSamplingSteps, file.source(), kSteps,
                  "profiled steps are steps of one sampling run");
  meta.steps = file.read<int64_t>(kSteps, {num_steps});
  meta.timesteps = file.read<double>(kTimesteps, {num_steps});
  meta.prompts = file.read_strings(kPrompts, length(kPrompts));
  validate(meta, file.source());
  return meta;
}

std::vector<ProfileCandidate> read_candidates(const File& file, const ProfileMeta& meta) {
  const Shape shape = file.dataset_shape(kCandidateId);
  if (shape.size() != 1 || shape[0] == 0) {
    file.fail(kCandidateId, "expected a non-empty 1-D dataset, found shape " + hdf5::to_string(shape));
  }
  const hsize_t n = shape[0];
  const std::vector<int32_t> ids = file.read<int32_t>(kCandidateId, {n});
  const std::vector<std::string> components = file.read_strings(kCandidateComponents, n);
  const std::vector<double> block_density = file.read<double>(kCandidateBlockDensity, {n});
  const std::vector<double> token_density = file.read<double>(kCandidateTokenDensity, {n});

  std::vector<ProfileCandidate> candidates(static_cast<size_t>(n));
  for (size_t c = 0; c < candidates.size(); ++c) {
    const std::string object = std::string(kCandidateComponents) + "[" + std::to_string(c) + "]";
    // Strictly, as plans are: a duplicate key in a component is refused, not resolved by whichever copy wins.
    constexpr int kMaxComponentDepth = 8;  // array → component → columns → pair
    const nlohmann::json json = detail::parse_json_strictly(components[c], file.source(), object, kMaxComponentDepth);
    candidates[c] = ProfileCandidate{.id = ids[c],
                                     .pattern = pattern_from_json(json, file.source(), object),
                                     .block_density = block_density[c],
                                     .token_density = token_density[c]};
  }
  validate(candidates, meta.layout, file.source());
  return candidates;
}

Array5<float> read_measurements(const File& file, const char* path, const Shape& shape, bool complete,
                                bool (*valid)(float), const char* valid_text) {
  Array5<float> array;
  for (size_t d = 0; d < 5; ++d) array.shape[d] = static_cast<int64_t>(shape[d]);
  array.data = file.read<float>(path, shape);
  for (size_t i = 0; i < array.data.size(); ++i) {
    const float value = array.data[i];
    if (std::isnan(value) && !complete) continue;  // not measured yet
    if (!valid(value)) {
      file.fail(path, "element " + position(i, shape) + " [prompt, step, layer, head, candidate]: expected " +
                          valid_text + ", found " + std::to_string(value) +
                          (std::isnan(value) ? " (NaN = not measured, not allowed in a profile marked complete)" : ""));
    }
  }
  return array;
}

void check_times(const File& file, const char* object, const std::vector<double>& values, const Shape& shape,
                 const char* axes) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!(std::isfinite(values[i]) && values[i] >= 0.0)) {
      file.fail(object, "element " + position(i, shape) + " " + axes + ": expected a time in us >= 0, found " +
                            std::to_string(values[i]));
    }
  }
}

// Version 1: /cost/table [candidate, group_size - 1] of every size 1..max_group; skip launched nothing (0 us).
// Version 2 adds /cost/group_sizes (the sizes measured), /cost/permute (the pre-pass part of each entry) and
// /cost/layer_us (the all-dense and all-skip layer paths), and the source "cpu-aten" replaces "cpu-wallclock".
std::optional<CostTable> read_cost(const File& file, const ProfileMeta& meta, int64_t num_candidates, bool complete,
                                   int64_t version) {
  if (!file.exists(kCost)) {
    if (complete) file.fail(kCost, "missing group (a profile marked complete must hold the cost table)");
    return std::nullopt;
  }
  CostTable cost;
  cost.version = version;
  cost.source = file.read_string_attribute(kCost, "source");
  const char* old_cpu = version == 1 ? "cpu-wallclock" : "cpu-aten";
  if (cost.source != "cupti" && cost.source != old_cpu) {
    file.fail(std::string(kCost) + " attribute source", std::string("expected \"cupti\" or \"") + old_cpu +
                                                            "\" (profile version " + std::to_string(version) +
                                                            "), found \"" + cost.source + "\"");
  }
  cost.device = file.read_string_attribute(kCost, "device");
  cost.repetitions = file.read_int_attribute(kCost, "repetitions");
  if (cost.repetitions < 1) {
    file.fail(std::string(kCost) + " attribute repetitions",
              "expected >= 1, found " + std::to_string(cost.repetitions));
  }
  cost.num_candidates = num_candidates;
  const Shape shape = file.dataset_shape(kCostTable);
  if (version == 1) {
    if (shape.size() != 2 || shape[0] != dim(num_candidates) || shape[1] < 1 || shape[1] > dim(meta.heads)) {
      file.fail(kCostTable, "expected shape [" + std::to_string(num_candidates) +
                                " candidates, max group size in 1.." + std::to_string(meta.heads) + "], found " +
                                hdf5::to_string(shape));
    }
    cost.max_group = static_cast<int64_t>(shape[1]);
    cost.us = file.read<double>(kCostTable, shape);
    check_times(file, kCostTable, cost.us, shape, "[candidate, group_size - 1]");
  } else {
    const Shape sizes_shape = file.dataset_shape(kCostGroupSizes);
    if (sizes_shape.size() != 1 || sizes_shape[0] < 1 || sizes_shape[0] > dim(meta.heads)) {
      file.fail(kCostGroupSizes, "expected shape [n] with n in 1.." + std::to_string(meta.heads) + ", found " +
                                     hdf5::to_string(sizes_shape));
    }
    cost.group_sizes = file.read<int64_t>(kCostGroupSizes, sizes_shape);
    for (size_t i = 0; i < cost.group_sizes.size(); ++i) {
      const int64_t g = cost.group_sizes[i];
      if (g < 1 || g > meta.heads || (i > 0 && g <= cost.group_sizes[i - 1])) {
        file.fail(kCostGroupSizes, "element [" + std::to_string(i) + "]: expected group sizes strictly ascending in 1.." +
                                       std::to_string(meta.heads) + ", found " + std::to_string(g));
      }
    }
    cost.max_group = cost.group_sizes.back();
    const Shape expected{dim(num_candidates), sizes_shape[0]};
    for (const char* object : {kCostTable, kCostPermute}) {
      if (file.dataset_shape(object) != expected) {
        file.fail(object, "expected shape " + hdf5::to_string(expected) + " [candidate, group size index], found " +
                              hdf5::to_string(file.dataset_shape(object)));
      }
    }
    cost.us = file.read<double>(kCostTable, expected);
    check_times(file, kCostTable, cost.us, expected, "[candidate, group size index]");
    cost.permute_us = file.read<double>(kCostPermute, expected);
    check_times(file, kCostPermute, cost.permute_us, expected, "[candidate, group size index]");
    for (size_t i = 0; i < cost.us.size(); ++i) {
      if (cost.permute_us[i] > cost.us[i]) {
        file.fail(kCostPermute, "element " + position(i, expected) + ": the pre-pass part " +
                                    std::to_string(cost.permute_us[i]) + " us exceeds the whole launch, " +
                                    std::to_string(cost.us[i]) + " us in /cost/table");
      }
    }
    const Shape layers_shape{2};
    const std::vector<double> layers = file.read<double>(kCostLayers, layers_shape);
    check_times(file, kCostLayers, layers, layers_shape, "[all dense, all skip]");
    cost.dense_layer_us = layers[0];
    cost.skip_layer_us = layers[1];
  }
  static_cast<void>(file.dataset_shape(kKernels));  // must be present; the records are read on demand
  return cost;
}

}  // namespace

Shape measurement_shape(const ProfileMeta& meta, int64_t num_candidates) {
  return {dim(meta.num_prompts()), dim(meta.num_steps()), dim(meta.layers), dim(meta.heads), dim(num_candidates)};
}
Shape pooled_shape(const ProfileMeta& meta) {
  const hsize_t g = dim(meta.layout.num_blocks());
  return {dim(meta.num_steps()), dim(meta.layers), dim(meta.heads), g, g};
}
Shape frames_shape(const ProfileMeta& meta) {
  const hsize_t f = dim(meta.layout.frames);
  return {dim(meta.num_steps()), dim(meta.layers), dim(meta.heads), f, f};
}
Shape maps_written_shape(const ProfileMeta& meta) { return {dim(meta.num_steps()), dim(meta.layers), dim(meta.heads)}; }

bool valid_error(float value) { return std::isfinite(value) && value >= 0.0f; }
bool valid_recall(float value) { return value >= 0.0f && value <= 1.0f + static_cast<float>(kRecallSlack); }

Contents load(const File& file) {
  const int64_t version = check_header(file);
  Contents contents;
  contents.version = version;
  contents.complete = read_flag(file, "/", "complete");
  contents.meta = read_meta(file);
  contents.candidates = read_candidates(file, contents.meta);
  const int64_t num_candidates = static_cast<int64_t>(contents.candidates.size());
  const Shape shape = measurement_shape(contents.meta, num_candidates);
  // One map is read whole on demand; refuse now a layout whose maps no reader could hold.
  const hsize_t g = dim(contents.meta.layout.num_blocks());
  static_cast<void>(file.element_count(kPooled, {g, g}));
  contents.error = read_measurements(file, kError, shape, contents.complete, valid_error, "a finite relative MSE >= 0");
  contents.recall = read_measurements(file, kRecall, shape, contents.complete, valid_recall, "a mass in [0, 1]");

  // The maps themselves are read lazily; here only their presence, dtype and shape.
  static_cast<void>(file.open_dataset(kPooled, Dtype::float16, pooled_shape(contents.meta)));
  static_cast<void>(file.open_dataset(kFrames, Dtype::float32, frames_shape(contents.meta)));
  const Shape written_shape = maps_written_shape(contents.meta);
  contents.maps_written = file.read<uint8_t>(kMapsWritten, written_shape);
  for (size_t i = 0; i < contents.maps_written.size(); ++i) {
    const uint8_t flag = contents.maps_written[i];
    if (flag > 2) {
      file.fail(kMapsWritten, "element " + position(i, written_shape) +
                                  " [step, layer, head]: expected 0, 1 or 2, found " + std::to_string(flag));
    }
    if (flag == 0 && contents.complete) {
      file.fail(kMapsWritten, "element " + position(i, written_shape) +
                                  " [step, layer, head]: maps not written, but the profile is marked complete");
    }
  }
  contents.cost = read_cost(file, contents.meta, num_candidates, contents.complete, version);
  return contents;
}

namespace {

// Numeric members of /cost/kernels, in file order, with their place in KernelNumbers.
struct NumericMember {
  const char* name;
  size_t offset;
  hid_t type;
};
const std::vector<NumericMember>& numeric_members() {
  static const std::vector<NumericMember> members = {
      {"start_ns", offsetof(KernelNumbers, start_ns), H5T_NATIVE_INT64},
      {"end_ns", offsetof(KernelNumbers, end_ns), H5T_NATIVE_INT64},
      {"grid_x", offsetof(KernelNumbers, grid_x), H5T_NATIVE_INT32},
      {"grid_y", offsetof(KernelNumbers, grid_y), H5T_NATIVE_INT32},
      {"grid_z", offsetof(KernelNumbers, grid_z), H5T_NATIVE_INT32},
      {"block_x", offsetof(KernelNumbers, block_x), H5T_NATIVE_INT32},
      {"block_y", offsetof(KernelNumbers, block_y), H5T_NATIVE_INT32},
      {"block_z", offsetof(KernelNumbers, block_z), H5T_NATIVE_INT32},
      {"registers", offsetof(KernelNumbers, registers), H5T_NATIVE_INT32},
      {"shared_memory_bytes", offsetof(KernelNumbers, shared_memory_bytes), H5T_NATIVE_INT64},
      {"candidate", offsetof(KernelNumbers, candidate), H5T_NATIVE_INT32},
      {"group_size", offsetof(KernelNumbers, group_size), H5T_NATIVE_INT32},
  };
  return members;
}

}  // namespace

size_t kernel_row_size(size_t name_size) { return name_size + sizeof(KernelNumbers); }

hdf5::Id kernel_memory_type(size_t name_size) {
  Id type(H5Tcreate(H5T_COMPOUND, kernel_row_size(name_size)), H5Tclose);
  Id name = hdf5::string_type(name_size);
  if (type.get() < 0 || name.get() < 0 || H5Tinsert(type.get(), "name", 0, name.get()) < 0) return Id();
  for (const NumericMember& m : numeric_members()) {
    if (H5Tinsert(type.get(), m.name, name_size + m.offset, m.type) < 0) return Id();
  }
  return type;
}

hdf5::Id kernel_file_type(size_t name_size) {
  // Native integers are little-endian on every machine svdit targets; packing drops the struct padding.
  Id type = kernel_memory_type(name_size);
  if (type.get() < 0 || H5Tpack(type.get()) < 0) return Id();
  return type;
}

void write_kernel_records(File& file, std::span<const KernelRecord> records) {
  size_t name_size = 1;  // HDF5 refuses a zero-size string type
  for (const KernelRecord& r : records) name_size = std::max(name_size, r.name.size());
  Id file_type = kernel_file_type(name_size);
  Id memory_type = kernel_memory_type(name_size);
  const hsize_t n = records.size();
  Id space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (file_type.get() < 0 || memory_type.get() < 0 || space.get() < 0 || dcpl.get() < 0 ||
      H5Pset_obj_track_times(dcpl.get(), false) < 0) {
    file.fail(kKernels, "cannot set up the compound dataset");
  }
  if (n > 0) {
    // A tracer emits thousands of records that differ in a few fields: chunk and compress them.
    const hsize_t chunk = std::min<hsize_t>(n, 4096);
    if (H5Pset_chunk(dcpl.get(), 1, &chunk) < 0 || H5Pset_shuffle(dcpl.get()) < 0 ||
        H5Pset_deflate(dcpl.get(), 4) < 0 || H5Pset_fletcher32(dcpl.get()) < 0) {
      file.fail(kKernels, "cannot set up chunking");
    }
  }
  Id dataset(H5Dcreate2(file.id(), kKernels, file_type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
             H5Dclose);
  if (dataset.get() < 0) file.fail(kKernels, "cannot create dataset");
  if (n == 0) return;
  const size_t row_size = kernel_row_size(name_size);
  std::vector<unsigned char> rows(row_size * records.size(), 0);  // names NUL-padded
  for (size_t i = 0; i < records.size(); ++i) {
    const KernelRecord& r = records[i];
    const KernelNumbers numbers{r.start_ns,  r.end_ns,    r.grid_x,  r.grid_y,    r.grid_z,
                                r.block_x,   r.block_y,   r.block_z, r.registers, r.shared_memory_bytes,
                                r.candidate, r.group_size};
    unsigned char* row = rows.data() + i * row_size;
    std::memcpy(row, r.name.data(), r.name.size());
    std::memcpy(row + name_size, &numbers, sizeof numbers);  // rows are byte-packed: copy, never cast
  }
  if (H5Dwrite(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) < 0) {
    file.fail(kKernels, "cannot write records");
  }
}

std::vector<KernelRecord> read_kernel_records(const File& file, int64_t num_candidates, int64_t max_group) {
  const Shape shape = file.dataset_shape(kKernels);
  if (shape.size() != 1) file.fail(kKernels, "expected a 1-D dataset, found shape " + hdf5::to_string(shape));
  Id dataset(H5Dopen2(file.id(), kKernels, H5P_DEFAULT), H5Dclose);
  if (dataset.get() < 0) file.fail(kKernels, "cannot be opened");
  Id type(H5Dget_type(dataset.get()), H5Tclose);
  if (type.get() < 0) file.fail(kKernels, "cannot be inspected");
  if (H5Tget_class(type.get()) != H5T_COMPOUND) {
    file.fail(kKernels, "expected a compound dataset, found " + hdf5::describe_type(type.get()));
  }
  // HDF5 converts compound members by name; check each is there with the right kind before asking it to.
  auto member_type = [&](const char* member) {
    const int index = H5Tget_member_index(type.get(), member);
    if (index < 0) file.fail(kKernels, std::string("missing compound member \"") + member + "\"");
    Id t(H5Tget_member_type(type.get(), static_cast<unsigned>(index)), H5Tclose);
    if (t.get() < 0) file.fail(kKernels, "cannot be inspected");
    return t;
  };
  size_t name_size = 0;
  {
    Id name = member_type("name");
    if (!hdf5::matches(name.get(), Dtype::string)) {
      file.fail(kKernels, "member \"name\": expected a fixed-length string, found " + hdf5::describe_type(name.get()));
    }
    name_size = H5Tget_size(name.get());
  }
  for (const NumericMember& m : numeric_members()) {
    Id t = member_type(m.name);
    if (H5Tget_class(t.get()) != H5T_INTEGER) {
      file.fail(kKernels,
                std::string("member \"") + m.name + "\": expected an integer, found " + hdf5::describe_type(t.get()));
    }
  }
  Id memory = kernel_memory_type(name_size);
  if (memory.get() < 0) file.fail(kKernels, "cannot set up read");
  const size_t row_size = kernel_row_size(name_size);
  std::vector<unsigned char> rows(static_cast<size_t>(file.element_count(kKernels, {shape[0], row_size})));
  if (rows.empty()) return {};
  if (H5Dread(dataset.get(), memory.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) < 0) {
    file.fail(kKernels, "cannot read records (corrupt, or a member of an unconvertible type)");
  }
  std::vector<KernelRecord> records;
  records.reserve(static_cast<size_t>(shape[0]));
  for (size_t i = 0; i < static_cast<size_t>(shape[0]); ++i) {
    const unsigned char* row = rows.data() + i * row_size;
    KernelNumbers n{};
    std::memcpy(&n, row + name_size, sizeof n);
    records.push_back(KernelRecord{.name = hdf5::unpad(reinterpret_cast<const char*>(row), name_size, H5T_STR_NULLPAD),
                                   .start_ns = n.start_ns,
                                   .end_ns = n.end_ns,
                                   .grid_x = n.grid_x,
                                   .grid_y = n.grid_y,
                                   .grid_z = n.grid_z,
                                   .block_x = n.block_x,
                                   .block_y = n.block_y,
                                   .block_z = n.block_z,
                                   .registers = n.registers,
                                   .shared_memory_bytes = n.shared_memory_bytes,
                                   .candidate = n.candidate,
                                   .group_size = n.group_size});
    const KernelRecord& r = records.back();
    if (r.candidate < -1 || r.candidate >= num_candidates || r.group_size < 0 || r.group_size > max_group) {
      file.fail(kKernels, "record " + std::to_string(i) + ": candidate " + std::to_string(r.candidate) +
                              " or group_size " + std::to_string(r.group_size) + " outside [-1, " +
                              std::to_string(num_candidates) + ") x [0, " + std::to_string(max_group) + "]");
    }
  }
  return records;
}

}  // namespace svdit::data::profile_schema
