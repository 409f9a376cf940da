// Reading one safetensors file: memory mapping and complete validation of its header.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include "safetensors_json.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::data {

using nlohmann::json;
using safetensors_detail::describe_json;
using safetensors_detail::quote_name;

namespace {

// The reference implementation's cap. A real header is ~100 KB even for a 14B model; the cap stops a corrupt
// length from making us parse (or, for a fuzzer, allocate) gigabytes of "JSON".
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::string tensor_object(std::string_view name) { return "tensor " + quote_name(name); }

uint64_t load_u64_le(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | std::to_integer<uint64_t>(p[i]);
  return v;
}

std::optional<DType> dtype_from_string(const std::string& text) {
  if (text == "F32") return DType::f32;
  if (text == "BF16") return DType::bf16;
  if (text == "F16") return DType::f16;
  return std::nullopt;
}

const json& field(const json& entry, const char* key, const std::string& source, const std::string& object) {
  const auto it = entry.find(key);
  if (it == entry.end()) {
    throw FormatError(source, object,
                      std::string("missing field \"") + key + "\" (each tensor needs dtype, shape, data_offsets)");
  }
  return *it;
}

// A JSON integer that is ≥ 0 and fits in int64 (shape dimensions, offsets). 2.0 or 1e3 is not an integer here:
// the reference writer never produces them and accepting them would mean guessing at rounding.
std::optional<uint64_t> non_negative_integer(const json& v) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return u;
  }
  if (v.is_number_integer()) {
    const auto s = v.get<int64_t>();
    if (s < 0) return std::nullopt;
    return static_cast<uint64_t>(s);
  }
  return std::nullopt;
}

struct Layout {
  uint64_t data_begin = 0;  // 8 + N
  uint64_t data_size = 0;   // bytes after the header
};

TensorInfo parse_tensor(const std::string& name, const json& entry, const Layout& layout, const std::string& source) {
  const std::string object = tensor_object(name);
  if (!entry.is_object()) {
    throw FormatError(source, object,
                      "expected an object {\"dtype\", \"shape\", \"data_offsets\"}, found " + describe_json(entry));
  }
  TensorInfo info;
  info.name = name;

  const json& dtype = field(entry, "dtype", source, object);
  if (!dtype.is_string()) {
    throw FormatError(source, object, "field \"dtype\": expected a string, found " + describe_json(dtype));
  }
  const auto parsed_dtype = dtype_from_string(dtype.get<std::string>());
  if (!parsed_dtype) {
    throw FormatError(source, object,
                      "field \"dtype\": unknown dtype " + quote_name(dtype.get<std::string>()) +
                          "; svdit reads F32, BF16 and F16 (convert the checkpoint first)");
  }
  info.dtype = *parsed_dtype;

  const json& shape = field(entry, "shape", source, object);
  if (!shape.is_array()) {
    throw FormatError(source, object, "field \"shape\": expected an array of integers, found " + describe_json(shape));
  }
  // Element and byte counts are accumulated with overflow checks: a shape like [2^40, 2^40] must be reported,
  // not wrapped around into a small number that then happens to match the byte range.
  uint64_t numel = 1;
  bool overflow = false;
  for (size_t i = 0; i < shape.size(); ++i) {
    const auto d = non_negative_integer(shape[i]);
    if (!d) {
      throw FormatError(source, object,
                        "field \"shape\": dimension " + std::to_string(i) +
                            " must be a non-negative integer that fits in int64, found " + describe_json(shape[i]));
    }
    info.shape.push_back(static_cast<int64_t>(*d));
    overflow = overflow || __builtin_mul_overflow(numel, *d, &numel) ||
               numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  }
  uint64_t expected_bytes = 0;
  overflow = overflow || __builtin_mul_overflow(numel, dtype_size(info.dtype), &expected_bytes);
  // A zero dimension makes the true count 0 even if an earlier prefix overflowed.
  if (std::find(info.shape.begin(), info.shape.end(), 0) != info.shape.end()) {
    overflow = false;
    expected_bytes = 0;
  }
  if (overflow) {
    throw FormatError(source, object, "field \"shape\": element count overflows 64 bits; no file can hold it");
  }

  const json& offsets = field(entry, "data_offsets", source, object);
  if (!offsets.is_array() || offsets.size() != 2) {
    throw FormatError(source, object, "field \"data_offsets\": expected [begin, end], found " + describe_json(offsets));
  }
  const auto begin = non_negative_integer(offsets[0]);
  const auto end = non_negative_integer(offsets[1]);
  if (!begin || !end) {
    throw FormatError(source, object, "field \"data_offsets\": expected two non-negative integers, found " +
                                          describe_json(begin ? offsets[1] : offsets[0]));
  }
  const std::string range = "[" + std::to_string(*begin) + ", " + std::to_string(*end) + ")";
  if (*begin > *end) throw FormatError(source, object, "field \"data_offsets\": begin > end in " + range);
  if (*end > layout.data_size) {
    throw FormatError(source, object,
                      "field \"data_offsets\": " + range + " is outside the data section, which holds " +
                          std::to_string(layout.data_size) + " bytes");
  }
  if (*end - *begin != expected_bytes) {
    throw FormatError(source, object,
                      "field \"data_offsets\": " + range + " spans " + std::to_string(*end - *begin) +
                          " bytes, but shape × dtype size = " + std::to_string(numel) + " × " +
                          std::to_string(dtype_size(info.dtype)) + " = " + std::to_string(expected_bytes));
  }
  info.offset = layout.data_begin + *begin;  // cannot overflow: both are ≤ the file size
  info.size = expected_bytes;
  return info;
}

