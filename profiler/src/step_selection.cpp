// Step lists of --profile-steps and --map-steps (see step_selection.h).

#include "svdit/profiler/step_selection.h"

#include <algorithm>
#include <charconv>
#include <stdexcept>
#include <string>

namespace svdit::profiler {

namespace {

int64_t parse_int(std::string_view text, std::string_view option, std::string_view whole) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    throw std::invalid_argument("--" + std::string(option) + ": expected all, none, a list such as 0,5,10 or "
                                "every:K[+O], found \"" + std::string(whole) + "\" (bad number \"" +
                                std::string(text) + "\")");
  }
  return value;
}

}  // namespace

std::vector<int64_t> parse_steps(std::string_view text, int64_t sampling_steps, std::string_view option) {
  const std::string opt(option);
  std::vector<int64_t> steps;
  if (text == "all") {
    for (int64_t i = 0; i < sampling_steps; ++i) steps.push_back(i);
    return steps;
  }
  if (text == "none") return steps;
  if (text.starts_with("every:")) {
    std::string_view rest = text.substr(6);
    int64_t offset = 0;
    if (const size_t plus = rest.find('+'); plus != std::string_view::npos) {
      offset = parse_int(rest.substr(plus + 1), option, text);
      rest = rest.substr(0, plus);
    }
    const int64_t every = parse_int(rest, option, text);
    if (every < 1 || offset < 0) {
      throw std::invalid_argument("--" + opt + ": every:K+O needs K >= 1 and O >= 0, found \"" + std::string(text) + "\"");
    }
    for (int64_t i = offset; i < sampling_steps; i += every) steps.push_back(i);
    if (steps.empty()) {
      throw std::invalid_argument("--" + opt + ": \"" + std::string(text) + "\" selects no step of " +
                                  std::to_string(sampling_steps));
    }
    return steps;
  }
  size_t begin = 0;
  while (begin <= text.size()) {
    const size_t comma = std::min(text.find(',', begin), text.size());
    const int64_t step = parse_int(text.substr(begin, comma - begin), option, text);
    if (step < 0 || step >= sampling_steps) {
      throw std::invalid_argument("--" + opt + ": step " + std::to_string(step) + " outside [0, " +
                                  std::to_string(sampling_steps) + ") (the sampling steps, counted from 0)");
    }
    steps.push_back(step);
    begin = comma + 1;
  }
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  return steps;
}

}  // namespace svdit::profiler
