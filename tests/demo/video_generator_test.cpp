// The procedural video generator: deterministic, and it does what the words say.

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "svdit/demo/video_generator.h"

namespace svdit::demo {
namespace {

const VideoSize kSize{12, 64, 96};

TEST(VideoGenerator, SameSeedSameVideoOtherSeedOtherVideo) {
  for (uint64_t seed : {0ULL, 1ULL, 12345ULL}) {
    const SceneSpec a = random_scene(seed, kSize), b = random_scene(seed, kSize);
    EXPECT_EQ(scene_prompt(a), scene_prompt(b));
    EXPECT_EQ(render_video(a, kSize), render_video(b, kSize));
  }
  EXPECT_NE(render_video(random_scene(1, kSize), kSize), render_video(random_scene(2, kSize), kSize));
  // The words fixed, the rest from the seed: the same prompt gives different videos for different seeds.
  const std::string p = "red circle bounce checker static";
  EXPECT_NE(render_video(scene_for_prompt(p, 1, kSize), kSize), render_video(scene_for_prompt(p, 2, kSize), kSize));
}

TEST(VideoGenerator, PromptsRoundTripAndCoverTheVocabulary) {
  int two_objects = 0, pans = 0;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const SceneSpec s = random_scene(seed, kSize);
    ASSERT_GE(s.objects.size(), 1u);
    ASSERT_LE(s.objects.size(), 2u);
    two_objects += s.objects.size() == 2;
    pans += s.camera == Camera::pan;
    const std::string p = scene_prompt(s);
    EXPECT_EQ(scene_prompt(scene_for_prompt(p, seed, kSize)), p);
  }
  EXPECT_GT(two_objects, 60);
  EXPECT_LT(two_objects, 140);
  EXPECT_GT(pans, 60);
  EXPECT_LT(pans, 140);
  const SceneSpec s = scene_for_prompt("yellow ring orbit blue square slide stripes pan", 4, kSize);
  ASSERT_EQ(s.objects.size(), 2u);
  EXPECT_EQ(s.objects[0].colour, 3);
  EXPECT_EQ(s.objects[0].shape, Shape::ring);
  EXPECT_EQ(s.objects[0].motion, Motion::orbit);
  EXPECT_EQ(s.objects[1].colour, 2);
  EXPECT_EQ(s.objects[1].shape, Shape::square);
  EXPECT_EQ(s.objects[1].motion, Motion::slide);
  EXPECT_EQ(s.background, Background::stripes);
  EXPECT_EQ(s.camera, Camera::pan);
  EXPECT_NE(s.pan_speed, 0.0);
}

TEST(VideoGenerator, RefusesPromptsOutsideTheGrammar) {
  EXPECT_THROW(scene_for_prompt("red circle checker static", 0, kSize), std::invalid_argument);  // 4 words
  try {
    scene_for_prompt("circle red bounce checker static", 0, kSize);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("expected a colour word"), std::string::npos) << e.what();
  }
  try {
    scene_for_prompt("red hexagon bounce checker static", 0, kSize);
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("\"hexagon\""), std::string::npos) << e.what();
  }
}

// Every pixel fully covered by an object (and by no object drawn over it) has exactly the object's colour; pixels
// no object touches never have a palette colour (the backgrounds are muted greys).
TEST(VideoGenerator, ObjectColourIsWhereItsMaskIs) {
  int64_t object_pixels = 0;
  for (uint64_t seed = 0; seed < 12; ++seed) {
    const SceneSpec s = random_scene(seed, kSize);
    const std::vector<uint8_t> v = render_video(s, kSize);
    for (int64_t f = 0; f < kSize.frames; f += 3) {
      std::vector<ObjectState> states;
      for (const ObjectSpec& o : s.objects) states.push_back(object_state(o, f, kSize));
      for (int64_t y = 0; y < kSize.height; ++y) {
        for (int64_t x = 0; x < kSize.width; ++x) {
          const uint8_t* p = v.data() + ((f * kSize.height + y) * kSize.width + x) * 3;
          const Rgb pixel{p[0], p[1], p[2]};
          int top = -1;
          bool touched = false;
          for (size_t i = 0; i < s.objects.size(); ++i) {
            const double c = object_coverage(s.objects[i], states[i], x, y);
            touched = touched || c > 0;
            if (c >= 1) top = static_cast<int>(i);
            else if (c > 0) top = -2;  // partly covered by a later object: a blend
          }
          if (top >= 0) {
            ++object_pixels;
            ASSERT_EQ(pixel, palette_colour(s.objects[static_cast<size_t>(top)].colour))
                << "seed " << seed << " frame " << f << " pixel " << x << "," << y << " (" << scene_prompt(s) << ")";
          } else if (!touched) {
            for (int c = 0; c < palette_size(); ++c) ASSERT_NE(pixel, palette_colour(c));
          }
        }
      }
    }
  }
  EXPECT_GT(object_pixels, 1000);
}

