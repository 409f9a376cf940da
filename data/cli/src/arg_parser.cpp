// The command-line parser of the svdit tools (see arg_parser.h).

#include "svdit/cli/arg_parser.h"

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace svdit::cli {

namespace {

constexpr size_t kHelpColumn = 30;  // where an option's help starts in help()

template <typename Integer>
Integer parse_integer(std::string_view what, std::string_view text, const char* expected) {
  Integer value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(std::string(what) + ": expected " + expected + ", found \"" + std::string(text) + "\"");
  }
  return value;
}

bool is_help(std::string_view arg) { return arg == "-h" || arg == "--help"; }

// "a\nb" → "a\n<indent>b": continuation lines of an option's help stay in the help column.
std::string indent_continuations(const std::string& text) {
  std::string out;
  for (const char c : text) {
    out += c;
    if (c == '\n') out.append(kHelpColumn, ' ');
  }
  return out;
}

}  // namespace

int64_t parse_int(std::string_view what, std::string_view text) {
  return parse_integer<int64_t>(what, text, "an integer");
}

uint64_t parse_u64(std::string_view what, std::string_view text) {
  return parse_integer<uint64_t>(what, text, "a non-negative integer");
}

int64_t parse_int_in(std::string_view what, std::string_view text, int64_t min, int64_t max) {
  const std::string expected = "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  const auto value = parse_integer<int64_t>(what, text, expected.c_str());
  if (value < min || value > max) {
    throw UsageError(std::string(what) + ": expected " + expected + ", found " + std::string(text));
  }
  return value;
}

PixelSize parse_pixel_size(std::string_view what, std::string_view text, int64_t max_side) {
  const size_t x = text.find('x');
  if (x == std::string_view::npos) {
    throw UsageError(std::string(what) + ": expected WxH, e.g. 1280x800, found \"" + std::string(text) + "\"");
  }
  return PixelSize{parse_int_in(std::string(what) + " width", text.substr(0, x), 1, max_side),
                   parse_int_in(std::string(what) + " height", text.substr(x + 1), 1, max_side)};
}

double parse_double(std::string_view what, std::string_view text) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size()) {
    throw UsageError(std::string(what) + ": expected a number, found \"" + copy + "\"");
  }
  return value;
}

ArgParser::ArgParser(std::string program, std::string usage, std::string description)
    : program_(std::move(program)), usage_(std::move(usage)), description_(std::move(description)) {}

void ArgParser::declare(const std::string& name, Spec spec) {
  if (specs_.contains(name)) throw std::logic_error(program_ + ": option --" + name + " declared twice");
  order_.push_back(name);
  specs_.emplace(name, std::move(spec));
}

void ArgParser::option(const std::string& name, const std::string& value_name, const std::string& help,
                       const std::string& fallback) {
  declare(name, Spec{{value_name.empty() ? "VALUE" : value_name}, help, fallback});
}

void ArgParser::option_tuple(const std::string& name, const std::vector<std::string>& value_names,
                             const std::string& help) {
  if (value_names.empty()) throw std::logic_error(program_ + ": option --" + name + " declared without values");
  declare(name, Spec{value_names, help, ""});
}

void ArgParser::flag(const std::string& name, const std::string& help) { declare(name, Spec{{}, help, ""}); }

void ArgParser::epilogue(const std::string& text) { epilogue_ = text; }

const ArgParser::Spec& ArgParser::spec(const std::string& name) const {
  const auto it = specs_.find(name);
  if (it == specs_.end()) throw std::logic_error(program_ + ": option --" + name + " was never declared");
  return it->second;
}

bool ArgParser::parse(int argc, const char* const* argv) {
  return parse(std::vector<std::string>(argv + (argc > 0 ? 1 : 0), argv + argc));
}

