// The runtime's inputs and outputs: text embeddings files, latents files, PSNR/SSIM, PNG frames and the pixel
// decoder hook.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "runtime_test_support.h"
#include "svdit/data/error.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/pixel_decoder.h"
#include "svdit/runtime/png.h"
#include "svdit/runtime/text_embeddings.h"
#include "svdit/runtime/video_metrics.h"

namespace svdit::runtime {
namespace {

TEST(TextEmbeddings, PaddedWithZeroRowsToTextLen) {
  const auto dir = test::test_dir();
  const WanConfig config = test::small_config();  // text 16 × 64
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor tokens = at::randn({5, 64}, gen);  // [tokens, text_dim]
  save_text_embeddings((dir / "prompt.safetensors").string(), tokens);
  const at::Tensor ctx = load_text_embeddings((dir / "prompt.safetensors").string(), config);  // [1, 16, 64]
  ASSERT_EQ(ctx.sizes(), (at::IntArrayRef{1, 16, 64}));
  EXPECT_TRUE(at::equal(ctx[0].narrow(0, 0, 5), tokens));
  EXPECT_EQ(ctx[0].narrow(0, 5, 11).abs().max().item<double>(), 0.0);
  // FILE:KEY picks the tensor by name.
  EXPECT_TRUE(at::equal(load_text_embeddings((dir / "prompt.safetensors").string() + ":context", config), ctx));

  save_text_embeddings((dir / "wide.safetensors").string(), at::zeros({5, 65}));
  try {
    load_text_embeddings((dir / "wide.safetensors").string(), config);
    FAIL() << "a [5, 65] embedding was accepted for text_dim 64";
  } catch (const data::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("expected text embeddings of shape [tokens ≤ 16, 64], found [5, 65]"),
              std::string::npos)
        << e.what();
  }
  save_text_embeddings((dir / "long.safetensors").string(), at::zeros({17, 64}));
  EXPECT_THROW(load_text_embeddings((dir / "long.safetensors").string(), config), data::FormatError);
}

TEST(LatentsFile, RoundTripKeepsValuesAndMetadata) {
  const auto dir = test::test_dir();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(2);
  const at::Tensor latents = at::randn({1, 16, 3, 8, 8}, gen);
  save_latents(dir / "out.safetensors", latents, {{"seed", "7"}, {"attention", "dense"}});
  const LatentsFile back = load_latents(dir / "out.safetensors");
  EXPECT_TRUE(at::equal(back.latents, latents));
  EXPECT_EQ(back.metadata.at("seed"), "7");
  EXPECT_EQ(back.metadata.at("format"), "svdit-latents");
  save_text_embeddings((dir / "not_latents.safetensors").string(), at::zeros({2, 2}));
  EXPECT_THROW(load_latents(dir / "not_latents.safetensors"), data::FormatError);
}

TEST(VideoMetrics, PsnrAndSsimFollowTheirDefinitions) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const at::Tensor a = at::rand({1, 2, 3, 24, 24}, gen, at::kDouble);
  const VideoComparison same = compare_videos(a, a);
  EXPECT_TRUE(std::isinf(same.psnr));
  EXPECT_NEAR(same.ssim, 1.0, 1e-12);

  const at::Tensor noise = 0.01 * at::randn({1, 2, 3, 24, 24}, gen, at::kDouble);
  const VideoComparison r = compare_videos(a, a + noise);
  const double range = (a.max() - a.min()).item<double>();
  const double mse = (noise * noise).mean().item<double>();
  EXPECT_NEAR(r.psnr, 10 * std::log10(range * range / mse), 1e-9);
  EXPECT_GT(r.ssim, 0.9);
  EXPECT_LT(r.ssim, 1.0);
  // Independent noise: no structure in common.
  EXPECT_LT(compare_videos(a, at::rand({1, 2, 3, 24, 24}, gen, at::kDouble)).ssim, 0.2);
  // A contrast change keeps PSNR finite and lowers SSIM's contrast term.
  EXPECT_LT(compare_videos(a, 0.5 * a + 0.25).ssim, 0.95);
  EXPECT_THROW(compare_videos(a, a.narrow(4, 0, 23)), std::invalid_argument);
}

// CRC-32 computed bit by bit (the encoder uses a table).
uint32_t crc_bitwise(const std::vector<uint8_t>& bytes, size_t begin, size_t end) {
  uint32_t crc = 0xFFFFFFFFU;
  for (size_t i = begin; i < end; ++i) {
    crc ^= bytes[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
  }
  return ~crc;
}

uint32_t be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t{b[at]} << 24) | (uint32_t{b[at + 1]} << 16) | (uint32_t{b[at + 2]} << 8) | b[at + 3];
}

