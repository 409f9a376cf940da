// Prompt-following checks of demo videos (see prompt_score.h). Thresholds are in units of the generator's own
// parameter ranges (random_object, random_backdrop in video_generator.cpp), so they scale with the video size.

#include "svdit/demo/prompt_score.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "svdit/runtime/demo_words.h"

namespace svdit::demo {

namespace rt = svdit::runtime;

namespace {

constexpr double kColourDistance = 60;  // RGB distance to a palette colour that counts as that colour
constexpr int kShapes = 4;

const char* word_of(rt::WordCategory category, int index) {
  for (const rt::DemoWord& w : rt::demo_vocabulary()) {
    if (w.category == category && w.index == index) return w.text;
  }
  return "";
}

struct Frames {
  const std::vector<uint8_t>& rgb;
  VideoSize size;
  const uint8_t* pixel(int64_t f, int64_t y, int64_t x) const {
    return rgb.data() + ((f * size.height + y) * size.width + x) * 3;
  }
};

// Per frame: the pixels within kColourDistance of palette colour `c`.
std::vector<std::vector<uint8_t>> colour_masks(const Frames& v, int c) {
  const Rgb p = palette_colour(c);
  const int64_t n = v.size.height * v.size.width;
  std::vector<std::vector<uint8_t>> masks(static_cast<size_t>(v.size.frames), std::vector<uint8_t>(static_cast<size_t>(n)));
  for (int64_t f = 0; f < v.size.frames; ++f) {
    const uint8_t* px = v.pixel(f, 0, 0);
    for (int64_t i = 0; i < n; ++i) {
      const double dr = px[3 * i] - p.r, dg = px[3 * i + 1] - p.g, db = px[3 * i + 2] - p.b;
      masks[static_cast<size_t>(f)][static_cast<size_t>(i)] = dr * dr + dg * dg + db * db < kColourDistance * kColourDistance;
    }
  }
  return masks;
}

struct Blob {
  int64_t area = 0;
  double cx = 0, cy = 0;
  int64_t x0 = 0, x1 = 0, y0 = 0, y1 = 0;  // bounding box, inclusive
};

Blob blob_of(const std::vector<uint8_t>& mask, const VideoSize& s) {
  Blob b;
  b.x0 = s.width;
  b.y0 = s.height;
  b.x1 = b.y1 = -1;
  for (int64_t y = 0; y < s.height; ++y) {
    for (int64_t x = 0; x < s.width; ++x) {
      if (!mask[static_cast<size_t>(y * s.width + x)]) continue;
      ++b.area;
      b.cx += static_cast<double>(x) + 0.5;
      b.cy += static_cast<double>(y) + 0.5;
      b.x0 = std::min(b.x0, x);
      b.x1 = std::max(b.x1, x);
      b.y0 = std::min(b.y0, y);
      b.y1 = std::max(b.y1, y);
    }
  }
  if (b.area > 0) {
    b.cx /= static_cast<double>(b.area);
    b.cy /= static_cast<double>(b.area);
  }
  return b;
}

// Area of each shape per size² (the shape_distance of video_generator.cpp: square half side 0.88·s, triangle half
// side 1.25·s, ring radius 0.72·s ± 0.3·s).
double area_per_size2(Shape shape) {
  switch (shape) {
    case Shape::circle: return std::numbers::pi;
    case Shape::square: return 4 * 0.88 * 0.88;
    case Shape::triangle: return std::sqrt(3.0) / 4 * 2.5 * 2.5;
    case Shape::ring: return std::numbers::pi * (1.02 * 1.02 - 0.42 * 0.42);
  }
  return 1;
}

// Intersection over union of `mask` with `shape` drawn (coverage ≥ ½) at the blob's centroid with the blob's area.
double shape_iou(const std::vector<uint8_t>& mask, const Blob& b, Shape shape, const VideoSize& s) {
  double best = 0;
  for (double scale : {0.92, 1.0, 1.08}) {
    ObjectSpec o;
    o.shape = shape;
    const ObjectState st{b.cx, b.cy, scale * std::sqrt(static_cast<double>(b.area) / area_per_size2(shape))};
    const double reach = 1.5 * st.size + 2;
    const int64_t x0 = std::max<int64_t>(0, std::min(b.x0, static_cast<int64_t>(std::floor(st.x - reach))));
    const int64_t x1 = std::min<int64_t>(s.width - 1, std::max(b.x1, static_cast<int64_t>(std::ceil(st.x + reach))));
    const int64_t y0 = std::max<int64_t>(0, std::min(b.y0, static_cast<int64_t>(std::floor(st.y - reach))));
    const int64_t y1 = std::min<int64_t>(s.height - 1, std::max(b.y1, static_cast<int64_t>(std::ceil(st.y + reach))));
    int64_t inter = 0, uni = 0;
    for (int64_t y = y0; y <= y1; ++y) {
      for (int64_t x = x0; x <= x1; ++x) {
        const bool drawn = object_coverage(o, st, x, y) >= 0.5;
        const bool seen = mask[static_cast<size_t>(y * s.width + x)] != 0;
        inter += drawn && seen;
        uni += drawn || seen;
      }
    }
    if (uni > 0) best = std::max(best, static_cast<double>(inter) / static_cast<double>(uni));
  }
  return best;
}

bool boxes_touch(const Blob& a, const Blob& b, int64_t pad) {
  return a.area > 0 && b.area > 0 && a.x0 - pad <= b.x1 && b.x0 - pad <= a.x1 && a.y0 - pad <= b.y1 && b.y0 - pad <= a.y1;
}

double luminance(const uint8_t* p) { return 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]; }

}  // namespace

