// The runtime's fast CPU block-sparse path against the plain reference (kernels/cpu), pattern by pattern, on a
// layout whose S is not a multiple of the block (a partial last block) and with permuted and stripe layouts.

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <span>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/kernels/cpu/sparse_attention.h"
#include "svdit/runtime/sparse_attention_cpu.h"

namespace svdit::runtime {
namespace {

// Reference output [B, S, H, D] for per-head layouts, through kernels::cpu::sparse_attention on [B, H, S, D].
at::Tensor reference(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                     const std::vector<const data::BlockLayout*>& layouts) {
  const at::Tensor qh = q.transpose(1, 2).contiguous(), kh = k.transpose(1, 2).contiguous(),
                   vh = v.transpose(1, 2).contiguous();  // [B, H, S, D]
  at::Tensor out = at::empty_like(qh), lse = at::empty({q.size(0), q.size(2), q.size(1)});
  auto span_of = [](const at::Tensor& t) {
    return std::span<const float>(t.const_data_ptr<float>(), static_cast<size_t>(t.numel()));
  };
  kernels::cpu::sparse_attention(span_of(qh), span_of(kh), span_of(vh),
                                 kernels::cpu::AttentionShape{q.size(0), q.size(2), q.size(1), q.size(3)},
                                 std::span<const data::BlockLayout* const>(layouts.data(), layouts.size()),
                                 std::span<float>(out.data_ptr<float>(), static_cast<size_t>(out.numel())),
                                 std::span<float>(lse.data_ptr<float>(), static_cast<size_t>(lse.numel())));
  return out.transpose(1, 2);  // [B, S, H, D]
}

TEST(SparseAttentionCpu, MatchesTheReferenceForEveryPatternKind) {
  data::TokenLayout layout;
  layout.frames = 6;
  layout.height = 8;
  layout.width = 10;  // P = 80, S = 480: not a multiple of the block
  layout.block_size = 64;
  const std::vector<data::Pattern> patterns = {
      data::make_pattern({data::dense_component()}),
      data::make_pattern({data::window_component(40)}),
      data::make_pattern({data::temporal_component(3, 2)}),  // permuted: position-major
      data::make_pattern({data::first_frame_stripe(layout), data::window_component(10)}),  // gathered columns
      data::make_pattern({data::skip_component()}),
  };
  std::vector<data::BlockLayout> compiled;
  for (const data::Pattern& p : patterns) compiled.push_back(data::compile_pattern(p, layout));
  std::vector<const data::BlockLayout*> layouts;
  std::vector<CpuBlockIndex> indices;
  indices.reserve(compiled.size());
  for (const data::BlockLayout& c : compiled) {
    layouts.push_back(&c);
    indices.emplace_back(c);
  }
  std::vector<const CpuBlockIndex*> heads;
  for (const CpuBlockIndex& i : indices) heads.push_back(&i);

  at::manual_seed(7);
  const int64_t B = 2, S = layout.seq_len(), H = static_cast<int64_t>(patterns.size()), D = 16;
  const at::Tensor q = at::randn({B, S, H, D}), k = at::randn({B, S, H, D}), v = at::randn({B, S, H, D});
  const at::Tensor expected = reference(q, k, v, layouts);  // [B, S, H, D]
  const at::Tensor got = sparse_attention_cpu(q, k, v, heads);
  ASSERT_EQ(got.sizes(), q.sizes());
  for (int64_t h = 0; h < H; ++h) {
    const double err = (got.select(2, h) - expected.select(2, h)).abs().max().item<double>();
    EXPECT_LT(err, 1e-5) << "head " << h << ": " << data::describe(patterns[static_cast<size_t>(h)]);
  }
  EXPECT_EQ(got.select(2, 4).abs().max().item<double>(), 0.0);  // skip
  // A sparse head is not the dense result (the test would not notice a path that ignores the layout otherwise).
  EXPECT_GT((got.select(2, 1) - expected.select(2, 0)).abs().max().item<double>(), 1e-3);
}

TEST(SparseAttentionCpu, RefusesMismatchedShapes) {
  data::TokenLayout layout;
  layout.frames = 2;
  layout.height = 4;
  layout.width = 10;  // S = 80
  layout.block_size = 64;
  const data::BlockLayout compiled = data::compile_pattern(data::make_pattern({data::window_component(2)}), layout);
  const CpuBlockIndex index(compiled);
  const at::Tensor q = at::randn({1, 80, 1, 8});
  EXPECT_THROW(sparse_attention_cpu(q, q, q, {&index, &index}), std::invalid_argument);  // 2 layouts, 1 head
  const at::Tensor longer = at::randn({1, 96, 1, 8});
  EXPECT_THROW(sparse_attention_cpu(longer, longer, longer, {&index}), std::invalid_argument);  // S differs
}

}  // namespace
}  // namespace svdit::runtime
