// PNG export: what is written reads back pixel for pixel; flipping and cropping.
#include "svdit/analyzer/image.h"

#include <gtest/gtest.h>

#include "test_support.h"

using namespace svdit::analyzer;

namespace {

Image gradient(int w, int h) {
  Image img;
  img.width = w;
  img.height = h;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      img.rgba.push_back(static_cast<uint8_t>(x * 7));
      img.rgba.push_back(static_cast<uint8_t>(y * 11));
      img.rgba.push_back(static_cast<uint8_t>((x + y) * 3));
      img.rgba.push_back(255);
    }
  return img;
}

TEST(Image, PngRoundTrip) {
  test::ScratchDir dir("png");
  const Image img = gradient(37, 23);
  write_png(img, dir / "a.png");
  const Image back = read_png(dir / "a.png");
  EXPECT_EQ(back.width, 37);
  EXPECT_EQ(back.height, 23);
  EXPECT_EQ(back.rgba, img.rgba);
}

TEST(Image, FlipAndCrop) {
  Image img = gradient(5, 4);
  const Rgba8 top_left = img.at(0, 0), bottom_right = img.at(4, 3);
  img.flip_vertically();
  EXPECT_EQ(img.at(0, 3), top_left);
  EXPECT_EQ(img.at(4, 0), bottom_right);
  const Image c = img.crop(1, 1, 3, 10);  // clipped at the bottom
  EXPECT_EQ(c.width, 3);
  EXPECT_EQ(c.height, 3);
  EXPECT_EQ(c.at(0, 0), img.at(1, 1));
  EXPECT_EQ(c.at(2, 2), img.at(3, 3));
}

TEST(Image, ErrorsNameThePath) {
  test::ScratchDir dir("png-bad");
  test::write_text(dir / "bad.png", "not a png");
  try {
    read_png(dir / "bad.png");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.png"), std::string::npos);
  }
  EXPECT_THROW(write_png(Image{}, dir / "empty.png"), std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir / "empty.png"));
}

}  // namespace