TEST(Png, StoredDeflateStreamHoldsTheRowsAndEveryCrcChecks) {
  const int64_t w = 300, h = 90;  // 90 rows of 901 bytes: more than one 65535-byte stored block
  std::vector<uint8_t> rgb(static_cast<size_t>(w * h * 3));
  for (size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<uint8_t>((i * 7 + i / 901) & 0xFF);
  const std::vector<uint8_t> png = encode_png(rgb, w, h);
  ASSERT_EQ(std::vector<uint8_t>(png.begin(), png.begin() + 8),
            (std::vector<uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}));
  size_t pos = 8;
  std::vector<uint8_t> zlib;
  std::vector<std::string> types;
  while (pos < png.size()) {
    const uint32_t len = be32(png, pos);
    const std::string type(png.begin() + static_cast<std::ptrdiff_t>(pos + 4), png.begin() + static_cast<std::ptrdiff_t>(pos + 8));
    types.push_back(type);
    EXPECT_EQ(be32(png, pos + 8 + len), crc_bitwise(png, pos + 4, pos + 8 + len)) << type;
    if (type == "IHDR") {
      EXPECT_EQ(be32(png, pos + 8), static_cast<uint32_t>(w));
      EXPECT_EQ(be32(png, pos + 12), static_cast<uint32_t>(h));
      EXPECT_EQ(png[pos + 16], 8);  // bit depth
      EXPECT_EQ(png[pos + 17], 2);  // truecolour RGB
    }
    if (type == "IDAT") zlib.insert(zlib.end(), png.begin() + static_cast<std::ptrdiff_t>(pos + 8), png.begin() + static_cast<std::ptrdiff_t>(pos + 8 + len));
    pos += 12 + len;
  }
  EXPECT_EQ(types, (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  // Inflate the stored blocks.
  ASSERT_GE(zlib.size(), 6u);
  EXPECT_EQ((zlib[0] * 256 + zlib[1]) % 31, 0);  // zlib header check bits
  std::vector<uint8_t> raw;
  size_t z = 2;
  bool last = false;
  while (!last) {
    last = (zlib[z] & 1) != 0;
    ASSERT_EQ(zlib[z] >> 1, 0) << "only stored blocks are expected";
    const size_t len = zlib[z + 1] | (size_t{zlib[z + 2]} << 8);
    const size_t nlen = zlib[z + 3] | (size_t{zlib[z + 4]} << 8);
    ASSERT_EQ(len ^ 0xFFFF, nlen);
    raw.insert(raw.end(), zlib.begin() + static_cast<std::ptrdiff_t>(z + 5), zlib.begin() + static_cast<std::ptrdiff_t>(z + 5 + len));
    z += 5 + len;
  }
  ASSERT_EQ(raw.size(), static_cast<size_t>(h * (w * 3 + 1)));
  for (int64_t y = 0; y < h; ++y) {
    const size_t row = static_cast<size_t>(y * (w * 3 + 1));
    EXPECT_EQ(raw[row], 0);  // filter: none
    EXPECT_TRUE(std::equal(raw.begin() + static_cast<std::ptrdiff_t>(row + 1), raw.begin() + static_cast<std::ptrdiff_t>(row + 1 + static_cast<size_t>(w * 3)),
                           rgb.begin() + static_cast<std::ptrdiff_t>(y * w * 3)));
  }
  // Adler-32 of the raw stream, big-endian, last.
  uint32_t a = 1, b = 0;
  for (uint8_t x : raw) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  EXPECT_EQ(be32(zlib, z), (b << 16) | a);
}

TEST(PixelDecoder, DeclaredDecoderWritesOnePngPerFrameUnknownOneIsAnError) {
  // A decoder for the test: latent channel 0 of each frame, scaled to bytes, as grey RGB.
  struct Grey final : PixelDecoder {
    std::string name() const override { return "test-grey"; }
    at::Tensor decode(const at::Tensor& latents) const override {
      const at::Tensor grey = (latents[0][0].clamp(0, 1) * 255).round().to(at::kByte);  // [T, H, W]
      return grey.unsqueeze(-1).expand({-1, -1, -1, 3}).contiguous();                    // [T, H, W, 3]
    }
  };
  register_pixel_decoder("test-grey", [](const WanConfig&) { return std::make_unique<Grey>(); });
  WanConfig config = test::small_config();
  EXPECT_EQ(make_pixel_decoder(config), nullptr);  // Wan declares none
  config.pixel_decoder = "test-grey";
  const auto decoder = make_pixel_decoder(config);
  ASSERT_NE(decoder, nullptr);
  const auto dir = test::test_dir();
  const auto written = write_png_frames(*decoder, at::rand({1, 16, 3, 8, 10}), dir / "video_frame");
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(written[2].filename(), "video_frame_0002.png");
  std::ifstream in(written[0], std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.size(), 8 + 25 + 12 + 2 + 5 + 8 * (10 * 3 + 1) + 4 + 12u);  // sig, IHDR, IDAT(zlib), IEND

  config.pixel_decoder = "no-such-decoder";
  EXPECT_THROW(make_pixel_decoder(config), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::runtime
