// PNG encoding (see png.h). PNG: RFC 2083 / ISO 15948 — signature, IHDR, one IDAT holding the zlib stream of the
// filtered scanlines, IEND; each chunk ends with the CRC-32 of its type and data.

#include "svdit/data/png.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "svdit/data/atomic_file.h"

namespace svdit::data {

namespace {

void put_u32_be(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_chunk(std::vector<uint8_t>& out, std::string_view type, std::span<const uint8_t> data) {
  put_u32_be(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  const uLong crc = ::crc32(0L, out.data() + start, static_cast<uInt>(out.size() - start));
  put_u32_be(out, static_cast<uint32_t>(crc));
}

uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {  // left, up, upper left
  const int p = int{a} + int{b} - int{c};
  const int pa = std::abs(p - int{a}), pb = std::abs(p - int{b}), pc = std::abs(p - int{c});
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

// Row `row` under filter `type` (0 none, 1 sub, 2 up, 3 average, 4 paeth; `up` is the previous row, zeros for
// the first), written to `out`.
void filter_row(int type, std::span<const uint8_t> row, std::span<const uint8_t> up, size_t bpp, uint8_t* out) {
  for (size_t i = 0; i < row.size(); ++i) {
    const uint8_t left = i >= bpp ? row[i - bpp] : 0, above = up[i], corner = i >= bpp ? up[i - bpp] : 0;
    uint8_t predictor = 0;
    switch (type) {
      case 1: predictor = left; break;
      case 2: predictor = above; break;
      case 3: predictor = static_cast<uint8_t>((int{left} + int{above}) / 2); break;
      case 4: predictor = paeth(left, above, corner); break;
      default: break;
    }
    out[i] = static_cast<uint8_t>(row[i] - predictor);
  }
}

// The scanlines, each led by its filter type. The filter of a row is the one whose output has the least sum of
// absolute values as signed bytes (the heuristic RFC 2083 §9.6 recommends): smooth images become mostly zeros,
// which deflate compresses well.
std::vector<uint8_t> filtered_scanlines(std::span<const uint8_t> pixels, size_t row_bytes, size_t height, size_t bpp) {
  std::vector<uint8_t> out((row_bytes + 1) * height);
  const std::vector<uint8_t> zeros(row_bytes, 0);
  std::vector<uint8_t> candidate(row_bytes);
  for (size_t y = 0; y < height; ++y) {
    const std::span<const uint8_t> row = pixels.subspan(y * row_bytes, row_bytes);
    const std::span<const uint8_t> up = y == 0 ? std::span<const uint8_t>(zeros) : pixels.subspan((y - 1) * row_bytes, row_bytes);
    uint8_t* line = out.data() + y * (row_bytes + 1);
    uint64_t best = UINT64_MAX;
    for (int type = 0; type <= 4; ++type) {
      filter_row(type, row, up, bpp, candidate.data());
      uint64_t cost = 0;
      for (const uint8_t v : candidate) cost += static_cast<uint64_t>(std::abs(static_cast<int>(static_cast<int8_t>(v))));
      if (cost < best) {
        best = cost;
        line[0] = static_cast<uint8_t>(type);
        std::copy(candidate.begin(), candidate.end(), line + 1);
      }
    }
  }
  return out;
}

}  // namespace

std::vector<uint8_t> encode_png(std::span<const uint8_t> pixels, int64_t width, int64_t height, PngColor color) {
  const auto bpp = static_cast<size_t>(color);
  if (width <= 0 || height <= 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF ||
      pixels.size() != static_cast<size_t>(width) * static_cast<size_t>(height) * bpp) {
    throw std::invalid_argument("encode_png: expected " + std::to_string(width) + "×" + std::to_string(height) + "×" +
                                std::to_string(bpp) + " bytes, found " + std::to_string(pixels.size()));
  }
  const std::vector<uint8_t> scanlines =
      filtered_scanlines(pixels, static_cast<size_t>(width) * bpp, static_cast<size_t>(height), bpp);
  uLongf compressed_size = ::compressBound(static_cast<uLong>(scanlines.size()));
  std::vector<uint8_t> compressed(compressed_size);
  const int status = ::compress2(compressed.data(), &compressed_size, scanlines.data(),
                                 static_cast<uLong>(scanlines.size()), Z_DEFAULT_COMPRESSION);
  if (status != Z_OK) throw std::runtime_error("encode_png: zlib compress2 failed (" + std::to_string(status) + ")");
  compressed.resize(compressed_size);

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32_be(ihdr, static_cast<uint32_t>(width));
  put_u32_be(ihdr, static_cast<uint32_t>(height));
  const uint8_t colour_type = color == PngColor::rgba ? 6 : 2;  // truecolour with or without alpha
  ihdr.insert(ihdr.end(), {8, colour_type, 0, 0, 0});          // 8 bits, deflate, adaptive filtering, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", compressed);
  put_chunk(png, "IEND", {});
  return png;
}

void write_png(const std::filesystem::path& path, std::span<const uint8_t> pixels, int64_t width, int64_t height,
               PngColor color) {
  std::vector<uint8_t> png;
  try {
    png = encode_png(pixels, width, height, color);
  } catch (const std::exception& e) {
    throw std::invalid_argument(path.string() + ": " + e.what());
  }
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace svdit::data
