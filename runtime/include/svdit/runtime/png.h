#pragma once
// A minimal PNG encoder for decoded frames (8-bit RGB, no compression: zlib "stored" blocks), so that svdit has
// no image-library dependency. Files are larger than a compressing encoder's, and every PNG reader opens them.

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace svdit::runtime {

// rgb: height × width × 3 bytes, row-major. Throws std::invalid_argument when the size does not match.
std::vector<uint8_t> encode_png(std::span<const uint8_t> rgb, int64_t width, int64_t height);
void write_png(const std::filesystem::path& path, std::span<const uint8_t> rgb, int64_t width, int64_t height);

}  // namespace svdit::runtime
