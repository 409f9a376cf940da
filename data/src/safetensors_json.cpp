// Strict JSON parsing for safetensors headers and shard indices (see safetensors_json.h for why).
#include "safetensors_json.h"

#include <set>
#include <vector>

#include "svdit/data/error.h"

namespace svdit::data::safetensors_detail {

using nlohmann::json;

namespace {

// Messages quote names and values; a hostile file must not be able to make them arbitrarily long.
constexpr size_t kMaxQuotedChars = 120;

std::string shorten(std::string text) {
  if (text.size() <= kMaxQuotedChars) return text;
  // Cut on a UTF-8 character boundary so the message itself stays valid UTF-8.
  size_t cut = kMaxQuotedChars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0u) == 0x80u) --cut;
  text.resize(cut);
  return text + "…";
}

}  // namespace

std::string quote_name(std::string_view text) {
  // dump() escapes control characters and quotes; replace() keeps invalid UTF-8 (from a caller of the writer)
  // from throwing while we are building an error message.
  return shorten(json(std::string(text)).dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string describe_json(const json& value) {
  if (value.is_structured()) return std::string("a JSON ") + value.type_name();
  const std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  return std::string("a JSON ") + value.type_name() + " " + shorten(text);
}

json parse_json_strictly(std::string_view text, const std::string& source, const std::string& object) {
  // One set of keys per object currently open; an array pushes nothing but still counts for depth.
  std::vector<std::set<std::string>> open_objects;
  int depth = 0;
  const json::parser_callback_t check = [&](int /*parser_depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (++depth > kMaxJsonDepth) {
          throw FormatError(source, object,
                            "JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                                " levels; a safetensors header or index has at most 3");
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
          throw FormatError(source, object,
                            "duplicate key " + quote_name(parsed.get<std::string>()) +
                                " (JSON readers disagree on which copy wins, so svdit accepts neither)");
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
    throw FormatError(source, object, std::string("not valid UTF-8 JSON: ") + e.what());
  }
}

}  // namespace svdit::data::safetensors_detail
