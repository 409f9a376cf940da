// The CPU reference's dense attention against LibTorch's own (fp32, CPU): an implementation we did not write,
// so agreement here means the reference's definition (scale, softmax, lse) is the one the rest of the world uses.
// Only <ATen/ATen.h>: the full torch/torch.h would triple this file's compile time for nothing.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "svdit/kernels/cpu/attention_shape.h"
#include "svdit/kernels/cpu/dense_attention.h"

namespace svdit::kernels::cpu {
namespace {

struct TorchCase {
  AttentionShape shape;
};

class DenseAgainstTorch : public ::testing::TestWithParam<TorchCase> {};

// A [B, H, S, D] (or [B, H, S]) view of a flat buffer; the buffer must outlive the tensor.
at::Tensor view_of(std::vector<float>& buffer, std::vector<int64_t> sizes) {
  return at::from_blob(buffer.data(), sizes, at::TensorOptions().dtype(at::kFloat));
}

TEST_P(DenseAgainstTorch, OutputEqualsSdpaAndLseEqualsLogSumExpOfScaledScores) {
  const AttentionShape shape = GetParam().shape;
  const std::vector<int64_t> sizes = {shape.batch, shape.heads, shape.seq_len, shape.head_dim};
  at::manual_seed(static_cast<uint64_t>(shape.seq_len * 131 + shape.head_dim));
  // Scaled up so that the softmax is far from uniform: a wrong scale or a missing max shift shows.
  const at::Tensor q = (at::randn(sizes, at::kFloat) * 1.5).contiguous();  // [B, H, S, D]
  const at::Tensor k = (at::randn(sizes, at::kFloat) * 1.5).contiguous();  // [B, H, S, D]
  const at::Tensor v = at::randn(sizes, at::kFloat).contiguous();          // [B, H, S, D]

  std::vector<float> out(static_cast<size_t>(shape.elements()));  // [B, H, S, D]
  std::vector<float> lse(static_cast<size_t>(shape.rows()));      // [B, H, S]
  dense_attention({q.data_ptr<float>(), static_cast<size_t>(q.numel())},
                  {k.data_ptr<float>(), static_cast<size_t>(k.numel())},
                  {v.data_ptr<float>(), static_cast<size_t>(v.numel())}, shape, out, lse);

  // Torch in fp64 from the same fp32 inputs, so that the tolerance below measures our error, not torch's.
  const at::Tensor q64 = q.to(at::kDouble), k64 = k.to(at::kDouble), v64 = v.to(at::kDouble);
  const at::Tensor expected_out = at::scaled_dot_product_attention(q64, k64, v64);  // [B, H, S, D]
  const at::Tensor scores = at::matmul(q64, k64.transpose(-2, -1)) / std::sqrt(static_cast<double>(shape.head_dim));
  const at::Tensor expected_lse = at::logsumexp(scores, -1);  // [B, H, S]

  const at::Tensor got_out = view_of(out, sizes).to(at::kDouble);
  const at::Tensor got_lse = view_of(lse, {shape.batch, shape.heads, shape.seq_len}).to(at::kDouble);
  const double out_error = (got_out - expected_out).abs().max().item<double>();
  const double out_scale = expected_out.abs().max().item<double>();
  const double lse_error = (got_lse - expected_lse).abs().max().item<double>();
  const double lse_scale = expected_lse.abs().max().item<double>();
  // Both sides are exact to fp64; ours is rounded once to fp32 (relative 6e-8 of each value).
  EXPECT_LE(out_error, 1e-6 * out_scale) << "max |out − sdpa| = " << out_error;
  EXPECT_LE(lse_error, 1e-6 * lse_scale) << "max |lse − logsumexp| = " << lse_error;

  // And against torch's fp32 SDPA as a user would call it, to the tolerance fp32 attention has.
  const at::Tensor sdpa32 = at::scaled_dot_product_attention(q, k, v);
  EXPECT_TRUE(at::allclose(view_of(out, sizes), sdpa32, 1e-4, 1e-5))
      << "max diff " << (view_of(out, sizes) - sdpa32).abs().max().item<float>();
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, DenseAgainstTorch,
    ::testing::Values(TorchCase{{1, 1, 1, 16}},     // a single token: out = v, lse = its one score
                      TorchCase{{1, 2, 100, 64}},   //
                      TorchCase{{2, 3, 257, 128}},  // S not a multiple of any block size
                      TorchCase{{1, 2, 333, 64}}),
    [](const ::testing::TestParamInfo<TorchCase>& test) {
      const AttentionShape& s = test.param.shape;
      return "B" + std::to_string(s.batch) + "_H" + std::to_string(s.heads) + "_S" + std::to_string(s.seq_len) +
             "_D" + std::to_string(s.head_dim);
    });

}  // namespace
}  // namespace svdit::kernels::cpu
