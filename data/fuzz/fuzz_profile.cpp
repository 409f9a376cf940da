// libFuzzer target: the profile reader (svdit::data::ProfileReader) on structurally damaged profiles.
//
// Random bytes are almost never an HDF5 file, and HDF5's own parser is not ours to fix, so this target damages a
// real profile (data/samples/sample_profile.h5) through the HDF5 API instead: the input chooses up to four edits
// of its attributes and datasets — an attribute replaced by an integer, float or string of extreme value
// (2^62 sampling steps, −1 heads, NaN), a dataset's values overwritten (NaN, negatives, huge), a dataset replaced
// by one of another shape or type (G = 46 336 pooled blocks, a zero-length axis, rank 0), an object deleted —
// then opens the result and reads everything the reader offers, as `svdit inspect`, `search` and the analyzer do.
// Bugs it reports (by aborting): a crash or sanitizer report; any exception other than FormatError (the reader's
// promise for every bad file); an accepted profile whose arrays disagree with its meta; and, through libFuzzer's
// limits in scripts/fuzz.sh, a hang or an allocation beyond 2 GB.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include "svdit/data/error.h"
#include "svdit/data/profile_reader.h"

namespace {

[[noreturn]] void fail(const char* what, const char* detail = "") {
  std::fprintf(stderr, "svdit-fuzz-profile: %s%s%s\n", what, *detail ? ": " : "", detail);
  std::abort();
}

// An attribute (attribute non-empty) or a dataset of the template.
struct EditTarget {
  std::string object;
  std::string attribute;
};

std::vector<EditTarget>& targets() {
  static std::vector<EditTarget> list;
  return list;
}

const std::filesystem::path& damaged_path() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    return dir / ("svdit-fuzz-profile-" + std::to_string(::getpid()) + ".h5");
  }();
  return path;
}

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* object) {
  targets().push_back({*static_cast<const std::string*>(object), name});
  return 0;
}

herr_t collect_object(hid_t root, const char* name, const H5O_info_t* info, void*) {
  const std::string object = std::string("/") + (std::string(name) == "." ? "" : name);
  if (info->type == H5O_TYPE_DATASET) targets().push_back({object, ""});
  const hid_t handle = H5Oopen(root, name, H5P_DEFAULT);
  hsize_t index = 0;
  H5Aiterate2(handle, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, const_cast<std::string*>(&object));
  H5Oclose(handle);
  return 0;
}

int64_t interesting_integer(FuzzedDataProvider& in) {
  static constexpr int64_t kValues[] = {0, 1, -1, 2, 3, 63, 64, 65, 128, 46336, int64_t{1} << 30,
                                        (int64_t{1} << 31) - 1, int64_t{1} << 31, int64_t{1} << 62,
                                        std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  if (in.ConsumeBool()) return in.PickValueInArray(kValues);
  return in.ConsumeIntegral<int64_t>();
}

double interesting_double(FuzzedDataProvider& in) {
  static constexpr double kValues[] = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e30, -1e30, 1e-45,
                                       std::numeric_limits<double>::quiet_NaN(),
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity()};
  if (in.ConsumeBool()) return in.PickValueInArray(kValues);
  return in.ConsumeFloatingPoint<double>();
}

void write_scalar_attribute(hid_t object, const std::string& name, hid_t type, const void* value) {
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t attribute = H5Acreate2(object, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attribute >= 0) {
    H5Awrite(attribute, type, value);
    H5Aclose(attribute);
  }
  H5Sclose(space);
}