std::map<std::string, std::string> parse_metadata(const json& value, const std::string& source) {
  if (!value.is_object()) {
    throw FormatError(source, "__metadata__", "expected an object of string values, found " + describe_json(value));
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      throw FormatError(source, "__metadata__ " + quote_name(key),
                        "expected a string value, found " + describe_json(v));
    }
    metadata.emplace(key, v.get<std::string>());
  }
  return metadata;
}

// The tensors' byte ranges must tile the data section exactly, as the format requires ("the byte buffer needs to be
// entirely indexed, and cannot contain holes"): no two share bytes (they would alias: a reader that trusts the file,
// e.g. an in-place loader, would see one tensor change the other), no bytes between them, none after the last. The
// last rule is what catches a header length that is off: with N one too small, every offset still lies inside the
// (one byte longer) data section and every weight would be read one byte off.
void check_data_section_is_tiled(const std::vector<TensorInfo>& tensors, const Layout& layout,
                                 const std::string& source) {
  std::vector<const TensorInfo*> by_offset;
  for (const TensorInfo& t : tensors) {
    if (t.size > 0) by_offset.push_back(&t);  // empty tensors occupy no bytes and cannot overlap anything
  }
  std::sort(by_offset.begin(), by_offset.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->offset != b->offset ? a->offset < b->offset : a->name < b->name;
  });
  uint64_t covered = layout.data_begin;  // file offset up to which the tensors so far account for every byte
  const TensorInfo* previous = nullptr;
  auto relative = [&](uint64_t file_offset) { return std::to_string(file_offset - layout.data_begin); };
  for (const TensorInfo* cur : by_offset) {
    if (cur->offset < covered) {
      throw FormatError(source, tensor_object(cur->name),
                        "its bytes [" + std::to_string(cur->offset) + ", " + std::to_string(cur->offset + cur->size) +
                            ") of the file overlap those of tensor " + quote_name(previous->name) + " [" +
                            std::to_string(previous->offset) + ", " + std::to_string(previous->offset + previous->size) +
                            ")");
    }
    if (cur->offset > covered) {
      throw FormatError(source, tensor_object(cur->name),
                        "field \"data_offsets\": it begins at " + relative(cur->offset) +
                            ", leaving bytes [" + relative(covered) + ", " + relative(cur->offset) +
                            ") of the data section to no tensor (the format allows no holes)");
    }
    covered = cur->offset + cur->size;
    previous = cur;
  }
  const uint64_t end = layout.data_begin + layout.data_size;
  if (covered != end) {
    throw FormatError(source, "header length",
                      "the tensors account for " + relative(covered) + " bytes of data but the file holds " +
                          std::to_string(layout.data_size) + " after the " + std::to_string(layout.data_begin - 8) +
                          "-byte header: the header length is wrong or bytes follow the last tensor");
  }
}

