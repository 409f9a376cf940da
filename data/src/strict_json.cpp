// Strict JSON parsing shared by every JSON reader of svdit::data (see strict_json.h for why).
#include "strict_json.h"

#include <set>
#include <vector>

#include "svdit/data/error.h"

namespace svdit::data::detail {

using nlohmann::json;

json parse_json_strictly(std::string_view text, const std::string& source, const std::string& object, int max_depth) {
  // One set of keys per object currently open; an array pushes nothing but still counts for depth.
  std::vector<std::set<std::string>> open_objects;
  int depth = 0;
  const json::parser_callback_t check = [&](int /*parser_depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (++depth > max_depth) {
          throw FormatError(source, object, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
        }
        if (event == json::parse_event_t::object_start) open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        --depth;
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::array_end:
        --depth;
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && !open_objects.back().insert(parsed.get<std::string>()).second) {
          const std::string key = parsed.get<std::string>();
          throw FormatError(source, object,
                            "duplicate key " + json(key).dump(-1, ' ', false, json::error_handler_t::replace) +
                                " in one object (JSON readers disagree on which copy wins, so svdit accepts neither)");
        }
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), check, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    // Not only parse_error: a number too large for a double ("1e999") is reported as out_of_range (found by
    // svdit-fuzz-safetensors). nlohmann's message carries the byte position and what it found.
    throw FormatError(source, object, std::string("malformed JSON (or not UTF-8): ") + e.what());
  }
}

}  // namespace svdit::data::detail
