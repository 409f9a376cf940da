// GPU block-sparse attention against the CPU reference (svdit_kernels_cpu, fp64 accumulation) and a same-dtype
// torch reference (memory-efficient SDPA with the layout expanded to a token mask):
//   ‖ours − ref‖ ≤ 2·‖torch_same_dtype − ref‖ + ε,   ε = 1e-5·‖ref‖ + 1e-6 (only matters where ref ≈ 0),
// over head_dim {64, 128} × {bf16, fp16} × block {64, 128} × every backend that runs on the device × every
// pattern (dense, skip, window, temporal, stripe+window) and a mixed layer (different layouts per head, one
// launch), on token layouts whose S is not a multiple of the block, fresh random inputs per case, outputs
// poisoned with NaN before each launch.

#include <ATen/ATen.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/token_layout.h"
#include "svdit/kernels/cpu/sparse_attention.h"
#include "svdit/kernels/cuda/cuda_check.h"
#include "svdit/kernels/cuda/packed_layout.h"
#include "svdit/kernels/cuda/sparse_attention.h"

namespace {

using svdit::data::BlockLayout;
using svdit::data::Pattern;
using svdit::data::TokenLayout;
namespace sk = svdit::kernels;

bool gpu_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

#define SVDIT_SKIP_WITHOUT_GPU()                                                    \
  do {                                                                              \
    if (!gpu_available()) GTEST_SKIP() << "no CUDA device (cudaGetDeviceCount)";    \
  } while (0)

bool hopper_runs() {
  sk::SparseAttentionParams probe;
  probe.block_size = 128;
  return sk::resolve_backend(probe) == sk::AttentionBackend::hopper;
}

TokenLayout token_layout(int64_t frames, int64_t height, int64_t width, int64_t text_prefix, int64_t text_suffix,
                         int64_t block) {
  TokenLayout l;
  l.frames = frames;
  l.height = height;
  l.width = width;
  l.text_prefix = text_prefix;
  l.text_suffix = text_suffix;
  l.block_size = block;
  return l;
}

struct Case {
  std::string name;
  TokenLayout layout;
  std::vector<Pattern> heads;
  int64_t batch = 2;
};

std::vector<Pattern> pattern_zoo(const TokenLayout& l) {
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

// Token layouts with S = 270, 293, 869: multiples of neither 64 nor 128; one with text in front, one behind.
std::vector<Case> cases(int64_t block) {
  std::vector<Case> out;
  const char* names[] = {"dense", "skip", "window", "temporal", "stripe+window"};
  for (const TokenLayout& l : {token_layout(5, 6, 9, 0, 0, block), token_layout(4, 7, 10, 13, 0, block)}) {
    const std::vector<Pattern> zoo = pattern_zoo(l);
    const std::string where = "S=" + std::to_string(l.seq_len());
    for (size_t i = 0; i < 5; ++i) out.push_back({std::string(names[i]) + " " + where, l, {zoo[i], zoo[i]}});
    out.push_back({"mixed " + where, l, zoo});
  }
  // Rows with 7 (b = 128) or 14 (b = 64) key blocks: every pipeline stage is reused, barrier phases wrap.
  const TokenLayout big = token_layout(9, 8, 12, 0, 5, block);
  out.push_back({"mixed S=" + std::to_string(big.seq_len()), big, pattern_zoo(big), 1});
  return out;
}

at::Tensor device_ints(const std::vector<int32_t>& values) {
  if (values.empty()) return at::empty({0}, at::TensorOptions().dtype(at::kInt).device(at::kCUDA));
  return at::from_blob(const_cast<int32_t*>(values.data()), {static_cast<int64_t>(values.size())}, at::kInt)
      .to(at::kCUDA);
}

// Token-level mask of a compiled layout, [S, S] bool: true where the kernel must include the pair.
at::Tensor layout_mask(const BlockLayout& l) {
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
  at::Tensor q, k, v;  // [B, S, H, D] on the GPU, dtype
  at::Tensor ref_out;  // [B, H, S, D] fp32, CPU reference
  at::Tensor ref_lse;  // [B, H, S]
  at::Tensor torch_out;  // [B, H, S, D] fp32, same-dtype torch reference (rows without keys set to 0)
  at::Tensor has_key;  // [H, S] bool
};

Inputs make_inputs(const Case& c, const std::vector<BlockLayout>& layouts, int64_t D, at::ScalarType dtype,
                   uint64_t seed) {
  const int64_t B = c.batch, H = static_cast<int64_t>(c.heads.size()), S = c.layout.seq_len();
  at::manual_seed(seed);
  Inputs in;
  // Inputs rounded to the kernel dtype first, so every reference sees exactly the kernel's inputs.
  in.q = at::randn({B, S, H, D}).to(dtype);  // [B, S, H, D]
  in.k = at::randn({B, S, H, D}).to(dtype);
  in.v = at::randn({B, S, H, D}).to(dtype);

  auto head_major = [](const at::Tensor& t) { return t.to(at::kFloat).permute({0, 2, 1, 3}).contiguous(); };
  const at::Tensor q32 = head_major(in.q), k32 = head_major(in.k), v32 = head_major(in.v);  // [B, H, S, D]
  in.ref_out = at::empty({B, H, S, D});
  in.ref_lse = at::empty({B, H, S});
  sk::cpu::AttentionShape shape{B, H, S, D};
  auto span_of = [](const at::Tensor& t) { return std::span<const float>(t.data_ptr<float>(), t.numel()); };
  sk::cpu::sparse_attention(span_of(q32), span_of(k32), span_of(v32), shape, std::span<const BlockLayout>(layouts),
                            std::span<float>(in.ref_out.data_ptr<float>(), in.ref_out.numel()),
                            std::span<float>(in.ref_lse.data_ptr<float>(), in.ref_lse.numel()));

  std::vector<at::Tensor> masks;
  for (const BlockLayout& l : layouts) masks.push_back(layout_mask(l));
  const at::Tensor mask = at::stack(masks);  // [H, S, S]
  in.has_key = mask.any(-1);                 // [H, S]

  // Memory-efficient SDPA wants an additive bias whose rows are 16-element aligned: pad, then slice.
  const int64_t S_pad = (S + 15) / 16 * 16;
  at::Tensor bias = at::full({B, H, S, S_pad}, -std::numeric_limits<float>::infinity(),
                             at::TensorOptions().dtype(dtype).device(at::kCUDA));
  bias = bias.slice(3, 0, S);
  bias.masked_fill_(mask.to(at::kCUDA).unsqueeze(0).expand({B, H, S, S}), 0.0);
  auto gpu_head_major = [](const at::Tensor& t) { return t.to(at::kCUDA).permute({0, 2, 1, 3}); };
  const auto result = at::_scaled_dot_product_efficient_attention(gpu_head_major(in.q), gpu_head_major(in.k),
                                                                  gpu_head_major(in.v), bias, false);
  const at::Tensor torch_out = std::get<0>(result).to(at::kFloat).cpu();  // [B, H, S, D]
  in.torch_out = at::where(in.has_key.unsqueeze(0).unsqueeze(-1), torch_out, at::zeros_like(torch_out));

  in.q = in.q.to(at::kCUDA);
  in.k = in.k.to(at::kCUDA);
  in.v = in.v.to(at::kCUDA);
  return in;
}

sk::Strides token_major_strides(const at::Tensor& t) { return {t.stride(0), t.stride(2), t.stride(1)}; }

struct KernelRun {
  at::Tensor out;  // [B, S, H, D] dtype, GPU
  at::Tensor lse;  // [B, H, S] fp32, GPU
};

KernelRun run_kernel(const Inputs& in, const sk::PackedLayouts& packed, sk::AttentionBackend backend,
                     const at::Tensor& row_begin, const at::Tensor& key_blocks, const at::Tensor& order,
                     const sk::KernelDebug& debug = {}) {
  KernelRun r;
  // Poisoned: a row the kernel forgets stays NaN and fails the comparison.
  r.out = at::full(in.q.sizes(), std::numeric_limits<float>::quiet_NaN(), in.q.options());
  r.lse = at::full({in.q.size(0), in.q.size(2), in.q.size(1)}, std::numeric_limits<float>::quiet_NaN(),
                   in.q.options().dtype(at::kFloat));
  sk::SparseAttentionParams p;
  p.dtype = in.q.scalar_type() == at::kBFloat16 ? sk::ScalarType::bf16 : sk::ScalarType::fp16;
  p.head_dim = static_cast<int>(in.q.size(3));
  p.batch = static_cast<int>(in.q.size(0));
  p.seq_len = static_cast<int>(in.q.size(1));
  p.heads = static_cast<int>(in.q.size(2));
  p.q = in.q.data_ptr();
  p.k = in.k.data_ptr();
  p.v = in.v.data_ptr();
  p.out = r.out.data_ptr();
  p.q_strides = token_major_strides(in.q);
  p.k_strides = token_major_strides(in.k);
  p.v_strides = token_major_strides(in.v);
  p.out_strides = token_major_strides(r.out);
  p.lse = r.lse.data_ptr<float>();
  p.block_size = static_cast<int>(packed.block_size);
  p.row_begin = row_begin.data_ptr<int32_t>();
  p.key_blocks = key_blocks.numel() ? key_blocks.data_ptr<int32_t>() : nullptr;
  p.order = order.numel() ? order.data_ptr<int32_t>() : nullptr;
  p.backend = backend;
  p.debug = debug;
  EXPECT_EQ(sk::sparse_attention_forward(p, nullptr), backend);
  SVDIT_CUDA_CHECK(cudaDeviceSynchronize());
  return r;
}

void check_against_references(const Inputs& in, const KernelRun& run) {
  const at::Tensor ours = run.out.to(at::kFloat).permute({0, 2, 1, 3}).cpu();  // [B, H, S, D]
  const at::Tensor lse = run.lse.cpu();                                        // [B, H, S]
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

std::vector<sk::AttentionBackend> backends_for(int64_t block) {
  std::vector<sk::AttentionBackend> b = {sk::AttentionBackend::portable};
  if (block == 128 && hopper_runs()) b.push_back(sk::AttentionBackend::hopper);
  return b;
}

using Param = std::tuple<int, at::ScalarType, int64_t>;  // head_dim, dtype, block size

class GpuSparseAttention : public ::testing::TestWithParam<Param> {};

TEST_P(GpuSparseAttention, MatchesReferencesOnEveryPattern) {
  SVDIT_SKIP_WITHOUT_GPU();
  const auto [head_dim, dtype, block] = GetParam();
  std::random_device device;
  for (const Case& c : cases(block)) {
    const uint64_t seed = (static_cast<uint64_t>(device()) << 32) | device();
    SCOPED_TRACE(c.name + " seed=" + std::to_string(seed));
    std::vector<BlockLayout> layouts;
    for (const Pattern& p : c.heads) layouts.push_back(svdit::data::compile_pattern(p, c.layout));
    const sk::PackedLayouts packed = sk::pack_layouts(layouts);
    const Inputs in = make_inputs(c, layouts, head_dim, dtype, seed);
    const at::Tensor row_begin = device_ints(packed.row_begin);
    const at::Tensor key_blocks = device_ints(packed.key_blocks);
    const at::Tensor order = device_ints(packed.order);
    for (const sk::AttentionBackend backend : backends_for(block)) {
      SCOPED_TRACE(std::string("backend=") + sk::to_string(backend));
      check_against_references(in, run_kernel(in, packed, backend, row_begin, key_blocks, order));
    }
  }
}

std::string param_name(const ::testing::TestParamInfo<Param>& param) {
  return "hd" + std::to_string(std::get<0>(param.param)) +
         (std::get<1>(param.param) == at::kBFloat16 ? "_bf16" : "_fp16") + "_b" + std::to_string(std::get<2>(param.param));
}

INSTANTIATE_TEST_SUITE_P(All, GpuSparseAttention,
                         ::testing::Combine(::testing::Values(64, 128), ::testing::Values(at::kBFloat16, at::kHalf),
                                            ::testing::Values(int64_t{64}, int64_t{128})),
                         param_name);

// On an sm_90 device the automatic choice for b = 128 must be the Hopper path, so that its coverage above
// cannot silently disappear (e.g. a build without 90a).
TEST(GpuSparseAttentionBackend, HopperIsChosenOnSm90) {
  SVDIT_SKIP_WITHOUT_GPU();
  cudaDeviceProp prop{};
  SVDIT_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  if (prop.major != 9 || prop.minor != 0) GTEST_SKIP() << "device is sm_" << prop.major << prop.minor;
  EXPECT_TRUE(hopper_runs()) << "sm_90 device but the hopper backend is not selected (built without 90a?)";
}

// [B, H, S, D] tensors handed over through strides give bit-identical results to [B, S, H, D] ones.
TEST(GpuSparseAttentionStrides, HeadMajorEqualsTokenMajor) {
  SVDIT_SKIP_WITHOUT_GPU();
  const TokenLayout l = token_layout(5, 6, 9, 0, 0, 128);
  const Case c{"mixed", l, pattern_zoo(l), 2};
  std::vector<BlockLayout> layouts;
  for (const Pattern& p : c.heads) layouts.push_back(svdit::data::compile_pattern(p, l));
  const sk::PackedLayouts packed = sk::pack_layouts(layouts);
  const Inputs in = make_inputs(c, layouts, 128, at::kBFloat16, std::random_device{}());
  const at::Tensor row_begin = device_ints(packed.row_begin), key_blocks = device_ints(packed.key_blocks),
                   order = device_ints(packed.order);
  for (const sk::AttentionBackend backend : backends_for(128)) {
    SCOPED_TRACE(sk::to_string(backend));
    const KernelRun token_major = run_kernel(in, packed, backend, row_begin, key_blocks, order);
    Inputs hm = in;  // same values, stored [B, H, S, D], viewed as [B, S, H, D]
    hm.q = in.q.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3});
    hm.k = in.k.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3});
    hm.v = in.v.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3});
    const KernelRun head_major = run_kernel(hm, packed, backend, row_begin, key_blocks, order);
    EXPECT_TRUE(at::equal(token_major.out, head_major.out));
    EXPECT_TRUE(at::equal(token_major.lse, head_major.lse));
  }
}

