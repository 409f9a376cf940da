// Strict JSON parsing shared by every JSON reader of svdit::data (see strict_json.h for why).
//
// A SAX handler that builds the document itself. nlohmann's own callback parser (json::parse with a
// parser_callback_t, used here before) is quadratic in an object's member count: at the end of every nested object
// it scans all members of the enclosing object for discarded values, so a safetensors header of 100 000 tensors
// took minutes. This builder does O(log n) work per member (the duplicate check is the map lookup the insertion
// does anyway) and knows, on an error, which field it was in.
#include "svdit/data/strict_json.h"

#include <string>
#include <utility>
#include <vector>

#include "svdit/data/error.h"

namespace svdit::data::detail {

using nlohmann::json;

namespace {

std::string quote_json(const std::string& text) { return json(text).dump(-1, ' ', false, json::error_handler_t::replace); }

class StrictBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  StrictBuilder(const std::string& source, const std::string& object, int max_depth)
      : source_(source), object_(object), max_depth_(max_depth) {}

  json take() { return std::move(root_); }

  bool null() { return add(json(nullptr)); }
  bool boolean(bool value) { return add(json(value)); }
  bool number_integer(number_integer_t value) { return add(json(value)); }
  bool number_unsigned(number_unsigned_t value) { return add(json(value)); }
  bool number_float(number_float_t value, const string_t& /*text*/) { return add(json(value)); }
  bool string(string_t& value) { return add(json(std::move(value))); }
  bool binary(binary_t& value) { return add(json::binary(std::move(value))); }

  bool start_object(std::size_t /*size*/) { return open(json::object()); }
  bool start_array(std::size_t /*size*/) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& name) {
    const json& object = *open_.back().value;
    if (object.contains(name)) {
      throw FormatError(source_, object_,
                        "duplicate key " + quote_json(name) + where(open_.size() - 1) +
                            " (JSON readers disagree on which copy wins, so svdit accepts neither)");
    }
    open_.back().key = std::move(name);
    return true;
  }

  bool parse_error(std::size_t /*position*/, const std::string& token, const json::exception& error) {
    // A number too large for a double ("1e999") is nlohmann's out_of_range 406, the rest are parse errors whose
    // message carries the line, column and what was found.
    if (error.id == 406) {
      throw FormatError(source_, object_, "malformed JSON: the number " + token + where() + " does not fit a double");
    }
    throw FormatError(source_, object_, std::string("malformed JSON (or not UTF-8)") + where() + ": " + error.what());
  }

 private:
  struct Open {
    json* value;
    std::string key;  // objects: the key of the member being parsed
  };

  // " in field a.b[3]" for the value being parsed (the path through the first `levels` open containers), or ""
  // at the top level.
  std::string where(size_t levels = static_cast<size_t>(-1)) const {
    std::string path;
    for (size_t i = 0; i < open_.size() && i < levels; ++i) {
      const Open& o = open_[i];
      if (o.value->is_object()) {
        if (!path.empty()) path += ".";
        path += o.key.empty() ? "?" : o.key;
      } else {
        path += "[" + std::to_string(o.value->size()) + "]";
      }
    }
    return path.empty() ? "" : " in field " + quote_json(path);
  }

  // Places a value in the container being parsed; returns where it now lives.
  json* place(json&& value) {
    if (open_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *open_.back().value;
    if (parent.is_array()) {
      parent.push_back(std::move(value));  // earlier elements may move; only the last one is ever open
      return &parent.back();
    }
    json& member = parent[open_.back().key];
    member = std::move(value);
    return &member;
  }
  bool add(json&& value) {
    place(std::move(value));
    return true;
  }
  bool open(json&& container) {
    if (static_cast<int>(open_.size()) >= max_depth_) {
      throw FormatError(source_, object_, "JSON nested deeper than " + std::to_string(max_depth_) + " levels");
    }
    json* placed = place(std::move(container));
    open_.push_back({placed, {}});
    return true;
  }
  bool close() {
    open_.pop_back();
    return true;
  }

  const std::string& source_;
  const std::string& object_;
  int max_depth_;
  json root_;
  std::vector<Open> open_;
};

}  // namespace

json parse_json_strictly(std::string_view text, const std::string& source, const std::string& object, int max_depth) {
  StrictBuilder builder(source, object, max_depth);
  try {
    json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json, /*strict=*/true,
                    /*ignore_comments=*/false);
  } catch (const json::exception& e) {
    // The handler reports what the parser finds; this only guards against a library exception slipping through.
    throw FormatError(source, object, std::string("malformed JSON (or not UTF-8): ") + e.what());
  }
  return builder.take();
}

}  // namespace svdit::data::detail
