#pragma once
// The demo model's training data: procedural videos of coloured shapes that move over textured backgrounds, each
// described by a prompt of class words (runtime/demo_words.h). Plain C++ (no torch): a scene is a few numbers,
// rendering is analytic (signed distances with one pixel of anti-aliasing), and everything is a pure function of
// the scene, so a seed gives the same video on any machine.
//
// Prompt grammar (docs/DEMO_MODEL.md):   object [object] background camera,   object = colour shape motion
//   e.g. "red circle bounce checker static", "yellow ring orbit blue square slide stripes pan".
// Motions: bounce — falls and bounces on a floor (vertical only, |sin| arcs); slide — moves horizontally at constant
// speed and reflects off the side walls; orbit — circles round a centre; pulse — stays put and grows and shrinks.
// Camera: static — the background stands still; pan — the background texture slides horizontally at constant
// speed (the objects are in screen space). Everything the words do not say (positions, sizes, speeds, phases,
// background tones, texture scale, pan direction) is drawn from the seed.

#include <cstdint>
#include <string>
#include <vector>

namespace svdit::demo {

struct VideoSize {
  int64_t frames = 20, height = 96, width = 128;  // the demo model's size (v2: 20 frames, 3840 tokens)
};

enum class Shape { circle, square, triangle, ring };
enum class Motion { bounce, slide, orbit, pulse };
enum class Background { stripes, checker, dots };
enum class Camera { still, pan };  // the words "static" and "pan"

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};
// The colour words' RGB (index = the word's index in its category: red, green, blue, yellow, cyan, magenta).
Rgb palette_colour(int colour);
int palette_size();

struct ObjectSpec {
  int colour = 0;
  Shape shape = Shape::circle;
  Motion motion = Motion::bounce;
  double x = 0, y = 0;     // anchor (px): bounce's floor point, slide's start, orbit's centre, pulse's position
  double size = 8;         // half-extent (px): circle/ring radius, square half side, triangle ≈ circumradius
  double speed = 0;        // slide: px per frame (signed); orbit: radians per frame (signed)
  double amplitude = 0;    // bounce: height (px); orbit: radius (px); pulse: relative size change
  double period = 8;       // bounce: frames per bounce; pulse: frames per cycle
  double phase = 0;        // radians
};

struct SceneSpec {
  std::vector<ObjectSpec> objects;  // drawn in order, later ones on top
  Background background = Background::stripes;
  Camera camera = Camera::still;
  Rgb tone_a, tone_b;               // the texture's two muted tones
  double texture_period = 12;       // px
  double offset_x = 0, offset_y = 0;  // texture offset at frame 0 (px)
  double pan_speed = 0;             // px per frame the texture moves (signed; 0 for a static camera)
};

struct ObjectState {
  double x = 0, y = 0, size = 0;  // centre (px, y down) and half-extent at one frame
};
ObjectState object_state(const ObjectSpec& object, int64_t frame, const VideoSize& size);

// Coverage of pixel (px, py) (its centre is px + 0.5, py + 0.5) by the object in `state`: 0…1, 1 inside.
double object_coverage(const ObjectSpec& object, const ObjectState& state, int64_t px, int64_t py);

// The words of a scene: "red circle bounce blue square slide checker pan".
std::string scene_prompt(const SceneSpec& scene);

// A random scene: 1 or 2 objects, every word and parameter drawn from `seed`.
SceneSpec random_scene(uint64_t seed, const VideoSize& size);
// A scene that says what `prompt` says, the rest drawn from `seed`. std::invalid_argument naming the prompt and the
// grammar when the words do not follow it (unknown words: the vocabulary's error).
SceneSpec scene_for_prompt(const std::string& prompt, uint64_t seed, const VideoSize& size);

// Renders the scene: frames × height × width × 3 bytes (RGB), frame-major.
std::vector<uint8_t> render_video(const SceneSpec& scene, const VideoSize& size);
// Renders into `out` (frames·height·width·3 bytes).
void render_video_into(const SceneSpec& scene, const VideoSize& size, uint8_t* out);

// Lays out videos as one RGB image: one row per video, its frames left to right, `gap` px of `gap_colour` between
// frames and rows. Returns the image and its width/height.
struct Image {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> rgb;  // height × width × 3
};
Image video_strip(const std::vector<std::vector<uint8_t>>& videos, const VideoSize& size, int64_t gap = 2,
                  Rgb gap_colour = {255, 255, 255});

// A sample's seed for (seed, stream, index): the training batches use stream = step, the held-out set its own.
uint64_t mix_seed(uint64_t seed, uint64_t stream, uint64_t index);

}  // namespace svdit::demo
