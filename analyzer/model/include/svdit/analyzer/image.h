#pragma once
// RGBA8 images: what the analyzer exports (PNG) and what the screenshot checks read back.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "svdit/analyzer/colormap.h"

namespace svdit::analyzer {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgba;  // [height, width, 4], top row first

  Rgba8 at(int x, int y) const {
    const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(width) + static_cast<size_t>(x)) * 4;
    return Rgba8{rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]};
  }
  void flip_vertically();  // OpenGL reads rows bottom-up
  Image crop(int x, int y, int w, int h) const;  // clipped to the image
};

// Encodes a PNG and writes it atomically (a reader never sees half a picture). Throws std::runtime_error
// naming the path on failure.
void write_png(const Image& image, const std::filesystem::path& path);
// Throws std::runtime_error naming the path when it is not a readable PNG.
Image read_png(const std::filesystem::path& path);

}  // namespace svdit::analyzer
