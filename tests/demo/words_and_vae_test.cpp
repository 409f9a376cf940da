// The demo model's runtime parts: the "demo-words" text encoder behind prompt_embeddings, the pixel-unshuffle
// "VAE" (exact round trip, channel order) as a built-in pixel decoder, and the config fields.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "demo_test_support.h"
#include "svdit/runtime/demo_words.h"
#include "svdit/runtime/pixel_decoder.h"
#include "svdit/runtime/pixel_unshuffle.h"
#include "svdit/runtime/text_embeddings.h"

namespace svdit::runtime {
namespace {

TEST(DemoWords, VectorsAreFixedAndDistinct) {
  const std::vector<float> red = demo_word_vector("red", 64);
  ASSERT_EQ(red.size(), 64u);
  EXPECT_EQ(red, demo_word_vector("red", 64));
  // A shorter vector is the longer one's prefix (the stream does not depend on text_dim).
  const std::vector<float> red8 = demo_word_vector("red", 8);
  EXPECT_TRUE(std::equal(red8.begin(), red8.end(), red.begin()));
  // Pinned values: a change of the generator changes every trained model's conditioning.
  uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xE220A8397B1DCDAFULL);  // splitmix64 reference output for seed 0
  EXPECT_EQ(fnv1a64("a"), 0xAF63DC4C8601EC8CULL);        // FNV-1a 64's reference value
  // "red" as an independent (Python) implementation of the documented recipe computes it.
  EXPECT_FLOAT_EQ(red[0], -1.6484328508377075f);
  EXPECT_FLOAT_EQ(red[1], -1.4944747686386108f);
  EXPECT_FLOAT_EQ(red[2], -2.1100943088531494f);
  // The 19 words × 64 entries look like N(0, 1) and no two words share a vector.
  double sum = 0, sq = 0;
  int64_t n = 0;
  for (const DemoWord& w : demo_vocabulary()) {
    const std::vector<float> v = demo_word_vector(w.text, 64);
    for (float x : v) {
      sum += x;
      sq += x * x;
      ++n;
    }
    for (const DemoWord& u : demo_vocabulary()) {
      if (&u != &w) {
        EXPECT_NE(v, demo_word_vector(u.text, 64)) << w.text << " vs " << u.text;
      }
    }
  }
  EXPECT_EQ(demo_vocabulary().size(), 19u);
  EXPECT_NEAR(sum / static_cast<double>(n), 0.0, 0.1);
  EXPECT_NEAR(sq / static_cast<double>(n), 1.0, 0.15);
}

TEST(DemoWords, PromptRowsAreWordPlusPositionThenZeroPadding) {
  const WanConfig c = demo::test::tiny_config();  // text 8 × 16
  const at::Tensor e = prompt_embeddings("red circle bounce checker static", c);  // [1, 8, 16]
  ASSERT_EQ(e.sizes(), (at::IntArrayRef{1, 8, 16}));
  const char* words[] = {"red", "circle", "bounce", "checker", "static"};
  for (int64_t j = 0; j < 5; ++j) {
    const std::vector<float> w = demo_word_vector(words[j], 16), p = demo_position_vector(j, 16);
    for (int64_t k = 0; k < 16; ++k) EXPECT_FLOAT_EQ(e[0][j][k].item<float>(), w[static_cast<size_t>(k)] + p[static_cast<size_t>(k)]);
  }
  EXPECT_TRUE(at::equal(e[0].narrow(0, 5, 3), at::zeros({3, 16})));
  // Word order matters (the position term): the same words in another order give other rows.
  EXPECT_FALSE(at::equal(e, prompt_embeddings("circle red bounce checker static", c)));
  // The empty prompt (the guidance negative) is all zeros; white space is only a separator.
  EXPECT_TRUE(at::equal(prompt_embeddings("", c), at::zeros({1, 8, 16})));
  EXPECT_TRUE(at::equal(prompt_embeddings("  red\tcircle bounce  checker static ", c), e));
}

TEST(DemoWords, UnknownWordAndTooManyWordsAreErrors) {
  const WanConfig c = demo::test::tiny_config();
  try {
    prompt_embeddings("red hexagon bounce", c);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("\"hexagon\""), std::string::npos) << what;
    EXPECT_NE(what.find("circle"), std::string::npos) << what;  // lists the vocabulary
    EXPECT_NE(what.find("magenta"), std::string::npos) << what;
  }
  EXPECT_THROW(prompt_embeddings("red circle bounce red circle bounce blue square slide", c), std::invalid_argument);
  WanConfig other = c;
  other.text_encoder = "t5";
  EXPECT_THROW(prompt_embeddings("red", other), std::invalid_argument);
}

