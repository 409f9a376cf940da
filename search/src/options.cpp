// Checking a search request against the objective and the input.
#include "svdit/search/options.h"

#include <cmath>
#include <cstdio>
#include <string>

#include "svdit/data/size_limits.h"
#include "svdit/search/input.h"

namespace svdit::search {

const char* to_string(Objective objective) {
  switch (objective) {
    case Objective::paper: return "paper";
    case Objective::error_bound: return "error-bound";
    case Objective::time_budget: return "time-budget";
  }
  return "?";
}

std::optional<Objective> objective_from_string(std::string_view name) {
  for (const Objective o : {Objective::paper, Objective::error_bound, Objective::time_budget})
    if (name == to_string(o)) return o;
  return std::nullopt;
}

double SearchOptions::epsilon_value() const {
  if (epsilon) return *epsilon;
  return objective == Objective::paper ? kPaperDefaultEpsilon : kErrorBoundDefaultEpsilon;
}

double SearchOptions::lambda_value() const { return lambda.value_or(kPaperDefaultLambda); }

namespace {

[[noreturn]] void refuse(const std::string& option, const std::string& what) { throw OptionError(option + ": " + what); }

std::string number_text(double value) {
  char text[64];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

void require_finite_at_least(const std::optional<double>& value, double least, bool strict, const char* option) {
  if (!value) return;
  const bool ok = std::isfinite(*value) && (strict ? *value > least : *value >= least);
  if (!ok)
    refuse(option, std::string("expected a finite number ") + (strict ? "> " : ">= ") + number_text(least) +
                       ", found " + number_text(*value));
}

}  // namespace

void validate(const SearchOptions& options, const SearchInput& input) {
  const char* name = to_string(options.objective);
  const bool paper = options.objective == Objective::paper;
  const bool budget = options.objective == Objective::time_budget;

  // An option the chosen objective ignores is refused: the user believes it changes the plan.
  if (options.epsilon && budget)
    refuse("--epsilon", "does not apply to --objective time-budget (it bounds error only in paper and error-bound)");
  if (options.lambda && !paper) refuse("--lambda", std::string("applies only to --objective paper, not ") + name);
  if ((options.budget_us || options.speedup) && !budget)
    refuse(options.budget_us ? "--budget-us" : "--speedup",
           std::string("applies only to --objective time-budget, not ") + name);
  if (budget && options.budget_us && options.speedup)
    refuse("--budget-us", "give either --budget-us or --speedup, not both");
  if (budget && !options.budget_us && !options.speedup)
    refuse("--objective time-budget", "needs a target: --budget-us TIME or --speedup FACTOR");

  require_finite_at_least(options.epsilon, 0.0, false, "--epsilon");
  require_finite_at_least(options.lambda, 0.0, false, "--lambda");
  require_finite_at_least(options.budget_us, 0.0, true, "--budget-us");
  require_finite_at_least(options.speedup, 0.0, true, "--speedup");
  if (!(options.quantile >= 0.0 && options.quantile <= 1.0))
    refuse("--quantile", "expected a number in [0, 1] (1 = the maximum over calibration samples), found " +
                             number_text(options.quantile));

  const data::ProfileMeta& meta = input.meta;
  if (options.warmup_steps < 0 || options.warmup_steps > meta.sampling_steps)
    refuse("--warmup-steps", "expected 0 .. " + std::to_string(meta.sampling_steps) +
                                 " (the profile's sampling steps), found " + std::to_string(options.warmup_steps));
  if (options.warmup_layers < 0 || options.warmup_layers > meta.layers)
    refuse("--warmup-layers", "expected 0 .. " + std::to_string(meta.layers) + " (the model's layers), found " +
                                  std::to_string(options.warmup_layers));
  if (options.buckets < 0 || options.buckets > meta.num_steps())
    refuse("--buckets", "expected 1 .. " + std::to_string(meta.num_steps()) +
                            " (the profiled steps; 0 or absent = one per profiled step), found " +
                            std::to_string(options.buckets));
  if (options.ranks && (*options.ranks < 1 || *options.ranks > data::kMaxRanks))
    refuse("--ranks", "expected 1 .. " + std::to_string(data::kMaxRanks) + " (processes of the sequence-parallel run), "
                      "found " + std::to_string(*options.ranks));
}

}  // namespace svdit::search
