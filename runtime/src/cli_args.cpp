// The option parser of the runtime's executables (see cli_args.h).

#include "svdit/runtime/cli_args.h"

#include <charconv>
#include <cstdio>
#include <sstream>

namespace svdit::runtime {

ArgParser::ArgParser(std::string program, std::string usage, std::string description)
    : program_(std::move(program)), usage_(std::move(usage)), description_(std::move(description)) {}

void ArgParser::option(const std::string& name, const std::string& value_name, const std::string& help,
                       const std::string& fallback) {
  order_.push_back(name);
  specs_[name] = Spec{value_name.empty() ? "VALUE" : value_name, help, fallback};
}

void ArgParser::flag(const std::string& name, const std::string& help) {
  order_.push_back(name);
  specs_[name] = Spec{"", help, ""};
}

bool ArgParser::parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return false;
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), value;
    bool inline_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    const auto it = specs_.find(name);
    if (it == specs_.end()) throw UsageError(program_ + ": unknown option --" + name + " (see --help)");
    if (it->second.value_name.empty()) {
      if (inline_value) throw UsageError(program_ + ": --" + name + " takes no value");
      values_[name] = "1";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) throw UsageError(program_ + ": --" + name + " needs a value (" + it->second.value_name + ")");
      value = argv[++i];
    }
    values_[name] = value;
    all_values_[name].push_back(value);
  }
  return true;
}

std::string ArgParser::help() const {
  std::ostringstream s;
  s << "usage: " << usage_ << "\n\n" << description_ << "\n\noptions:\n";
  for (const std::string& name : order_) {
    const Spec& spec = specs_.at(name);
    std::string left = "  --" + name + (spec.value_name.empty() ? "" : " " + spec.value_name);
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    s << left << spec.help;
    if (!spec.fallback.empty()) s << " (default " << spec.fallback << ")";
    s << "\n";
  }
  s << "  --help                      this text\n";
  return s.str();
}

bool ArgParser::has(const std::string& name) const {
  if (values_.contains(name)) return true;
  const auto it = specs_.find(name);
  return it != specs_.end() && !it->second.fallback.empty();
}

std::string ArgParser::get(const std::string& name) const {
  if (const auto it = values_.find(name); it != values_.end()) return it->second;
  const auto spec = specs_.find(name);
  if (spec == specs_.end() || spec->second.fallback.empty()) throw UsageError(program_ + ": --" + name + " is required");
  return spec->second.fallback;
}

int64_t ArgParser::get_int(const std::string& name) const {
  const std::string text = get(name);
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(program_ + ": --" + name + ": expected an integer, found \"" + text + "\"");
  }
  return value;
}

uint64_t ArgParser::get_u64(const std::string& name) const {
  const std::string text = get(name);
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw UsageError(program_ + ": --" + name + ": expected a non-negative integer, found \"" + text + "\"");
  }
  return value;
}

double ArgParser::get_double(const std::string& name) const {
  const std::string text = get(name);
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(program_ + ": --" + name + ": expected a number, found \"" + text + "\"");
}

bool ArgParser::flag_set(const std::string& name) const { return values_.contains(name); }

std::vector<std::string> ArgParser::get_all(const std::string& name) const {
  if (const auto it = all_values_.find(name); it != all_values_.end()) return it->second;
  if (const auto it = specs_.find(name); it != specs_.end() && !it->second.fallback.empty()) return {it->second.fallback};
  return {};
}

int run_tool(ArgParser& args, int argc, const char* const* argv, const std::function<int(const ArgParser&)>& run) {
  try {
    if (!args.parse(argc, argv)) {
      std::fputs(args.help().c_str(), stdout);
      return 0;
    }
    return run(args);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", args.program().c_str(), e.what());
    return 1;
  }
}

}  // namespace svdit::runtime
