#pragma once
// Checked access to an HDF5 file through HDF5's C API. Every call's return is checked, and every failure — a
// missing object, a wrong dtype or shape, a corrupt or truncated file — becomes a FormatError that names the
// file, the object (dataset path, or "<group> attribute <name>") and what was expected vs found, with HDF5's
// own innermost message appended when it has one. HDF5's automatic error printing is switched off so that the
// library never writes to stderr behind the caller's back. Internal to svdit_data: keeps hdf5.h out of the
// public headers.

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace svdit::data::hdf5 {

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Closer close) : id_(id), close_(close) {}
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = H5I_INVALID_HID; }
  Id& operator=(Id&& other) noexcept;
  ~Id() { reset(); }

  hid_t get() const { return id_; }
  void reset();
  hid_t release() {  // gives up ownership without closing
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// The element types svdit's formats use. float16 is IEEE binary16, stored as raw bits (uint16_t in memory).
// string is a fixed-length, NUL-padded UTF-8 string: svdit never writes or reads variable-length strings, because
// HDF5 1.10 reads those through its global heap, which crashes (not errors) on a corrupt file.
enum class Dtype { float16, float32, float64, int32, int64, uint8, string };
const char* to_string(Dtype dtype);

using Shape = std::vector<hsize_t>;
// The most elements svdit loads in one read (64 Mi: a [G, G] map at kMaxBlocks, 256 MiB of float32; a real
// profile's largest whole-dataset read, its error table, is a few million): a larger claim is a damaged file. The
// bound is on elements read, not on the file's bytes: unwritten chunks of a partial profile read as the fill value.
inline constexpr hsize_t kMaxElements = hsize_t{1} << 26;
std::string to_string(const Shape& shape);  // "[2, 3, 4]"

// Maps a C++ element type to the Dtype it is stored as (uint16_t ↔ float16 raw bits).
template <class T>
constexpr Dtype dtype_of() {
  if constexpr (std::is_same_v<T, uint16_t>) return Dtype::float16;
  else if constexpr (std::is_same_v<T, float>) return Dtype::float32;
  else if constexpr (std::is_same_v<T, double>) return Dtype::float64;
  else if constexpr (std::is_same_v<T, int32_t>) return Dtype::int32;
  else if constexpr (std::is_same_v<T, int64_t>) return Dtype::int64;
  else if constexpr (std::is_same_v<T, uint8_t>) return Dtype::uint8;
  else static_assert(sizeof(T) == 0, "no HDF5 element type for this C++ type");
}

// How a new dataset is laid out. Empty chunk = contiguous. Fill: the value unwritten elements read as (a
// pointer to one element of the dataset's type), or nullptr for HDF5's default zero.
struct Layout {
  Shape chunk;
  int deflate = 0;  // 0 = no compression; otherwise zlib level, with the shuffle filter in front
  const void* fill = nullptr;
};

class File {
 public:
  // Opens an existing file. Throws FormatError when it is missing, not HDF5, or unreadable (e.g. truncated).
  static File open(const std::filesystem::path& path, bool writable);
  // Opens for writing a file whose writer may have died without closing it (kill -9, power loss). HDF5 marks a
  // file "open for write" in its superblock and refuses to open it again until the mark is cleared; this clears
  // it, as `h5clear -s` does. Only for a file the caller holds the TargetLock of (so no live writer has it open)
  // and whose content the caller then verifies itself (ProfileWriter::resume checks every slice's checksum).
  static File open_after_crash(const std::filesystem::path& path);
  // Creates (truncating) a file.
  static File create(const std::filesystem::path& path);

  const std::string& source() const { return source_; }
  hid_t id() const { return file_.get(); }

  // Throws FormatError(source, object, what + HDF5's innermost message, if any).
  [[noreturn]] void fail(const std::string& object, const std::string& what) const;

  bool exists(const std::string& path) const;  // every link along the path exists
  void create_group(const std::string& path);
  void remove(const std::string& path);  // unlinks a group or dataset (its space is not reclaimed)

  // Attributes of the object at `object` ("/" for the root).
  bool has_attribute(const std::string& object, const std::string& name) const;
  std::string read_string_attribute(const std::string& object, const std::string& name) const;
  int64_t read_int_attribute(const std::string& object, const std::string& name) const;  // scalar int64 only
  void write_attribute(const std::string& object, const std::string& name, const std::string& value);
  void write_attribute(const std::string& object, const std::string& name, int64_t value);  // stored int64

  // Opens a dataset and checks its dtype and shape; an empty expected dimension list is not allowed, pass the
  // full shape. Throws FormatError naming the dataset, the expected and the found dtype/shape.
  Id open_dataset(const std::string& path, Dtype dtype, const Shape& shape) const;
  Shape dataset_shape(const std::string& path) const;  // for datasets whose length is data (e.g. candidates)

  void create_dataset(const std::string& path, Dtype dtype, const Shape& shape, const Layout& layout = {});

  // Whole-dataset and hyperslab I/O in the C++ element type T (see dtype_of).
  template <class T>
  std::vector<T> read(const std::string& path, const Shape& shape) const;
  template <class T>
  void read_slab(const std::string& path, const Shape& shape, const Shape& start, const Shape& count, T* out) const;
  template <class T>
  void write(const std::string& path, const std::vector<T>& values);
  template <class T>
  void write_slab(const std::string& path, const Shape& start, const Shape& count, const T* values);

  // Fixed-length UTF-8 strings; write_strings creates the dataset, as wide as its longest value.
  std::vector<std::string> read_strings(const std::string& path, hsize_t count) const;
  void write_strings(const std::string& path, const std::vector<std::string>& values);

  // Elements of `shape`; throws FormatError naming `path` beyond kMaxElements (or on overflow).
  hsize_t element_count(const std::string& path, const Shape& shape) const;

  void flush();  // pushes everything written so far to the OS, so a crash after it returns loses nothing
  void close();  // checked close; the destructor closes too, silently

 private:
  static File open_with(const std::filesystem::path& path, bool writable, bool clear_status_flags);
  File(Id file, std::string source, bool writable)
      : file_(std::move(file)), source_(std::move(source)), writable_(writable) {}
  // Reads the whole of an opened dataset, or [start, start + count) of it, into `out`.
  void read_raw(const std::string& path, hid_t dataset, Dtype dtype, const Shape* start, const Shape* count,
                void* out) const;
  void write_raw(const std::string& path, Dtype dtype, const Shape* start, const Shape* count, const void* values,
                 size_t num_values);

  Id file_;
  std::string source_;
  bool writable_ = false;  // fail() then also reports a full disk, which HDF5's own message may not say
};

// Numeric element types: the type stored in files (little-endian) and the in-memory type (native).
Id file_type(Dtype dtype);
Id memory_type(Dtype dtype);
Id string_type(size_t size);            // fixed-length, NUL-padded UTF-8 of `size` bytes (≥ 1)
std::string describe_type(hid_t type);  // "float32", "int64", "string", "variable-length string", "compound" …
// Checks a type against a Dtype by class, size and signedness (float16 also by its bit layout; string: fixed-length).
bool matches(hid_t type, Dtype dtype);
// The text of a fixed-length string element: up to the first NUL (or trailing spaces, for space padding).
std::string unpad(const char* data, size_t size, H5T_str_t padding);

// HDF5's innermost error message for the last failed call on this thread, or "" when it left none.
std::string last_error();
// Switches off HDF5's automatic printing of error stacks to stderr, and its clean-up at process exit (idempotent;
// done by every File factory): after a write failed (a full disk) HDF5's exit handler crashed closing the file
// again; svdit closes every file itself, and one it could not close is left to the kernel (and to resume).
void silence_errors();

template <class T>
std::vector<T> File::read(const std::string& path, const Shape& shape) const {
  // Check the dataset before allocating for it: a damaged file must not make us allocate what it claims.
  Id dataset = open_dataset(path, dtype_of<T>(), shape);
  std::vector<T> values(static_cast<size_t>(element_count(path, shape)));
  read_raw(path, dataset.get(), dtype_of<T>(), nullptr, nullptr, values.data());
  return values;
}

template <class T>
void File::read_slab(const std::string& path, const Shape& shape, const Shape& start, const Shape& count,
                     T* out) const {
  Id dataset = open_dataset(path, dtype_of<T>(), shape);
  read_raw(path, dataset.get(), dtype_of<T>(), &start, &count, out);
}

template <class T>
void File::write(const std::string& path, const std::vector<T>& values) {
  write_raw(path, dtype_of<T>(), nullptr, nullptr, values.data(), values.size());
}

template <class T>
void File::write_slab(const std::string& path, const Shape& start, const Shape& count, const T* values) {
  size_t n = 1;
  for (hsize_t d : count) n *= static_cast<size_t>(d);
  write_raw(path, dtype_of<T>(), &start, &count, values, n);
}

}  // namespace svdit::data::hdf5
