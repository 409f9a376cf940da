#pragma once
// The one PNG encoder of svdit (the runtime's decoded frames, the demo model's strips and plots, the analyzer's
// screenshots and exports): 8-bit RGB or RGBA, each row filtered with the PNG filter that suits it best, then
// deflate-compressed with zlib. Torch-free, so that every module may write pictures.

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace svdit::data {

enum class PngColor { rgb = 3, rgba = 4 };  // the value is the bytes per pixel

// pixels: height × width × channels bytes, row-major, top row first. Throws std::invalid_argument when the
// size does not match or the image is empty.
std::vector<uint8_t> encode_png(std::span<const uint8_t> pixels, int64_t width, int64_t height,
                                PngColor color = PngColor::rgb);
// Encodes and writes atomically (a reader never sees half a picture); errors name the path.
void write_png(const std::filesystem::path& path, std::span<const uint8_t> pixels, int64_t width, int64_t height,
               PngColor color = PngColor::rgb);

}  // namespace svdit::data
