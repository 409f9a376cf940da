// The video-size option group (see video_options.h).

#include "svdit/cli/video_options.h"

#include <limits>

namespace svdit::cli {

namespace {

void add_one(ArgParser& parser, const std::string& name, const std::string& value_name, const std::string& help,
             const VideoSizeOption& option) {
  parser.option(name, value_name, option.note.empty() ? help : help + " (" + option.note + ")", option.fallback);
}

}  // namespace

void add_video_size_options(ArgParser& parser, const VideoSizeDefaults& defaults) {
  add_one(parser, "frames", "N", "video frames", defaults.frames);
  add_one(parser, "height", "PX", "video height in pixels", defaults.height);
  add_one(parser, "width", "PX", "video width in pixels", defaults.width);
}

VideoSize video_size_from_args(const ArgParser& args) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  return VideoSize{args.get_int("frames", 1, kMax), args.get_int("height", 1, kMax), args.get_int("width", 1, kMax)};
}

}  // namespace svdit::cli