// The Hopper producer loads a warp's 32 rows by TMA when they are consecutive tokens; other rows (permuted heads)
// are copied into layout order by a pre-pass and loaded by TMA from there, or, with KernelDebug::no_permute_prepass,
// gathered with cp.async in the kernel. LoadPath::tma_required requires the TMA path (throws if no tensor map could
// be built), cp_async_only turns TMA off: all three put the same bytes in shared memory, so outputs and lse must be
// bit-identical, and the TMA run must pass the reference check. Layers: unpermuted heads only (order == null: every tile by TMA, partial last blocks
// zero-filled by the tensor map), and mixed layers where permuted heads (gathered; text rows of a temporal head
// are runs, so TMA and gather meet inside one tile) share the launch with unpermuted ones, 7 key blocks per row
// so barrier phases wrap.
TEST(GpuSparseAttentionHopperTma, TmaEqualsGather) {
  SVDIT_SKIP_WITHOUT_GPU();
  if (!hopper_runs()) GTEST_SKIP() << "hopper backend does not run here";
  std::vector<Case> cs;
  const TokenLayout prefix = token_layout(4, 7, 10, 13, 0, 128);  // S = 293, text in front
  const std::vector<Pattern> zoo = pattern_zoo(prefix);
  cs.push_back({"dense+window S=293", prefix, {zoo[0], zoo[2], zoo[4]}, 2});
  cs.push_back({"mixed S=293", prefix, zoo, 2});
  const TokenLayout big = token_layout(9, 8, 12, 0, 5, 128);  // S = 869, text behind
  cs.push_back({"mixed S=869", big, pattern_zoo(big), 1});
  std::random_device device;
  for (const int head_dim : {64, 128}) {
    for (const at::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
      for (const Case& c : cs) {
        const uint64_t seed = (static_cast<uint64_t>(device()) << 32) | device();
        SCOPED_TRACE(c.name + " hd=" + std::to_string(head_dim) + (dtype == at::kHalf ? " fp16" : " bf16") +
                     " seed=" + std::to_string(seed));
        std::vector<BlockLayout> layouts;
        for (const Pattern& p : c.heads) layouts.push_back(svdit::data::compile_pattern(p, c.layout));
        const sk::PackedLayouts packed = sk::pack_layouts(layouts);
        const Inputs in = make_inputs(c, layouts, head_dim, dtype, seed);
        const at::Tensor row_begin = device_ints(packed.row_begin), key_blocks = device_ints(packed.key_blocks),
                         order = device_ints(packed.order);
        using LoadPath = sk::KernelDebug::LoadPath;
        const KernelRun tma = run_kernel(in, packed, sk::AttentionBackend::hopper, row_begin, key_blocks, order,
                                         {.load = LoadPath::tma_required});
        const KernelRun gather = run_kernel(in, packed, sk::AttentionBackend::hopper, row_begin, key_blocks, order,
                                            {.load = LoadPath::cp_async_only});
        const KernelRun tma_gather = run_kernel(in, packed, sk::AttentionBackend::hopper, row_begin, key_blocks,
                                                order, {.load = LoadPath::tma_required, .no_permute_prepass = true});
        check_against_references(in, tma);
        EXPECT_TRUE(at::equal(tma.out, gather.out)) << "TMA and gather outputs differ";
        EXPECT_TRUE(at::equal(tma.lse, gather.lse)) << "TMA and gather lse differ";
        EXPECT_TRUE(at::equal(tma.out, tma_gather.out)) << "pre-pass and in-kernel gather outputs differ";
        EXPECT_TRUE(at::equal(tma.lse, tma_gather.lse)) << "pre-pass and in-kernel gather lse differ";
      }
    }
  }
}

