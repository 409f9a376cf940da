#pragma once
// IEEE 754 binary16 for HDF5 1.10, which has no predefined half type. We convert in our own code rather than
// through HDF5's soft float conversion so that rounding (to nearest, ties to even) and NaN — the "not written"
// fill value of the map datasets — behave the same on every HDF5 build. Internal to svdit_data.

#include <cstdint>

namespace svdit::data::hdf5 {

uint16_t float_to_half(float value);  // round to nearest even; overflow → ±inf; NaN → quiet NaN
float half_to_float(uint16_t bits);   // exact

constexpr uint16_t kHalfNaN = 0x7e00;

}  // namespace svdit::data::hdf5
