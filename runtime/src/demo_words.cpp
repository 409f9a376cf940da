// The demo model's word encoder (see demo_words.h).

#include "svdit/runtime/demo_words.h"

#include <array>
#include <cctype>
#include <cmath>
#include <numbers>
#include <stdexcept>

namespace svdit::runtime {

namespace {

constexpr std::array<DemoWord, 19> kVocabulary = {{
    {"red", WordCategory::colour, 0},        {"green", WordCategory::colour, 1},
    {"blue", WordCategory::colour, 2},       {"yellow", WordCategory::colour, 3},
    {"cyan", WordCategory::colour, 4},       {"magenta", WordCategory::colour, 5},
    {"circle", WordCategory::shape, 0},      {"square", WordCategory::shape, 1},
    {"triangle", WordCategory::shape, 2},    {"ring", WordCategory::shape, 3},
    {"bounce", WordCategory::motion, 0},     {"slide", WordCategory::motion, 1},
    {"orbit", WordCategory::motion, 2},      {"pulse", WordCategory::motion, 3},
    {"stripes", WordCategory::background, 0}, {"checker", WordCategory::background, 1},
    {"dots", WordCategory::background, 2},   {"static", WordCategory::camera, 0},
    {"pan", WordCategory::camera, 1},
}};

// Seeds of the two vector families: a word's vector starts from kWordSeed ^ fnv1a(word), a position's from
// kPositionSeed + position. Changing either changes every trained demo model's conditioning.
constexpr uint64_t kWordSeed = 0x5D17DE30A0D5EEDULL;
constexpr uint64_t kPositionSeed = 0x9051710ULL;

std::vector<float> normal_vector(uint64_t state, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  for (float& v : out) v = static_cast<float>(splitmix_normal(state));
  return out;
}

}  // namespace

const char* to_string(WordCategory category) {
  switch (category) {
    case WordCategory::colour: return "colour";
    case WordCategory::shape: return "shape";
    case WordCategory::motion: return "motion";
    case WordCategory::background: return "background";
    case WordCategory::camera: return "camera";
  }
  return "?";
}

std::span<const DemoWord> demo_vocabulary() { return kVocabulary; }

std::vector<std::string> demo_words_of(WordCategory category) {
  std::vector<std::string> out;
  for (const DemoWord& w : kVocabulary) {
    if (w.category == category) out.emplace_back(w.text);
  }
  return out;
}

std::string describe_demo_vocabulary() {
  std::string s;
  for (WordCategory c : {WordCategory::colour, WordCategory::shape, WordCategory::motion, WordCategory::background,
                         WordCategory::camera}) {
    s += (s.empty() ? "" : "; ") + std::string(to_string(c)) + ":";
    for (const std::string& w : demo_words_of(c)) s += " " + w;
  }
  return s;
}

const DemoWord* find_demo_word(std::string_view word) {
  for (const DemoWord& w : kVocabulary) {
    if (word == w.text) return &w;
  }
  return nullptr;
}

std::vector<std::string> split_demo_prompt(std::string_view prompt) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < prompt.size()) {
    while (i < prompt.size() && std::isspace(static_cast<unsigned char>(prompt[i]))) ++i;
    size_t j = i;
    while (j < prompt.size() && !std::isspace(static_cast<unsigned char>(prompt[j]))) ++j;
    if (j > i) {
      const std::string word(prompt.substr(i, j - i));
      if (find_demo_word(word) == nullptr) {
        throw std::invalid_argument("demo-words: unknown word \"" + word + "\" in prompt \"" + std::string(prompt) +
                                    "\"; the vocabulary is " + describe_demo_vocabulary());
      }
      words.push_back(word);
    }
    i = j;
  }
  return words;
}

std::vector<float> demo_word_vector(std::string_view word, int64_t text_dim) {
  if (find_demo_word(word) == nullptr) {
    throw std::invalid_argument("demo-words: unknown word \"" + std::string(word) + "\"; the vocabulary is " +
                                describe_demo_vocabulary());
  }
  return normal_vector(kWordSeed ^ fnv1a64(word), text_dim);
}

std::vector<float> demo_position_vector(int64_t position, int64_t text_dim) {
  return normal_vector(kPositionSeed + static_cast<uint64_t>(position), text_dim);
}

std::vector<float> demo_prompt_rows(std::string_view prompt, int64_t text_len, int64_t text_dim) {
  const std::vector<std::string> words = split_demo_prompt(prompt);
  if (static_cast<int64_t>(words.size()) > text_len) {
    throw std::invalid_argument("demo-words: prompt \"" + std::string(prompt) + "\" has " +
                                std::to_string(words.size()) + " words, the model takes at most text_len = " +
                                std::to_string(text_len));
  }
  // Overflow-checked: the sizes come from a config.json (validate(WanConfig) bounds them; this guards other callers).
  int64_t elements = 0;
  if (text_len < 0 || text_dim < 0 || __builtin_mul_overflow(text_len, text_dim, &elements) ||
      elements > (int64_t{1} << 28)) {
    throw std::invalid_argument("demo-words: text_len " + std::to_string(text_len) + " x text_dim " +
                                std::to_string(text_dim) + " is outside [0, 2^28] elements");
  }
  std::vector<float> rows(static_cast<size_t>(elements), 0.0f);  // [text_len, text_dim]
  for (size_t j = 0; j < words.size(); ++j) {
    const std::vector<float> w = demo_word_vector(words[j], text_dim);
    const std::vector<float> p = demo_position_vector(static_cast<int64_t>(j), text_dim);
    float* row = rows.data() + j * static_cast<size_t>(text_dim);
    for (size_t k = 0; k < w.size(); ++k) row[k] = w[k] + p[k];
  }
  return rows;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

double splitmix_normal(uint64_t& state) {
  // u1 in (0, 1] so that log(u1) is finite; 53-bit uniforms.
  const double u1 = (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
  const double u2 = static_cast<double>(splitmix64(state) >> 11) * 0x1.0p-53;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001B3ULL;
  }
  return h;
}

}  // namespace svdit::runtime
