// With the project's search library linked (svdit_search), a plan searched in the analyzer and saved is byte
// for byte the plan `svdit search` writes for the same settings. Compiled only into builds that link the
// library (its headers are on the include path exactly then).
#if __has_include("svdit/search/search.h")

#include <gtest/gtest.h>

#include <cstdlib>

#include "support/binary_dir.h"
#include "svdit/analyzer/document.h"
#include "svdit/analyzer/search_backend.h"
#include "svdit/data/plan.h"
#include "test_support.h"

using namespace svdit::analyzer;
namespace fs = std::filesystem;

namespace {

// Runs the built svdit-search on the sample (relative path, as the analyzer was given) and the analyzer's
// search with the same settings, saves both, compares the files.
void expect_same_plan(const SearchSettings& settings, const std::string& cli_options, const std::string& name) {
  test::ScratchDir dir("search-cli-" + name);
  const fs::path source = fs::path(SVDIT_SOURCE_DIR);
  const fs::path relative = "data/samples/sample_profile.h5";
  const std::string cli = std::string(SVDIT_BINARY_DIR) + "/bin/svdit-search";
  ASSERT_TRUE(fs::exists(cli)) << cli << " is built with the analyzer tests";
  const std::string command = "cd '" + source.string() + "' && '" + cli + "' " + relative.string() + " --quiet --out '" +
                              (dir / "cli.json").string() + "' " + cli_options;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  // The analyzer opened the same relative path (it is recorded in the provenance), from the same directory.
  struct Cwd {
    fs::path previous = fs::current_path();
    ~Cwd() { fs::current_path(previous); }
  } restore;
  fs::current_path(source);
  auto doc = Document::open(relative);
  auto backend = make_search_backend();
  ASSERT_EQ(backend->name(), "svdit_search");
  SearchResult r = backend->solve(doc->profile(), settings);
  doc->replace_plan(std::move(r.plan), "search");
  doc->save_plan(dir / "analyzer.json");
  EXPECT_EQ(test::read_text(dir / "analyzer.json"), test::read_text(dir / "cli.json")) << name;
}

TEST(SearchLibrary, ErrorBoundPlanIsWhatTheCommandLineWrites) {
  SearchSettings st;
  st.epsilon = 0.1;
  expect_same_plan(st, "--objective error-bound --epsilon 0.1", "error-bound");
}

TEST(SearchLibrary, PaperPlanIsWhatTheCommandLineWrites) {
  SearchSettings st;
  st.objective = Objective::paper;
  st.epsilon = 0.8;
  st.lambda = 0.25;
  expect_same_plan(st, "--objective paper --epsilon 0.8 --lambda 0.25", "paper");
}

TEST(SearchLibrary, MeanAggregateIsTheMedianQuantile) {
  SearchSettings st;
  st.epsilon = 0.05;
  st.aggregate = PromptAggregate::mean;
  expect_same_plan(st, "--objective error-bound --epsilon 0.05 --quantile 0.5", "median");
}

}  // namespace

#endif
