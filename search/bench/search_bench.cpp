// svdit-search-bench [--reps N] [--only OBJECTIVE]: wall-clock time of the search on a synthetic in-memory input of Wan2.1-14B size
// (40 layers x 40 heads, 50 profiled steps of 50, 20 candidates, 4 prompts), one thread, for each objective.
// Times run_search (input validation, error quantiles, the objective) and, separately, making and serialising
// the plan. The numbers in the input are random but shaped like a profile's (error falls with density, each head
// has a favourite kind of pattern; a launch of g heads takes 8 + g x (1 + 60 x density) us), so the solvers do
// realistic work. Results go in docs/BENCHMARKS.md "Search".
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/plan.h"
#include "svdit/search/input.h"
#include "svdit/search/plan_export.h"
#include "svdit/search/search.h"

using namespace svdit;
using namespace svdit::search;
namespace cli = svdit::cli;

namespace {

class Random {  // splitmix64, so that every platform benchmarks the same input
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  double uniform() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1p-53;
  }

 private:
  uint64_t state_;
};

SearchInput wan14b_sized_input() {
  SearchInput input;
  data::ProfileMeta& m = input.meta;
  m.model = "Wan2.1-T2V-14B (synthetic benchmark input)";
  m.layers = 40;
  m.heads = 40;
  m.head_dim = 128;
  m.layout = data::TokenLayout{.frames = 21, .height = 45, .width = 80, .text_prefix = 0, .text_suffix = 0,
                               .block_size = 128};
  m.dtype = "bfloat16";
  m.sampling_steps = 50;
  for (int64_t s = 0; s < 50; ++s) {
    m.steps.push_back(s);
    m.timesteps.push_back(1000.0 - 20.0 * static_cast<double>(s));
  }
  m.prompts = {"p0", "p1", "p2", "p3"};
  m.synthetic = true;

  // 20 candidates: dense, skip, 6 windows, 6 temporal bands, 6 window + first-frame stripe.
  const data::TokenLayout& layout = m.layout;
  const int64_t p = layout.tokens_per_frame();
  std::vector<data::Pattern> patterns = {data::make_pattern({data::dense_component()}),
                                         data::make_pattern({data::skip_component()})};
  for (int64_t k = 1; k <= 6; ++k) patterns.push_back(data::make_pattern({data::window_component(k * p / 2)}));
  for (int64_t k = 1; k <= 6; ++k) patterns.push_back(data::make_pattern({data::temporal_component(4 * k, 2 + k)}));
  for (int64_t k = 1; k <= 6; ++k)
    patterns.push_back(data::make_pattern({data::first_frame_stripe(layout), data::window_component(k * p / 2)}));
  for (size_t c = 0; c < patterns.size(); ++c)
    input.candidates.push_back({static_cast<int32_t>(c), patterns[c],
                                data::compile_pattern(patterns[c], layout).block_density(),
                                data::token_density(patterns[c], layout)});
  const auto candidates = static_cast<int64_t>(input.candidates.size());

  Random random(14);
  input.error = data::Array5<float>({4, 50, 40, 40, candidates}, 0.0f);
  for (int64_t l = 0; l < 40; ++l)
    for (int64_t h = 0; h < 40; ++h) {
      const auto kind = static_cast<int64_t>(random.uniform() * 4.0);  // 0 window, 1 temporal, 2 stripe, 3 none
      const double sharpness = 0.3 + random.uniform();
      for (int64_t pr = 0; pr < 4; ++pr)
        for (int64_t s = 0; s < 50; ++s)
          for (int64_t c = 0; c < candidates; ++c) {
            const double density = input.candidates[static_cast<size_t>(c)].block_density;
            const int64_t family = c < 2 ? -1 : (c - 2) / 6;
            double e = c == 0 ? 0.0 : c == 1 ? 1.0 : (1.0 - density) * (family == kind ? 0.02 : 0.6) / sharpness;
            if (c >= 2) e *= 0.8 + 0.4 * random.uniform() + 0.3 * (1.0 - static_cast<double>(s) / 50.0);
            input.error.at(pr, s, l, h, c) = static_cast<float>(e);
          }
    }

  data::CostTable cost{.source = "cupti", .device = "synthetic", .repetitions = 1, .num_candidates = candidates,
                       .max_group = 40, .us = {}};
  for (int64_t c = 0; c < candidates; ++c)
    for (int64_t g = 1; g <= 40; ++g)
      cost.us.push_back(8.0 + static_cast<double>(g) *
                                  (1.0 + 60.0 * input.candidates[static_cast<size_t>(c)].block_density));
  cost.dense_layer_us = 0.9 * (8.0 + 40.0 * 61.0);
  cost.skip_layer_us = 5.0;
  input.cost = cost;
  return input;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int run(const cli::ArgParser& args) {
  const int reps = static_cast<int>(args.get_int("reps", 1, 1000));
  const std::string only = args.has("only") ? args.get("only") : "";  // run only the cases whose name starts with this
  const auto build_start = std::chrono::steady_clock::now();
  const SearchInput input = wan14b_sized_input();
  std::printf("input: 40 layers x 40 heads x 50 steps x %zu candidates x 4 prompts (%zu error values), built in %.2f s\n",
              input.candidates.size(), input.error.data.size(), seconds_since(build_start));

  struct Case {
    const char* name;
    SearchOptions options;
  };
  SearchOptions paper, bound, budget, bound_one_bucket;
  paper.objective = Objective::paper;
  budget.objective = Objective::time_budget;
  budget.speedup = 2.0;
  bound_one_bucket.buckets = 1;
  const Case cases[] = {{"error-bound (default, 50 buckets)", bound},
                        {"error-bound --buckets 1", bound_one_bucket},
                        {"paper (50 buckets)", paper},
                        {"time-budget --speedup 2 (50 buckets)", budget}};
  std::printf("%-40s %9s %9s %9s %12s %9s %11s\n", "objective", "min s", "median s", "max s", "plan+json s",
              "speed-up", "mean error");
  for (const Case& c : cases) {
    if (!std::string_view(c.name).starts_with(only)) continue;
    std::vector<double> times;
    SearchResult result;
    for (int r = 0; r < reps; ++r) {
      const auto start = std::chrono::steady_clock::now();
      result = run_search(input, c.options);
      times.push_back(seconds_since(start));
    }
    const auto plan_start = std::chrono::steady_clock::now();
    const std::string json = data::serialize_plan(make_plan(input, result));
    const double plan_seconds = seconds_since(plan_start);
    std::sort(times.begin(), times.end());
    std::printf("%-40s %9.3f %9.3f %9.3f %12.3f %8.2fx %11.4g\n", c.name, times.front(), times[times.size() / 2],
                times.back(), plan_seconds, result.speedup(), result.mean_error);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args("svdit-search-bench", "svdit-search-bench [--reps N] [--only OBJECTIVE]",
                      "Times the search on a synthetic input of Wan2.1-14B size (40 layers x 40 heads, 50 profiled\n"
                      "steps, 20 candidates, 4 prompts), one thread, for each objective\n"
                      "(docs/BENCHMARKS.md \"Search\").");
  args.option("reps", "N", "timed runs of each objective (min, median and max reported)", "5");
  args.option("only", "OBJECTIVE", "run only the cases whose name starts with this, e.g. paper");
  return cli::run_tool(args, argc, argv, run);
}
