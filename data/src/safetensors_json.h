#pragma once
// Internal to the safetensors reader (not installed): strict JSON parsing shared by the file header and the
// shard index. nlohmann/json alone would silently keep the last of two equal keys — a header naming one tensor
// twice, or an index mapping one tensor to two shards, would then be read as whatever came last — and would
// accept arbitrarily deep nesting, which makes later recursive operations (dump, compare) a stack hazard on a
// hostile file. So both are refused here, at parse time, with a FormatError naming the file.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace svdit::data::safetensors_detail {

// Headers and indices of real checkpoints nest three levels deep; anything deeper is not a safetensors file.
inline constexpr int kMaxJsonDepth = 16;

// Parses `text` as one JSON value. Throws FormatError(source, object, …) on a syntax error (with nlohmann's
// byte position), invalid UTF-8, a duplicate key in any object, or nesting deeper than kMaxJsonDepth.
nlohmann::json parse_json_strictly(std::string_view text, const std::string& source, const std::string& object);

// A short description of a JSON value for error messages: its type, and its text when it is a scalar, cut to a
// few dozen characters (a hostile header must not produce a megabyte-long message).
std::string describe_json(const nlohmann::json& value);

// "\"name\"" — names are quoted so that empty or space-padded names are visible in messages.
std::string quote_name(std::string_view text);

}  // namespace svdit::data::safetensors_detail