const char* to_string(ScoreCategory c) {
  switch (c) {
    case ScoreCategory::colour: return "colour";
    case ScoreCategory::shape: return "shape";
    case ScoreCategory::motion: return "motion";
    case ScoreCategory::background: return "background";
    case ScoreCategory::camera: return "camera";
  }
  return "?";
}

VideoScore score_video(const std::vector<uint8_t>& video, const VideoSize& size, const std::string& prompt) {
  const SceneSpec scene = scene_for_prompt(prompt, 0, size);  // the words (the seed only sets what they do not say)
  const size_t expected = static_cast<size_t>(size.frames * size.height * size.width * 3);
  if (video.size() != expected) {
    throw std::invalid_argument("score_video: the video has " + std::to_string(video.size()) +
                                " bytes, expected frames × height × width × 3 = " + std::to_string(expected));
  }
  const Frames v{video, size};
  const int64_t F = size.frames, H = size.height, W = size.width;
  const double h = static_cast<double>(H);
  // The smallest object the generator draws: half-extent 0.10·H, a pulse shrinking it by up to 45 %.
  const double min_area = std::numbers::pi * std::pow(0.10 * h * 0.55, 2) / 3;
  const double shape_area = std::numbers::pi * std::pow(0.10 * h * 0.7, 2);

  VideoScore score;
  std::vector<bool> prompted(static_cast<size_t>(palette_size()), false);
  for (const ObjectSpec& o : scene.objects) prompted[static_cast<size_t>(o.colour)] = true;
  bool stray_colour = false;
  std::vector<std::vector<uint8_t>> all_objects(static_cast<size_t>(F), std::vector<uint8_t>(static_cast<size_t>(H * W), 0));
  std::vector<std::vector<Blob>> blobs(scene.objects.size());
  std::vector<std::vector<std::vector<uint8_t>>> masks(scene.objects.size());
  for (int c = 0; c < palette_size(); ++c) {
    const std::vector<std::vector<uint8_t>> m = colour_masks(v, c);
    for (int64_t f = 0; f < F; ++f) {
      int64_t n = 0;
      for (size_t i = 0; i < m[static_cast<size_t>(f)].size(); ++i) {
        n += m[static_cast<size_t>(f)][i];
        all_objects[static_cast<size_t>(f)][i] |= m[static_cast<size_t>(f)][i];
      }
      if (!prompted[static_cast<size_t>(c)] && n > 25) stray_colour = true;
    }
    for (size_t k = 0; k < scene.objects.size(); ++k) {
      if (scene.objects[k].colour != c) continue;
      masks[k] = m;
      for (int64_t f = 0; f < F; ++f) blobs[k].push_back(blob_of(m[static_cast<size_t>(f)], size));
    }
  }

  for (size_t k = 0; k < scene.objects.size(); ++k) {
    const ObjectSpec& o = scene.objects[k];
    ObjectScore os;
    // Colour: present in ≥ 3/4 of the frames, nothing of the other palette colours.
    int64_t present = 0;
    for (const Blob& b : blobs[k]) present += static_cast<double>(b.area) >= min_area;
    os.colour = 4 * present >= 3 * F && !stray_colour;

    // Shape: frames with a whole, unoccluded blob of a measurable size.
    std::array<int64_t, kShapes> votes{};
    int64_t measured = 0;
    for (int64_t f = 0; f < F; ++f) {
      const Blob& b = blobs[k][static_cast<size_t>(f)];
      if (static_cast<double>(b.area) < shape_area || b.x0 <= 0 || b.y0 <= 0 || b.x1 >= W - 1 || b.y1 >= H - 1) continue;
      bool occluded = false;
      for (size_t j = 0; j < scene.objects.size(); ++j) {
        if (j != k && boxes_touch(b, blobs[j][static_cast<size_t>(f)], 2)) occluded = true;
      }
      if (occluded) continue;
      int best = 0;
      double best_iou = -1;
      for (int s = 0; s < kShapes; ++s) {
        const double iou = shape_iou(masks[k][static_cast<size_t>(f)], b, static_cast<Shape>(s), size);
        if (iou > best_iou) {
          best_iou = iou;
          best = s;
        }
      }
      ++votes[static_cast<size_t>(best)];
      ++measured;
    }
    if (measured > 0) {
      const auto top = std::max_element(votes.begin(), votes.end());
      os.shape_seen = word_of(rt::WordCategory::shape, static_cast<int>(top - votes.begin()));
      os.shape = 3 * votes[static_cast<size_t>(o.shape)] >= 2 * measured && 4 * measured >= F;
    }

    // Motion: the track of the frames where the object is present.
    std::vector<double> xs, ys, rs;
    bool jump = false;
    const Blob* prev = nullptr;
    for (const Blob& b : blobs[k]) {
      if (static_cast<double>(b.area) < min_area) {
        prev = nullptr;
        continue;
      }
      if (prev && std::hypot(b.cx - prev->cx, b.cy - prev->cy) > h / 3) jump = true;
      xs.push_back(b.cx);
      ys.push_back(b.cy);
      rs.push_back(std::sqrt(static_cast<double>(b.area)));
      prev = &b;
    }
    if (!jump && 3 * static_cast<int64_t>(xs.size()) >= 2 * F) {
      const auto range = [](const std::vector<double>& a) {
        const auto [lo, hi] = std::minmax_element(a.begin(), a.end());
        return *hi - *lo;
      };
      double mean_r = 0;
      for (double r : rs) mean_r += r / static_cast<double>(rs.size());
      const double rx = range(xs), ry = range(ys), rel_size = range(rs) / mean_r;
      Motion seen = Motion::pulse;
      bool still = false;
      if (std::max(rx, ry) < 0.08 * h) {
        still = rel_size < 0.25;  // neither moving nor pulsing
      } else if (ry < 0.25 * rx) {
        seen = Motion::slide;
      } else if (rx < 0.25 * ry) {
        seen = Motion::bounce;
      } else {
        seen = Motion::orbit;
      }
      if (!still) {
        os.motion_seen = word_of(rt::WordCategory::motion, static_cast<int>(seen));
        os.motion = seen == o.motion;
      }
    }
    score.objects.push_back(os);
  }

  // Background pixels: grey (the tones are muted: channel spread ≤ 28) and not next to an object pixel.
  std::vector<std::vector<uint8_t>> bg(static_cast<size_t>(F), std::vector<uint8_t>(static_cast<size_t>(H * W), 0));
  for (int64_t f = 0; f < F; ++f) {
    for (int64_t y = 0; y < H; ++y) {
      for (int64_t x = 0; x < W; ++x) {
        bool ok = true;
        for (int64_t dy = -2; dy <= 2 && ok; ++dy) {
          for (int64_t dx = -2; dx <= 2 && ok; ++dx) {
            const int64_t yy = std::clamp<int64_t>(y + dy, 0, H - 1), xx = std::clamp<int64_t>(x + dx, 0, W - 1);
            const uint8_t* p = v.pixel(f, yy, xx);
            const int spread = std::max({p[0], p[1], p[2]}) - std::min({p[0], p[1], p[2]});
            if (spread > 40 || all_objects[static_cast<size_t>(f)][static_cast<size_t>(yy * W + xx)]) ok = false;
          }
        }
        bg[static_cast<size_t>(f)][static_cast<size_t>(y * W + x)] = ok;
      }
    }
  }

  // Background kind, per frame, by majority: two tones split at the middle of the luminance range (5th–95th
  // percentile); dots: the minority tone is under 38 % (π·0.3² ≈ 28 % in the generator); stripes: ≥ 85 % of the
  // pixel pairs (x, y), (x + 3, y − 6) agree (the stripes' lines run along (1, −2)); else checker.
  std::array<int64_t, 3> bg_votes{};
  for (int64_t f = 0; f < F; ++f) {
    std::vector<double> lum;
    for (int64_t i = 0; i < H * W; ++i) {
      if (bg[static_cast<size_t>(f)][static_cast<size_t>(i)]) lum.push_back(luminance(v.pixel(f, 0, 0) + 3 * i));
    }
    if (static_cast<int64_t>(lum.size()) < H * W / 4) continue;
    std::vector<double> sorted = lum;
    std::sort(sorted.begin(), sorted.end());
    const double lo = sorted[sorted.size() / 20], hi = sorted[sorted.size() * 19 / 20];
    if (hi - lo < 12) continue;  // one tone: no texture
    const double mid = (lo + hi) / 2;
    auto tone = [&](int64_t y, int64_t x) { return luminance(v.pixel(f, y, x)) > mid; };
    int64_t light = 0, n = 0, agree = 0, pairs = 0;
    for (int64_t y = 0; y < H; ++y) {
      for (int64_t x = 0; x < W; ++x) {
        if (!bg[static_cast<size_t>(f)][static_cast<size_t>(y * W + x)]) continue;
        const bool t = tone(y, x);
        light += t;
        ++n;
        if (y >= 6 && x + 3 < W && bg[static_cast<size_t>(f)][static_cast<size_t>((y - 6) * W + x + 3)]) {
          agree += t == tone(y - 6, x + 3);
          ++pairs;
        }
      }
    }
    const double minority = static_cast<double>(std::min(light, n - light)) / static_cast<double>(n);
    const double along = pairs > 0 ? static_cast<double>(agree) / static_cast<double>(pairs) : 0;
    const Background kind = minority < 0.38 ? Background::dots : along >= 0.85 ? Background::stripes : Background::checker;
    ++bg_votes[static_cast<size_t>(kind)];
  }
  const auto bg_top = std::max_element(bg_votes.begin(), bg_votes.end());
  if (*bg_top > 0) {
    const int kind = static_cast<int>(bg_top - bg_votes.begin());
    score.background_seen = word_of(rt::WordCategory::background, kind);
    score.background = kind == static_cast<int>(scene.background) && 2 * *bg_top > F;
  }

  // Camera: per pair of consecutive frames, the horizontal shift s (|s| ≤ 0.08·W, above the generator's largest
  // pan of 0.06·W per frame) minimising the mean luminance difference of background pixels present in both.
  const int64_t max_shift = static_cast<int64_t>(std::ceil(0.08 * static_cast<double>(W)));
  int64_t still = 0, panned = 0;
  for (int64_t f = 0; f + 1 < F; ++f) {
    double best = std::numeric_limits<double>::infinity(), at_zero = 0;
    int64_t best_s = 0;
    for (int64_t s = -max_shift; s <= max_shift; ++s) {
      double sum = 0;
      int64_t n = 0;
      for (int64_t y = 0; y < H; y += 2) {
        for (int64_t x = std::max<int64_t>(0, -s); x < std::min(W, W - s); ++x) {
          if (!bg[static_cast<size_t>(f + 1)][static_cast<size_t>(y * W + x)] ||
              !bg[static_cast<size_t>(f)][static_cast<size_t>(y * W + x + s)]) {
            continue;
          }
          sum += std::abs(luminance(v.pixel(f + 1, y, x)) - luminance(v.pixel(f, y, x + s)));
          ++n;
        }
      }
      if (n < H * W / 16) continue;
      const double e = sum / static_cast<double>(n);
      if (s == 0) at_zero = e;
      if (e < best - 1e-9) {
        best = e;
        best_s = s;
      }
    }
    if (best_s == 0) ++still;
    else if (std::abs(best_s) >= 2 && best < 0.6 * at_zero) ++panned;
  }
  const int64_t pairs = F - 1;
  if (4 * still >= 3 * pairs) score.camera_seen = "static";
  else if (4 * panned >= 3 * pairs) score.camera_seen = "pan";
  score.camera = score.camera_seen == (scene.camera == Camera::pan ? "pan" : "static");
  return score;
}

