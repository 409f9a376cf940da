// PNG encoding with stored (uncompressed) deflate blocks (see png.h). PNG: RFC 2083; zlib: RFC 1950; deflate
// stored blocks: RFC 1951 §3.2.4.

#include "svdit/runtime/png.h"

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>

#include "svdit/data/atomic_file.h"

namespace svdit::runtime {

namespace {

uint32_t crc32(std::span<const uint8_t> bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1U) ? 0xEDB88320U ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFU;
  for (const uint8_t b : bytes) c = table[(c ^ b) & 0xFFU] ^ (c >> 8);
  return c ^ 0xFFFFFFFFU;
}

uint32_t adler32(std::span<const uint8_t> bytes) {
  uint32_t a = 1, b = 0;
  for (const uint8_t x : bytes) {
    a = (a + x) % 65521U;
    b = (b + a) % 65521U;
  }
  return (b << 16) | a;
}

void put_u32_be(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(v >> shift));
}

void put_chunk(std::vector<uint8_t>& out, std::string_view type, std::span<const uint8_t> data) {
  put_u32_be(out, static_cast<uint32_t>(data.size()));
  const size_t start = out.size();
  out.insert(out.end(), type.begin(), type.end());
  out.insert(out.end(), data.begin(), data.end());
  put_u32_be(out, crc32(std::span<const uint8_t>(out.data() + start, out.size() - start)));
}

}  // namespace

std::vector<uint8_t> encode_png(std::span<const uint8_t> rgb, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF ||
      rgb.size() != static_cast<size_t>(width * height * 3)) {
    throw std::invalid_argument("encode_png: expected " + std::to_string(width) + "×" + std::to_string(height) +
                                "×3 bytes, found " + std::to_string(rgb.size()));
  }
  // Scanlines, each led by filter type 0 (none).
  const auto row = static_cast<size_t>(width) * 3;
  std::vector<uint8_t> raw;
  raw.reserve((row + 1) * static_cast<size_t>(height));
  for (int64_t y = 0; y < height; ++y) {
    raw.push_back(0);
    raw.insert(raw.end(), rgb.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y) * row),
               rgb.begin() + static_cast<std::ptrdiff_t>(static_cast<size_t>(y + 1) * row));
  }
  // zlib stream: header (deflate, 32K window, no dictionary, check bits), stored blocks, Adler-32.
  std::vector<uint8_t> z = {0x78, 0x01};
  size_t pos = 0;
  do {
    const size_t len = std::min<size_t>(65535, raw.size() - pos);
    const bool last = pos + len == raw.size();
    z.push_back(last ? 1 : 0);
    z.push_back(static_cast<uint8_t>(len & 0xFF));
    z.push_back(static_cast<uint8_t>(len >> 8));
    z.push_back(static_cast<uint8_t>(~len & 0xFF));
    z.push_back(static_cast<uint8_t>((~len >> 8) & 0xFF));
    z.insert(z.end(), raw.begin() + static_cast<std::ptrdiff_t>(pos), raw.begin() + static_cast<std::ptrdiff_t>(pos + len));
    pos += len;
  } while (pos < raw.size());
  put_u32_be(z, adler32(raw));

  std::vector<uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::vector<uint8_t> ihdr;
  put_u32_be(ihdr, static_cast<uint32_t>(width));
  put_u32_be(ihdr, static_cast<uint32_t>(height));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});  // 8 bits, truecolour, deflate, adaptive filtering, no interlace
  put_chunk(png, "IHDR", ihdr);
  put_chunk(png, "IDAT", z);
  put_chunk(png, "IEND", {});
  return png;
}

void write_png(const std::filesystem::path& path, std::span<const uint8_t> rgb, int64_t width, int64_t height) {
  const std::vector<uint8_t> png = encode_png(rgb, width, height);
  data::write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace svdit::runtime