void edit_attribute(hid_t file, const EditTarget& target, FuzzedDataProvider& in) {
  const hid_t object = H5Oopen(file, target.object.c_str(), H5P_DEFAULT);
  if (object < 0) return;  // deleted by an earlier edit
  H5Adelete(object, target.attribute.c_str());
  switch (in.ConsumeIntegralInRange(0, 4)) {
    case 0: {
      const int64_t value = interesting_integer(in);
      write_scalar_attribute(object, target.attribute, H5T_NATIVE_INT64, &value);
      break;
    }
    case 1: {  // another integer type than the format's int64
      const auto value = static_cast<int32_t>(interesting_integer(in));
      write_scalar_attribute(object, target.attribute, in.ConsumeBool() ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT32,
                             &value);
      break;
    }
    case 2: {
      const double value = interesting_double(in);
      write_scalar_attribute(object, target.attribute, H5T_NATIVE_DOUBLE, &value);
      break;
    }
    case 3: {
      const std::string text = in.ConsumeRandomLengthString(96);
      const char* data = text.c_str();
      const hid_t type = H5Tcopy(H5T_C_S1);
      H5Tset_size(type, H5T_VARIABLE);
      write_scalar_attribute(object, target.attribute, type, &data);
      H5Tclose(type);
      break;
    }
    default:  // deleted
      break;
  }
  H5Oclose(object);
}

// Overwrites up to eight values of a small numeric dataset, converting through double (HDF5 converts to the
// stored type, float16 included).
void overwrite_values(hid_t file, const std::string& name, FuzzedDataProvider& in) {
  const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  if (dataset < 0) return;
  const hid_t type = H5Dget_type(dataset);
  const H5T_class_t type_class = H5Tget_class(type);
  const hid_t space = H5Dget_space(dataset);
  const hssize_t count = H5Sget_simple_extent_npoints(space);
  if ((type_class == H5T_FLOAT || type_class == H5T_INTEGER) && count > 0 && count <= (1 << 16)) {
    std::vector<double> values(static_cast<size_t>(count));
    if (H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0) {
      const int edits = in.ConsumeIntegralInRange(1, 8);
      for (int i = 0; i < edits; ++i) {
        values[in.ConsumeIntegralInRange<size_t>(0, values.size() - 1)] =
            type_class == H5T_FLOAT ? interesting_double(in) : static_cast<double>(interesting_integer(in));
      }
      // Out-of-range conversions (1e30 into an int32) are clipped by HDF5's default exception handling.
      H5Dwrite(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
    }
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(dataset);
}

// Replaces a dataset by one of another shape and/or type, its values left to the fill value (0) except for a
// small one, which gets the input's bytes. Storage is allocated late, so a huge shape costs the file nothing —
// the reader must refuse it from its shape, not by running out of memory.
void replace_dataset(hid_t file, const std::string& name, FuzzedDataProvider& in) {
  const hid_t old_dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  if (old_dataset < 0) return;
  const hid_t old_space = H5Dget_space(old_dataset);
  hsize_t dims[H5S_MAX_RANK] = {};
  int rank = H5Sget_simple_extent_dims(old_space, dims, nullptr);
  H5Sclose(old_space);
  const hid_t old_type = H5Dget_type(old_dataset);
  H5Dclose(old_dataset);

  if (in.ConsumeBool()) {  // a new rank
    rank = in.ConsumeIntegralInRange(0, 6);
    std::fill(dims, dims + H5S_MAX_RANK, 2);
  }
  const int changed = in.ConsumeIntegralInRange(0, std::max(rank, 1));
  static constexpr hsize_t kSizes[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, 64, 46336, hsize_t{1} << 31};
  for (int i = 0; i < changed && rank > 0; ++i) {
    const auto axis = in.ConsumeIntegralInRange(0, rank - 1);
    dims[axis] = in.ConsumeBool() ? in.PickValueInArray(kSizes) : dims[axis] + 1;
  }
  double elements = 1;
  for (int i = 0; i < rank; ++i) elements *= static_cast<double>(dims[i]);
  if (elements > 1e15) dims[0] = 1;  // beyond what HDF5 itself accepts for a contiguous dataset

  static const hid_t kTypes[] = {H5T_NATIVE_FLOAT, H5T_NATIVE_DOUBLE, H5T_NATIVE_INT64, H5T_NATIVE_INT32,
                                 H5T_NATIVE_UINT8};
  const hid_t type = in.ConsumeBool() ? H5Tcopy(old_type) : H5Tcopy(in.PickValueInArray(kTypes));
  H5Tclose(old_type);

  H5Ldelete(file, name.c_str(), H5P_DEFAULT);
  const hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, nullptr);
  const hid_t properties = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_alloc_time(properties, H5D_ALLOC_TIME_LATE);
  const hid_t dataset = H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, properties, H5P_DEFAULT);
  if (dataset >= 0) {
    const hssize_t count = H5Sget_simple_extent_npoints(space);
    const size_t bytes = static_cast<size_t>(count) * H5Tget_size(type);
    if (H5Tget_class(type) != H5T_STRING && H5Tget_class(type) != H5T_COMPOUND && count > 0 && bytes <= 4096 &&
        in.ConsumeBool()) {
      std::vector<uint8_t> data = in.ConsumeBytes<uint8_t>(bytes);
      data.resize(bytes);
      H5Dwrite(dataset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data());
    }
    H5Dclose(dataset);
  }
  H5Pclose(properties);
  H5Sclose(space);
  H5Tclose(type);
}