// An mmap that unmaps itself. The file descriptor is closed right after mapping: the mapping keeps the file
// alive (even if it is unlinked or replaced by an atomic rename meanwhile). Truncating the file in place while
// it is mapped would still raise SIGBUS on access; safetensors writers (ours included) replace, not truncate.
struct Mapping {
  void* address = nullptr;
  size_t length = 0;
  Mapping(void* a, size_t n) : address(a), length(n) {}
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (address != nullptr) ::munmap(address, length);
  }
};

}  // namespace

SafetensorsFile SafetensorsFile::parse(std::span<const std::byte> file, const std::string& source) {
  SafetensorsFile result;
  result.source_ = source;
  result.file_ = file;

  if (file.size() < 8) {
    throw FormatError(source, "header length",
                      "file is " + std::to_string(file.size()) +
                          " bytes; a safetensors file starts with an 8-byte little-endian header length");
  }
  const uint64_t header_bytes = load_u64_le(file.data());
  if (header_bytes > kMaxHeaderBytes) {
    throw FormatError(source, "header length",
                      "header length " + std::to_string(header_bytes) + " exceeds the limit of " +
                          std::to_string(kMaxHeaderBytes) + " bytes (not a safetensors file, or corrupt)");
  }
  if (header_bytes > file.size() - 8) {
    throw FormatError(source, "header length",
                      "header length " + std::to_string(header_bytes) + " runs past the end of the file (8 + " +
                          std::to_string(header_bytes) + " > " + std::to_string(file.size()) + " bytes)");
  }
  const Layout layout{8 + header_bytes, file.size() - 8 - header_bytes};
  const std::string_view text(reinterpret_cast<const char*>(file.data() + 8), static_cast<size_t>(header_bytes));
  const json header = detail::parse_json_strictly(text, source, "header", safetensors_detail::kMaxJsonDepth);
  if (!header.is_object()) {
    throw FormatError(source, "header",
                      "expected a JSON object {tensor name: {dtype, shape, data_offsets}}, found " +
                          describe_json(header));
  }
  // nlohmann's objects iterate in key order, so tensors_ comes out sorted by name, as find() requires.
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      result.metadata_ = parse_metadata(value, source);
    } else {
      result.tensors_.push_back(parse_tensor(key, value, layout, source));
    }
  }
  check_data_section_is_tiled(result.tensors_, layout, source);
  return result;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  const std::string source = path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw FormatError(source, "file", std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    throw FormatError(source, "file", std::string("cannot stat: ") + std::strerror(error));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw FormatError(source, "file", "not a regular file");
  }
  const auto length = static_cast<size_t>(st.st_size);
  if (length < 8) {
    // mmap refuses length 0, and there is nothing to map anyway: read the few bytes so that parse() reports
    // the same error as for an in-memory buffer (it always throws here, so the span never outlives `small`).
    std::byte small[8];
    const ssize_t got = ::read(fd, small, length);
    ::close(fd);
    return parse(std::span<const std::byte>(small, got > 0 ? static_cast<size_t>(got) : 0), source);
  }
  void* address = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_error = errno;
  ::close(fd);
  if (address == MAP_FAILED) throw FormatError(source, "file", std::string("cannot mmap: ") + std::strerror(map_error));
  auto mapping = std::make_shared<const Mapping>(address, length);
  SafetensorsFile result = parse(std::span<const std::byte>(static_cast<const std::byte*>(address), length), source);
  result.mapping_ = std::move(mapping);
  return result;
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorInfo& SafetensorsFile::at(std::string_view name) const {
  if (const TensorInfo* t = find(name)) return *t;
  throw FormatError(source_, tensor_object(name), "no such tensor in this file");
}

std::span<const std::byte> SafetensorsFile::bytes(std::string_view name) const { return bytes(at(name)); }

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo& tensor) const {
  // A TensorInfo from another file (or edited by the caller) must not turn into an out-of-bounds span.
  if (tensor.offset > file_.size() || tensor.size > file_.size() - tensor.offset) {
    throw FormatError(source_, tensor_object(tensor.name), "byte range lies outside this file");
  }
  return file_.subspan(static_cast<size_t>(tensor.offset), static_cast<size_t>(tensor.size));
}

}  // namespace svdit::data
