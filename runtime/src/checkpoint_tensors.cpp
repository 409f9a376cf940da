// Checking and reading a checkpoint's tensors (see checkpoint_tensors.h).

#include "svdit/runtime/checkpoint_tensors.h"

#include <ATen/ATen.h>

#include <bit>
#include <cstring>
#include <set>
#include <stdexcept>

#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::runtime {

using data::FormatError;

// Tensor bytes are copied straight from the file into tensors: both are little-endian only on such a host.
static_assert(std::endian::native == std::endian::little, "svdit reads safetensors on little-endian hosts only");

namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

at::ScalarType scalar_type_of(data::DType dtype) {
  switch (dtype) {
    case data::DType::f32: return at::kFloat;
    case data::DType::bf16: return at::kBFloat16;
    case data::DType::f16: return at::kHalf;
  }
  throw std::logic_error("unknown DType");
}

}  // namespace

void check_tensor_set(const data::SafetensorsCollection& weights, const std::vector<ExpectedKey>& expected,
                      const std::string& model) {
  std::vector<std::string> problems;  // "key: what"
  std::set<std::string> expected_keys;
  for (const ExpectedKey& e : expected) {
    expected_keys.insert(e.key);
    const data::TensorInfo* t = weights.find(e.key);
    if (t == nullptr) {
      problems.push_back(e.key + ": missing (expected shape " + shape_text(e.shape) + ")");
    } else if (t->shape != e.shape) {
      problems.push_back(e.key + ": expected shape " + shape_text(e.shape) + ", found " + shape_text(t->shape));
    }
  }
  for (const data::TensorInfo& t : weights.tensors()) {
    if (!expected_keys.contains(t.name)) {
      problems.push_back(t.name + ": unexpected tensor of shape " + shape_text(t.shape) + " (not part of " + model + ")");
    }
  }
  if (problems.empty()) return;
  constexpr size_t kListed = 40;  // a wrong model gives hundreds of problems; the first few say what is wrong
  std::string object, what;
  for (size_t i = 0; i < problems.size() && i < kListed; ++i) {
    object += (i ? ", " : "") + problems[i].substr(0, problems[i].find(':'));
    what += (i ? "; " : "") + problems[i];
  }
  if (problems.size() > kListed) what += "; … and " + std::to_string(problems.size() - kListed) + " more";
  throw FormatError(weights.source(), object, "the checkpoint does not match " + model + ": " + what);
}

at::Tensor read_tensor(const data::SafetensorsCollection& weights, const data::TensorInfo& info) {
  const std::span<const std::byte> bytes = weights.bytes(info.name);
  at::Tensor t = at::empty(info.shape, at::TensorOptions().dtype(scalar_type_of(info.dtype)));  // file's shape
  if (bytes.size() != static_cast<size_t>(t.nbytes())) {
    throw FormatError(weights.source(), info.name, "holds " + std::to_string(bytes.size()) + " bytes, expected " +
                                                       std::to_string(t.nbytes()));
  }
  if (!bytes.empty()) std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

}  // namespace svdit::runtime