TEST(VideoGenerator, MotionsMoveAsSpecified) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const SceneSpec bounce = scene_for_prompt("red circle bounce checker static", seed, kSize);
    const SceneSpec slide = scene_for_prompt("red circle slide checker static", seed, kSize);
    const SceneSpec orbit = scene_for_prompt("red circle orbit checker static", seed, kSize);
    const SceneSpec pulse = scene_for_prompt("red circle pulse checker static", seed, kSize);
    double bounce_dy = 0, slide_dx = 0, pulse_ds = 0;
    for (int64_t f = 0; f < kSize.frames; ++f) {
      const ObjectState b = object_state(bounce.objects[0], f, kSize), b0 = object_state(bounce.objects[0], 0, kSize);
      EXPECT_EQ(b.x, b0.x);                           // bounce: vertical only
      EXPECT_LE(b.y, bounce.objects[0].y + 1e-9);     // never below the floor
      EXPECT_GE(b.y - b.size, 0.0);                   // never out of the top
      bounce_dy = std::max(bounce_dy, std::abs(b.y - b0.y));
      const ObjectState s = object_state(slide.objects[0], f, kSize), s0 = object_state(slide.objects[0], 0, kSize);
      EXPECT_EQ(s.y, s0.y);                           // slide: horizontal only
      EXPECT_GE(s.x - s.size, 0.0);                   // reflected inside the frame
      EXPECT_LE(s.x + s.size, static_cast<double>(kSize.width));
      slide_dx = std::max(slide_dx, std::abs(s.x - s0.x));
      const ObjectState o = object_state(orbit.objects[0], f, kSize);
      EXPECT_NEAR(std::hypot(o.x - orbit.objects[0].x, o.y - orbit.objects[0].y), orbit.objects[0].amplitude, 1e-9);
      const ObjectState p = object_state(pulse.objects[0], f, kSize), p0 = object_state(pulse.objects[0], 0, kSize);
      EXPECT_EQ(p.x, p0.x);                           // pulse: stays put, changes size
      EXPECT_EQ(p.y, p0.y);
      pulse_ds = std::max(pulse_ds, std::abs(p.size - p0.size));
    }
    EXPECT_GT(bounce_dy, 4.0) << "seed " << seed;
    EXPECT_GT(slide_dx, 8.0) << "seed " << seed;
    EXPECT_GT(pulse_ds, 1.0) << "seed " << seed;
  }
}

TEST(VideoGenerator, PanMovesTheBackgroundStaticDoesNot) {
  SceneSpec s = scene_for_prompt("red circle bounce stripes pan", 7, kSize);
  s.objects.clear();
  s.pan_speed = 3;  // a whole number of pixels per frame: frame f + 1 is frame f moved left by 3 px
  const std::vector<uint8_t> v = render_video(s, kSize);
  const int64_t row = kSize.width * 3, frame = kSize.height * row;
  int64_t differ = 0;
  for (int64_t f = 0; f + 1 < kSize.frames; ++f) {
    for (int64_t y = 0; y < kSize.height; ++y) {
      for (int64_t x = 0; x + 3 < kSize.width; ++x) {
        for (int64_t c = 0; c < 3; ++c) {
          ASSERT_EQ(v[static_cast<size_t>((f + 1) * frame + y * row + x * 3 + c)],
                    v[static_cast<size_t>(f * frame + y * row + (x + 3) * 3 + c)]);
        }
      }
    }
    differ += !std::equal(v.begin() + f * frame, v.begin() + (f + 1) * frame, v.begin() + (f + 1) * frame);
  }
  EXPECT_EQ(differ, kSize.frames - 1);  // and it does move
  s.camera = Camera::still;
  s.pan_speed = 0;
  const std::vector<uint8_t> still = render_video(s, kSize);
  for (int64_t f = 1; f < kSize.frames; ++f) {
    EXPECT_TRUE(std::equal(still.begin(), still.begin() + frame, still.begin() + f * frame)) << "frame " << f;
  }
  // A pan scene from the generator has a non-zero speed, a static one zero.
  EXPECT_GT(std::abs(scene_for_prompt("red circle bounce stripes pan", 1, kSize).pan_speed), 1.0);
  EXPECT_EQ(scene_for_prompt("red circle bounce stripes static", 1, kSize).pan_speed, 0.0);
}

TEST(VideoGenerator, StripLaysOutRowsAndFrames) {
  const VideoSize vs{3, 8, 8};
  const std::vector<uint8_t> a = render_video(random_scene(1, vs), vs), b = render_video(random_scene(2, vs), vs);
  const Image img = video_strip({a, b}, vs, 2);
  EXPECT_EQ(img.width, 3 * 8 + 2 * 2);
  EXPECT_EQ(img.height, 2 * 8 + 2);
  // Row 1, frame 2, pixel (3, 5) is b's frame 2 pixel (3, 5).
  const size_t at = static_cast<size_t>(((8 + 2 + 5) * img.width + 2 * (8 + 2) + 3) * 3);
  const size_t src = static_cast<size_t>(((2 * 8 + 5) * 8 + 3) * 3);
  EXPECT_EQ(img.rgb[at], b[src]);
  EXPECT_EQ(img.rgb[at + 2], b[src + 2]);
  EXPECT_THROW(video_strip({std::vector<uint8_t>(5)}, vs), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::demo