// The torch op's `int variant` keeps its bit meanings (kernels/bench/bench_sparse_attention.py --variants); a host
// function, so this runs without a device too.
TEST(KernelDebugFromVariantBits, KeepsTheBitMeanings) {
  using LoadPath = sk::KernelDebug::LoadPath;
  const sk::KernelDebug none = sk::debug_from_variant_bits(0);
  EXPECT_EQ(none.load, LoadPath::automatic);
  EXPECT_FALSE(none.skip_loads);
  EXPECT_FALSE(none.no_permute_prepass);
  EXPECT_TRUE(sk::debug_from_variant_bits(8).skip_loads);
  EXPECT_EQ(sk::debug_from_variant_bits(8).load, LoadPath::automatic);
  EXPECT_EQ(sk::debug_from_variant_bits(16).load, LoadPath::cp_async_only);
  EXPECT_EQ(sk::debug_from_variant_bits(32).load, LoadPath::tma_required);
  const sk::KernelDebug tma_gather = sk::debug_from_variant_bits(32 | 64);
  EXPECT_EQ(tma_gather.load, LoadPath::tma_required);
  EXPECT_TRUE(tma_gather.no_permute_prepass);
  EXPECT_FALSE(tma_gather.skip_loads);
  EXPECT_FALSE(sk::debug_from_variant_bits(16).no_permute_prepass);
  EXPECT_THROW(sk::debug_from_variant_bits(16 | 32), std::invalid_argument);  // no TMA and TMA required
  EXPECT_THROW(sk::debug_from_variant_bits(1), std::invalid_argument);        // not a known bit
  EXPECT_THROW(sk::debug_from_variant_bits(128), std::invalid_argument);
  EXPECT_THROW(sk::debug_from_variant_bits(-1), std::invalid_argument);
}

