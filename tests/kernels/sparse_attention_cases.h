#pragma once
// The one table of block-sparse attention cases and the one pass rule, shared by every test of a sparse-attention
// backend (like ggml's test-backend-ops): torch_sparse_attention_op_test.cpp runs svdit.sparse_attention on CPU
// tensors, gpu_sparse_attention_op_test.cpp the same table on CUDA tensors, gpu_sparse_attention_test.cpp the CUDA
// kernels' own backends and debug variants.
//
// A case is one layer: a token layout whose S is a multiple of neither 64 nor 128 and one pattern per head — the
// same pattern on every head (dense, skip, window, temporal = permuted, stripe+window = gathered columns) or a
// mixed layer (six different patterns in one call). Inputs are rounded to the tested dtype first, so every
// reference sees exactly what the backend sees. Pass rule, against ref = kernels::cpu::sparse_attention (fp64
// accumulation) and torch = LibTorch's SDPA in the tested dtype on the same device with the layout as a token mask:
//   ‖ours − ref‖ ≤ 2·‖torch − ref‖ + ε,   ε = 1e-5·‖ref‖ + 1e-6 (only matters where ref ≈ 0);
// rows without a key block exactly 0 with lse −inf; other rows' lse within 1e-3 of the reference's.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/packed_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"
#include "svdit/kernels/cpu/sparse_attention.h"

namespace svdit::test {

inline data::TokenLayout token_layout(int64_t frames, int64_t height, int64_t width, int64_t text_prefix,
                                      int64_t text_suffix, int64_t block) {
  return data::TokenLayout{frames, height, width, text_prefix, text_suffix, block};
}

// dense, skip, window, temporal, stripe+window, and a short temporal band (every kind of layout: full, empty,
// banded, permuted, gathered).
inline std::vector<data::Pattern> pattern_zoo(const data::TokenLayout& l) {
  using namespace svdit::data;
  const int64_t P = l.tokens_per_frame();
  return {
      make_pattern({dense_component()}),
      make_pattern({skip_component()}),
      make_pattern({window_component(P)}),
      make_pattern({temporal_component(std::max<int64_t>(1, P / 4), l.frames - 1)}),
      make_pattern({window_component(P / 2), first_frame_stripe(l)}),
      make_pattern({temporal_component(3, 1)}),
  };
}

struct LayerCase {
  std::string name;
  data::TokenLayout layout;
  std::vector<data::Pattern> heads;  // one pattern per head
  int64_t batch = 2;
};

// Token layouts with S = 270, 293 (text in front), 869 (text behind): multiples of neither 64 nor 128. Each
// pattern on two heads, and mixed layers; the S = 869 layer has rows of 7 (b = 128) or 14 (b = 64) key blocks,
// so a GPU kernel's pipeline stages are all reused and its barrier phases wrap.
inline std::vector<LayerCase> layer_cases(int64_t block) {
  std::vector<LayerCase> out;
  const char* names[] = {"dense", "skip", "window", "temporal", "stripe+window"};
  for (const data::TokenLayout& l : {token_layout(5, 6, 9, 0, 0, block), token_layout(4, 7, 10, 13, 0, block)}) {
    const std::vector<data::Pattern> zoo = pattern_zoo(l);
    const std::string where = "S=" + std::to_string(l.seq_len());
    for (size_t i = 0; i < 5; ++i) out.push_back({std::string(names[i]) + " " + where, l, {zoo[i], zoo[i]}});
    out.push_back({"mixed " + where, l, zoo});
  }
  const data::TokenLayout big = token_layout(9, 8, 12, 0, 5, block);
  out.push_back({"mixed S=" + std::to_string(big.seq_len()), big, pattern_zoo(big), 1});
  return out;
}

inline std::vector<data::BlockLayout> compile_heads(const LayerCase& c) {
  std::vector<data::BlockLayout> layouts;
  for (const data::Pattern& p : c.heads) layouts.push_back(data::compile_pattern(p, c.layout));
  return layouts;
}

// Token-level mask of a compiled layout, [S, S] bool: true where the layout computes the pair.
inline at::Tensor layout_mask(const data::BlockLayout& l) {
  const int64_t S = l.seq_len, nb = l.num_blocks, b = l.block_size;
  at::Tensor blocks = at::zeros({nb, nb}, at::kBool);  // [nb, nb]
  if (!l.skip) {
    auto acc = blocks.accessor<bool, 2>();
    for (int64_t q = 0; q < nb; ++q) {
      for (const int32_t k : l.keys_of(q)) acc[q][k] = true;
    }
  }
  at::Tensor block_of = at::empty({S}, at::kLong);  // [S] block of the layout position of each token
  auto bo = block_of.accessor<int64_t, 1>();
  for (int64_t pos = 0; pos < S; ++pos) bo[l.token_at(pos)] = pos / b;
  return blocks.index_select(0, block_of).index_select(1, block_of);  // [S, S]
}

struct Inputs {
  at::Tensor q, k, v;    // [B, S, H, D] in the tested dtype, on the tested device
  at::Tensor ref_out;    // [B, H, S, D] fp32 CPU: the plain reference
  at::Tensor ref_lse;    // [B, H, S]
  at::Tensor torch_out;  // [B, H, S, D] fp32 CPU: torch's SDPA in the tested dtype (rows without keys set to 0)
  at::Tensor has_key;    // [H, S] bool
};

// Torch's own attention in q's dtype on q's device, [B, H, S, D] inputs, mask [H, S, S] (true: attend).
inline at::Tensor torch_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                  const at::Tensor& mask) {
  const int64_t B = q.size(0), H = q.size(1), S = q.size(2);
  if (!q.is_cuda()) return at::scaled_dot_product_attention(q, k, v, mask.unsqueeze(0));
  // Memory-efficient SDPA (CUDA) wants an additive bias whose rows are 16-element aligned: pad, then slice.
  const int64_t S_pad = (S + 15) / 16 * 16;
  at::Tensor bias = at::full({B, H, S, S_pad}, -std::numeric_limits<float>::infinity(), q.options()).slice(3, 0, S);
  bias.masked_fill_(mask.to(q.device()).unsqueeze(0).expand({B, H, S, S}), 0.0);
  return std::get<0>(at::_scaled_dot_product_efficient_attention(q, k, v, bias, false));
}

