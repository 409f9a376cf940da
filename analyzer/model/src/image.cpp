#include "svdit/analyzer/image.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include <stb/stb_image.h>

#include "svdit/data/png.h"

namespace svdit::analyzer {

void Image::flip_vertically() {
  const size_t row = static_cast<size_t>(width) * 4;
  for (int y = 0; y < height / 2; ++y) {
    std::swap_ranges(rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y) * row),
                     rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y + 1) * row),
                     rgba.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(height - 1 - y) * row));
  }
}

Image Image::crop(int x, int y, int w, int h) const {
  const int x0 = std::clamp(x, 0, width), y0 = std::clamp(y, 0, height);
  const int x1 = std::clamp(x + w, x0, width), y1 = std::clamp(y + h, y0, height);
  Image out;
  out.width = x1 - x0;
  out.height = y1 - y0;
  out.rgba.reserve(static_cast<size_t>(out.width) * static_cast<size_t>(out.height) * 4);
  for (int yy = y0; yy < y1; ++yy) {
    const auto begin = rgba.begin() + static_cast<std::ptrdiff_t>((static_cast<size_t>(yy) * static_cast<size_t>(width) + static_cast<size_t>(x0)) * 4);
    out.rgba.insert(out.rgba.end(), begin, begin + static_cast<std::ptrdiff_t>(out.width) * 4);
  }
  return out;
}

void write_png(const Image& image, const std::filesystem::path& path) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgba.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 4) {
    throw std::runtime_error(path.string() + ": cannot write an empty or inconsistent image");
  }
  data::write_png(path, image.rgba, image.width, image.height, data::PngColor::rgba);
}

Image read_png(const std::filesystem::path& path) {
  int w = 0, h = 0, channels = 0;
  stbi_uc* pixels = stbi_load(path.c_str(), &w, &h, &channels, 4);
  if (pixels == nullptr) {
    throw std::runtime_error(path.string() + ": not a readable image (" + stbi_failure_reason() + ")");
  }
  Image out;
  out.width = w;
  out.height = h;
  out.rgba.assign(pixels, pixels + static_cast<size_t>(w) * static_cast<size_t>(h) * 4);
  stbi_image_free(pixels);
  return out;
}

}  // namespace svdit::analyzer
