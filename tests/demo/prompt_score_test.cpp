// The prompt-following checks (runtime/demo/prompt_score.h): the generator's own videos pass every check, and a
// video scored against a prompt that says something else fails exactly the categories that differ.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "svdit/demo/prompt_score.h"
#include "svdit/demo/video_generator.h"

namespace svdit::demo {
namespace {

const VideoSize kSize{12, 96, 128};

void expect_all_pass(const VideoScore& s, const std::string& what) {
  for (size_t k = 0; k < s.objects.size(); ++k) {
    EXPECT_TRUE(s.objects[k].colour) << what << ": object " << k;
    EXPECT_TRUE(s.objects[k].shape) << what << ": object " << k << " seen " << s.objects[k].shape_seen;
    EXPECT_TRUE(s.objects[k].motion) << what << ": object " << k << " seen " << s.objects[k].motion_seen;
  }
  EXPECT_TRUE(s.background) << what << ": seen " << s.background_seen;
  EXPECT_TRUE(s.camera) << what << ": seen " << s.camera_seen;
}

TEST(PromptScore, GeneratorVideosOfTheFixedPromptsScoreFull) {
  ScoreTally tally;
  for (const std::string& prompt : score_prompts()) {
    for (uint64_t seed = 0; seed < 4; ++seed) {
      const VideoScore s = score_video(render_video(scene_for_prompt(prompt, seed, kSize), kSize), kSize, prompt);
      expect_all_pass(s, prompt + ", seed " + std::to_string(seed));
      tally.add(s);
    }
  }
  for (int c = 0; c < kScoreCategories; ++c) EXPECT_EQ(tally.percent(static_cast<ScoreCategory>(c)), 100.0);
}

TEST(PromptScore, RandomOneObjectScenesScoreFull) {
  // One-object scenes (two objects may overlap for the whole video, which no check can see through).
  int checked = 0;
  for (uint64_t seed = 100; checked < 40; ++seed) {
    const SceneSpec scene = random_scene(seed, kSize);
    if (scene.objects.size() != 1) continue;
    ++checked;
    const std::string prompt = scene_prompt(scene);
    expect_all_pass(score_video(render_video(scene, kSize), kSize, prompt), prompt + " (seed " + std::to_string(seed) + ")");
  }
}

TEST(PromptScore, AWrongPromptFailsTheCategoriesThatDiffer) {
  const std::vector<uint8_t> video =
      render_video(scene_for_prompt("red circle bounce checker static", 3, kSize), kSize);
  auto score = [&](const std::string& prompt) { return score_video(video, kSize, prompt); };
  {
    const VideoScore s = score("blue circle bounce checker static");  // wrong colour: the object is not found
    EXPECT_FALSE(s.objects[0].colour);
    EXPECT_TRUE(s.background);
  }
  {
    const VideoScore s = score("red square bounce checker static");
    EXPECT_TRUE(s.objects[0].colour);
    EXPECT_FALSE(s.objects[0].shape);
    EXPECT_EQ(s.objects[0].shape_seen, "circle");
    EXPECT_TRUE(s.objects[0].motion);
  }
  {
    const VideoScore s = score("red circle slide checker static");
    EXPECT_FALSE(s.objects[0].motion);
    EXPECT_EQ(s.objects[0].motion_seen, "bounce");
  }
  {
    const VideoScore s = score("red circle bounce dots pan");
    EXPECT_FALSE(s.background);
    EXPECT_EQ(s.background_seen, "checker");
    EXPECT_FALSE(s.camera);
    EXPECT_EQ(s.camera_seen, "static");
  }
}

TEST(PromptScore, StillOrJumpingObjectsFailMotionAndStrayColoursFailColour) {
  VideoSize one = kSize;
  SceneSpec scene = scene_for_prompt("green square slide stripes static", 1, kSize);
  std::vector<uint8_t> video = render_video(scene, kSize);
  // Frame by frame from different seeds: the square appears at unrelated places (teleports).
  std::vector<uint8_t> jumping;
  for (int64_t f = 0; f < kSize.frames; ++f) {
    SceneSpec other = scene;
    other.objects = scene_for_prompt("green square pulse stripes static", 50 + static_cast<uint64_t>(f), kSize).objects;
    other.objects[0].amplitude = 0;  // no pulsing either
    const std::vector<uint8_t> v = render_video(other, kSize);
    const size_t n = static_cast<size_t>(kSize.height * kSize.width * 3);
    jumping.insert(jumping.end(), v.begin() + static_cast<std::ptrdiff_t>(f * static_cast<int64_t>(n)),
                   v.begin() + static_cast<std::ptrdiff_t>((f + 1) * static_cast<int64_t>(n)));
  }
  const VideoScore j = score_video(jumping, kSize, "green square slide stripes static");
  EXPECT_TRUE(j.objects[0].colour);
  EXPECT_FALSE(j.objects[0].motion) << "seen " << j.objects[0].motion_seen;
  // A blob of a colour the prompt does not name.
  for (int64_t y = 10; y < 20; ++y) {
    for (int64_t x = 10; x < 20; ++x) {
      uint8_t* p = video.data() + ((5 * one.height + y) * one.width + x) * 3;
      p[0] = 220, p[1] = 50, p[2] = 210;  // magenta
    }
  }
  EXPECT_FALSE(score_video(video, kSize, "green square slide stripes static").objects[0].colour);
  EXPECT_THROW(score_video(std::vector<uint8_t>(10), kSize, "green square slide stripes static"), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::demo
