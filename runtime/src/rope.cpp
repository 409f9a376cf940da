// 3D RoPE tables and their application (see rope.h for the exact definition).

#include "svdit/runtime/rope.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace svdit::runtime {

std::array<int64_t, 3> rope_axis_pairs(int64_t head_dim) {
  if (head_dim < 6 || head_dim % 2 != 0) {
    throw std::invalid_argument("rope: head_dim must be even and ≥ 6, found " + std::to_string(head_dim));
  }
  const int64_t c = head_dim / 2;
  return {c - 2 * (c / 3), c / 3, c / 3};
}

RopeTable make_rope_table(int64_t head_dim, int64_t frames, int64_t height, int64_t width, double theta,
                          at::Device device) {
  const std::array<int64_t, 3> pairs = rope_axis_pairs(head_dim);
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  const std::array<int64_t, 3> extent = {frames, height, width};
  // Per axis: angle[pos, k] = pos · θ^(−k/n), broadcast over the other two axes of the grid.
  std::array<at::Tensor, 3> angles;
  for (size_t a = 0; a < 3; ++a) {
    const double n = static_cast<double>(pairs[a]);
    const at::Tensor k = at::arange(pairs[a], f64);                                  // [n]
    const at::Tensor omega = at::pow(theta, -k / n);                                  // [n]
    const at::Tensor pos = at::arange(extent[a], f64);                               // [extent]
    at::Tensor axis = at::outer(pos, omega);                                          // [extent, n]
    std::vector<int64_t> view = {1, 1, 1, pairs[a]};
    view[a] = extent[a];
    angles[a] = axis.view(view).expand({frames, height, width, pairs[a]});           // [F, H, W, n]
  }
  const at::Tensor angle = at::cat({angles[0], angles[1], angles[2]}, -1).reshape({frames * height * width, head_dim / 2});  // [S, c]
  RopeTable table;
  table.frames = frames;
  table.height = height;
  table.width = width;
  table.cos = at::cos(angle).to(device, at::kFloat);  // [S, c]
  table.sin = at::sin(angle).to(device, at::kFloat);  // [S, c]
  return table;
}

at::Tensor apply_rope(const at::Tensor& x, const RopeTable& table) {
  if (x.dim() != 4 || x.size(1) != table.cos.size(0) || x.size(3) != 2 * table.cos.size(1)) {
    throw std::invalid_argument("apply_rope: expected x of shape [B, " + std::to_string(table.cos.size(0)) + ", H, " +
                                std::to_string(2 * table.cos.size(1)) + "], found " + c10::str(x.sizes()));
  }
  const int64_t B = x.size(0), S = x.size(1), H = x.size(2), c = x.size(3) / 2;
  const at::Tensor pairs = x.to(at::kFloat).reshape({B, S, H, c, 2});  // [B, S, H, c, 2]
  const at::Tensor re = pairs.select(-1, 0);                             // [B, S, H, c]
  const at::Tensor im = pairs.select(-1, 1);                             // [B, S, H, c]
  const at::Tensor cos = table.cos.view({1, S, 1, c});                   // [1, S, 1, c]
  const at::Tensor sin = table.sin.view({1, S, 1, c});                   // [1, S, 1, c]
  return at::stack({re * cos - im * sin, re * sin + im * cos}, -1).reshape({B, S, H, 2 * c});  // [B, S, H, D]
}

}  // namespace svdit::runtime
