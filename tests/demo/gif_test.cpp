// The demo's GIF encoder (runtime/demo/gif.h), checked by decoding its output with an independent GIF decoder
// written here from the specification (header, colour table, extensions, LZW with clear codes and code widths).

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "svdit/demo/gif.h"

namespace svdit::demo {
namespace {

struct Decoded {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> palette;
  std::vector<std::vector<uint8_t>> frames;  // RGB
  std::vector<int> delays;
  bool loops = false;
};

std::vector<uint8_t> lzw_decode(const std::vector<uint8_t>& data, int min_code_size, size_t pixels) {
  const uint32_t clear = 1u << min_code_size, end = clear + 1;
  std::vector<std::vector<uint8_t>> table;
  auto reset = [&] {
    table.assign(clear + 2, {});
    for (uint32_t i = 0; i < clear; ++i) table[i] = {static_cast<uint8_t>(i)};
  };
  reset();
  int width = min_code_size + 1;
  size_t bit = 0;
  auto read = [&]() -> int64_t {
    if (bit + static_cast<size_t>(width) > data.size() * 8) return -1;
    uint32_t v = 0;
    for (int i = 0; i < width; ++i, ++bit) v |= static_cast<uint32_t>((data[bit / 8] >> (bit % 8)) & 1) << i;
    return v;
  };
  std::vector<uint8_t> out;
  int64_t prev = -1;
  for (;;) {
    const int64_t code = read();
    if (code < 0) ADD_FAILURE() << "LZW data ends without an end code";
    if (code < 0 || code == end) break;
    if (code == clear) {
      reset();
      width = min_code_size + 1;
      prev = -1;
      continue;
    }
    std::vector<uint8_t> entry;
    if (static_cast<size_t>(code) < table.size()) {
      entry = table[static_cast<size_t>(code)];
    } else if (static_cast<size_t>(code) == table.size() && prev >= 0) {  // the KwKwK case
      entry = table[static_cast<size_t>(prev)];
      entry.push_back(entry[0]);
    } else {
      ADD_FAILURE() << "LZW code " << code << " beyond the table (" << table.size() << ")";
      break;
    }
    out.insert(out.end(), entry.begin(), entry.end());
    if (prev >= 0 && table.size() < 4096) {
      std::vector<uint8_t> added = table[static_cast<size_t>(prev)];
      added.push_back(entry[0]);
      table.push_back(added);
      if (table.size() == (1u << width) && width < 12) ++width;
    }
    prev = code;
  }
  EXPECT_EQ(out.size(), pixels);
  return out;
}

Decoded decode(const std::string& s) {
  Decoded d;
  size_t p = 0;
  auto u8 = [&] { return static_cast<uint8_t>(s.at(p++)); };
  auto u16 = [&] { const int lo = u8(); return lo | (u8() << 8); };
  EXPECT_EQ(s.substr(0, 6), "GIF89a");
  p = 6;
  d.width = u16();
  d.height = u16();
  const uint8_t flags = u8();
  EXPECT_TRUE(flags & 0x80) << "no global colour table";
  p += 2;
  const size_t entries = size_t{1} << ((flags & 7) + 1);
  for (size_t i = 0; i < 3 * entries; ++i) d.palette.push_back(u8());
  for (;;) {
    const uint8_t tag = u8();
    if (tag == 0x3B) break;
    if (tag == 0x21) {
      const uint8_t label = u8();
      std::string body;
      for (uint8_t n = u8(); n != 0; n = u8()) {
        body += s.substr(p, n);
        p += n;
      }
      if (label == 0xF9) d.delays.push_back(static_cast<uint8_t>(body[1]) | (static_cast<uint8_t>(body[2]) << 8));
      if (label == 0xFF && body.starts_with("NETSCAPE2.0")) d.loops = true;
      continue;
    }
    EXPECT_EQ(tag, 0x2C) << "unexpected block at byte " << p - 1;
    if (tag != 0x2C) break;
    p += 4;
    EXPECT_EQ(u16(), d.width);
    EXPECT_EQ(u16(), d.height);
    EXPECT_EQ(u8(), 0) << "local table or interlace";
    const int min_code_size = u8();
    std::vector<uint8_t> data;
    for (uint8_t n = u8(); n != 0; n = u8()) {
      data.insert(data.end(), s.begin() + static_cast<std::ptrdiff_t>(p), s.begin() + static_cast<std::ptrdiff_t>(p + n));
      p += n;
    }
    const std::vector<uint8_t> idx = lzw_decode(data, min_code_size, static_cast<size_t>(d.width * d.height));
    std::vector<uint8_t> rgb;
    for (uint8_t i : idx) {
      EXPECT_LT(i, entries);
      for (int c = 0; c < 3; ++c) rgb.push_back(d.palette[3 * i + static_cast<size_t>(c)]);
    }
    d.frames.push_back(rgb);
  }
  EXPECT_EQ(p, s.size()) << "bytes after the trailer";
  return d;
}

std::vector<uint8_t> frame_of(int64_t w, int64_t h, uint64_t seed, int colours) {
  std::vector<uint8_t> f(static_cast<size_t>(w * h * 3));
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (int64_t i = 0; i < w * h; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const int c = static_cast<int>(x % static_cast<uint64_t>(colours));
    // Colours on an 8-step grid, so each is its own 5-bit bin and the palette holds them exactly.
    f[3 * static_cast<size_t>(i)] = static_cast<uint8_t>((c * 8) % 256);
    f[3 * static_cast<size_t>(i) + 1] = static_cast<uint8_t>((c / 32) * 8);
    f[3 * static_cast<size_t>(i) + 2] = static_cast<uint8_t>(200 - c % 7 * 8);
  }
  return f;
}

TEST(Gif, FlatFramesRoundTripExactly) {
  const int64_t w = 37, h = 21;
  std::vector<std::vector<uint8_t>> frames;
  for (int k = 0; k < 3; ++k) {
    std::vector<uint8_t> f(static_cast<size_t>(w * h * 3));
    for (int64_t y = 0; y < h; ++y) {
      for (int64_t x = 0; x < w; ++x) {
        const bool inside = x >= 5 + 4 * k && x < 15 + 4 * k && y >= 3 && y < 13;  // a square moving right
        uint8_t* p = &f[static_cast<size_t>((y * w + x) * 3)];
        p[0] = inside ? 230 : 70;
        p[1] = inside ? 40 : 72;
        p[2] = inside ? 40 : 68;
      }
    }
    frames.push_back(f);
  }
  const Decoded d = decode(encode_gif(frames, w, h, {.delay_cs = 12, .loop = true}));
  EXPECT_EQ(d.width, w);
  EXPECT_EQ(d.height, h);
  ASSERT_EQ(d.frames.size(), frames.size());
  for (size_t k = 0; k < frames.size(); ++k) EXPECT_EQ(d.frames[k], frames[k]) << "frame " << k;
  EXPECT_EQ(d.delays, (std::vector<int>{12, 12, 12}));
  EXPECT_TRUE(d.loops);
  EXPECT_FALSE(decode(encode_gif(frames, w, h, {.delay_cs = 5, .loop = false})).loops);
}

TEST(Gif, NoisyFramesWithManyCodesRoundTripExactly) {
  // 256 colours of noise over 300×200 px: the table fills many times (clear codes) and the codes reach 12 bits.
  const int64_t w = 300, h = 200;
  const std::vector<std::vector<uint8_t>> frames = {frame_of(w, h, 1, 256), frame_of(w, h, 2, 256)};
  const Decoded d = decode(encode_gif(frames, w, h));
  ASSERT_EQ(d.frames.size(), 2u);
  EXPECT_EQ(d.frames[0], frames[0]);
  EXPECT_EQ(d.frames[1], frames[1]);
  // A few colours: a small table (2 entries → code size 2).
  const Decoded two = decode(encode_gif({frame_of(64, 9, 3, 2)}, 64, 9));
  EXPECT_EQ(two.palette.size(), 3u * 2u);
  EXPECT_EQ(two.frames[0], frame_of(64, 9, 3, 2));
}

TEST(Gif, LongRunsCompress) {
  const std::vector<uint8_t> run(100000, 0);
  const std::vector<uint8_t> packed = gif_lzw(run, 2);
  EXPECT_LT(packed.size(), 2000u);  // a run of n needs about √(2n) codes
  EXPECT_EQ(lzw_decode(packed, 2, run.size()), run);
}

TEST(Gif, MoreThan256ColoursTakeTheNearestEntry) {
  const int64_t w = 64, h = 64;
  std::vector<uint8_t> f(static_cast<size_t>(w * h * 3));
  for (int64_t i = 0; i < w * h; ++i) {  // 4096 distinct colours
    f[3 * static_cast<size_t>(i)] = static_cast<uint8_t>(i % 64 * 4);
    f[3 * static_cast<size_t>(i) + 1] = static_cast<uint8_t>(i / 64 * 4);
    f[3 * static_cast<size_t>(i) + 2] = 128;
  }
  const Decoded d = decode(encode_gif({f}, w, h));
  ASSERT_EQ(d.frames.size(), 1u);
  EXPECT_EQ(d.palette.size(), 256u * 3u);
  int64_t worst = 0;
  for (size_t i = 0; i < f.size(); ++i) worst = std::max<int64_t>(worst, std::abs(int64_t{d.frames[0][i]} - f[i]));
  EXPECT_LE(worst, 40);  // 256 of 1024 bins kept: no pixel further than a few bins away
}

TEST(Gif, RejectsBadInputNamingIt) {
  EXPECT_THROW(encode_gif({}, 4, 4), std::invalid_argument);
  EXPECT_THROW(encode_gif({std::vector<uint8_t>(48)}, 0, 4), std::invalid_argument);
  try {
    encode_gif({std::vector<uint8_t>(48), std::vector<uint8_t>(47)}, 4, 4);
    FAIL() << "no error for a short frame";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("frame 1 has 47 bytes"), std::string::npos) << e.what();
  }
  EXPECT_THROW(gif_lzw(std::vector<uint8_t>{0}, 9), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::demo
