// svdit search PROFILE --out PLAN.json [objective options]: chooses a sparse pattern per (step range, layer,
// head) from a profile's measured error and cost, and writes a plan (docs/SEARCH.md).
// Exit status: 0 on success, 1 when the profile is unreadable or invalid (the message names the file and the
// object) or a file cannot be written, 2 on a usage error or an option the search cannot honour.
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "svdit/cli/arg_parser.h"
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
namespace cli = svdit::cli;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p(
      "svdit search", "svdit search PROFILE [--out PLAN.json] [--objective paper|error-bound|time-budget] [options]",
      "Chooses a sparse attention pattern for every (step range, layer, head) from the profile's measured error\n"
      "and kernel cost, fuses heads that share a pattern, prints a summary and writes the plan.\n"
      "\n"
      "objectives:\n"
      "  error-bound (default)  per head the pattern of least predicted time whose error stays <= epsilon;\n"
      "                         each layer is solved jointly, because heads sharing a pattern run in one launch\n"
      "  paper                  Sparse-vDiT's rule: argmin of L = error + lambda x density, dense if all L > epsilon\n"
      "  time-budget            least total error within --budget-us or --speedup (Lagrangian sweep; prints the\n"
      "                         Pareto frontier and stores it in the plan)");
  p.option("out", "PLAN.json", "write the plan here (without it nothing is written)");
  p.option("objective", "NAME", "paper, error-bound or time-budget (see above)", to_string(SearchOptions{}.objective));
  p.option("epsilon", "E", "error bound (relative MSE); default 0.05 (error-bound), 1 (paper)");
  p.option("lambda", "L", "paper: weight of density in L; default 0.5");
  p.option("quantile", "Q", "error of a candidate = Q-quantile over calibration prompts x profiled steps of the\n"
                            "bucket (nearest rank); default 1 = the maximum");
  p.option("budget-us", "T", "time-budget: predicted attention time of one generation (all sampling steps and\n"
                             "layers), in us (or in dense-head units when the cost model falls back to density)");
  p.option("speedup", "S", "time-budget: or a speed-up target over all-dense");
  p.option("warmup-steps", "K", "sampling steps [0, K) run dense; default 0");
  p.option("warmup-layers", "M", "layers [0, M) run dense in every step; default 0");
  p.option("buckets", "N", "heads tables in the schedule: 1 = one for all sparse steps; default one per\n"
                           "profiled step, covering the steps up to the next profiled one");
  p.option("ranks", "N", "also place each layer's heads over N ranks of a sequence-parallel run (head-parallel\n"
                         "attention): per layer the split whose slowest rank is fastest by the cost model\n"
                         "(longest-first balancing, or the contiguous split when that is as good); the plan\n"
                         "carries it (version 3) and the summary compares it with the contiguous split");
  p.option_tuple("explain", {"L", "H"}, "show why head H of layer L got its pattern (may be repeated)");
  p.option("csv", "FILE", "write the per-head choices as CSV");
  p.flag("quiet", "print nothing but errors");
  p.epilogue("exit status: 0 on success, 1 when the profile is unreadable or invalid or a file cannot be written,\n"
             "2 on a usage error or an impossible option.");
  return p;
}

struct CommandLine {
  fs::path profile;
  std::optional<fs::path> out, csv;
  SearchOptions options;
  std::vector<std::pair<int64_t, int64_t>> explain;
  bool quiet = false;
};

CommandLine command_line(const cli::ArgParser& args) {
  CommandLine cl;
  if (args.positional().empty()) throw cli::UsageError("missing PROFILE");
  if (args.positional().size() > 1) {
    throw cli::UsageError("more than one PROFILE given: " + args.positional()[0] + " and " + args.positional()[1]);
  }
  cl.profile = args.positional()[0];
  if (args.has("out")) cl.out = fs::path(args.get("out"));
  if (args.has("csv")) cl.csv = fs::path(args.get("csv"));
  const std::string objective = args.get("objective");
  const std::optional<Objective> o = objective_from_string(objective);
  if (!o) throw cli::UsageError("--objective: expected paper, error-bound or time-budget, found \"" + objective + "\"");
  cl.options.objective = *o;
  if (args.has("epsilon")) cl.options.epsilon = args.get_double("epsilon");
  if (args.has("lambda")) cl.options.lambda = args.get_double("lambda");
  if (args.has("quantile")) cl.options.quantile = args.get_double("quantile");
  if (args.has("budget-us")) cl.options.budget_us = args.get_double("budget-us");
  if (args.has("speedup")) cl.options.speedup = args.get_double("speedup");
  if (args.has("warmup-steps")) cl.options.warmup_steps = args.get_int("warmup-steps");
  if (args.has("warmup-layers")) cl.options.warmup_layers = args.get_int("warmup-layers");
  if (args.has("buckets")) {
    cl.options.buckets = args.get_int("buckets");
    if (cl.options.buckets < 1) throw cli::UsageError("--buckets: expected at least 1, found " + args.get("buckets"));
  }
  if (args.has("ranks")) cl.options.ranks = args.get_int("ranks");  // its range: validate(SearchOptions)
  for (const std::vector<std::string>& layer_head : args.occurrences("explain")) {
    cl.explain.emplace_back(cli::parse_int("--explain L", layer_head[0]), cli::parse_int("--explain H", layer_head[1]));
  }
  cl.quiet = args.flag_set("quiet");
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
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, [](const cli::ArgParser& parsed) {
    try {
      return run(command_line(parsed));
    } catch (const OptionError& e) {
      throw cli::UsageError(e.what());  // an option the search cannot honour: exit 2, like any usage error
    }
  });
}
