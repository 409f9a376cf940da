#pragma once
// Internal to the safetensors reader (not installed): JSON helpers shared by the file header and the shard index.
// Both are parsed with detail::parse_json_strictly (strict_json.h): a header naming one tensor twice, or an index
// mapping one tensor to two shards, is refused rather than read as whatever came last.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "svdit/data/strict_json.h"

namespace svdit::data::safetensors_detail {

// Headers and indices of real checkpoints nest three levels deep; anything deeper is not a safetensors file.
inline constexpr int kMaxJsonDepth = 16;

// A short description of a JSON value for error messages: its type, and its text when it is a scalar, cut to a
// few dozen characters (a hostile header must not produce a megabyte-long message).
std::string describe_json(const nlohmann::json& value);

// "\"name\"" — names are quoted so that empty or space-padded names are visible in messages.
std::string quote_name(std::string_view text);

}  // namespace svdit::data::safetensors_detail
