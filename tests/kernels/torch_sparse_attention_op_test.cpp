// svdit.sparse_attention on CPU tensors: the shared table (sparse_attention_cases.h) through the op's CPU kernel —
// the same harness as the CUDA kernel's (gpu_sparse_attention_op_test.cpp) — and what only the CPU side shows
// without a device: the call from Python's side (boxed, order None), strided inputs, and the refusals.

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "sparse_attention_op_harness.h"
#include "svdit/data/packed_layout.h"
#include "svdit/kernels/torch/sparse_attention.h"

namespace svdit::test {
namespace {

namespace ops = svdit::kernels::torch_ops;

class SparseAttentionOpCpu : public ::testing::TestWithParam<OpParam> {};

TEST_P(SparseAttentionOpCpu, MatchesReferencesOnEveryCase) {
  ASSERT_TRUE(ops::sparse_attention_runs_on(at::kCPU));
  run_table_on(at::Device(at::kCPU), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Table, SparseAttentionOpCpu, ::testing::ValuesIn(op_params()), op_param_name);

// The mixed layer of the table, packed on the CPU.
struct MixedLayer {
  LayerCase layer = layer_cases(64)[5];  // "mixed S=270"
  std::vector<data::BlockLayout> layouts = compile_heads(layer);
  ops::DeviceLayouts packed = ops::prepare_layouts(data::pack_layouts(layouts), at::kCPU);
  Inputs in = make_inputs(layer, layouts, 64, at::kFloat, 7, at::kCPU);
};

std::vector<c10::IValue> call_boxed(std::vector<c10::IValue> args) {
  const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow("svdit::sparse_attention", "");
  op.callBoxed(&args);
  return args;  // (out, lse)
}

// As torch.ops.svdit.sparse_attention(q, k, v, row_begin, key_blocks, None, 64) is called from Python: boxed,
// through the schema, order None (Python fills in the defaults; a boxed call carries every argument). For a layer
// without a permuted head, None and an empty order are one.
TEST(SparseAttentionOpCpu, BoxedCallWithOrderNoneEqualsTheCppCall) {
  const LayerCase window = layer_cases(64)[2];  // "window S=270": no permutation
  ASSERT_EQ(window.name, "window S=270");
  const std::vector<data::BlockLayout> layouts = compile_heads(window);
  const ops::DeviceLayouts packed = ops::prepare_layouts(data::pack_layouts(layouts), at::kCPU);
  ASSERT_EQ(packed.order.numel(), 0);
  const Inputs in = make_inputs(window, layouts, 64, at::kBFloat16, 11, at::kCPU);
  const std::vector<c10::IValue> result =
      call_boxed({in.q, in.k, in.v, packed.row_begin, packed.key_blocks, c10::IValue(), int64_t{64},
                  std::string("automatic"), int64_t{0}});
  ASSERT_EQ(result.size(), 2u);
  const ops::SparseAttentionResult expected = ops::sparse_attention(in.q, in.k, in.v, packed);
  EXPECT_TRUE(at::equal(result[0].toTensor(), expected.out));
  EXPECT_TRUE(at::equal(result[1].toTensor(), expected.lse));
  check_against_references(in, result[0].toTensor(), result[1].toTensor());
}

// [B, H, S, D] storage viewed as [B, S, H, D] (and a slice of a wider projection) gives bit-identical results.
TEST(SparseAttentionOpCpu, StridedInputsEqualContiguousOnes) {
  const MixedLayer m;
  const ops::SparseAttentionResult contiguous = ops::sparse_attention(m.in.q, m.in.k, m.in.v, m.packed);
  auto head_major = [](const at::Tensor& t) { return t.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3}); };
  const ops::SparseAttentionResult strided =
      ops::sparse_attention(head_major(m.in.q), head_major(m.in.k), head_major(m.in.v), m.packed);
  EXPECT_TRUE(at::equal(contiguous.out, strided.out));
  EXPECT_TRUE(at::equal(contiguous.lse, strided.lse));
  const at::Tensor qkv = at::cat({m.in.q, m.in.k, m.in.v}, 3);  // [B, S, H, 3D]: q, k, v as strided slices
  const int64_t D = m.in.q.size(3);
  const ops::SparseAttentionResult sliced =
      ops::sparse_attention(qkv.narrow(3, 0, D), qkv.narrow(3, D, D), qkv.narrow(3, 2 * D, D), m.packed);
  EXPECT_TRUE(at::equal(contiguous.out, sliced.out));
}

// The arrays may come from Python: what the CPU kernel would index out of range is refused with a message
// naming the argument, as are the CUDA-only knobs.
TEST(SparseAttentionOpCpu, RefusesInputsThatDoNotFit) {
  const MixedLayer m;
  auto refused = [&](const ops::DeviceLayouts& l, const std::string& needle, const std::string& backend = "automatic",
                     int64_t variant = 0) {
    try {
      (void)ops::sparse_attention(m.in.q, m.in.k, m.in.v, l, backend, variant);
    } catch (const c10::Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted; expected an error about " << needle;
  };
  ops::DeviceLayouts l = m.packed;
  l.row_begin = m.packed.row_begin.narrow(0, 0, 5);  // 5 heads for 6
  refused(l, "row_begin must be [H, ⌈S/b⌉ + 1] = [6, 6]");
  l = m.packed;
  l.key_blocks = m.packed.key_blocks.clone();
  l.key_blocks[0] = 99;
  refused(l, "not ascending inside [0, 5)");
  l = m.packed;
  l.row_begin = m.packed.row_begin.clone();
  l.row_begin[0][1] = static_cast<int32_t>(m.packed.key_blocks.numel() + 1);
  refused(l, "is not an ascending range inside key_blocks");
  l = m.packed;
  l.order = m.packed.order.clone();
  l.order[3][0] = l.order[3][1].item<int32_t>();
  refused(l, "order[3] is not a permutation");
  l = m.packed;
  l.order = m.packed.order.to(at::kLong);
  refused(l, "order must be a contiguous int32 tensor");
  l = m.packed;
  l.block_size = 32;
  refused(l, "block_size must be 64 or 128");
  refused(m.packed, "is a CUDA backend", "hopper");
  refused(m.packed, "CUDA benchmarking knob", "automatic", 16);

  const at::Tensor q64 = m.in.q.to(at::kDouble);
  EXPECT_THROW((void)ops::sparse_attention(q64, q64, q64, m.packed), c10::Error);
  EXPECT_THROW((void)ops::sparse_attention(m.in.q, m.in.k, m.in.v.narrow(1, 0, 100), m.packed), c10::Error);
  const at::Tensor not_last_contiguous = m.in.q.transpose(2, 3).contiguous().transpose(2, 3);
  EXPECT_THROW((void)ops::sparse_attention(not_last_contiguous, m.in.k, m.in.v, m.packed), c10::Error);
}

// pack_layouts (data/) checks what the kernels trust, naming the head.
TEST(PackLayouts, RefusesLayoutsThatDisagreeOrAreMalformed) {
  const LayerCase mixed = layer_cases(64)[5];
  std::vector<data::BlockLayout> layouts = compile_heads(mixed);
  const data::PackedLayouts packed = data::pack_layouts(layouts);
  EXPECT_EQ(packed.heads, 6);
  EXPECT_EQ(packed.row_begin.size(), 6u * static_cast<size_t>(packed.num_blocks + 1));
  EXPECT_EQ(packed.order.size(), 6u * static_cast<size_t>(packed.seq_len));  // a temporal head is permuted
  auto refused = [](const std::vector<data::BlockLayout>& ls, const std::string& needle) {
    try {
      (void)data::pack_layouts(ls);
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      return;
    }
    ADD_FAILURE() << "accepted; expected an error about " << needle;
  };
  std::vector<data::BlockLayout> other = layouts;
  other[2] = data::compile_pattern(mixed.heads[2], token_layout(5, 6, 9, 0, 0, 128));
  refused(other, "head 2: S=270 b=128 differs from head 0 (S=270 b=64)");
  other = layouts;
  other[2].key_blocks.back() = 99;
  refused(other, "head 2: key blocks of query block");
  other = layouts;
  other[3].order[0] = other[3].order[1];
  refused(other, "head 3: order is not a permutation");
  refused({}, "no layouts");
  const std::vector<const data::BlockLayout*> with_null = {&layouts[0], nullptr};
  EXPECT_THROW((void)data::pack_layouts(std::span<const data::BlockLayout* const>(with_null)), std::invalid_argument);
}

}  // namespace
}  // namespace svdit::test
