// The PNG encoder: what it writes decodes (here, by a small decoder of the test's own: chunks and their CRCs,
// zlib's inflate, the five PNG row filters undone) to exactly the pixels given, RGB and RGBA; smooth images come
// out far smaller than their raw bytes; bad sizes are errors.
#include "svdit/data/png.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using svdit::data::encode_png;
using svdit::data::PngColor;

namespace {

struct Decoded {
  uint32_t width = 0, height = 0;
  uint8_t bit_depth = 0, colour_type = 0;
  std::vector<uint8_t> pixels;  // height × width × channels
};

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

// CRC-32 computed bit by bit, independently of zlib's table.
uint32_t crc_bitwise(const std::vector<uint8_t>& bytes, size_t begin, size_t end) {
  uint32_t crc = 0xFFFFFFFFU;
  for (size_t i = begin; i < end; ++i) {
    crc ^= bytes[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

// PNG decoding as the specification (RFC 2083) describes it, for 8-bit truecolour without interlacing.
Decoded decode(const std::vector<uint8_t>& png) {
  Decoded out;
  const std::vector<uint8_t> signature = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  EXPECT_EQ(std::vector<uint8_t>(png.begin(), png.begin() + 8), signature);
  std::vector<uint8_t> zlib_stream;
  std::vector<std::string> types;
  for (size_t pos = 8; pos + 12 <= png.size();) {
    const uint32_t len = be32(png, pos);
    const std::string type(png.begin() + static_cast<std::ptrdiff_t>(pos + 4), png.begin() + static_cast<std::ptrdiff_t>(pos + 8));
    types.push_back(type);
    EXPECT_EQ(be32(png, pos + 8 + len), crc_bitwise(png, pos + 4, pos + 8 + len)) << type;
    if (type == "IHDR") {
      out.width = be32(png, pos + 8);
      out.height = be32(png, pos + 12);
      out.bit_depth = png[pos + 16];
      out.colour_type = png[pos + 17];
      EXPECT_EQ(png[pos + 18], 0);  // deflate
      EXPECT_EQ(png[pos + 19], 0);  // adaptive filtering
      EXPECT_EQ(png[pos + 20], 0);  // no interlace
    }
    if (type == "IDAT") zlib_stream.insert(zlib_stream.end(), png.begin() + static_cast<std::ptrdiff_t>(pos + 8), png.begin() + static_cast<std::ptrdiff_t>(pos + 8 + len));
    pos += 12 + len;
  }
  EXPECT_EQ(types.front(), "IHDR");
  EXPECT_EQ(types.back(), "IEND");
  EXPECT_EQ(out.bit_depth, 8);
  const size_t bpp = out.colour_type == 6 ? 4 : 3;
  const size_t row = out.width * bpp;
  std::vector<uint8_t> scanlines((row + 1) * out.height);
  uLongf size = static_cast<uLongf>(scanlines.size());
  EXPECT_EQ(::uncompress(scanlines.data(), &size, zlib_stream.data(), static_cast<uLong>(zlib_stream.size())), Z_OK);
  EXPECT_EQ(size, scanlines.size());
  out.pixels.assign(row * out.height, 0);
  for (size_t y = 0; y < out.height; ++y) {
    const uint8_t filter = scanlines[y * (row + 1)];
    EXPECT_LE(filter, 4);
    const uint8_t* in = &scanlines[y * (row + 1) + 1];
    uint8_t* cur = &out.pixels[y * row];
    const uint8_t* up = y > 0 ? &out.pixels[(y - 1) * row] : nullptr;
    for (size_t i = 0; i < row; ++i) {
      const int a = i >= bpp ? cur[i - bpp] : 0, b = up ? up[i] : 0, c = up && i >= bpp ? up[i - bpp] : 0;
      int predictor = 0;
      if (filter == 1) predictor = a;
      if (filter == 2) predictor = b;
      if (filter == 3) predictor = (a + b) / 2;
      if (filter == 4) {
        const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
        predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
      }
      cur[i] = static_cast<uint8_t>(in[i] + predictor);
    }
  }
  return out;
}

// A smooth gradient with a soft disc: what decoded frames and plots look like.
std::vector<uint8_t> smooth_image(int64_t w, int64_t h, size_t channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(w * h) * channels);
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      const double r = std::hypot(static_cast<double>(x - w / 2), static_cast<double>(y - h / 3));
      uint8_t* p = &pixels[static_cast<size_t>(y * w + x) * channels];
      p[0] = static_cast<uint8_t>(255 * x / w);
      p[1] = static_cast<uint8_t>(255 * y / h);
      p[2] = static_cast<uint8_t>(r < static_cast<double>(h) / 4 ? 220 : 40);
      if (channels == 4) p[3] = static_cast<uint8_t>(255 - (x + y) % 256);
    }
  }
  return pixels;
}

// Pixels no filter predicts, so that every filter type and byte value occurs.
std::vector<uint8_t> noise_image(int64_t w, int64_t h, size_t channels) {
  std::vector<uint8_t> pixels(static_cast<size_t>(w * h) * channels);
  uint32_t state = 12345;
  for (uint8_t& v : pixels) {
    state = state * 1664525U + 1013904223U;
    v = static_cast<uint8_t>(state >> 24);
  }
  return pixels;
}

TEST(Png, RgbDecodesToTheSamePixels) {
  struct Case {
    int64_t width, height;
    std::vector<uint8_t> pixels;
  };
  for (const Case& c : {Case{300, 90, smooth_image(300, 90, 3)}, Case{37, 23, noise_image(37, 23, 3)}}) {
    const Decoded d = decode(encode_png(c.pixels, c.width, c.height));
    EXPECT_EQ(d.width, static_cast<uint32_t>(c.width));
    EXPECT_EQ(d.height, static_cast<uint32_t>(c.height));
    EXPECT_EQ(d.colour_type, 2);  // truecolour
    EXPECT_EQ(d.pixels, c.pixels);
  }
}

TEST(Png, RgbaDecodesToTheSamePixels) {
  const std::vector<uint8_t> pixels = smooth_image(64, 48, 4);
  const Decoded d = decode(encode_png(pixels, 64, 48, PngColor::rgba));
  EXPECT_EQ(d.colour_type, 6);  // truecolour with alpha
  EXPECT_EQ(d.pixels, pixels);
  const std::vector<uint8_t> noise = noise_image(5, 7, 4);
  EXPECT_EQ(decode(encode_png(noise, 5, 7, PngColor::rgba)).pixels, noise);
}

TEST(Png, SmoothImagesAreCompressed) {
  // A 832×480 frame: the uncompressed encoder wrote about 1.2 MB for it.
  const std::vector<uint8_t> pixels = smooth_image(832, 480, 3);
  const std::vector<uint8_t> png = encode_png(pixels, 832, 480);
  EXPECT_LT(png.size(), pixels.size() / 10) << png.size() << " bytes for " << pixels.size() << " raw";
  EXPECT_EQ(decode(png).pixels, pixels);
}

TEST(Png, WritesTheFileAndRejectsBadSizes) {
  const fs::path path = fs::temp_directory_path() / ("svdit_png_test_" + std::to_string(::getpid()) + ".png");
  const std::vector<uint8_t> pixels = smooth_image(20, 10, 3);
  svdit::data::write_png(path, pixels, 20, 10);
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes, encode_png(pixels, 20, 10));
  fs::remove(path);

  EXPECT_THROW(encode_png(pixels, 21, 10), std::invalid_argument);                  // too few bytes
  EXPECT_THROW(encode_png(pixels, 20, 10, PngColor::rgba), std::invalid_argument);  // RGB bytes, RGBA claimed
  EXPECT_THROW(encode_png({}, 0, 0), std::invalid_argument);                        // empty
  try {
    svdit::data::write_png(path, pixels, 3, 3);
    FAIL() << "a size mismatch was written";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(path));
}

}  // namespace
