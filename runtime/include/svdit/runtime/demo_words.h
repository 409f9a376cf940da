#pragma once
// "demo-words": the demo model's text encoder (docs/DEMO_MODEL.md). A fixed vocabulary of class words — shapes,
// colours, motions, background textures, camera — each mapped to a fixed text_dim vector drawn from a seeded,
// platform-independent generator (splitmix64 + Box–Muller on the word's FNV-1a hash), so no weights are needed and
// every build on every machine gives the same numbers. A prompt is its words in order, one context row each:
//   row j = word_vector(word_j) + position_vector(j)        (j < text_len; the rest of the rows are zero)
// The position term lets the per-row text MLP tell "red circle … blue square" from "blue circle … red square"
// (cross-attention itself has no notion of key order). The empty prompt is all zeros (the CFG negative).
// Torch-free: the procedural video generator (runtime/demo) shares the vocabulary.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace svdit::runtime {

inline constexpr const char* kDemoWordsEncoder = "demo-words";  // WanConfig::text_encoder

enum class WordCategory { colour, shape, motion, background, camera };
const char* to_string(WordCategory category);  // "colour", "shape", …

struct DemoWord {
  const char* text;
  WordCategory category;
  int index;  // position within its category (colour 0 = red, …)
};

// The whole vocabulary, grouped by category in the order above. Stable: models are trained on these words.
std::span<const DemoWord> demo_vocabulary();
// The words of one category, in index order.
std::vector<std::string> demo_words_of(WordCategory category);
// "colours: red green …; shapes: …" for error messages and --help.
std::string describe_demo_vocabulary();

// nullptr when `word` is not in the vocabulary (case-sensitive, lower case).
const DemoWord* find_demo_word(std::string_view word);

// Splits a prompt on white space. Throws std::invalid_argument naming an unknown word and listing the vocabulary.
std::vector<std::string> split_demo_prompt(std::string_view prompt);

// The fixed vectors, text_dim floats each: N(0, 1) entries from the seeded generator.
std::vector<float> demo_word_vector(std::string_view word, int64_t text_dim);
std::vector<float> demo_position_vector(int64_t position, int64_t text_dim);

// The context rows of a prompt, row-major [text_len, text_dim]. std::invalid_argument for an unknown word or more
// words than text_len rows (naming the prompt, the count and text_len).
std::vector<float> demo_prompt_rows(std::string_view prompt, int64_t text_len, int64_t text_dim);

// splitmix64: the generator behind the vectors (also used by the demo's data generator).
uint64_t splitmix64(uint64_t& state);
// A standard normal from two splitmix64 draws (Box–Muller, the cosine branch), platform-independent up to libm.
double splitmix_normal(uint64_t& state);
// FNV-1a 64 of a string.
uint64_t fnv1a64(std::string_view text);

}  // namespace svdit::runtime