void edit_dataset(hid_t file, const EditTarget& target, FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0:
      overwrite_values(file, target.object, in);
      break;
    case 1:
      replace_dataset(file, target.object, in);
      break;
    default:
      H5Ldelete(file, target.object.c_str(), H5P_DEFAULT);
      break;
  }
}

// Everything a tool reads from an accepted profile; sizes are checked against the meta.
void read_everything(const svdit::data::ProfileReader& reader) {
  const auto& meta = reader.meta();
  const int64_t candidates = reader.num_candidates();
  const int64_t expected = meta.num_prompts() * meta.num_steps() * meta.layers * meta.heads * candidates;
  if (static_cast<int64_t>(reader.error().size()) != expected ||
      static_cast<int64_t>(reader.recall().size()) != expected) {
    fail("error/recall sizes disagree with the meta and candidates");
  }
  static_cast<void>(reader.complete());
  static_cast<void>(reader.cost());
  static_cast<void>(reader.kernel_records());
  const int64_t blocks = reader.num_blocks();
  // A bounded walk over (step, layer, head): the corners and a few in between.
  const int64_t heads_to_read = std::min<int64_t>(meta.heads, 3);
  for (int64_t step = 0; step < std::min<int64_t>(meta.num_steps(), 2); ++step) {
    for (int64_t layer = 0; layer < std::min<int64_t>(meta.layers, 2); ++layer) {
      for (int64_t head = 0; head < heads_to_read; ++head) {
        if (!reader.maps_written(step, layer, head)) continue;
        try {
          if (static_cast<int64_t>(reader.pooled_map(step, layer, head).size()) != blocks * blocks) {
            fail("pooled_map is not G × G");
          }
          if (static_cast<int64_t>(reader.frame_map(step, layer, head).size()) !=
              meta.layout.frames * meta.layout.frames) {
            fail("frame_map is not F × F");
          }
        } catch (const svdit::data::FormatError&) {
          // A stored map the reader finds unreadable: the documented answer.
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  const hid_t file = H5Fopen(SVDIT_FUZZ_PROFILE_TEMPLATE, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) fail("cannot open the template profile", SVDIT_FUZZ_PROFILE_TEMPLATE);
  H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_object, nullptr);
  H5Fclose(file);
  if (targets().empty()) fail("the template profile has no attributes or datasets", SVDIT_FUZZ_PROFILE_TEMPLATE);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  std::filesystem::copy_file(SVDIT_FUZZ_PROFILE_TEMPLATE, damaged_path(),
                             std::filesystem::copy_options::overwrite_existing);
  const hid_t file = H5Fopen(damaged_path().c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  if (file < 0) fail("cannot open the copy of the template", damaged_path().c_str());
  const int edits = in.ConsumeIntegralInRange(1, 4);
  for (int i = 0; i < edits; ++i) {
    const auto& target = targets()[in.ConsumeIntegralInRange<size_t>(0, targets().size() - 1)];
    if (target.attribute.empty()) {
      edit_dataset(file, target, in);
    } else {
      edit_attribute(file, target, in);
    }
  }
  H5Fclose(file);

  try {
    const auto reader = svdit::data::ProfileReader::open(damaged_path());
    read_everything(reader);
  } catch (const svdit::data::FormatError&) {
  } catch (const std::exception& e) {
    fail("the profile reader threw an unexpected exception", e.what());
  } catch (...) {
    fail("the profile reader threw an exception of unknown type");
  }
  return 0;
}
