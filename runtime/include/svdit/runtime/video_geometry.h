#pragma once
// The latent video of one sampling run and its token grid, for any model family: the latent frames, height and
// width (T, H, W) and the patch grid (F', H', W') its self-attention sees. Each family computes it from a pixel
// size with its own VAE strides and patch sizes (WanConfig's video_geometry, CogVideoXConfig's, …).

#include <cstdint>

namespace svdit::runtime {

struct VideoGeometry {
  int64_t latent_frames = 0, latent_height = 0, latent_width = 0;  // T, H, W of the latent video
  int64_t grid_frames = 0, grid_height = 0, grid_width = 0;        // F', H', W' of the token grid
  int64_t tokens() const { return grid_frames * grid_height * grid_width; }  // video tokens (no text)
};

}  // namespace svdit::runtime
