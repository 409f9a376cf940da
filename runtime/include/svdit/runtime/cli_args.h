#pragma once
// The small option parser shared by svdit-generate, svdit-compare and svdit-bench: `--name VALUE`,
// `--name=VALUE`, flags, positionals, and a --help text generated from the declared options. Unknown options and
// malformed numbers are errors that name the option.

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace svdit::runtime {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ArgParser {
 public:
  ArgParser(std::string program, std::string usage, std::string description);

  // --name VALUE; `fallback` is used when absent (empty: absent means unset).
  void option(const std::string& name, const std::string& value_name, const std::string& help,
              const std::string& fallback = "");
  void flag(const std::string& name, const std::string& help);

  // Returns false when --help was given (the caller prints help() and exits 0). Throws UsageError.
  bool parse(int argc, const char* const* argv);
  std::string help() const;

  bool has(const std::string& name) const;  // given, or has a fallback
  std::string get(const std::string& name) const;  // UsageError when unset
  int64_t get_int(const std::string& name) const;
  uint64_t get_u64(const std::string& name) const;
  double get_double(const std::string& name) const;
  bool flag_set(const std::string& name) const;
  // Every value an option was given, in command-line order (an option given twice is otherwise its last value);
  // the fallback alone when it was not given, nothing when it has none.
  std::vector<std::string> get_all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  const std::string& program() const { return program_; }

 private:
  struct Spec {
    std::string value_name;  // empty: a flag
    std::string help;
    std::string fallback;
  };
  std::string program_, usage_, description_;
  std::vector<std::string> order_;
  std::map<std::string, Spec> specs_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::vector<std::string>> all_values_;
  std::vector<std::string> positional_;
};

// The main() of every runtime tool: parse (printing help() and returning 0 on --help), run, and turn errors into
// exit codes — 2 for a usage error, 1 for any other failure, printed after the program's name.
int run_tool(ArgParser& args, int argc, const char* const* argv, const std::function<int(const ArgParser&)>& run);

}  // namespace svdit::runtime
