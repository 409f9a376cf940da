// Writing safetensors files: deterministic layout, and an atomic replace of the target.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include "safetensors_json.h"
#include "svdit/data/atomic_file.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::data {

using nlohmann::json;
using safetensors_detail::quote_name;

namespace {

// What goes into the file, in file order: the 8-byte length, the padded header, then the tensors.
struct Plan {
  std::string prefix;                           // length + header + padding
  std::vector<const TensorData*> tensor_order;  // data section order
  uint64_t data_size = 0;
};

bool valid_utf8(const std::string& text) {
  try {
    (void)json(text).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

Plan plan_file(std::span<const TensorData> tensors, const std::map<std::string, std::string>& metadata,
               const std::string& source) {
  Plan plan;
  std::set<std::string_view> names;
  for (const TensorData& t : tensors) {
    const std::string object = "tensor " + quote_name(t.name);
    if (t.name == "__metadata__") throw FormatError(source, object, "the name is reserved for the metadata map");
    if (!valid_utf8(t.name)) throw FormatError(source, object, "name is not valid UTF-8 (the header is JSON)");
    if (!names.insert(t.name).second) throw FormatError(source, object, "two tensors with this name");
    uint64_t numel = 1;
    bool overflow = false;
    for (const int64_t d : t.shape) {
      if (d < 0) throw FormatError(source, object, "negative dimension " + std::to_string(d) + " in shape");
      overflow = overflow || __builtin_mul_overflow(numel, static_cast<uint64_t>(d), &numel);
    }
    uint64_t expected = 0;
    overflow = overflow || __builtin_mul_overflow(numel, dtype_size(t.dtype), &expected);
    if (std::find(t.shape.begin(), t.shape.end(), 0) != t.shape.end()) overflow = false, expected = 0;
    if (overflow) throw FormatError(source, object, "element count of the shape overflows 64 bits");
    if (t.bytes.size() != expected) {
      throw FormatError(source, object,
                        "given " + std::to_string(t.bytes.size()) + " bytes, but shape × " + to_string(t.dtype) +
                            " size = " + std::to_string(expected) + " bytes");
    }
    plan.tensor_order.push_back(&t);
  }
  for (const auto& [key, value] : metadata) {
    if (!valid_utf8(key) || !valid_utf8(value)) {
      throw FormatError(source, "__metadata__ " + quote_name(key),
                        "keys and values must be valid UTF-8 (the header is JSON)");
    }
  }

  // Largest elements first, so that with a data section starting on a multiple of 8 every tensor starts on a
  // multiple of its element size and can be used in place from the mapping. The reference reader rejects gaps
  // between tensors, so this ordering — not padding — is how alignment is obtained.
  std::sort(plan.tensor_order.begin(), plan.tensor_order.end(), [](const TensorData* a, const TensorData* b) {
    const size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });

  json header = json::object();  // keys come out sorted: the same input always gives the same bytes
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorData* t : plan.tensor_order) {
    const uint64_t end = offset + t->bytes.size();
    header[t->name] = {{"dtype", to_string(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, end}}};
    offset = end;
  }
  plan.data_size = offset;

  std::string text = header.dump();
  // Pad with spaces (valid trailing JSON whitespace) so that the data section starts 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');
  plan.prefix.reserve(8 + text.size());
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i, n >>= 8) plan.prefix.push_back(static_cast<char>(n & 0xFFu));
  plan.prefix += text;
  return plan;
}

}  // namespace

std::vector<std::byte> serialize_safetensors(std::span<const TensorData> tensors,
                                             const std::map<std::string, std::string>& metadata,
                                             const std::string& source) {
  const Plan plan = plan_file(tensors, metadata, source);
  std::vector<std::byte> out(plan.prefix.size() + plan.data_size);
  std::memcpy(out.data(), plan.prefix.data(), plan.prefix.size());
  size_t at = plan.prefix.size();
  for (const TensorData* t : plan.tensor_order) {
    if (!t->bytes.empty()) std::memcpy(out.data() + at, t->bytes.data(), t->bytes.size());
    at += t->bytes.size();
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, std::span<const TensorData> tensors,
                       const std::map<std::string, std::string>& metadata) {
  const Plan plan = plan_file(tensors, metadata, path.string());

  // Streamed rather than built in memory and handed to write_file_atomically(): weight files reach tens of GB.
  AtomicFileWriter writer(path);
  writer.write(plan.prefix.data(), plan.prefix.size());
  for (const TensorData* t : plan.tensor_order) writer.write(t->bytes.data(), t->bytes.size());
  writer.commit();
}

}  // namespace svdit::data
