// The CUDA kernels' own backends and debug variants (svdit_kernels_cuda through SparseAttentionParams), on the
// shared table and pass rule of sparse_attention_cases.h (the op's CUDA path: gpu_sparse_attention_op_test.cpp):
// head_dim {64, 128} × {bf16, fp16} × block {64, 128} × every backend that runs on the device × every layer of
// the table, fresh random inputs per case, outputs poisoned with NaN before each launch.

#include <ATen/ATen.h>
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "sparse_attention_cases.h"
#include "svdit/data/packed_layout.h"
#include "svdit/kernels/cuda/cuda_check.h"
#include "svdit/kernels/cuda/sparse_attention.h"
#include "svdit/kernels/torch/sparse_attention.h"

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

using namespace svdit::test;  // the shared table and pass rule
using Case = LayerCase;

// The packed layouts on the GPU, as the op takes them.
struct GpuLayouts {
  explicit GpuLayouts(const std::vector<BlockLayout>& layouts)
      : packed(svdit::data::pack_layouts(layouts)),
        device(svdit::kernels::torch_ops::prepare_layouts(packed, at::Device(at::kCUDA, 0))) {}
  svdit::data::PackedLayouts packed;
  svdit::kernels::torch_ops::DeviceLayouts device;
};

sk::Strides token_major_strides(const at::Tensor& t) { return {t.stride(0), t.stride(2), t.stride(1)}; }

struct KernelRun {
  at::Tensor out;  // [B, S, H, D] dtype, GPU
  at::Tensor lse;  // [B, H, S] fp32, GPU
};

KernelRun run_kernel(const Inputs& in, const GpuLayouts& layouts, sk::AttentionBackend backend, int variant = 0) {
  const at::Tensor& row_begin = layouts.device.row_begin;
  const at::Tensor& key_blocks = layouts.device.key_blocks;
  const at::Tensor& order = layouts.device.order;
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
  p.block_size = static_cast<int>(layouts.packed.block_size);
  p.row_begin = row_begin.data_ptr<int32_t>();
  p.key_blocks = key_blocks.numel() ? key_blocks.data_ptr<int32_t>() : nullptr;
  p.order = order.numel() ? order.data_ptr<int32_t>() : nullptr;
  p.backend = backend;
  p.variant = variant;
  EXPECT_EQ(sk::sparse_attention_forward(p, nullptr), backend);
  SVDIT_CUDA_CHECK(cudaDeviceSynchronize());
  return r;
}

void check_against_references(const Inputs& in, const KernelRun& run) {
  svdit::test::check_against_references(in, run.out, run.lse);
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
  for (const Case& c : layer_cases(block)) {
    const uint64_t seed = (static_cast<uint64_t>(device()) << 32) | device();
    SCOPED_TRACE(c.name + " seed=" + std::to_string(seed));
    const std::vector<BlockLayout> layouts = compile_heads(c);
    const GpuLayouts gpu(layouts);
    const Inputs in = make_inputs(c, layouts, head_dim, dtype, seed, at::kCUDA);
    for (const sk::AttentionBackend backend : backends_for(block)) {
      SCOPED_TRACE(std::string("backend=") + sk::to_string(backend));
      check_against_references(in, run_kernel(in, gpu, backend));
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
  const std::vector<BlockLayout> layouts = compile_heads(c);
  const GpuLayouts gpu(layouts);
  const Inputs in = make_inputs(c, layouts, 128, at::kBFloat16, std::random_device{}(), at::kCUDA);
  for (const sk::AttentionBackend backend : backends_for(128)) {
    SCOPED_TRACE(sk::to_string(backend));
    const KernelRun token_major = run_kernel(in, gpu, backend);
    Inputs hm = in;  // same values, stored [B, H, S, D], viewed as [B, S, H, D]
    hm.q = in.q.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3});
    hm.k = in.k.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3});
    hm.v = in.v.permute({0, 2, 1, 3}).contiguous().permute({0, 2, 1, 3});
    const KernelRun head_major = run_kernel(hm, gpu, backend);
    EXPECT_TRUE(at::equal(token_major.out, head_major.out));
    EXPECT_TRUE(at::equal(token_major.lse, head_major.lse));
  }
}

// The Hopper producer loads a warp's 32 rows by TMA when they are consecutive tokens; other rows (permuted heads)
// are copied into layout order by a pre-pass and loaded by TMA from there, or, with variant bit 6 (64), gathered
// with cp.async in the kernel. Variant bit 5 (32) requires the TMA path (throws if no tensor map could be built),
// bit 4 (16) turns TMA off: all three put the same bytes in shared memory, so outputs and lse must be
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
        const std::vector<BlockLayout> layouts = compile_heads(c);
        const GpuLayouts gpu(layouts);
        const Inputs in = make_inputs(c, layouts, head_dim, dtype, seed, at::kCUDA);
        const KernelRun tma = run_kernel(in, gpu, sk::AttentionBackend::hopper, 32);
        const KernelRun gather = run_kernel(in, gpu, sk::AttentionBackend::hopper, 16);
        const KernelRun tma_gather = run_kernel(in, gpu, sk::AttentionBackend::hopper, 32 | 64);
        check_against_references(in, tma);
        EXPECT_TRUE(at::equal(tma.out, gather.out)) << "TMA and gather outputs differ";
        EXPECT_TRUE(at::equal(tma.lse, gather.lse)) << "TMA and gather lse differ";
        EXPECT_TRUE(at::equal(tma.out, tma_gather.out)) << "pre-pass and in-kernel gather outputs differ";
        EXPECT_TRUE(at::equal(tma.lse, tma_gather.lse)) << "pre-pass and in-kernel gather lse differ";
      }
    }
  }
}

// Small mixed layer through every backend and block size: what scripts/gpu-check.sh runs under compute-sanitizer.
TEST(GpuSparseAttentionSanitizer, SmallMixedLayer) {
  SVDIT_SKIP_WITHOUT_GPU();
  for (const int64_t block : {int64_t{64}, int64_t{128}}) {
    for (const int head_dim : {64, 128}) {
      const TokenLayout l = token_layout(4, 7, 10, 13, 0, block);
      const Case c{"mixed", l, pattern_zoo(l), 1};
      const std::vector<BlockLayout> layouts = compile_heads(c);
      const GpuLayouts gpu(layouts);
      const Inputs in = make_inputs(c, layouts, head_dim, at::kBFloat16, std::random_device{}(), at::kCUDA);
      for (const sk::AttentionBackend backend : backends_for(block)) {
        SCOPED_TRACE(std::string(sk::to_string(backend)) + " b=" + std::to_string(block) +
                     " hd=" + std::to_string(head_dim));
        check_against_references(in, run_kernel(in, gpu, backend));
      }
    }
  }
}

}  // namespace
