// Element types of safetensors tensors and their exact conversion to float.
#include <bit>
#include <cstdint>
#include <string>

#include "safetensors_json.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::data {

const char* to_string(DType dtype) {
  switch (dtype) {
    case DType::f32: return "F32";
    case DType::bf16: return "BF16";
    case DType::f16: return "F16";
  }
  return "?";
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::f32: return 4;
    case DType::bf16:
    case DType::f16: return 2;
  }
  return 0;
}

int64_t TensorInfo::numel() const {
  // The reader has proven that the product fits (shape validated against the byte range) — except that a zero
  // dimension anywhere lets the other dimensions be huge, so it is checked first to keep the loop overflow-free.
  for (const int64_t d : shape) {
    if (d == 0) return 0;
  }
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

namespace {

// safetensors stores elements little-endian whatever the host; assembling from bytes keeps us host-independent
// and never reads a misaligned float through a cast pointer.
uint16_t load_u16(const std::byte* p) {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(p[0]) | (std::to_integer<uint16_t>(p[1]) << 8));
}

uint32_t load_u32(const std::byte* p) {
  return std::to_integer<uint32_t>(p[0]) | (std::to_integer<uint32_t>(p[1]) << 8) |
         (std::to_integer<uint32_t>(p[2]) << 16) | (std::to_integer<uint32_t>(p[3]) << 24);
}

// bf16 is the upper half of an f32, so widening is a shift (NaN payloads and signs preserved bit for bit).
float bf16_to_float(uint16_t h) { return std::bit_cast<float>(static_cast<uint32_t>(h) << 16); }

// IEEE binary16 → binary32. Every binary16 value is exactly representable in binary32; the only case that is
// not a re-biasing of the exponent is a subnormal, whose value is mantissa × 2⁻²⁴ (exact in float arithmetic
// because the mantissa has 10 bits and the result is a normal float).
float f16_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  const uint32_t mantissa = h & 0x3FFu;
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;
    return std::bit_cast<float>(sign | std::bit_cast<uint32_t>(magnitude));
  }
  if (exponent == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));  // inf, NaN
  return std::bit_cast<float>(sign | ((exponent + (127 - 15)) << 23) | (mantissa << 13));
}

}  // namespace

std::vector<float> to_float(const TensorInfo& tensor, std::span<const std::byte> bytes) {
  if (bytes.size() != tensor.size || tensor.size % dtype_size(tensor.dtype) != 0) {
    throw FormatError("<memory>", "tensor " + safetensors_detail::quote_name(tensor.name),
                      "to_float given " + std::to_string(bytes.size()) + " bytes, expected " +
                          std::to_string(tensor.size) + " (a whole number of " + to_string(tensor.dtype) +
                          " elements)");
  }
  const size_t count = bytes.size() / dtype_size(tensor.dtype);
  std::vector<float> out(count);
  const std::byte* p = bytes.data();
  switch (tensor.dtype) {
    case DType::f32:
      for (size_t i = 0; i < count; ++i) out[i] = std::bit_cast<float>(load_u32(p + 4 * i));
      break;
    case DType::bf16:
      for (size_t i = 0; i < count; ++i) out[i] = bf16_to_float(load_u16(p + 2 * i));
      break;
    case DType::f16:
      for (size_t i = 0; i < count; ++i) out[i] = f16_to_float(load_u16(p + 2 * i));
      break;
  }
  return out;
}

}  // namespace svdit::data
