#pragma once
// Model weights in the safetensors format (docs/FORMATS.md "Weights (safetensors)"):
//   [u64 little-endian N][N bytes of UTF-8 JSON header][data section]
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} (offsets relative to the
// data section) and may hold "__metadata__", a string→string map. Large checkpoints are split into shards listed
// by a "*.safetensors.index.json" ({"metadata": {…}, "weight_map": {tensor: shard file}}).
//
// Files are memory-mapped read-only, so opening a 57 GB checkpoint costs only its headers and a tensor's bytes
// are paged in when first touched. Every header is validated completely before any tensor is handed out: a
// malformed or hostile file raises FormatError naming the file, the tensor or field and what was expected; it
// never leads to a read outside the file.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace svdit::data {

// The element types svdit reads. Checkpoints in any other dtype are refused with a FormatError naming the tensor.
enum class DType { f32, bf16, f16 };

const char* to_string(DType dtype);  // the safetensors spelling: "F32", "BF16", "F16"
size_t dtype_size(DType dtype);      // bytes per element: 4, 2, 2

struct TensorInfo {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;  // row-major; [] is a scalar (one element)
  uint64_t offset = 0;         // byte offset of the first element from the start of the file (not the data section)
  uint64_t size = 0;           // bytes: numel() × dtype_size(dtype)

  int64_t numel() const;  // product of shape; 1 for a scalar
};

// One .safetensors file. Movable, not copyable; the tensors' bytes stay valid as long as the object lives.
class SafetensorsFile {
 public:
  // Maps `path` read-only and validates its header. Throws FormatError naming `path`.
  static SafetensorsFile open(const std::filesystem::path& path);

  // Validates a whole safetensors file held in memory (tests, fuzzing, buffers from elsewhere). The result
  // refers to `file` without copying it: `file` must outlive it. Errors name `source`.
  static SafetensorsFile parse(std::span<const std::byte> file, const std::string& source = "<memory>");

  const std::string& source() const { return source_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // sorted by name
  const std::map<std::string, std::string>& metadata() const { return metadata_; }  // "__metadata__"

  const TensorInfo* find(std::string_view name) const;  // nullptr when absent
  const TensorInfo& at(std::string_view name) const;    // throws FormatError naming the file and the tensor
  std::span<const std::byte> bytes(std::string_view name) const;  // throws like at()
  std::span<const std::byte> bytes(const TensorInfo& tensor) const;  // `tensor` must come from this file

  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile() = default;

 private:
  SafetensorsFile() = default;

  std::string source_;
  std::shared_ptr<const void> mapping_;  // keeps the mmap alive (empty after parse())
  std::span<const std::byte> file_;      // the whole file
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

// The tensors of one checkpoint, whether it is a single file or sharded. Lookup is by name across all shards.
class SafetensorsCollection {
 public:
  // `path` is a .safetensors file, a *.safetensors.index.json, or a directory holding exactly one index (used
  // when present, as transformers does) or else exactly one .safetensors file. Shards are resolved relative to
  // the index's directory. Every shard is opened and checked against the index up front: a shard that is
  // missing, a tensor absent from the shard the index names, a tensor present in two shards or a tensor no
  // index entry names all raise FormatError.
  static SafetensorsCollection open(const std::filesystem::path& path);

  const std::string& source() const { return source_; }  // the file or index actually opened
  const std::vector<TensorInfo>& tensors() const { return tensors_; }  // all shards, sorted by name
  // The index's "metadata" (non-string values as their JSON text, e.g. total_size), or the single file's
  // "__metadata__".
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<SafetensorsFile>& shards() const { return shards_; }  // in the order of first mention

  const TensorInfo* find(std::string_view name) const;  // nullptr when absent; offset is within its shard
  const TensorInfo& at(std::string_view name) const;    // throws FormatError naming the source and the tensor
  std::span<const std::byte> bytes(std::string_view name) const;  // throws like at()
  const SafetensorsFile& shard_of(std::string_view name) const;  // throws like at()

 private:
  SafetensorsCollection() = default;
  size_t index_of(std::string_view name) const;  // throws like at()

  std::string source_;
  std::vector<SafetensorsFile> shards_;
  std::vector<TensorInfo> tensors_;
  std::vector<size_t> shard_index_;  // shard_index_[i] = shard holding tensors_[i]
  std::map<std::string, std::string> metadata_;
};

// Converts the little-endian elements of `tensor` to float. Exact for all three dtypes (bf16 and f16 values,
// subnormals, infinities and NaNs included, are all representable in f32). `bytes.size()` must equal
// `tensor.size`, else FormatError naming the tensor.
std::vector<float> to_float(const TensorInfo& tensor, std::span<const std::byte> bytes);

// One tensor to write: `bytes` are numel × dtype_size little-endian elements, row-major.
struct TensorData {
  std::string name;
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  std::span<const std::byte> bytes;
};

// Writes a safetensors file atomically (temporary sibling, fsync, rename): readers see the old file or the
// new one, never a torn one. The output is deterministic for the same input: header keys sorted, tensors laid
// out contiguously ordered by element size (largest first) then name, so every tensor is aligned to its
// element size, and the header padded with spaces so the data section starts at a multiple of 8 bytes — the
// layout the reference implementation writes and requires (no gaps between tensors). Throws FormatError
// naming `path` and the tensor on a duplicate or reserved ("__metadata__") name, a name that is not UTF-8,
// a negative dimension or a byte count that does not match the shape; std::runtime_error on I/O failure (the
// previous file, if any, is then left untouched).
void write_safetensors(const std::filesystem::path& path, std::span<const TensorData> tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The same bytes write_safetensors would write, in memory (for small files, tests and fuzzing).
std::vector<std::byte> serialize_safetensors(std::span<const TensorData> tensors,
                                             const std::map<std::string, std::string>& metadata = {},
                                             const std::string& source = "<memory>");

}  // namespace svdit::data
