#pragma once
// Shared by the runtime tests: a small Wan2.1 config (2 layers, dim 128, 2 heads × 64, ffn 256, text 16 × 64), a
// fresh temporary directory per test, and small tensor helpers.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "svdit/runtime/wan_config.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::runtime::test {

inline WanConfig small_config() {
  WanConfig c;
  c.dim = 128;
  c.ffn_dim = 256;
  c.num_heads = 2;
  c.num_layers = 2;
  c.text_dim = 64;
  c.text_len = 16;
  c.name = default_model_name(c);
  return c;
}

using svdit::testing::remove_tree;

inline std::filesystem::path test_dir() { return svdit::testing::test_dir("svdit_runtime"); }

inline WanModel small_model(uint64_t seed = 7) {
  const WanConfig c = small_config();
  return WanModel(c, random_state_dict(c, WeightOptions{}, seed), "test model");
}

// Inputs for one forward of the small model on a 4 × 8 × 8 token grid (latents 4 × 16 × 16).
struct SmallInputs {
  at::Tensor latents;   // [1, 16, 4, 16, 16]
  at::Tensor timestep;  // [1]
  at::Tensor context;   // [1, 16, 64]
};
inline SmallInputs small_inputs(uint64_t seed = 11) {
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  SmallInputs in;
  in.latents = at::randn({1, 16, 4, 16, 16}, gen);
  in.timestep = at::full({1}, 731, at::kLong);
  in.context = at::randn({1, 16, 64}, gen);
  return in;
}

inline bool identical(const at::Tensor& a, const at::Tensor& b) {
  return a.sizes() == b.sizes() && at::equal(a, b);
}

}  // namespace svdit::runtime::test
