// Strict JSON parsing for safetensors headers and shard indices (see safetensors_json.h for why).
#include "safetensors_json.h"

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

}  // namespace svdit::data::safetensors_detail
