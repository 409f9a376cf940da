#pragma once
// Does a video follow its prompt? Measured with the generator's own rules (video_generator.h), per word category:
//   colour      each prompted object's palette colour covers a blob of at least a third of the smallest size the
//               generator draws, in at least 3/4 of the frames, and no other palette colour covers more than a
//               few pixels in any frame;
//   shape       in each frame where the object's colour mask is whole (not cut by the border, big enough), the
//               generator's four shapes are drawn at the mask's centroid at the size that matches its area, and the
//               one with the best intersection-over-union must be the prompted shape in ≥ 2/3 of those frames;
//   motion      the mask's centroid and size track over the frames: pulse stays put and changes size, bounce moves
//               vertically only, slide horizontally only, orbit both ways; and no jump between consecutive frames
//               larger than a third of the height (an object that reappears elsewhere is not moving);
//   background  the pixels no object covers split into two tones; dots have a minority tone under 38 %; stripes
//               are constant along their direction (1, −2) px, checker is not;
//   camera      the horizontal shift that best aligns the background of consecutive frames: 0 in ≥ 3/4 of the
//               frame pairs for static, ≥ 2 px in ≥ 3/4 for pan.
// Plain C++ on RGB bytes; the checks are tuned on the generator's videos (its own videos score 100 %: tested).

#include <cstdint>
#include <string>
#include <vector>

#include "svdit/demo/video_generator.h"

namespace svdit::demo {

enum class ScoreCategory { colour, shape, motion, background, camera };
constexpr int kScoreCategories = 5;
const char* to_string(ScoreCategory category);

struct ObjectScore {
  bool colour = false, shape = false, motion = false;
  std::string shape_seen;   // the majority shape word over the frames where it was measured ("" if none)
  std::string motion_seen;  // the motion word the track matches ("" if none: too few frames, a jump, or still)
};

struct VideoScore {
  std::vector<ObjectScore> objects;  // in prompt order
  bool background = false, camera = false;
  std::string background_seen, camera_seen;
};

// `video`: frames × height × width × 3 RGB bytes; `prompt`: the demo grammar (scene_for_prompt's errors otherwise).
VideoScore score_video(const std::vector<uint8_t>& video, const VideoSize& size, const std::string& prompt);

// Pass counts per category over many videos (colour/shape/motion count objects, background/camera videos).
struct ScoreTally {
  int64_t passed[kScoreCategories] = {0, 0, 0, 0, 0};
  int64_t total[kScoreCategories] = {0, 0, 0, 0, 0};
  void add(const VideoScore& score);
  double percent(ScoreCategory category) const;  // NaN when nothing was counted
};

// The fixed prompts of the model card's score table (one and two objects, every word at least twice).
std::vector<std::string> score_prompts();

}  // namespace svdit::demo
