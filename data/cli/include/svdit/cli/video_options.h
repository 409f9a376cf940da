#pragma once
// The video-size option group of the tools that make or read videos (svdit generate, profile, bench e2e,
// demo-video): --frames N, --height PX, --width PX.

#include <cstdint>
#include <string>

#include "svdit/cli/arg_parser.h"

namespace svdit::cli {

struct VideoSizeOption {
  std::string fallback;  // the default; empty: none (the tool decides when it is absent, as `note` says)
  std::string note;      // added to the help in parentheses, e.g. "1 + 4k for Wan's VAE"
};

struct VideoSizeDefaults {
  VideoSizeOption frames, height, width;
};

// Declares --frames, --height and --width.
void add_video_size_options(ArgParser& parser, const VideoSizeDefaults& defaults);

struct VideoSize {
  int64_t frames = 0, height = 0, width = 0;
};

// The three values, each a positive integer (UsageError naming the option otherwise, or when one is unset).
VideoSize video_size_from_args(const ArgParser& args);

}  // namespace svdit::cli
