#pragma once
// JSON as svdit reads it from files it did not write: a duplicate key is an error (nlohmann, like Python's json,
// would silently keep the last copy, so a plan with two "heads" tables would mean whichever came second), and so
// is nesting deeper than the format can need — a hostile file nested 100 000 levels deep would otherwise
// overflow the stack in the parser or in the recursive copies and comparisons that follow (found by
// svdit-fuzz-plan). Every failure, including numbers too large for a double, is a FormatError(source, object, …).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace svdit::data::detail {

nlohmann::json parse_json_strictly(std::string_view text, const std::string& source, const std::string& object,
                                   int max_depth);

}  // namespace svdit::data::detail
