#pragma once
// JSON as svdit reads it from files it did not write (plans, safetensors headers and indexes, profile candidates,
// config.json): a duplicate key is an error (nlohmann, like Python's json, would silently keep the last copy, so a
// plan with two "heads" tables would mean whichever came second), and so is nesting deeper than the format can
// need — a hostile file nested 100 000 levels deep would otherwise overflow the stack in the parser or in the
// recursive copies and comparisons that follow (found by svdit-fuzz-plan). Linear in the text's size. Every failure
// is a FormatError(source, object, …) whose message names the field it was in, including a number too large for a
// double ("1e999").

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace svdit::data::detail {

nlohmann::json parse_json_strictly(std::string_view text, const std::string& source, const std::string& object,
                                   int max_depth);

}  // namespace svdit::data::detail
