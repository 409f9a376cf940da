#pragma once
// A small animated-GIF (GIF89a) encoder, written for the demo's side-by-side video (scripts/demo.sh): one global
// palette of at most 256 colours for all frames (colours rounded to 5 bits per channel; ≤ 256 of them are kept
// as they are, more are reduced by median cut), LZW-compressed frames, a looping NETSCAPE2.0 extension. Each pixel
// takes the palette entry nearest to its 5-bit bin.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace svdit::demo {

struct GifOptions {
  int delay_cs = 25;   // per frame, hundredths of a second
  bool loop = true;    // repeat forever (NETSCAPE2.0, loop count 0)
};

// Chooses the palette (≤ 256 RGB entries, 3 bytes each) for `frames` (each width × height × 3 RGB bytes).
std::vector<uint8_t> gif_palette(const std::vector<std::vector<uint8_t>>& frames);

// The GIF file's bytes. std::invalid_argument (naming the frame and the sizes) for no frames, a size outside
// 1…65535 or a frame whose length is not width × height × 3.
std::string encode_gif(const std::vector<std::vector<uint8_t>>& frames, int64_t width, int64_t height,
                       const GifOptions& options = {});

// encode_gif written atomically to `path`.
void write_gif(const std::filesystem::path& path, const std::vector<std::vector<uint8_t>>& frames, int64_t width,
               int64_t height, const GifOptions& options = {});

// LZW of GIF image data with `min_code_size` (2…8): the codes packed LSB-first, without sub-block framing
// (exposed for the unit test's decoder).
std::vector<uint8_t> gif_lzw(std::span<const uint8_t> indices, int min_code_size);

}  // namespace svdit::demo
