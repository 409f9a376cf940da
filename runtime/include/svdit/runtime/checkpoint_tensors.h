#pragma once
// Reading a model family's tensors out of a safetensors checkpoint, shared by the families' loaders: the check of
// the whole tensor set before a byte is read (every missing, extra or mis-shaped key named, as the file spells it,
// with both shapes), and the copy of one tensor into a CPU tensor of the file's dtype.

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

namespace svdit::data {
class SafetensorsCollection;
struct TensorInfo;
}  // namespace svdit::data

namespace svdit::runtime {

struct ExpectedKey {
  std::string key;             // as the checkpoint spells it
  std::vector<int64_t> shape;
};

// Throws data::FormatError naming the checkpoint, the keys (up to 40) and what was expected versus found, unless
// the checkpoint holds exactly `expected`. `model` describes what was expected ("CogVideoX1.5-5B: 42 layers, …").
void check_tensor_set(const data::SafetensorsCollection& weights, const std::vector<ExpectedKey>& expected,
                      const std::string& model);

// The file's bytes as a fresh CPU tensor of the file's dtype and shape (alignment-safe: the mapping may not be
// aligned to the element size in files written by other tools).
at::Tensor read_tensor(const data::SafetensorsCollection& weights, const data::TensorInfo& info);

}  // namespace svdit::runtime
