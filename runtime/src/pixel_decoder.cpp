// The pixel decoder registry and frame writing (see pixel_decoder.h).

#include "svdit/runtime/pixel_decoder.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>

#include "svdit/data/png.h"
#include "svdit/runtime/pixel_unshuffle.h"

namespace svdit::runtime {

namespace {
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
// The built-in decoders are in the registry from its first use, so a static-library link (which drops object files
// nobody references, and with them any self-registering static initialiser) still has them.
std::map<std::string, PixelDecoderFactory>& registry() {
  static std::map<std::string, PixelDecoderFactory> r = {
      {kPixelUnshuffleDecoder,
       [](const WanConfig& config) -> std::unique_ptr<PixelDecoder> { return std::make_unique<PixelUnshuffleDecoder>(config); }},
  };
  return r;
}
}  // namespace

void register_pixel_decoder(const std::string& name, PixelDecoderFactory factory) {
  const std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = std::move(factory);
}

std::unique_ptr<PixelDecoder> make_pixel_decoder(const WanConfig& config) {
  if (config.pixel_decoder.empty()) return nullptr;
  const std::lock_guard<std::mutex> lock(registry_mutex());
  const auto it = registry().find(config.pixel_decoder);
  if (it == registry().end()) {
    std::string known;
    for (const auto& [name, factory] : registry()) known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument(config.name + ": config field pixel_decoder: unknown decoder \"" +
                                config.pixel_decoder + "\" (known: " + (known.empty() ? "none" : known) + ")");
  }
  return it->second(config);
}

std::vector<std::filesystem::path> write_png_frames(const PixelDecoder& decoder, const at::Tensor& latents,
                                                    const std::filesystem::path& prefix) {
  const at::Tensor frames = decoder.decode(latents).to(at::kCPU).contiguous();  // [frames, height, width, 3]
  if (frames.dim() != 4 || frames.size(3) != 3 || frames.scalar_type() != at::kByte) {
    throw std::runtime_error("pixel decoder " + decoder.name() + ": expected uint8 frames [N, H, W, 3], found " +
                             std::string(c10::toString(frames.scalar_type())) + " " + c10::str(frames.sizes()));
  }
  std::vector<std::filesystem::path> written;
  for (int64_t f = 0; f < frames.size(0); ++f) {
    char suffix[32];
    std::snprintf(suffix, sizeof suffix, "_%04lld.png", static_cast<long long>(f));
    const std::filesystem::path path = prefix.string() + suffix;
    const at::Tensor frame = frames[f].contiguous();  // [H, W, 3]
    data::write_png(path, std::span<const uint8_t>(frame.const_data_ptr<uint8_t>(), static_cast<size_t>(frame.numel())),
              frame.size(1), frame.size(0));
    written.push_back(path);
  }
  return written;
}

}  // namespace svdit::runtime
