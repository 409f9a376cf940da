// libFuzzer target: arbitrary bytes as a whole safetensors file.
// Bugs it reports (by aborting): a crash or sanitizer report while parsing; any exception other than FormatError
// (the reader promises that type for every bad input); and, for inputs the reader accepts, any broken promise of
// the API — a tensor's bytes outside the file, a lookup that misses, a size that disagrees with the shape, or a
// write → read round trip that does not give back the same tensors, metadata and (on rewriting) the same bytes.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <span>
#include <vector>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

using svdit::data::DType;
using svdit::data::FormatError;
using svdit::data::SafetensorsFile;
using svdit::data::TensorData;
using svdit::data::TensorInfo;

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "svdit-fuzz-safetensors: %s\n", what);
  std::abort();
}

void check(bool condition, const char* what) {
  if (!condition) fail(what);
}

void check_accepted(const SafetensorsFile& file, std::span<const std::byte> input) {
  const auto& tensors = file.tensors();
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = tensors[i];
    check(i == 0 || tensors[i - 1].name < t.name, "tensors() not sorted by name, or a name twice");
    check(file.find(t.name) == &t, "find() does not return the listed tensor");
    check(t.numel() >= 0 && static_cast<uint64_t>(t.numel()) * svdit::data::dtype_size(t.dtype) == t.size,
          "size disagrees with shape × dtype size");
    const std::span<const std::byte> bytes = file.bytes(t);
    check(bytes.size() == t.size, "bytes() has the wrong length");
    check(bytes.empty() || (bytes.data() >= input.data() && bytes.data() + bytes.size() <= input.data() + input.size()),
          "bytes() points outside the file");
    // Reads every element, so ASan sees any out-of-bounds span.
    const std::vector<float> values = svdit::data::to_float(t, bytes);
    check(values.size() == static_cast<size_t>(t.numel()), "to_float() returned the wrong element count");
  }
}

// Write what was read, read it back: same tensors, same metadata; writing the re-read file gives the same bytes.
void check_round_trip(const SafetensorsFile& file) {
  std::vector<TensorData> data;
  for (const TensorInfo& t : file.tensors()) data.push_back({t.name, t.dtype, t.shape, file.bytes(t)});
  const std::vector<std::byte> written = svdit::data::serialize_safetensors(data, file.metadata());
  check(written.size() >= 8, "writer output has no header length");
  uint64_t header_bytes = 0;
  for (int i = 7; i >= 0; --i) {
    header_bytes = (header_bytes << 8) | std::to_integer<uint64_t>(written[static_cast<size_t>(i)]);
  }
  check((8 + header_bytes) % 8 == 0, "writer did not align the data section to 8 bytes");
  const SafetensorsFile reread = SafetensorsFile::parse(written, "<round trip>");
  check(reread.metadata() == file.metadata(), "metadata changed in the round trip");
  check(reread.tensors().size() == file.tensors().size(), "tensor count changed in the round trip");
  for (size_t i = 0; i < file.tensors().size(); ++i) {
    const TensorInfo& a = file.tensors()[i];
    const TensorInfo& b = reread.tensors()[i];
    check(a.name == b.name && a.dtype == b.dtype && a.shape == b.shape && a.size == b.size,
          "tensor description changed in the round trip");
    check(b.offset % svdit::data::dtype_size(b.dtype) == 0, "writer left a tensor misaligned");
    const auto x = file.bytes(a);
    const auto y = reread.bytes(b);
    check(std::equal(x.begin(), x.end(), y.begin(), y.end()), "tensor bytes changed in the round trip");
  }
  std::vector<TensorData> again;
  for (const TensorInfo& t : reread.tensors()) again.push_back({t.name, t.dtype, t.shape, reread.bytes(t)});
  check(svdit::data::serialize_safetensors(again, reread.metadata()) == written, "writer is not deterministic");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  try {
    std::optional<SafetensorsFile> file;
    try {
      file.emplace(SafetensorsFile::parse(input, "<fuzz>"));
    } catch (const FormatError&) {
      return 0;  // the expected outcome for most inputs
    }
    check_accepted(*file, input);
    check_round_trip(*file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "svdit-fuzz-safetensors: unexpected exception: %s\n", e.what());
    std::abort();
  } catch (...) {
    fail("unexpected exception of unknown type");
  }
  return 0;
}
