#include "hdf5_float16.h"

#include <bit>

namespace svdit::data::hdf5 {

uint16_t float_to_half(float value) {
  const uint32_t x = std::bit_cast<uint32_t>(value);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;  // |value| as bits
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | kHalfNaN);
  if (a >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7c00u);  // ≥ 2^16 or inf: beyond any rounding
  if (a >= 0x38800000u) {
    // Normal half (|value| ≥ 2^-14): rebias the exponent from 127 to 15 and drop 13 mantissa bits, rounding to
    // nearest even. A carry out of the mantissa correctly bumps the exponent (up to 0x7c00 = inf).
    uint32_t h = (a - 0x38000000u) >> 13;
    const uint32_t rest = a & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u) != 0)) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  if (a < 0x33000000u) return static_cast<uint16_t>(sign);  // < 2^-25: rounds to zero (2^-25 itself ties to 0)
  // Subnormal half: the value is h · 2^-24; shift the full 24-bit significand down and round to nearest even.
  const uint32_t exponent = a >> 23;  // 102 … 112
  const uint32_t significand = (a & 0x7fffffu) | 0x800000u;
  const uint32_t shift = 126 - exponent;  // 14 … 24
  uint32_t h = significand >> shift;
  const uint32_t rest = significand & ((1u << shift) - 1);
  const uint32_t halfway = 1u << (shift - 1);
  if (rest > halfway || (rest == halfway && (h & 1u) != 0)) ++h;
  return static_cast<uint16_t>(sign | h);
}

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));
  if (exponent == 0) {
    const float magnitude = static_cast<float>(mantissa) * 0x1p-24f;  // subnormal (or zero): exact in float
    return sign != 0 ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

}  // namespace svdit::data::hdf5
