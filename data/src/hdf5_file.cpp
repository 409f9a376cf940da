#include "hdf5_file.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "svdit/data/error.h"

namespace svdit::data::hdf5 {

Id& Id::operator=(Id&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    close_ = other.close_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Id::reset() {
  // A close failing in a destructor has nowhere to go; the paths that must know (File::close) check it.
  if (id_ >= 0 && close_ != nullptr) close_(id_);
  id_ = H5I_INVALID_HID;
}

const char* to_string(Dtype dtype) {
  switch (dtype) {
    case Dtype::float16: return "float16";
    case Dtype::float32: return "float32";
    case Dtype::float64: return "float64";
    case Dtype::int32: return "int32";
    case Dtype::int64: return "int64";
    case Dtype::uint8: return "uint8";
    case Dtype::string: return "fixed-length string";
  }
  return "?";
}

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) out += ", ";
    out += std::to_string(shape[i]);
  }
  return out + "]";
}

void silence_errors() {
  // Only effective before the library initialises itself, i.e. before any other HDF5 call of the process; later
  // calls fail harmlessly. (The crash it prevents: H5F__close_cb in H5_term_library, after a failed flush.)
  static const bool no_atexit = [] { return H5dont_atexit() >= 0; }();
  static_cast<void>(no_atexit);
  // Process-wide (per thread in thread-safe builds), so repeat it on every entry point rather than rely on
  // one call at start-up. If it failed, HDF5 would merely print; our own checks still throw.
  static_cast<void>(H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr));
}

std::string last_error() {
  // Walking upward starts at the innermost frame: the specific reason ("truncated file: eof = …") rather than
  // the API-level summary ("unable to open file").
  std::string message;
  auto first_description = [](unsigned n, const H5E_error2_t* error, void* data) -> herr_t {
    if (n == 0 && error->desc != nullptr) *static_cast<std::string*>(data) = error->desc;
    return 0;
  };
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_description, &message) < 0) return "";
  return message;
}

namespace {

Id checked_copy(hid_t predefined) { return Id(H5Tcopy(predefined), H5Tclose); }

Id make_half_type() {
  // The layout h5py and numpy use for float16, so h5py reads these datasets as dtype float16.
  Id type = checked_copy(H5T_IEEE_F32LE);
  if (type.get() < 0 || H5Tset_fields(type.get(), 15, 10, 5, 0, 10) < 0 || H5Tset_size(type.get(), 2) < 0 ||
      H5Tset_ebias(type.get(), 15) < 0) {
    return Id();
  }
  return type;
}

}  // namespace

std::string unpad(const char* data, size_t size, H5T_str_t padding) {
  size_t length = strnlen(data, size);
  if (padding == H5T_STR_SPACEPAD) {
    while (length > 0 && data[length - 1] == ' ') --length;
  }
  return std::string(data, length);
}

Id string_type(size_t size) {
  Id type = checked_copy(H5T_C_S1);
  if (type.get() < 0 || H5Tset_size(type.get(), size) < 0 || H5Tset_strpad(type.get(), H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0) {
    return Id();
  }
  return type;
}

Id file_type(Dtype dtype) {
  switch (dtype) {
    case Dtype::float16: return make_half_type();
    case Dtype::float32: return checked_copy(H5T_IEEE_F32LE);
    case Dtype::float64: return checked_copy(H5T_IEEE_F64LE);
    case Dtype::int32: return checked_copy(H5T_STD_I32LE);
    case Dtype::int64: return checked_copy(H5T_STD_I64LE);
    case Dtype::uint8: return checked_copy(H5T_STD_U8LE);
    case Dtype::string: break;  // strings have a size: string_type()
  }
  return Id();
}

Id memory_type(Dtype dtype) {
  switch (dtype) {
    case Dtype::float16: return make_half_type();  // raw bits, converted by hdf5_float16
    case Dtype::float32: return checked_copy(H5T_NATIVE_FLOAT);
    case Dtype::float64: return checked_copy(H5T_NATIVE_DOUBLE);
    case Dtype::int32: return checked_copy(H5T_NATIVE_INT32);
    case Dtype::int64: return checked_copy(H5T_NATIVE_INT64);
    case Dtype::uint8: return checked_copy(H5T_NATIVE_UINT8);
    case Dtype::string: break;  // strings have a size: string_type()
  }
  return Id();
}

std::string describe_type(hid_t type) {
  const size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_STRING: return H5Tis_variable_str(type) > 0 ? "variable-length string" : "string";
    case H5T_COMPOUND: return "compound";
    case H5T_ENUM: return "enum";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "vlen";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    case H5T_REFERENCE: return "reference";
    case H5T_TIME: return "time";
    default: return "unknown type";
  }
}