// Small mixed layer through every backend and block size: what scripts/gpu-check.sh runs under compute-sanitizer.
TEST(GpuSparseAttentionSanitizer, SmallMixedLayer) {
  SVDIT_SKIP_WITHOUT_GPU();
  for (const int64_t block : {int64_t{64}, int64_t{128}}) {
    for (const int head_dim : {64, 128}) {
      const TokenLayout l = token_layout(4, 7, 10, 13, 0, block);
      const Case c{"mixed", l, pattern_zoo(l), 1};
      std::vector<BlockLayout> layouts;
      for (const Pattern& p : c.heads) layouts.push_back(svdit::data::compile_pattern(p, l));
      const sk::PackedLayouts packed = sk::pack_layouts(layouts);
      const Inputs in = make_inputs(c, layouts, head_dim, at::kBFloat16, std::random_device{}());
      const at::Tensor row_begin = device_ints(packed.row_begin), key_blocks = device_ints(packed.key_blocks),
                       order = device_ints(packed.order);
      for (const sk::AttentionBackend backend : backends_for(block)) {
        SCOPED_TRACE(std::string(sk::to_string(backend)) + " b=" + std::to_string(block) +
                     " hd=" + std::to_string(head_dim));
        check_against_references(in, run_kernel(in, packed, backend, row_begin, key_blocks, order));
      }
    }
  }
}

}  // namespace
