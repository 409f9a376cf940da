// Procedural videos for the demo model (see video_generator.h).

#include "svdit/demo/video_generator.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "svdit/runtime/demo_words.h"

namespace svdit::demo {

namespace rt = svdit::runtime;

namespace {

constexpr double kPi = std::numbers::pi;

constexpr std::array<Rgb, 6> kPalette = {{
    {230, 40, 40},    // red
    {40, 200, 60},    // green
    {50, 90, 235},    // blue
    {235, 215, 40},   // yellow
    {40, 210, 220},   // cyan
    {220, 50, 210},   // magenta
}};

// Uniform draws from a splitmix64 stream.
struct Random {
  uint64_t state;
  double uniform() { return static_cast<double>(rt::splitmix64(state) >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int integer(int n) { return static_cast<int>(uniform() * n); }  // 0 … n − 1
  double sign() { return uniform() < 0.5 ? -1.0 : 1.0; }
};

double clamp01(double v) { return std::clamp(v, 0.0, 1.0); }

// Reflects a coordinate into [lo, hi] (a triangle wave), so that sliding objects bounce off the walls.
double reflect(double v, double lo, double hi) {
  const double span = hi - lo;
  if (span <= 0) return lo;
  double t = std::fmod(v - lo, 2 * span);
  if (t < 0) t += 2 * span;
  return lo + (t <= span ? t : 2 * span - t);
}

double length(double x, double y) { return std::sqrt(x * x + y * y); }

// Signed distance (px, negative inside) of a point relative to the shape's centre, y pointing down.
double shape_distance(Shape shape, double dx, double dy, double s) {
  switch (shape) {
    case Shape::circle:
      return length(dx, dy) - s;
    case Shape::square: {
      const double b = 0.88 * s;  // about a circle's area
      const double qx = std::abs(dx) - b, qy = std::abs(dy) - b;
      return length(std::max(qx, 0.0), std::max(qy, 0.0)) + std::min(std::max(qx, qy), 0.0);
    }
    case Shape::triangle: {
      // Equilateral, pointing up, centred on its centroid; r = half the side (Inigo Quilez's exact SDF).
      const double r = 1.25 * s, k = std::sqrt(3.0);
      double px = std::abs(dx) - r, py = -dy + r / k;
      if (px + k * py > 0) {
        const double nx = (px - k * py) / 2, ny = (-k * px - py) / 2;
        px = nx;
        py = ny;
      }
      px -= std::clamp(px, -2 * r, 0.0);
      return -length(px, py) * (py < 0 ? -1.0 : 1.0);
    }
    case Shape::ring:
      return std::abs(length(dx, dy) - 0.72 * s) - 0.3 * s;
  }
  return 1e9;
}

double fract(double v) { return v - std::floor(v); }

// How much of tone b (0…1) the texture shows at world point (u, v).
double texture_b(Background background, double u, double v, double period) {
  switch (background) {
    case Background::stripes: {
      // Diagonal stripes: w = (u + v/2)/period; b where fract(w) ≥ 1/2. |∇w|·period = √1.25.
      const double g = fract((u + 0.5 * v) / period);
      const double edge = std::min({g, std::abs(g - 0.5), 1 - g}) * period / std::sqrt(1.25);
      return clamp01(0.5 + (g >= 0.5 ? edge : -edge));
    }
    case Background::checker: {
      const double fu = fract(u / period), fv = fract(v / period);
      const double edge = std::min({fu, 1 - fu, fv, 1 - fv}) * period;
      const bool b = ((static_cast<int64_t>(std::floor(u / period)) + static_cast<int64_t>(std::floor(v / period))) & 1) != 0;
      return clamp01(0.5 + (b ? edge : -edge));
    }
    case Background::dots: {
      const double d = length(fract(u / period) - 0.5, fract(v / period) - 0.5) * period - 0.3 * period;
      return clamp01(0.5 - d);
    }
  }
  return 0;
}

uint8_t mix(uint8_t a, uint8_t b, double t) {
  return static_cast<uint8_t>(std::lround(static_cast<double>(a) + (static_cast<double>(b) - a) * t));
}

const char* word_of(rt::WordCategory category, int index) {
  for (const rt::DemoWord& w : rt::demo_vocabulary()) {
    if (w.category == category && w.index == index) return w.text;
  }
  throw std::logic_error("demo vocabulary: no word " + std::to_string(index) + " in " + rt::to_string(category));
}

int count_of(rt::WordCategory category) { return static_cast<int>(rt::demo_words_of(category).size()); }

// The random parameters of an object whose words are given.
ObjectSpec random_object(int colour, Shape shape, Motion motion, Random& r, const VideoSize& vs) {
  const double H = static_cast<double>(vs.height), W = static_cast<double>(vs.width);
  ObjectSpec o;
  o.colour = colour;
  o.shape = shape;
  o.motion = motion;
  o.size = r.uniform(0.10, 0.16) * H;
  const double margin = 1.3 * o.size;
  o.phase = r.uniform(0, 2 * kPi);
  switch (motion) {
    case Motion::bounce:
      o.x = r.uniform(margin, W - margin);
      o.y = H - margin - r.uniform(0, 0.1) * H;                  // the floor
      o.amplitude = r.uniform(0.35, 0.55) * (o.y - margin);      // bounce height
      o.period = r.uniform(6, 10);
      break;
    case Motion::slide:
      o.x = r.uniform(margin, W - margin);
      o.y = r.uniform(margin, H - margin);
      o.speed = r.sign() * r.uniform(0.035, 0.07) * W;
      break;
    case Motion::orbit:
      o.amplitude = r.uniform(0.15, 0.25) * H;
      o.x = r.uniform(margin + o.amplitude, W - margin - o.amplitude);
      o.y = r.uniform(std::min(margin + o.amplitude, H / 2), std::max(H - margin - o.amplitude, H / 2));
      o.speed = r.sign() * 2 * kPi / r.uniform(10, 16);
      break;
    case Motion::pulse:
      o.x = r.uniform(margin * 1.4, W - margin * 1.4);
      o.y = r.uniform(margin * 1.4, H - margin * 1.4);
      o.amplitude = r.uniform(0.3, 0.45);
      o.period = r.uniform(6, 10);
      break;
  }
  return o;
}

// Background tones, texture and camera of a scene whose words are given.
void random_backdrop(SceneSpec& s, Random& r, const VideoSize& vs) {
  // Muted tones: a grey with a slight tint, and a lighter or darker partner.
  const double base = r.uniform(50, 120);
  auto channel = [&](double v) { return static_cast<uint8_t>(std::clamp(v + r.uniform(-14, 14), 0.0, 255.0)); };
  s.tone_a = {channel(base), channel(base), channel(base)};
  const double contrast = r.sign() * r.uniform(35, 60);
  const double other = std::clamp(base + contrast, 25.0, 175.0);
  s.tone_b = {channel(other), channel(other), channel(other)};
  s.texture_period = r.uniform(0.15, 0.25) * static_cast<double>(vs.height);
  s.offset_x = r.uniform(0, 64);
  s.offset_y = r.uniform(0, 64);
  s.pan_speed = s.camera == Camera::pan ? r.sign() * r.uniform(0.03, 0.06) * static_cast<double>(vs.width) : 0.0;
}

}  // namespace

Rgb palette_colour(int colour) {
  if (colour < 0 || colour >= static_cast<int>(kPalette.size())) {
    throw std::out_of_range("palette colour " + std::to_string(colour) + " (expected 0…" +
                            std::to_string(kPalette.size() - 1) + ")");
  }
  return kPalette[static_cast<size_t>(colour)];
}
int palette_size() { return static_cast<int>(kPalette.size()); }

ObjectState object_state(const ObjectSpec& o, int64_t frame, const VideoSize& vs) {
  const double t = static_cast<double>(frame);
  const double margin = 1.3 * o.size;
  ObjectState s{o.x, o.y, o.size};
  switch (o.motion) {
    case Motion::bounce:
      s.y = o.y - o.amplitude * std::abs(std::sin(kPi * t / o.period + o.phase));
      break;
    case Motion::slide:
      s.x = reflect(o.x + o.speed * t, margin, static_cast<double>(vs.width) - margin);
      break;
    case Motion::orbit:
      s.x = o.x + o.amplitude * std::cos(o.speed * t + o.phase);
      s.y = o.y + o.amplitude * std::sin(o.speed * t + o.phase);
      break;
    case Motion::pulse:
      s.size = o.size * (1 + o.amplitude * std::sin(2 * kPi * t / o.period + o.phase));
      break;
  }
  return s;
}

double object_coverage(const ObjectSpec& o, const ObjectState& s, int64_t px, int64_t py) {
  const double d = shape_distance(o.shape, static_cast<double>(px) + 0.5 - s.x, static_cast<double>(py) + 0.5 - s.y,
                                  s.size);
  return clamp01(0.5 - d);
}

std::string scene_prompt(const SceneSpec& s) {
  std::string p;
  for (const ObjectSpec& o : s.objects) {
    p += std::string(p.empty() ? "" : " ") + word_of(rt::WordCategory::colour, o.colour) + " " +
         word_of(rt::WordCategory::shape, static_cast<int>(o.shape)) + " " +
         word_of(rt::WordCategory::motion, static_cast<int>(o.motion));
  }
  p += std::string(p.empty() ? "" : " ") + word_of(rt::WordCategory::background, static_cast<int>(s.background)) + " " +
       word_of(rt::WordCategory::camera, static_cast<int>(s.camera));
  return p;
}

SceneSpec random_scene(uint64_t seed, const VideoSize& vs) {
  Random r{seed};
  SceneSpec s;
  const int objects = 1 + r.integer(2);
  for (int i = 0; i < objects; ++i) {
    const int colour = r.integer(count_of(rt::WordCategory::colour));
    const auto shape = static_cast<Shape>(r.integer(count_of(rt::WordCategory::shape)));
    const auto motion = static_cast<Motion>(r.integer(count_of(rt::WordCategory::motion)));
    s.objects.push_back(random_object(colour, shape, motion, r, vs));
  }
  s.background = static_cast<Background>(r.integer(count_of(rt::WordCategory::background)));
  s.camera = static_cast<Camera>(r.integer(count_of(rt::WordCategory::camera)));
  random_backdrop(s, r, vs);
  return s;
}

SceneSpec scene_for_prompt(const std::string& prompt, uint64_t seed, const VideoSize& vs) {
  const std::vector<std::string> words = rt::split_demo_prompt(prompt);
  const auto grammar_error = [&](const std::string& why) {
    return std::invalid_argument("demo prompt \"" + prompt + "\": " + why +
                                 "; expected: colour shape motion [colour shape motion] background camera, e.g. "
                                 "\"red circle bounce checker static\" (" + rt::describe_demo_vocabulary() + ")");
  };
  if (words.size() != 5 && words.size() != 8) {
    throw grammar_error(std::to_string(words.size()) + " words (a prompt has 5 or 8)");
  }
  auto expect = [&](size_t i, rt::WordCategory category) {
    const rt::DemoWord* w = rt::find_demo_word(words[i]);
    if (w->category != category) {
      throw grammar_error("word " + std::to_string(i + 1) + " \"" + words[i] + "\" is a " + rt::to_string(w->category) +
                          " word, expected a " + rt::to_string(category) + " word");
    }
    return w->index;
  };
  Random r{seed};
  SceneSpec s;
  const size_t objects = (words.size() - 2) / 3;
  for (size_t i = 0; i < objects; ++i) {
    const int colour = expect(3 * i, rt::WordCategory::colour);
    const auto shape = static_cast<Shape>(expect(3 * i + 1, rt::WordCategory::shape));
    const auto motion = static_cast<Motion>(expect(3 * i + 2, rt::WordCategory::motion));
    s.objects.push_back(random_object(colour, shape, motion, r, vs));
  }
  s.background = static_cast<Background>(expect(words.size() - 2, rt::WordCategory::background));
  s.camera = static_cast<Camera>(expect(words.size() - 1, rt::WordCategory::camera));
  random_backdrop(s, r, vs);
  return s;
}

void render_video_into(const SceneSpec& s, const VideoSize& vs, uint8_t* out) {
  const int64_t F = vs.frames, H = vs.height, W = vs.width;
  std::vector<double> mix_b(static_cast<size_t>(W));
  for (int64_t f = 0; f < F; ++f) {
    uint8_t* frame = out + f * H * W * 3;
    const double shift = s.offset_x + s.pan_speed * static_cast<double>(f);
    for (int64_t y = 0; y < H; ++y) {
      uint8_t* row = frame + y * W * 3;
      const double v = static_cast<double>(y) + 0.5 + s.offset_y;
      for (int64_t x = 0; x < W; ++x) {
        const double t = texture_b(s.background, static_cast<double>(x) + 0.5 + shift, v, s.texture_period);
        row[3 * x + 0] = mix(s.tone_a.r, s.tone_b.r, t);
        row[3 * x + 1] = mix(s.tone_a.g, s.tone_b.g, t);
        row[3 * x + 2] = mix(s.tone_a.b, s.tone_b.b, t);
      }
    }
    for (const ObjectSpec& o : s.objects) {
      const ObjectState st = object_state(o, f, vs);
      const Rgb c = palette_colour(o.colour);
      const double reach = 1.5 * st.size + 2;  // every shape lies within 1.45·size of its centre
      const int64_t x0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(st.x - reach)));
      const int64_t x1 = std::min<int64_t>(W, static_cast<int64_t>(std::ceil(st.x + reach)));
      const int64_t y0 = std::max<int64_t>(0, static_cast<int64_t>(std::floor(st.y - reach)));
      const int64_t y1 = std::min<int64_t>(H, static_cast<int64_t>(std::ceil(st.y + reach)));
      for (int64_t y = y0; y < y1; ++y) {
        for (int64_t x = x0; x < x1; ++x) {
          const double a = object_coverage(o, st, x, y);
          if (a <= 0) continue;
          uint8_t* p = frame + (y * W + x) * 3;
          p[0] = mix(p[0], c.r, a);
          p[1] = mix(p[1], c.g, a);
          p[2] = mix(p[2], c.b, a);
        }
      }
    }
  }
}

std::vector<uint8_t> render_video(const SceneSpec& scene, const VideoSize& vs) {
  std::vector<uint8_t> out(static_cast<size_t>(vs.frames * vs.height * vs.width * 3));
  render_video_into(scene, vs, out.data());
  return out;
}

Image video_strip(const std::vector<std::vector<uint8_t>>& videos, const VideoSize& vs, int64_t gap, Rgb gap_colour) {
  Image img;
  const int64_t rows = static_cast<int64_t>(videos.size());
  img.width = vs.frames * vs.width + (vs.frames - 1) * gap;
  img.height = rows * vs.height + std::max<int64_t>(rows - 1, 0) * gap;
  img.rgb.resize(static_cast<size_t>(img.width * img.height * 3));
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    img.rgb[i] = gap_colour.r;
    img.rgb[i + 1] = gap_colour.g;
    img.rgb[i + 2] = gap_colour.b;
  }
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<uint8_t>& v = videos[static_cast<size_t>(r)];
    if (static_cast<int64_t>(v.size()) != vs.frames * vs.height * vs.width * 3) {
      throw std::invalid_argument("video_strip: video " + std::to_string(r) + " has " + std::to_string(v.size()) +
                                  " bytes, expected frames × height × width × 3 = " +
                                  std::to_string(vs.frames * vs.height * vs.width * 3));
    }
    for (int64_t f = 0; f < vs.frames; ++f) {
      for (int64_t y = 0; y < vs.height; ++y) {
        const uint8_t* src = v.data() + ((f * vs.height + y) * vs.width) * 3;
        uint8_t* dst = img.rgb.data() + ((r * (vs.height + gap) + y) * img.width + f * (vs.width + gap)) * 3;
        std::copy(src, src + vs.width * 3, dst);
      }
    }
  }
  return img;
}

uint64_t mix_seed(uint64_t seed, uint64_t stream, uint64_t index) {
  uint64_t s = seed ^ 0xD1B54A32D192ED03ULL;
  uint64_t h = rt::splitmix64(s);
  s = h ^ (stream * 0x9E3779B97F4A7C15ULL);
  h = rt::splitmix64(s);
  s = h ^ (index * 0xC2B2AE3D27D4EB4FULL);
  return rt::splitmix64(s);
}

}  // namespace svdit::demo
