// Animated GIF encoder (see gif.h). Format: GIF89a, W3C/CompuServe specification of 1990.

#include "svdit/demo/gif.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include "svdit/data/atomic_file.h"

namespace svdit::demo {

namespace {

uint32_t bin_of(const uint8_t* p) {  // 5 bits per channel
  return (static_cast<uint32_t>(p[0] >> 3) << 10) | (static_cast<uint32_t>(p[1] >> 3) << 5) | (p[2] >> 3);
}

void put16(std::string& out, int64_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>((v >> 8) & 0xFF));
}

// Writes codes of a growing width LSB-first, as GIF's LZW wants.
class BitWriter {
 public:
  void put(uint32_t code, int bits) {
    acc_ |= static_cast<uint64_t>(code) << fill_;
    fill_ += bits;
    while (fill_ >= 8) {
      out_.push_back(static_cast<uint8_t>(acc_ & 0xFF));
      acc_ >>= 8;
      fill_ -= 8;
    }
  }
  std::vector<uint8_t> finish() {
    if (fill_ > 0) out_.push_back(static_cast<uint8_t>(acc_ & 0xFF));
    acc_ = 0;
    fill_ = 0;
    return std::move(out_);
  }

 private:
  std::vector<uint8_t> out_;
  uint64_t acc_ = 0;
  int fill_ = 0;
};

}  // namespace

std::vector<uint8_t> gif_palette(const std::vector<std::vector<uint8_t>>& frames) {
  // A histogram over 5-bit bins with each bin's colour sum. At most 256 bins in use: one entry each (its mean —
  // exact for flat colours). More: median cut — the box with the widest channel range is split at the pixel-weighted
  // median of that channel until there are 256 boxes, each entry its box's mean.
  std::vector<uint64_t> count(1u << 15, 0), sum(3u << 15, 0);
  for (const std::vector<uint8_t>& f : frames) {
    for (size_t i = 0; i + 2 < f.size(); i += 3) {
      const uint32_t b = bin_of(&f[i]);
      ++count[b];
      for (int c = 0; c < 3; ++c) sum[3 * b + static_cast<uint32_t>(c)] += f[i + static_cast<size_t>(c)];
    }
  }
  std::vector<uint32_t> bins;
  for (uint32_t b = 0; b < count.size(); ++b) {
    if (count[b] > 0) bins.push_back(b);
  }
  auto channel = [](uint32_t b, int c) { return static_cast<int>((b >> (10 - 5 * c)) & 31); };
  struct Box {
    size_t begin, end;  // a range of `bins`
  };
  auto widest = [&](const Box& box, int& axis) {
    int best = -1;
    for (int c = 0; c < 3; ++c) {
      int lo = 31, hi = 0;
      for (size_t i = box.begin; i < box.end; ++i) {
        lo = std::min(lo, channel(bins[i], c));
        hi = std::max(hi, channel(bins[i], c));
      }
      if (hi - lo > best) {
        best = hi - lo;
        axis = c;
      }
    }
    return best;
  };
  std::vector<Box> boxes = {{0, bins.size()}};
  while (boxes.size() < 256) {
    size_t pick = boxes.size();
    int pick_range = 0, pick_axis = 0;
    for (size_t k = 0; k < boxes.size(); ++k) {
      int axis = 0;
      const int range = boxes[k].end - boxes[k].begin > 1 ? widest(boxes[k], axis) : 0;
      if (range > pick_range) {
        pick = k;
        pick_range = range;
        pick_axis = axis;
      }
    }
    if (pick == boxes.size()) break;  // every box is one bin
    const Box box = boxes[pick];
    const auto first = bins.begin() + static_cast<std::ptrdiff_t>(box.begin);
    const auto last = bins.begin() + static_cast<std::ptrdiff_t>(box.end);
    std::sort(first, last, [&](uint32_t a, uint32_t b) { return channel(a, pick_axis) < channel(b, pick_axis); });
    uint64_t total = 0, acc = 0;
    for (size_t i = box.begin; i < box.end; ++i) total += count[bins[i]];
    size_t split = box.begin + 1;
    for (size_t i = box.begin; i + 1 < box.end; ++i) {
      acc += count[bins[i]];
      split = i + 1;
      if (2 * acc >= total) break;
    }
    boxes[pick] = {box.begin, split};
    boxes.push_back({split, box.end});
  }
  std::vector<uint8_t> palette;
  for (const Box& box : boxes) {
    uint64_t n = 0, rgb[3] = {0, 0, 0};
    for (size_t i = box.begin; i < box.end; ++i) {
      n += count[bins[i]];
      for (uint32_t c = 0; c < 3; ++c) rgb[c] += sum[3 * bins[i] + c];
    }
    if (n == 0) continue;
    for (uint64_t v : rgb) palette.push_back(static_cast<uint8_t>((v + n / 2) / n));
  }
  if (palette.empty()) palette = {0, 0, 0};
  return palette;
}