TEST(PixelUnshuffle, RoundTripIsExactAndChannelOrderIsDocumented) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(5);
  const at::Tensor frames = at::randint(0, 256, {12, 64, 96, 3}, gen, at::TensorOptions().dtype(at::kByte));  // [N, H, W, 3]
  const at::Tensor latents = pixel_unshuffle_encode(frames, 4, 4);  // [1, 48, 12, 16, 24]
  ASSERT_EQ(latents.sizes(), (at::IntArrayRef{1, 48, 12, 16, 24}));
  EXPECT_EQ(latents.scalar_type(), at::kFloat);
  EXPECT_LE(latents.max().item<float>(), 1.0f);
  EXPECT_GE(latents.min().item<float>(), -1.0f);
  EXPECT_TRUE(at::equal(pixel_unshuffle_decode(latents, 4, 4)[0], frames));
  // channel = colour·16 + dy·4 + dx holds pixel (4y + dy, 4x + dx).
  for (auto [colour, dy, dx, f, y, x] : {std::array<int64_t, 6>{0, 0, 0, 0, 0, 0}, {2, 3, 1, 5, 7, 11}, {1, 2, 3, 11, 15, 23}}) {
    const float expected = static_cast<float>(frames[f][4 * y + dy][4 * x + dx][colour].item<uint8_t>()) / 127.5f - 1.0f;
    EXPECT_FLOAT_EQ(latents[0][colour * 16 + dy * 4 + dx][f][y][x].item<float>(), expected);
  }
  // Out-of-range latents clamp to valid pixels.
  const at::Tensor wild = at::full({1, 48, 1, 2, 2}, 3.0f);
  EXPECT_EQ(pixel_unshuffle_decode(wild, 4, 4).max().item<uint8_t>(), 255);
  EXPECT_EQ(pixel_unshuffle_decode(-wild, 4, 4).min().item<uint8_t>(), 0);
  EXPECT_THROW(pixel_unshuffle_encode(at::zeros({2, 10, 8, 3}, at::kByte), 4, 4), std::invalid_argument);
}

TEST(PixelUnshuffle, IsABuiltInDecoderFoundByName) {
  WanConfig c = demo::test::tiny_config();
  const std::unique_ptr<PixelDecoder> decoder = make_pixel_decoder(c);
  ASSERT_NE(decoder, nullptr);
  EXPECT_EQ(decoder->name(), "pixel-unshuffle");
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(6);
  const at::Tensor frames = at::randint(0, 256, {4, 16, 24, 3}, gen, at::TensorOptions().dtype(at::kByte));
  EXPECT_TRUE(at::equal(decoder->decode(pixel_unshuffle_encode(frames, 4, 4)), frames));
  c.in_dim = c.out_dim = 16;  // not 3·4·4
  EXPECT_THROW(make_pixel_decoder(c), std::invalid_argument);
}

TEST(DemoConfig, TextEncoderFieldRoundTripsThroughConfigJson) {
  const WanConfig c = demo::demo_model_config();
  const nlohmann::json j = config_to_json(c);
  EXPECT_EQ(j.at("text_encoder"), "demo-words");
  EXPECT_EQ(j.at("pixel_decoder"), "pixel-unshuffle");
  EXPECT_EQ(parse_config(j), c);
  // Released models have no text encoder and write none.
  EXPECT_FALSE(config_to_json(*preset_config("1.3B")).contains("text_encoder"));
  // The shipped shape (v2): 3840 tokens for 20 frames of 96×128 px (60 blocks of 64), 3 heads × 64, and bf16
  // weights under 16 MiB.
  const demo::VideoSize vs;
  EXPECT_EQ(video_geometry(c, vs.frames, vs.height, vs.width).tokens(), 20 * 12 * 16);
  EXPECT_EQ(c.num_heads * 64, c.dim);
  int64_t params = 0;
  for (const ExpectedTensor& e : expected_tensors(c)) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    params += n;
  }
  EXPECT_LT(params * 2, int64_t{16} << 20);
}

}  // namespace
}  // namespace svdit::runtime
