#pragma once
// The command line of every svdit-* tool: one parser (`--name VALUE`, `--name=VALUE`, flags, options that take
// several values, repeatable options, positionals, `--` ending the options), a --help text generated from what
// was declared, one UsageError, and one main() wrapper, run_tool, that turns errors into exit codes. Torch-free,
// so that search, the analyzer and inspect use it as the LibTorch tools do.

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace svdit::cli {

// A command line the tool cannot run: run_tool prints it after the program's name, with the usage line, and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Values a tool splits itself (e.g. the two halves of --size WxH). `what` names the option in the UsageError:
// "<what>: expected an integer, found \"x\"".
int64_t parse_int(std::string_view what, std::string_view text);
uint64_t parse_u64(std::string_view what, std::string_view text);
double parse_double(std::string_view what, std::string_view text);
// As parse_int, and within [min, max]: "<what>: expected an integer in [min, max], found …".
int64_t parse_int_in(std::string_view what, std::string_view text, int64_t min, int64_t max);
// "WxH" (e.g. 1280x800), each side an integer in [1, max_side]; errors name `what` and its side.
struct PixelSize {
  int64_t width = 0, height = 0;
};
PixelSize parse_pixel_size(std::string_view what, std::string_view text, int64_t max_side = 1 << 16);

class ArgParser {
 public:
  // `usage`: the synopsis after "usage: "; `description`: the paragraphs between it and the options.
  ArgParser(std::string program, std::string usage, std::string description);

  // --name VALUE; `fallback` is its value when absent (empty: absent means unset). Given twice, get() is the
  // last value and get_all() every value.
  void option(const std::string& name, const std::string& value_name, const std::string& help,
              const std::string& fallback = "");
  // --name V1 V2 …: one occurrence takes one value per name in `value_names` (e.g. --explain L H).
  void option_tuple(const std::string& name, const std::vector<std::string>& value_names, const std::string& help);
  void flag(const std::string& name, const std::string& help);
  // Text printed after the options in help() (e.g. what the exit statuses mean).
  void epilogue(const std::string& text);

  // Returns false when -h or --help is anywhere on the command line (the caller prints help() and exits 0).
  // Throws UsageError for an unknown option (naming it), a missing value, or a value given to a flag.
  bool parse(int argc, const char* const* argv);      // argv[0] is the program and is skipped
  bool parse(const std::vector<std::string>& args);  // the arguments alone
  std::string help() const;
  const std::string& usage() const { return usage_; }

  bool has(const std::string& name) const;         // given, or has a fallback
  std::string get(const std::string& name) const;  // UsageError "--name is required" when unset
  // The value as a number; a malformed one is a UsageError naming the option and quoting the text.
  int64_t get_int(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t min, int64_t max) const;
  uint64_t get_u64(const std::string& name) const;
  double get_double(const std::string& name) const;
  bool flag_set(const std::string& name) const;
  // Every value an option was given, in command-line order; the fallback alone when it was not given, nothing
  // when it has none.
  std::vector<std::string> get_all(const std::string& name) const;
  // Every occurrence of a several-valued option, each with its values in declaration order.
  const std::vector<std::vector<std::string>>& occurrences(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& program() const { return program_; }

 private:
  struct Spec {
    std::vector<std::string> value_names;  // empty: a flag
    std::string help;
    std::string fallback;
  };
  const Spec& spec(const std::string& name) const;  // std::logic_error for a name never declared
  void declare(const std::string& name, Spec spec);

  std::string program_, usage_, description_, epilogue_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::vector<std::vector<std::string>>> given_;
  std::vector<std::string> positional_;
};

// The main() of every tool: parse (printing help() to stdout and returning 0 on --help), run, and turn errors
// into exit statuses, each message printed to stderr after the program's name: 2 for a UsageError (followed by
// the usage line), 1 for any other exception.
int run_tool(ArgParser& args, int argc, const char* const* argv, const std::function<int(const ArgParser&)>& run);

}  // namespace svdit::cli