bool ArgParser::parse(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (arg == "--") break;
    if (is_help(arg)) return false;
  }
  given_.clear();
  positional_.clear();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      positional_.insert(positional_.end(), args.begin() + static_cast<std::ptrdiff_t>(i + 1), args.end());
      break;
    }
    if (arg.size() < 2 || arg.front() != '-') {
      positional_.push_back(arg);
      continue;
    }
    if (arg[1] != '-') throw UsageError("unknown option " + arg);
    std::string name = arg.substr(2);
    std::vector<std::string> values;
    bool inline_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      values.push_back(name.substr(eq + 1));
      name.resize(eq);
      inline_value = true;
    }
    const auto it = specs_.find(name);
    if (it == specs_.end()) throw UsageError("unknown option --" + name);
    const std::vector<std::string>& value_names = it->second.value_names;
    if (value_names.empty() && inline_value) throw UsageError("--" + name + " takes no value");
    if (inline_value && value_names.size() > 1) {
      throw UsageError("--" + name + " takes " + std::to_string(value_names.size()) + " values, not --" + name + "=…");
    }
    while (values.size() < value_names.size()) {
      if (i + 1 >= args.size()) {
        std::string expected;
        for (const std::string& v : value_names) expected += (expected.empty() ? "" : " ") + v;
        throw UsageError("--" + name + " needs " + (value_names.size() == 1 ? "a value" : "values") + " (" +
                         expected + ")");
      }
      values.push_back(args[++i]);
    }
    given_[name].push_back(std::move(values));
  }
  return true;
}

std::string ArgParser::help() const {
  std::ostringstream s;
  s << "usage: " << usage_ << "\n\n" << description_ << "\n\noptions:\n";
  auto line = [&](std::string left, const std::string& text) {
    if (left.size() < kHelpColumn) left.resize(kHelpColumn, ' ');
    else left += "\n" + std::string(kHelpColumn, ' ');
    s << left << indent_continuations(text) << "\n";
  };
  for (const std::string& name : order_) {
    const Spec& spec = specs_.at(name);
    std::string left = "  --" + name;
    for (const std::string& v : spec.value_names) left += " " + v;
    line(left, spec.help + (spec.fallback.empty() ? "" : " (default " + spec.fallback + ")"));
  }
  line("  -h, --help", "this text");
  if (!epilogue_.empty()) s << "\n" << epilogue_ << (epilogue_.ends_with('\n') ? "" : "\n");
  return s.str();
}

bool ArgParser::has(const std::string& name) const { return given_.contains(name) || !spec(name).fallback.empty(); }

std::string ArgParser::get(const std::string& name) const {
  if (const auto it = given_.find(name); it != given_.end()) return it->second.back().front();
  const Spec& s = spec(name);
  if (s.fallback.empty()) throw UsageError("--" + name + " is required");
  return s.fallback;
}

int64_t ArgParser::get_int(const std::string& name) const { return parse_int("--" + name, get(name)); }

int64_t ArgParser::get_int(const std::string& name, int64_t min, int64_t max) const {
  return parse_int_in("--" + name, get(name), min, max);
}

uint64_t ArgParser::get_u64(const std::string& name) const { return parse_u64("--" + name, get(name)); }

double ArgParser::get_double(const std::string& name) const { return parse_double("--" + name, get(name)); }

bool ArgParser::flag_set(const std::string& name) const {
  (void)spec(name);
  return given_.contains(name);
}

std::vector<std::string> ArgParser::get_all(const std::string& name) const {
  std::vector<std::string> out;
  if (const auto it = given_.find(name); it != given_.end()) {
    for (const std::vector<std::string>& values : it->second) out.push_back(values.front());
  } else if (const Spec& s = spec(name); !s.fallback.empty()) {
    out.push_back(s.fallback);
  }
  return out;
}

const std::vector<std::vector<std::string>>& ArgParser::occurrences(const std::string& name) const {
  static const std::vector<std::vector<std::string>> kNone;
  (void)spec(name);
  const auto it = given_.find(name);
  return it == given_.end() ? kNone : it->second;
}

int run_tool(ArgParser& args, int argc, const char* const* argv, const std::function<int(const ArgParser&)>& run) {
  try {
    if (!args.parse(argc, argv)) {
      std::fputs(args.help().c_str(), stdout);
      return 0;
    }
    return run(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s: %s\nusage: %s   (--help: every option)\n", args.program().c_str(), e.what(),
                 args.usage().c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", args.program().c_str(), e.what());
    return 1;
  }
}

}  // namespace svdit::cli