inline Inputs make_inputs(const LayerCase& c, const std::vector<data::BlockLayout>& layouts, int64_t D,
                          at::ScalarType dtype, uint64_t seed, at::Device device) {
  const int64_t B = c.batch, H = static_cast<int64_t>(c.heads.size()), S = c.layout.seq_len();
  at::manual_seed(seed);
  Inputs in;
  in.q = at::randn({B, S, H, D}).to(dtype);  // [B, S, H, D], rounded to the tested dtype
  in.k = at::randn({B, S, H, D}).to(dtype);
  in.v = at::randn({B, S, H, D}).to(dtype);

  auto head_major = [](const at::Tensor& t) { return t.to(at::kFloat).permute({0, 2, 1, 3}).contiguous(); };
  const at::Tensor q32 = head_major(in.q), k32 = head_major(in.k), v32 = head_major(in.v);  // [B, H, S, D]
  in.ref_out = at::empty({B, H, S, D});
  in.ref_lse = at::empty({B, H, S});
  auto span_of = [](const at::Tensor& t) {
    return std::span<const float>(t.const_data_ptr<float>(), static_cast<size_t>(t.numel()));
  };
  kernels::cpu::sparse_attention(span_of(q32), span_of(k32), span_of(v32), kernels::cpu::AttentionShape{B, H, S, D},
                                 std::span<const data::BlockLayout>(layouts),
                                 std::span<float>(in.ref_out.data_ptr<float>(), static_cast<size_t>(in.ref_out.numel())),
                                 std::span<float>(in.ref_lse.data_ptr<float>(), static_cast<size_t>(in.ref_lse.numel())));

  std::vector<at::Tensor> masks;
  for (const data::BlockLayout& l : layouts) masks.push_back(layout_mask(l));
  const at::Tensor mask = at::stack(masks);  // [H, S, S]
  in.has_key = mask.any(-1);                 // [H, S]

  in.q = in.q.to(device);
  in.k = in.k.to(device);
  in.v = in.v.to(device);
  auto device_head_major = [](const at::Tensor& t) { return t.permute({0, 2, 1, 3}); };
  const at::Tensor torch_out =
      torch_attention(device_head_major(in.q), device_head_major(in.k), device_head_major(in.v), mask)
          .to(at::kFloat)
          .cpu();  // [B, H, S, D]
  in.torch_out = at::where(in.has_key.unsqueeze(0).unsqueeze(-1), torch_out, at::zeros_like(torch_out));
  return in;
}

// out [B, S, H, D] and lse [B, H, S] of the backend under test, on any device.
inline void check_against_references(const Inputs& in, const at::Tensor& out, const at::Tensor& lse_any) {
  ASSERT_EQ(out.sizes(), in.q.sizes());
  ASSERT_EQ(out.scalar_type(), in.q.scalar_type());
  ASSERT_EQ(lse_any.sizes(), in.ref_lse.sizes());
  ASSERT_EQ(lse_any.scalar_type(), at::kFloat);
  const at::Tensor ours = out.to(at::kFloat).permute({0, 2, 1, 3}).cpu();  // [B, H, S, D]
  const at::Tensor lse = lse_any.cpu();                                    // [B, H, S]
  ASSERT_TRUE(at::isfinite(ours).all().item<bool>()) << "output has NaN/inf (unwritten rows stay NaN)";

  const double ref_norm = in.ref_out.norm().item<double>();
  const double err_ours = (ours - in.ref_out).norm().item<double>();
  const double err_torch = (in.torch_out - in.ref_out).norm().item<double>();
  const double eps = 1e-5 * ref_norm + 1e-6;
  EXPECT_LE(err_ours, 2.0 * err_torch + eps)
      << "‖ours − ref‖ = " << err_ours << ", ‖torch − ref‖ = " << err_torch << ", ‖ref‖ = " << ref_norm;

  // Rows with no key: output exactly 0 and lse −inf; rows with keys: lse within 1e-3 of the fp64 reference
  // (same rounded inputs, fp32 dot products: far tighter than any same-dtype output comparison).
  const at::Tensor keyed = in.has_key.unsqueeze(0).expand_as(lse);  // [B, H, S]
  const at::Tensor empty_rows = keyed.logical_not();
  if (empty_rows.any().item<bool>()) {
    EXPECT_TRUE((ours.abs().sum(-1).masked_select(empty_rows) == 0).all().item<bool>()) << "rows without keys ≠ 0";
    EXPECT_TRUE(at::isneginf(lse.masked_select(empty_rows)).all().item<bool>()) << "rows without keys: lse ≠ -inf";
  }
  if (keyed.any().item<bool>()) {
    const at::Tensor diff = (lse - in.ref_lse).abs().masked_select(keyed);
    EXPECT_TRUE(at::isfinite(diff).all().item<bool>()) << "lse not finite on rows with keys";
    EXPECT_LE(diff.max().item<double>(), 1e-3) << "lse differs from the reference";
  }
}

}  // namespace svdit::test