std::vector<uint8_t> gif_lzw(std::span<const uint8_t> indices, int min_code_size) {
  if (min_code_size < 2 || min_code_size > 8) {
    throw std::invalid_argument("gif_lzw: min_code_size " + std::to_string(min_code_size) + " (expected 2…8)");
  }
  const uint32_t clear = 1u << min_code_size, end = clear + 1;
  BitWriter w;
  // The dictionary: (prefix code, next index) → code. Codes go up to 4094; then a clear code starts afresh.
  std::unordered_map<uint32_t, uint32_t> dict;
  dict.reserve(8192);
  uint32_t next = end + 1;
  int width = min_code_size + 1;
  w.put(clear, width);
  if (indices.empty()) {
    w.put(end, width);
    return w.finish();
  }
  uint32_t prefix = indices[0];
  for (size_t i = 1; i < indices.size(); ++i) {
    const uint32_t k = indices[i];
    const uint32_t key = (prefix << 8) | k;
    const auto it = dict.find(key);
    if (it != dict.end()) {
      prefix = it->second;
      continue;
    }
    w.put(prefix, width);
    if (next < 4095) {  // as giflib: the table is cleared rather than given code 4095
      dict.emplace(key, next);
      // The decoder widens its codes one code later than it adds an entry, so widen once `next` passes 2^width.
      if (next == (1u << width) && width < 12) ++width;
      ++next;
    } else {
      w.put(clear, width);
      dict.clear();
      next = end + 1;
      width = min_code_size + 1;
    }
    prefix = k;
  }
  w.put(prefix, width);
  w.put(end, width);
  return w.finish();
}

std::string encode_gif(const std::vector<std::vector<uint8_t>>& frames, int64_t width, int64_t height,
                       const GifOptions& options) {
  if (frames.empty()) throw std::invalid_argument("encode_gif: no frames");
  if (width < 1 || width > 65535 || height < 1 || height > 65535) {
    throw std::invalid_argument("encode_gif: size " + std::to_string(width) + "×" + std::to_string(height) +
                                " (expected 1…65535 each)");
  }
  const size_t bytes = static_cast<size_t>(width * height * 3);
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].size() != bytes) {
      throw std::invalid_argument("encode_gif: frame " + std::to_string(i) + " has " +
                                  std::to_string(frames[i].size()) + " bytes, expected width × height × 3 = " +
                                  std::to_string(bytes));
    }
  }
  const std::vector<uint8_t> palette = gif_palette(frames);
  const int entries = static_cast<int>(palette.size() / 3);
  int table_bits = 1;  // the colour table holds 2^table_bits entries (padded with black)
  while ((1 << table_bits) < entries) ++table_bits;
  const int min_code_size = std::max(2, table_bits);

  // Pixel → index: the entry nearest to the pixel (the first pixel of each 5-bit bin decides for the bin).
  std::vector<int> index_of_bin(1u << 15, -1);
  auto nearest = [&](const uint8_t* p) {
    const uint32_t b = bin_of(p);
    if (index_of_bin[b] >= 0) return index_of_bin[b];
    int best = 0;
    int64_t best_d = INT64_MAX;
    for (int e = 0; e < entries; ++e) {
      int64_t d = 0;
      for (int c = 0; c < 3; ++c) {
        const int64_t diff = static_cast<int64_t>(p[c]) - palette[3 * static_cast<size_t>(e) + static_cast<size_t>(c)];
        d += diff * diff;
      }
      if (d < best_d) {
        best_d = d;
        best = e;
      }
    }
    index_of_bin[b] = best;
    return best;
  };

  std::string out = "GIF89a";
  put16(out, width);
  put16(out, height);
  out.push_back(static_cast<char>(0x80 | ((table_bits - 1) << 4) | (table_bits - 1)));  // global table, its size
  out.push_back(0);  // background colour index
  out.push_back(0);  // pixel aspect ratio: none given
  for (int e = 0; e < (1 << table_bits); ++e) {
    for (int c = 0; c < 3; ++c) {
      out.push_back(static_cast<char>(e < entries ? palette[3 * static_cast<size_t>(e) + static_cast<size_t>(c)] : 0));
    }
  }
  if (options.loop) {
    out += std::string("\x21\xFF\x0B", 3) + "NETSCAPE2.0" + std::string("\x03\x01\x00\x00\x00", 5);
  }
  std::vector<uint8_t> indices(static_cast<size_t>(width * height));
  for (const std::vector<uint8_t>& f : frames) {
    out += std::string("\x21\xF9\x04\x00", 4);  // graphic control: no disposal, no transparency
    put16(out, options.delay_cs);
    out += std::string("\x00\x00", 2);
    out.push_back(0x2C);  // image descriptor: the whole canvas, no local table, not interlaced
    put16(out, 0);
    put16(out, 0);
    put16(out, width);
    put16(out, height);
    out.push_back(0);
    for (size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<uint8_t>(nearest(&f[3 * i]));
    out.push_back(static_cast<char>(min_code_size));
    const std::vector<uint8_t> data = gif_lzw(indices, min_code_size);
    for (size_t pos = 0; pos < data.size(); pos += 255) {  // sub-blocks of ≤ 255 bytes
      const size_t n = std::min<size_t>(255, data.size() - pos);
      out.push_back(static_cast<char>(n));
      out.append(reinterpret_cast<const char*>(data.data() + pos), n);
    }
    out.push_back(0);  // block terminator
  }
  out.push_back(0x3B);  // trailer
  return out;
}

void write_gif(const std::filesystem::path& path, const std::vector<std::vector<uint8_t>>& frames, int64_t width,
               int64_t height, const GifOptions& options) {
  data::write_file_atomically(path, encode_gif(frames, width, height, options));
}

}  // namespace svdit::demo
