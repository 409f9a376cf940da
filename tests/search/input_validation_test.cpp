// Bad input and impossible options are refused with messages that name the source, the object and what was
// expected.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "search_test_support.h"
#include "svdit/data/error.h"
#include "svdit/search/options.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

SearchInput good() { return testing::random_input(1, 2, 3, {0, 5}, 10, 2); }

// Runs the search on `in` and returns the FormatError's message ("" and a failure when none is thrown).
std::string format_error(const SearchInput& in, const SearchOptions& o = {}) {
  try {
    run_search(in, o);
  } catch (const data::FormatError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a FormatError";
  return "";
}

std::string option_error(const std::function<void(SearchOptions&)>& edit) {
  SearchOptions o;
  edit(o);
  try {
    run_search(good(), o);
  } catch (const OptionError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an OptionError";
  return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(InputValidation, GoodInputIsAccepted) { EXPECT_NO_THROW(run_search(good(), {})); }

TEST(InputValidation, NanErrorIsRefusedNamingTheEntry) {
  SearchInput in = good();
  in.source = "profile.h5";
  in.error.at(1, 0, 0, 2, 3) = std::numeric_limits<float>::quiet_NaN();
  const std::string what = format_error(in);
  EXPECT_TRUE(contains(what, "profile.h5")) << what;
  EXPECT_TRUE(contains(what, "/error")) << what;
  EXPECT_TRUE(contains(what, "[prompt 1, step 0, layer 0, head 2, candidate 3]")) << what;
  EXPECT_TRUE(contains(what, "NaN")) << what;
  in.error.at(1, 0, 0, 2, 3) = -0.5f;
  EXPECT_TRUE(contains(format_error(in), "expected a finite relative MSE >= 0"));
}

TEST(InputValidation, EmptyCandidateListIsRefused) {
  SearchInput in = good();
  in.candidates.clear();
  in.cost.reset();
  in.error = data::Array5<float>({2, 2, 1, 2, 0}, 0.0f);
  EXPECT_TRUE(contains(format_error(in), "/candidates: expected at least one candidate"));
}

TEST(InputValidation, CandidatesWithoutDenseAreRefused) {
  SearchInput in = good();
  in.candidates[0].pattern = testing::window(100);  // the dense one
  const std::string what = format_error(in);
  EXPECT_TRUE(contains(what, "/candidates")) << what;
  EXPECT_TRUE(contains(what, "dense")) << what;
}

TEST(InputValidation, CostTableOfTheWrongShapeIsRefused) {
  {
    SearchInput in = good();
    in.cost->num_candidates -= 1;
    EXPECT_TRUE(contains(format_error(in), "/cost/table: expected one row per candidate"));
  }
  {
    SearchInput in = good();
    in.cost->max_group = in.meta.heads + 1;
    in.cost->us.resize(static_cast<size_t>(in.cost->num_candidates * in.cost->max_group), 1.0);
    EXPECT_TRUE(contains(format_error(in), "largest group size"));
  }
  {
    SearchInput in = good();
    in.cost->us.pop_back();
    EXPECT_TRUE(contains(format_error(in), "/cost/table: expected [candidate, group size]"));
  }
  {
    SearchInput in = good();
    in.cost->us[3] = -1.0;
    EXPECT_TRUE(contains(format_error(in), "expected a finite time"));
  }
  {
    SearchInput in = good();
    in.cost->time_us(0, 1) = 0.0;  // dense: the baseline of every speed-up
    EXPECT_TRUE(contains(format_error(in), "the dense candidate (row 0) has time 0"));
  }
}

TEST(InputValidation, ErrorArrayOfTheWrongShapeIsRefused) {
  SearchInput in = good();
  in.error = data::Array5<float>({2, 2, 1, 2, 4}, 0.0f);  // one candidate short
  EXPECT_TRUE(contains(format_error(in), "/error: expected shape"));
}

TEST(Options, ImpossibleOptionsAreRefusedNamingTheOption) {
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.epsilon = -0.1; }), "--epsilon: expected a finite number >= 0"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.epsilon = std::nan(""); }), "--epsilon"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.quantile = 1.5; }), "--quantile"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.lambda = 0.5; }), "--lambda: applies only to --objective paper"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.objective = Objective::paper; o.lambda = -1; }), "--lambda"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.budget_us = 100; }), "--budget-us: applies only"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.objective = Objective::time_budget; }), "needs a target"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) {
                         o.objective = Objective::time_budget;
                         o.budget_us = 10;
                         o.speedup = 2;
                       }),
                       "not both"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.objective = Objective::time_budget; o.speedup = 0; }), "--speedup"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.objective = Objective::time_budget; o.speedup = 2; o.epsilon = 0.1; }), "--epsilon: does not apply"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.warmup_steps = 11; }), "--warmup-steps: expected 0 .. 10"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.warmup_layers = 3; }), "--warmup-layers: expected 0 .. 2"));
  EXPECT_TRUE(contains(option_error([](SearchOptions& o) { o.buckets = 3; }), "--buckets"));
}

}  // namespace
}  // namespace svdit::search
