// libFuzzer target: arbitrary bytes as a model's config.json (svdit::runtime::read_config), then the geometry
// and plan arithmetic every tool does with an accepted config.
// Bugs it reports (by aborting): a crash or sanitizer report (signed overflow included: UBSan is on); any exception
// from read_config other than FormatError (the reader's promise for every bad file); for an accepted config, a
// config that breaks the bounds validate() promises, a serialize → parse round trip that changes it, or an
// exception other than std::invalid_argument from the geometry of a fuzzed video size.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/size_limits.h"
#include "svdit/runtime/wan_config.h"

namespace {

[[noreturn]] void fail(const char* what, const char* detail = "") {
  std::fprintf(stderr, "svdit-fuzz-config: %s%s%s\n", what, *detail ? ": " : "", detail);
  std::abort();
}

// read_config takes a path (it refuses directories and dangling links itself), so each input is a real file; one
// per fuzzing process, in memory where /dev/shm exists.
const std::filesystem::path& input_path() {
  static const std::filesystem::path path = [] {
    const std::filesystem::path dir = std::filesystem::exists("/dev/shm") ? "/dev/shm" : "/tmp";
    return dir / ("svdit-fuzz-config-" + std::to_string(::getpid()) + ".json");
  }();
  return path;
}

bool same(const svdit::runtime::WanConfig& a, const svdit::runtime::WanConfig& b) {
  return a.dim == b.dim && a.ffn_dim == b.ffn_dim && a.freq_dim == b.freq_dim && a.text_dim == b.text_dim &&
         a.text_len == b.text_len && a.num_heads == b.num_heads && a.num_layers == b.num_layers &&
         a.in_dim == b.in_dim && a.out_dim == b.out_dim && a.patch == b.patch && a.vae_stride == b.vae_stride &&
         a.eps == b.eps && a.rope_theta == b.rope_theta && a.name == b.name && a.pixel_decoder == b.pixel_decoder &&
         a.text_encoder == b.text_encoder;
}

// Video sizes a user might pass for this config: the fuzzer's own numbers from the tail of the input.
void check_geometry(const svdit::runtime::WanConfig& config, const uint8_t* data, size_t size) {
  int64_t sizes[3] = {1, 1, 1};
  for (size_t i = 0; i < 3 && size >= 8 * (i + 1); ++i) {
    std::memcpy(&sizes[i], data + size - 8 * (i + 1), 8);
  }
  try {
    const auto geometry = svdit::runtime::video_geometry(config, sizes[0], sizes[1], sizes[2]);
    if (geometry.grid_frames <= 0 || geometry.grid_height <= 0 || geometry.grid_width <= 0) {
      fail("video_geometry accepted a size that gives an empty token grid");
    }
  } catch (const std::invalid_argument&) {
  } catch (const std::exception& e) {
    fail("video_geometry threw an unexpected exception", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(input_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    if (!out) fail("cannot write the input file", input_path().c_str());
  }
  svdit::runtime::WanConfig config;
  try {
    config = svdit::runtime::read_config(input_path());
  } catch (const svdit::data::FormatError&) {
    return 0;
  } catch (const std::exception& e) {
    fail("read_config threw an unexpected exception", e.what());
  } catch (...) {
    fail("read_config threw an exception of unknown type");
  }

  if (config.num_heads <= 0 || config.num_heads > svdit::data::kMaxHeads || config.num_layers <= 0 ||
      config.num_layers > svdit::data::kMaxLayers || config.dim % config.num_heads != 0) {
    fail("read_config accepted sizes outside the bounds validate() promises");
  }
  static_cast<void>(svdit::runtime::describe(config));
  static_cast<void>(svdit::runtime::plan_model(config));

  // What svdit writes beside weights (config_to_json) must read back as the same config.
  try {
    const nlohmann::json written = svdit::runtime::config_to_json(config);
    if (!same(svdit::runtime::parse_config(written, "<round trip>"), config)) {
      fail("config_to_json → parse_config changed the config");
    }
  } catch (const std::exception& e) {
    fail("an accepted config could not be written and read back", e.what());
  }
  check_geometry(config, data, size);
  return 0;
}
