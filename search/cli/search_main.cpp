// svdit search PROFILE --out PLAN.json [objective options]: chooses a sparse pattern per (step range, layer,
// head) from a profile's measured error and cost, and writes a plan (docs/SEARCH.md).
// Exit status: 0 on success, 1 when the profile is unreadable or invalid (the message names the file and the
// object) or a file cannot be written, 2 on a usage error or an option the search cannot honour.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "svdit/data/atomic_file.h"
#include "svdit/data/error.h"
#include "svdit/data/plan.h"
#include "svdit/search/input.h"
#include "svdit/search/options.h"
#include "svdit/search/plan_export.h"
#include "svdit/search/report.h"
#include "svdit/search/search.h"

namespace fs = std::filesystem;
using namespace svdit;
using namespace svdit::search;

namespace {

constexpr const char* kUsage =
    "usage: svdit search PROFILE [--out PLAN.json] [--objective paper|error-bound|time-budget] [options]\n"
    "\n"
    "Chooses a sparse attention pattern for every (step range, layer, head) from the profile's measured error\n"
    "and kernel cost, fuses heads that share a pattern, prints a summary and writes the plan.\n"
    "\n"
    "objectives:\n"
    "  error-bound (default)  per head the pattern of least predicted time whose error stays <= epsilon;\n"
    "                         each layer is solved jointly, because heads sharing a pattern run in one launch\n"
    "  paper                  Sparse-vDiT's rule: argmin of L = error + lambda x density, dense if all L > epsilon\n"
    "  time-budget            least total error within --budget-us or --speedup (Lagrangian sweep; prints the\n"
    "                         Pareto frontier and stores it in the plan)\n"
    "\n"
    "options:\n"
    "  --out PLAN.json       write the plan here (without it nothing is written)\n"
    "  --epsilon E           error bound (relative MSE); default 0.05 (error-bound), 1 (paper)\n"
    "  --lambda L            paper: weight of density in L; default 0.5\n"
    "  --quantile Q          error of a candidate = Q-quantile over calibration prompts x profiled steps of the\n"
    "                        bucket (nearest rank); default 1 = the maximum\n"
    "  --budget-us T         time-budget: predicted attention time of one generation (all sampling steps and\n"
    "                        layers), in us (or in dense-head units when the cost model falls back to density)\n"
    "  --speedup S           time-budget: or a speed-up target over all-dense\n"
    "  --warmup-steps K      sampling steps [0, K) run dense; default 0\n"
    "  --warmup-layers M     layers [0, M) run dense in every step; default 0\n"
    "  --buckets N           heads tables in the schedule: 1 = one for all sparse steps; default one per\n"
    "                        profiled step, covering the steps up to the next profiled one\n"
    "  --explain L H         show why head H of layer L got its pattern (may be repeated)\n"
    "  --csv FILE            write the per-head choices as CSV\n"
    "  --quiet               print nothing but errors\n"
    "  -h, --help            this text\n"
    "\n"
    "exit status: 0 on success, 1 when the profile is unreadable or invalid or a file cannot be written,\n"
    "2 on a usage error or an impossible option.\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CommandLine {
  fs::path profile;
  std::optional<fs::path> out, csv;
  SearchOptions options;
  std::vector<std::pair<int64_t, int64_t>> explain;
  bool quiet = false;
};

int64_t parse_integer(std::string_view option, std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw UsageError(std::string(option) + ": expected an integer, found \"" + std::string(text) + "\"");
  return value;
}

double parse_number(std::string_view option, std::string_view text) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size())
    throw UsageError(std::string(option) + ": expected a number, found \"" + copy + "\"");
  return value;
}

CommandLine parse(int argc, char** argv) {
  CommandLine cl;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  auto value = [&](size_t& i) -> std::string_view {
    if (i + 1 >= args.size()) throw UsageError(std::string(args[i]) + ": missing value");
    return args[++i];
  };
  std::optional<fs::path> profile;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--out") cl.out = fs::path(value(i));
    else if (a == "--csv") cl.csv = fs::path(value(i));
    else if (a == "--objective") {
      const std::string_view name = value(i);
      const std::optional<Objective> o = objective_from_string(name);
      if (!o) throw UsageError("--objective: expected paper, error-bound or time-budget, found \"" + std::string(name) + "\"");
      cl.options.objective = *o;
    } else if (a == "--epsilon") cl.options.epsilon = parse_number(a, value(i));
    else if (a == "--lambda") cl.options.lambda = parse_number(a, value(i));
    else if (a == "--quantile") cl.options.quantile = parse_number(a, value(i));
    else if (a == "--budget-us") cl.options.budget_us = parse_number(a, value(i));
    else if (a == "--speedup") cl.options.speedup = parse_number(a, value(i));
    else if (a == "--warmup-steps") cl.options.warmup_steps = parse_integer(a, value(i));
    else if (a == "--warmup-layers") cl.options.warmup_layers = parse_integer(a, value(i));
    else if (a == "--buckets") {
      cl.options.buckets = parse_integer(a, value(i));
      if (cl.options.buckets < 1) throw UsageError("--buckets: expected at least 1, found " + std::to_string(cl.options.buckets));
    } else if (a == "--explain") {
      const int64_t layer = parse_integer("--explain LAYER", value(i));
      const int64_t head = parse_integer("--explain HEAD", value(i));
      cl.explain.emplace_back(layer, head);
    } else if (a == "--quiet") cl.quiet = true;
    else if (a.starts_with("-") && a.size() > 1) throw UsageError("unknown option " + std::string(a));
    else if (profile) throw UsageError("more than one PROFILE given: " + profile->string() + " and " + std::string(a));
    else profile = fs::path(a);
  }
  if (!profile) throw UsageError("missing PROFILE");
  cl.profile = *profile;
  return cl;
}

int run(const CommandLine& cl) {
  const SearchInput input = load_search_input(cl.profile);
  const SearchResult result = run_search(input, cl.options);
  for (const auto& [layer, head] : cl.explain)  // checked before anything is written
    if (layer < 0 || layer >= result.layers || head < 0 || head >= result.heads) {
      std::ostringstream ignored;
      print_explanation(ignored, input, result, layer, head);  // throws the OptionError that names the range
    }
  const data::Plan plan = make_plan(input, result);
  if (cl.out) data::write_plan(plan, *cl.out);
  if (cl.csv) {
    std::ostringstream csv;
    write_csv(csv, input, result);
    data::write_file_atomically(*cl.csv, csv.str());
  }
  if (cl.quiet) return 0;
  print_summary(std::cout, input, result);
  if (cl.options.objective == Objective::time_budget) print_frontier(std::cout, result);
  for (const auto& [layer, head] : cl.explain) print_explanation(std::cout, input, result, layer, head);
  if (cl.out)
    std::cout << "wrote " << cl.out->string() << " (" << plan.patterns.size() << " patterns, " << plan.schedule.size()
              << " schedule entries)\n";
  else
    std::cout << "no --out given: plan not written\n";
  if (cl.csv) std::cout << "wrote " << cl.csv->string() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "-h" || std::string_view(argv[i]) == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  try {
    return run(parse(argc, argv));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "svdit search: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const OptionError& e) {
    std::fprintf(stderr, "svdit search: %s\n", e.what());
    return 2;
  } catch (const data::FormatError& e) {
    std::fprintf(stderr, "svdit search: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "svdit search: %s\n", e.what());
    return 1;
  }
}
