#pragma once
// Reading the optional fields of a model's config.json, shared by the families' config readers (wan_config.cpp,
// cogvideox_config.cpp): an absent or null field keeps the default; a present field of the wrong type is a
// data::FormatError naming the file and the field, never silently ignored.

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"

namespace svdit::runtime::config_fields {

using nlohmann::json;
using data::FormatError;

// Reads an optional integer field; a present field of the wrong type is an error, never silently ignored.
inline void read_int(const json& j, const char* field, int64_t& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_number_integer()) {
    throw FormatError(source, field, "expected an integer, found " + it->dump());
  }
  target = it->get<int64_t>();
}

inline void read_double(const json& j, const char* field, double& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_number()) throw FormatError(source, field, "expected a number, found " + it->dump());
  target = it->get<double>();
}

inline void read_string(const json& j, const char* field, std::string& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_string()) throw FormatError(source, field, "expected a string, found " + it->dump());
  target = it->get<std::string>();
}

inline void read_triple(const json& j, const char* field, std::array<int64_t, 3>& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_array() || it->size() != 3 ||
      !std::all_of(it->begin(), it->end(), [](const json& v) { return v.is_number_integer(); })) {
    throw FormatError(source, field, "expected an array of 3 integers, found " + it->dump());
  }
  for (size_t i = 0; i < 3; ++i) target[i] = (*it)[i].get<int64_t>();
}

inline void read_bool(const json& j, const char* field, bool& target, const std::string& source) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) return;
  if (!it->is_boolean()) throw FormatError(source, field, "expected true or false, found " + it->dump());
  target = it->get<bool>();
}

}  // namespace svdit::runtime::config_fields