void ScoreTally::add(const VideoScore& s) {
  for (const ObjectScore& o : s.objects) {
    for (auto [c, ok] : {std::pair{ScoreCategory::colour, o.colour}, {ScoreCategory::shape, o.shape},
                         {ScoreCategory::motion, o.motion}}) {
      ++total[static_cast<int>(c)];
      passed[static_cast<int>(c)] += ok;
    }
  }
  ++total[static_cast<int>(ScoreCategory::background)];
  passed[static_cast<int>(ScoreCategory::background)] += s.background;
  ++total[static_cast<int>(ScoreCategory::camera)];
  passed[static_cast<int>(ScoreCategory::camera)] += s.camera;
}

double ScoreTally::percent(ScoreCategory c) const {
  const int i = static_cast<int>(c);
  return total[i] > 0 ? 100.0 * static_cast<double>(passed[i]) / static_cast<double>(total[i])
                      : std::numeric_limits<double>::quiet_NaN();
}

std::vector<std::string> score_prompts() {
  return {
      "red circle bounce checker static",
      "blue square slide stripes pan",
      "yellow triangle orbit dots static",
      "green ring pulse checker pan",
      "magenta square bounce cyan circle slide stripes static",
      "cyan triangle slide yellow ring orbit dots pan",
  };
}

}  // namespace svdit::demo
