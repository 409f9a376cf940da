#pragma once
// Shared by the demo tests: a tiny demo-shaped config (48 channels, pixel-unshuffle, demo-words; dim 32, 2 heads ×
// 16, 2 layers) with a 4-frame 16×24 video (4×2×3 tokens), fast training options, and a fresh temporary directory.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "svdit/demo/trainer.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::demo::test {

inline runtime::WanConfig tiny_config() {
  runtime::WanConfig c = demo_model_config();
  c.name = "svdit-demo-tiny";
  c.dim = 32;
  c.ffn_dim = 64;
  c.freq_dim = 32;
  c.num_heads = 2;
  c.num_layers = 2;
  c.text_dim = 16;
  return c;
}

inline TrainOptions tiny_options() {
  TrainOptions o;
  o.model = tiny_config();
  o.video = VideoSize{4, 16, 24};
  o.batch = 4;
  o.lr = 3e-3;
  o.warmup = 5;
  o.heldout = 8;
  o.eval_every = 1000;
  o.log_every = 1000;
  o.checkpoint_every = 1000;
  o.threads = 2;
  o.seed = 3;
  return o;
}

using svdit::testing::remove_tree;

inline std::filesystem::path test_dir() { return svdit::testing::test_dir("svdit_demo"); }

}  // namespace svdit::demo::test
