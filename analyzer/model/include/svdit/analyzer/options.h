#pragma once
// Command line of `svdit analyze` (svdit-analyze), parsed without the GUI so that every option and every
// usage error is unit-tested.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"

namespace svdit::analyzer {

enum class View { grid, map, tradeoff };
const char* to_string(View v);

struct Options {
  std::optional<std::filesystem::path> profile;  // HDF5
  std::optional<std::filesystem::path> plan;     // JSON
  std::optional<std::filesystem::path> screenshot;  // headless: render, write this PNG, exit
  std::optional<std::filesystem::path> report;      // headless: also write where each view drew what (JSON)
  View view = View::grid;
  std::optional<int64_t> step;  // sampler step (must be a profiled one)
  std::optional<int64_t> layer, head;
  int width = 1280, height = 800;
  int frames = 3;        // headless: frames rendered before the capture (ImGui settles its layout over two)
  bool help = false;
};

using UsageError = cli::UsageError;

// The parser of svdit-analyze's command line: its options, and the help text.
cli::ArgParser make_parser();

// Files are told apart by content (an HDF5 signature is a profile, a JSON object a plan), so their order on
// the command line does not matter. Throws UsageError for unknown options, missing or malformed values, and two
// files of one kind; a file that cannot be read at all is left for the opener to report.
Options options_from_args(const cli::ArgParser& args);
// The same from the arguments alone (without the program name); `help` is set when -h or --help is among them.
Options parse_options(const std::vector<std::string>& args);

enum class FileKind { profile, plan, unknown };
// By the first bytes: the HDF5 signature, or '{' after optional whitespace (and a UTF-8 BOM).
FileKind detect_file_kind(const std::filesystem::path& path);

}  // namespace svdit::analyzer