bool matches(hid_t type, Dtype dtype) {
  const H5T_class_t cls = H5Tget_class(type);
  const size_t size = H5Tget_size(type);
  auto is_int = [&](size_t bytes, bool is_signed) {
    return cls == H5T_INTEGER && size == bytes && (H5Tget_sign(type) == H5T_SGN_2) == is_signed;
  };
  switch (dtype) {
    case Dtype::float16: {
      if (cls != H5T_FLOAT || size != 2) return false;
      size_t spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0;
      if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return false;
      return spos == 15 && epos == 10 && esize == 5 && mpos == 0 && msize == 10 && H5Tget_ebias(type) == 15;
    }
    case Dtype::float32: return cls == H5T_FLOAT && size == 4;
    case Dtype::float64: return cls == H5T_FLOAT && size == 8;
    case Dtype::int32: return is_int(4, true);
    case Dtype::int64: return is_int(8, true);
    case Dtype::uint8: return is_int(1, false);
    case Dtype::string: return cls == H5T_STRING && H5Tis_variable_str(type) == 0;
  }
  return false;
}

// --- File ------------------------------------------------------------------------------------------------

namespace {

Id file_access_properties() {
  Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  // Closing the file closes every object still open in it, so a writer dropped mid-way (exception, resume)
  // always leaves a closed, consistent file behind.
  if (fapl.get() >= 0 && H5Pset_fclose_degree(fapl.get(), H5F_CLOSE_STRONG) < 0) return Id();
  // Write the HDF5 1.10 file format and no other: its superblock, object headers and chunk indexes carry
  // checksums, so a corrupt file is refused with an error where the 1.8 format would feed garbage to HDF5's
  // parsers. 1.10 is the newest format the HDF5 on our machines (and any h5py) reads.
  if (fapl.get() >= 0 && H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V110, H5F_LIBVER_V110) < 0) return Id();
  return fapl;
}

}  // namespace

namespace {

// HDF5 1.10's file access property behind `h5clear -s`; it has no public setter in 1.10 (1.12 neither), so it is
// set by name. Checked to exist, so that a library without it gives an error rather than a refused open.
constexpr const char* kClearStatusFlags = "clear_status_flags";

}  // namespace

File File::open(const std::filesystem::path& path, bool writable) { return open_with(path, writable, false); }
File File::open_after_crash(const std::filesystem::path& path) { return open_with(path, true, true); }

File File::open_with(const std::filesystem::path& path, bool writable, bool clear_status_flags) {
  silence_errors();
  const std::string source = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw FormatError(source, "file", "does not exist or is not a regular file");
  const htri_t is_hdf5 = H5Fis_hdf5(source.c_str());
  if (is_hdf5 == 0) throw FormatError(source, "file", "not an HDF5 file (no HDF5 signature found)");
  if (is_hdf5 < 0) throw FormatError(source, "file", "cannot be read: " + last_error());
  Id fapl = file_access_properties();
  if (fapl.get() < 0) throw FormatError(source, "file", "cannot set up file access: " + last_error());
  if (clear_status_flags) {
    hbool_t clear = true;
    if (H5Pexist(fapl.get(), kClearStatusFlags) <= 0 || H5Pset(fapl.get(), kClearStatusFlags, &clear) < 0) {
      throw FormatError(source, "file", "this HDF5 library cannot clear a crashed writer's status flag");
    }
  }
  Id file(H5Fopen(source.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get()), H5Fclose);
  if (file.get() < 0) {
    throw FormatError(source, "file", "HDF5 cannot open it (truncated or corrupt?): " + last_error());
  }
  return File(std::move(file), source, writable);
}

