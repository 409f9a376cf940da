// svdit-analyze (`svdit analyze`): the Dear ImGui analyzer of profiles and plans. docs/ANALYZER.md.
#include <cstdio>
#include <string>
#include <vector>

#include "svdit/analyzer/options.h"
#include "ui/app.h"

int main(int argc, char** argv) {
  using namespace svdit::analyzer;
  Options options;
  try {
    options = parse_options(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    std::fprintf(stderr, "svdit analyze: %s\n\n%s", e.what(), kUsage);
    return 2;
  }
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  return ui::run_app(options);
}
