#pragma once
// Shared by the profiler tests: a tiny Wan2.1 model (2 layers, 2 heads × 64) on a 3 × 8 × 6 token grid (S = 144,
// b = 64: G = 3 with a partial last block), temporary directories, running executables.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "support/run_svdit.h"
#include "support/temp_dir.h"
#include "svdit/runtime/text_embeddings.h"
#include "svdit/runtime/wan_config.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::profiler::test {

inline runtime::WanConfig tiny_config() {
  runtime::WanConfig c;
  c.dim = 128;
  c.ffn_dim = 256;
  c.num_heads = 2;
  c.num_layers = 2;
  c.text_dim = 64;
  c.text_len = 8;
  c.name = runtime::default_model_name(c);
  return c;
}
// 9 frames × 128 × 96 pixels → latents 3 × 16 × 12 → tokens 3 × 8 × 6.
inline constexpr int64_t kFrames = 9, kHeight = 128, kWidth = 96;

using svdit::testing::remove_tree;

inline std::filesystem::path test_dir() { return svdit::testing::test_dir("svdit_profiler"); }

// The inputs of the command-line suites in `dir`: config.json of tiny_config() and two prompts' embeddings,
// a.safetensors (5 tokens) and b.safetensors (8 tokens), from a fixed seed.
inline void write_cli_inputs(const std::filesystem::path& dir) {
  std::ofstream(dir / "config.json") << runtime::config_to_json(tiny_config()).dump();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(4);
  runtime::save_text_embeddings((dir / "a.safetensors").string(), at::randn({5, 64}, gen));
  runtime::save_text_embeddings((dir / "b.safetensors").string(), at::randn({8, 64}, gen));
}

using svdit::testing::CommandResult;
using svdit::testing::run_command;
inline std::string bin(const std::string& name) { return svdit::testing::executable(name); }

}  // namespace svdit::profiler::test