File File::create(const std::filesystem::path& path) {
  silence_errors();
  const std::string source = path.string();
  Id fapl = file_access_properties();
  if (fapl.get() < 0) throw FormatError(source, "file", "cannot set up file access: " + last_error());
  // No timestamps in the root group either (see create_group).
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  if (fcpl.get() < 0 || H5Pset_obj_track_times(fcpl.get(), false) < 0) {
    throw FormatError(source, "file", "cannot set up file creation: " + last_error());
  }
  Id file(H5Fcreate(source.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get()), H5Fclose);
  if (file.get() < 0) throw FormatError(source, "file", "cannot create it: " + last_error());
  return File(std::move(file), source, true);
}

void File::remove(const std::string& path) {
  if (H5Ldelete(file_.get(), path.c_str(), H5P_DEFAULT) < 0) fail(path, "cannot be removed");
}

void File::fail(const std::string& object, const std::string& what) const {
  const int error_number = errno;  // from the system call under HDF5's failure, when there was one
  const std::string detail = last_error();
  std::string message = detail.empty() ? what : what + " (HDF5: " + detail + ")";
  // A full disk shows up in HDF5's messages in many guises ("Fletcher32 checksum failed" on a chunk whose write was
  // cut short); say it plainly, with the errno text.
  if (writable_) {
    const std::filesystem::path directory = std::filesystem::path(source_).parent_path();
    struct statvfs disk {};
    const bool full = ::statvfs(directory.empty() ? "." : directory.c_str(), &disk) == 0 &&
                      static_cast<uint64_t>(disk.f_bavail) * disk.f_frsize < (uint64_t{1} << 18);
    if (full) {
      message += "; " + std::string(std::strerror(ENOSPC)) + " (" +
                 std::to_string(static_cast<uint64_t>(disk.f_bavail) * disk.f_frsize) + " bytes free on its disk)";
    } else if (error_number == ENOSPC || error_number == EDQUOT || error_number == EFBIG) {
      message += "; " + std::string(std::strerror(error_number)) + " (the system's error for the write)";
    }
  }
  throw FormatError(source_, object, message);
}

