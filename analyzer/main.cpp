// svdit-analyze (`svdit analyze`): the Dear ImGui analyzer of profiles and plans. docs/ANALYZER.md.
#include "svdit/analyzer/options.h"
#include "svdit/cli/arg_parser.h"
#include "ui/app.h"

int main(int argc, char** argv) {
  using namespace svdit::analyzer;
  namespace cli = svdit::cli;
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv,
                       [](const cli::ArgParser& parsed) { return ui::run_app(options_from_args(parsed)); });
}
