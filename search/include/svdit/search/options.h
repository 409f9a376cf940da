#pragma once
// What the user asks of the search (docs/SEARCH.md "Objectives"). Checked against the input before any work, so
// that an impossible request (negative epsilon, a budget with the wrong objective, more warm-up layers than the
// model has) is refused with a message that names the option, rather than producing a strange plan.

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace svdit::search {

struct SearchInput;

enum class Objective {
  paper,        // Sparse-vDiT's rule: per head argmin of L_c = error_c + λ·density_c, dense when all L_c > ε
  error_bound,  // per head the fastest candidate whose error stays ≤ ε, fusion-aware per layer
  time_budget,  // least total error within a time budget (or speed-up target), by Lagrangian relaxation
};

const char* to_string(Objective objective);  // "paper", "error-bound", "time-budget"
std::optional<Objective> objective_from_string(std::string_view name);

inline constexpr double kPaperDefaultEpsilon = 1.0;        // as in the paper
inline constexpr double kPaperDefaultLambda = 0.5;         // as in the paper
inline constexpr double kErrorBoundDefaultEpsilon = 0.05;  // relative MSE: 5 % of the head output's energy

// A request the search cannot honour. The message starts with the option's name ("--epsilon: …").
class OptionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct SearchOptions {
  Objective objective = Objective::error_bound;
  std::optional<double> epsilon;    // paper, error-bound; defaults above
  std::optional<double> lambda;     // paper only
  double quantile = 1.0;            // over the calibration samples (prompts × profiled steps of a bucket); 1 = max
  std::optional<double> budget_us;  // time-budget: predicted attention time of one generation, in the cost unit
  std::optional<double> speedup;    // time-budget: or a speed-up target over all-dense
  int64_t warmup_steps = 0;         // sampler steps [0, k) run dense
  int64_t warmup_layers = 0;        // layers [0, m) run dense in every step
  int64_t buckets = 0;              // schedule tables; 0 = one per profiled step
  // Ranks of a sequence-parallel run to place heads over (placement.h): the plan then carries a per-layer head
  // placement balanced for them (plan version 3). Absent: no placement, the runtime splits heads contiguously.
  std::optional<int64_t> ranks;

  double epsilon_value() const;  // the given one, or the objective's default
  double lambda_value() const;
};

// Throws OptionError unless the options make sense for this objective and this input.
void validate(const SearchOptions& options, const SearchInput& input);

}  // namespace svdit::search
