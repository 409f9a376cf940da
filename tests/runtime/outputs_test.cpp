// The runtime's inputs and outputs: text embeddings files, latents files, PSNR/SSIM, PNG frames and the pixel
// decoder hook (the PNG encoder itself: tests/data/png_test.cpp).

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>

#include "runtime_test_support.h"
#include "svdit/data/error.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/pixel_decoder.h"
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
  // A PNG of the frame's size (the encoder's own tests decode its pixels: tests/data/png_test.cpp).
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(std::string(bytes.begin() + 1, bytes.begin() + 4), "PNG");
  EXPECT_EQ(std::string(bytes.begin() + 12, bytes.begin() + 16), "IHDR");
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(bytes[at + i]);
    return v;
  };
  EXPECT_EQ(be32(16), 10u);  // width
  EXPECT_EQ(be32(20), 8u);   // height

  config.pixel_decoder = "no-such-decoder";
  EXPECT_THROW(make_pixel_decoder(config), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::runtime