bool File::exists(const std::string& path) const {
  // H5Lexists checks only the last link; every parent must be checked first or HDF5 reports an error.
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const std::string prefix = path.substr(0, pos);
    if (prefix.empty() || prefix == "/") continue;
    if (H5Lexists(file_.get(), prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

void File::create_group(const std::string& path) {
  Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  // No timestamps in object headers: the same content gives the same bytes (a reproducible sample file).
  if (gcpl.get() < 0 || H5Pset_obj_track_times(gcpl.get(), false) < 0) fail(path, "cannot set up group creation");
  Id group(H5Gcreate2(file_.get(), path.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose);
  if (group.get() < 0) fail(path, "cannot create group");
}

namespace {

std::string attribute_object(const std::string& object, const std::string& name) {
  return object + " attribute " + name;
}

}  // namespace

bool File::has_attribute(const std::string& object, const std::string& name) const {
  if (!exists(object)) return false;
  const htri_t found = H5Aexists_by_name(file_.get(), object.c_str(), name.c_str(), H5P_DEFAULT);
  if (found < 0) fail(attribute_object(object, name), "cannot be checked");
  return found > 0;
}

std::string File::read_string_attribute(const std::string& object, const std::string& name) const {
  const std::string where = attribute_object(object, name);
  if (!has_attribute(object, name)) fail(where, "missing (expected a string)");
  Id attr(H5Aopen_by_name(file_.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0) fail(where, "cannot be opened");
  Id type(H5Aget_type(attr.get()), H5Tclose);
  Id space(H5Aget_space(attr.get()), H5Sclose);
  if (type.get() < 0 || space.get() < 0) fail(where, "cannot be inspected");
  if (!matches(type.get(), Dtype::string)) {
    fail(where, "expected a fixed-length string, found " + describe_type(type.get()));
  }
  if (H5Sget_simple_extent_npoints(space.get()) != 1) fail(where, "expected a single string");
  // Read in the file's own string type: no conversion, so nothing but the attribute's bytes is touched.
  const size_t size = static_cast<size_t>(element_count(where, {H5Tget_size(type.get())}));
  std::vector<char> buffer(size + 1, '\0');
  if (H5Aread(attr.get(), type.get(), buffer.data()) < 0) fail(where, "cannot be read");
  return unpad(buffer.data(), size, H5Tget_strpad(type.get()));
}

int64_t File::read_int_attribute(const std::string& object, const std::string& name) const {
  const std::string where = attribute_object(object, name);
  if (!has_attribute(object, name)) fail(where, "missing (expected an integer)");
  Id attr(H5Aopen_by_name(file_.get(), object.c_str(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  if (attr.get() < 0) fail(where, "cannot be opened");
  Id type(H5Aget_type(attr.get()), H5Tclose);
  Id space(H5Aget_space(attr.get()), H5Sclose);
  if (type.get() < 0 || space.get() < 0) fail(where, "cannot be inspected");
  // docs/FORMATS.md: "Integer attributes are scalar int64". Any other type is refused rather than converted:
  // HDF5 would clip an out-of-range value silently, and a reader that converts accepts files the spec forbids.
  if (!matches(type.get(), Dtype::int64)) fail(where, "expected a scalar int64, found " + describe_type(type.get()));
  if (H5Sget_simple_extent_type(space.get()) != H5S_SCALAR) fail(where, "expected a scalar int64, found an array");
  int64_t value = 0;
  if (H5Aread(attr.get(), H5T_NATIVE_INT64, &value) < 0) fail(where, "cannot be read");
  return value;
}

namespace {

template <class WriteFn>
void replace_attribute(const File& file, const std::string& object, const std::string& name, hid_t type,
                       WriteFn write) {
  const std::string where = attribute_object(object, name);
  if (file.has_attribute(object, name) && H5Adelete_by_name(file.id(), object.c_str(), name.c_str(), H5P_DEFAULT) < 0) {
    file.fail(where, "cannot replace");
  }
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  if (space.get() < 0) file.fail(where, "cannot create dataspace");
  Id attr(H5Acreate_by_name(file.id(), object.c_str(), name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT),
          H5Aclose);
  if (attr.get() < 0 || write(attr.get()) < 0) file.fail(where, "cannot write");
}

}  // namespace

void File::write_attribute(const std::string& object, const std::string& name, const std::string& value) {
  Id type = string_type(std::max<size_t>(value.size(), 1));  // HDF5 refuses a zero-size type
  if (type.get() < 0) fail(attribute_object(object, name), "cannot create string type");
  replace_attribute(*this, object, name, type.get(),
                    [&](hid_t attr) { return H5Awrite(attr, type.get(), value.c_str()); });
}

void File::write_attribute(const std::string& object, const std::string& name, int64_t value) {
  replace_attribute(*this, object, name, H5T_STD_I64LE,
                    [&](hid_t attr) { return H5Awrite(attr, H5T_NATIVE_INT64, &value); });
}

Shape File::dataset_shape(const std::string& path) const {
  if (!exists(path)) fail(path, "missing dataset");
  Id dataset(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (dataset.get() < 0) fail(path, "is not a dataset or cannot be opened");
  Id space(H5Dget_space(dataset.get()), H5Sclose);
  if (space.get() < 0) fail(path, "cannot read its dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) fail(path, "cannot read its dataspace");
  Shape dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) fail(path, "cannot read its shape");
  return dims;
}

Id File::open_dataset(const std::string& path, Dtype dtype, const Shape& shape) const {
  const Shape found = dataset_shape(path);  // also checks that it exists and is a dataset
  Id dataset(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (dataset.get() < 0) fail(path, "cannot be opened");
  // Raw data must live in this file: external storage (H5Pset_external) or a virtual dataset can point at any
  // file on the machine — /dev/zero, another user's data — which a reader of a profile must never open.
  Id dcpl(H5Dget_create_plist(dataset.get()), H5Pclose);
  if (dcpl.get() < 0) fail(path, "cannot read its storage properties");
  const H5D_layout_t storage = H5Pget_layout(dcpl.get());
  if (H5Pget_external_count(dcpl.get()) != 0 || storage == H5D_VIRTUAL || storage < 0) {
    fail(path, "its data is stored outside this file (HDF5 external or virtual storage), which svdit refuses");
  }
  Id type(H5Dget_type(dataset.get()), H5Tclose);
  if (type.get() < 0) fail(path, "cannot read its dtype");
  if (!matches(type.get(), dtype)) {
    fail(path, std::string("expected dtype ") + to_string(dtype) + ", found " + describe_type(type.get()));
  }
  if (found != shape) fail(path, "expected shape " + to_string(shape) + ", found " + to_string(found));
  return dataset;
}

void File::create_dataset(const std::string& path, Dtype dtype, const Shape& shape, const Layout& layout) {
  Id type = file_type(dtype);
  Id space(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr), H5Sclose);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (type.get() < 0 || space.get() < 0 || dcpl.get() < 0) fail(path, "cannot set up dataset creation");
  bool ok = H5Pset_obj_track_times(dcpl.get(), false) >= 0;
  if (!layout.chunk.empty()) {
    ok = ok && H5Pset_chunk(dcpl.get(), static_cast<int>(layout.chunk.size()), layout.chunk.data()) >= 0;
    // Shuffle groups the bytes of each element position, which lets deflate find the runs in float data.
    if (layout.deflate > 0) {
      ok = ok && H5Pset_shuffle(dcpl.get()) >= 0 &&
           H5Pset_deflate(dcpl.get(), static_cast<unsigned>(layout.deflate)) >= 0;
    }
    // A checksum per chunk: a damaged chunk is an error on read, never garbage handed to the decompressor.
    ok = ok && H5Pset_fletcher32(dcpl.get()) >= 0;
  }
  if (layout.fill != nullptr) {
    Id memory = memory_type(dtype);
    ok = ok && memory.get() >= 0 && H5Pset_fill_value(dcpl.get(), memory.get(), layout.fill) >= 0;
  }
  if (!ok) fail(path, "cannot set up chunking, compression or fill value");
  Id dataset(H5Dcreate2(file_.get(), path.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
             H5Dclose);
  if (dataset.get() < 0) fail(path, "cannot create dataset");
}

namespace {

// Selects [start, start + count) in the file's dataspace and returns a matching memory dataspace.
Id select(const File& file, const std::string& path, hid_t file_space, const Shape& start, const Shape& count) {
  if (H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr) < 0 ||
      H5Sselect_valid(file_space) <= 0) {
    file.fail(path, "selection at " + to_string(start) + " of size " + to_string(count) + " is out of bounds");
  }
  Id memory(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  if (memory.get() < 0) file.fail(path, "cannot create memory dataspace");
  return memory;
}

}  // namespace

void File::read_raw(const std::string& path, hid_t dataset, Dtype dtype, const Shape* start, const Shape* count,
                    void* out) const {
  Id memory = memory_type(dtype);
  Id file_space(H5Dget_space(dataset), H5Sclose);
  if (memory.get() < 0 || file_space.get() < 0) fail(path, "cannot set up read");
  Id memory_space;
  if (start != nullptr) memory_space = select(*this, path, file_space.get(), *start, *count);
  const hssize_t n =
      start != nullptr ? H5Sget_select_npoints(file_space.get()) : H5Sget_simple_extent_npoints(file_space.get());
  if (n < 0) fail(path, "cannot read its dataspace");
  if (n == 0) return;
  const hid_t mspace = start != nullptr ? memory_space.get() : H5S_ALL;
  const hid_t fspace = start != nullptr ? file_space.get() : H5S_ALL;
  if (H5Dread(dataset, memory.get(), mspace, fspace, H5P_DEFAULT, out) < 0) {
    fail(path, "cannot read data (corrupt or truncated?)");
  }
}

void File::write_raw(const std::string& path, Dtype dtype, const Shape* start, const Shape* count, const void* values,
                     size_t num_values) {
  Id dataset(H5Dopen2(file_.get(), path.c_str(), H5P_DEFAULT), H5Dclose);
  if (dataset.get() < 0) fail(path, "cannot open dataset for writing");
  Id memory = memory_type(dtype);
  Id file_space(H5Dget_space(dataset.get()), H5Sclose);
  if (memory.get() < 0 || file_space.get() < 0) fail(path, "cannot set up write");
  Id memory_space;
  if (start != nullptr) {
    memory_space = select(*this, path, file_space.get(), *start, *count);
  } else if (static_cast<hssize_t>(num_values) != H5Sget_simple_extent_npoints(file_space.get())) {
    fail(path, "writing " + std::to_string(num_values) + " values into a dataset of " +
                   std::to_string(H5Sget_simple_extent_npoints(file_space.get())));
  }
  if (num_values == 0) return;
  const hid_t mspace = start != nullptr ? memory_space.get() : H5S_ALL;
  const hid_t fspace = start != nullptr ? file_space.get() : H5S_ALL;
  if (H5Dwrite(dataset.get(), memory.get(), mspace, fspace, H5P_DEFAULT, values) < 0) fail(path, "cannot write data");
}

std::vector<std::string> File::read_strings(const std::string& path, hsize_t count) const {
  Id dataset = open_dataset(path, Dtype::string, {count});  // refuses variable-length strings
  Id type(H5Dget_type(dataset.get()), H5Tclose);
  if (type.get() < 0) fail(path, "cannot be inspected");
  std::vector<std::string> result;
  if (count == 0) return result;
  const size_t size = H5Tget_size(type.get());
  // Bounded before anything is allocated, counting each string at least at its in-memory size (found by
  // svdit-fuzz-profile: 2^31 prompts reserved 64 GiB of std::string before the buffer's check).
  static_cast<void>(element_count(path, {count, std::max(size, sizeof(std::string))}));
  result.reserve(static_cast<size_t>(count));
  std::vector<char> buffer(static_cast<size_t>(count * size) + 1, '\0');
  if (H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0) {
    fail(path, "cannot read strings");
  }
  const H5T_str_t padding = H5Tget_strpad(type.get());
  for (size_t i = 0; i < count; ++i) result.push_back(unpad(buffer.data() + i * size, size, padding));
  return result;
}

void File::write_strings(const std::string& path, const std::vector<std::string>& values) {
  size_t size = 1;  // HDF5 refuses a zero-size type
  for (const std::string& value : values) size = std::max(size, value.size());
  Id type = string_type(size);
  const hsize_t count = values.size();
  Id space(H5Screate_simple(1, &count, nullptr), H5Sclose);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  if (type.get() < 0 || space.get() < 0 || dcpl.get() < 0 || H5Pset_obj_track_times(dcpl.get(), false) < 0) {
    fail(path, "cannot set up string dataset creation");
  }
  Id dataset(H5Dcreate2(file_.get(), path.c_str(), type.get(), space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
             H5Dclose);
  if (dataset.get() < 0) fail(path, "cannot create dataset");
  if (values.empty()) return;
  std::vector<char> buffer(size * values.size(), '\0');  // NUL-padded, as the type says
  for (size_t i = 0; i < values.size(); ++i)
    std::copy(values[i].begin(), values[i].end(), buffer.begin() + static_cast<std::ptrdiff_t>(i * size));
  if (H5Dwrite(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) < 0)
    fail(path, "cannot write strings");
}

hsize_t File::element_count(const std::string& path, const Shape& shape) const {
  hsize_t n = 1;
  for (hsize_t d : shape) {
    if (d != 0 && n > kMaxElements / d) {
      fail(path,
           "shape " + to_string(shape) + " is larger than svdit loads (" + std::to_string(kMaxElements) + " elements)");
    }
    n *= d;
  }
  return n;
}

void File::flush() {
  if (H5Fflush(file_.get(), H5F_SCOPE_GLOBAL) < 0) fail("file", "cannot flush to disk");
}

void File::close() {
  if (file_.get() < 0) return;
  // Take ownership first so that a failed close is not attempted again by the destructor.
  if (H5Fclose(file_.release()) < 0) fail("file", "cannot close (data may not have reached the disk)");
}

}  // namespace svdit::data::hdf5
