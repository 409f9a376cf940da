#pragma once
// Runs the shared table (sparse_attention_cases.h) through svdit.sparse_attention on one device — the same
// function for every device, so the CPU and the CUDA kernel are held to one set of cases and one pass rule.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "sparse_attention_cases.h"
#include "svdit/data/packed_layout.h"
#include "svdit/kernels/torch/sparse_attention.h"

namespace svdit::test {

struct OpParam {
  int64_t head_dim = 64;
  at::ScalarType dtype = at::kFloat;
  int64_t block = 64;
};

inline std::vector<OpParam> op_params() {
  std::vector<OpParam> out;
  for (const int64_t head_dim : {64, 128}) {
    for (const at::ScalarType dtype : {at::kFloat, at::kBFloat16, at::kHalf}) {
      for (const int64_t block : {64, 128}) out.push_back({head_dim, dtype, block});
    }
  }
  return out;
}

inline std::string op_param_name(const ::testing::TestParamInfo<OpParam>& info) {
  const OpParam& p = info.param;
  const char* dtype = p.dtype == at::kFloat ? "fp32" : p.dtype == at::kBFloat16 ? "bf16" : "fp16";
  return "hd" + std::to_string(p.head_dim) + "_" + dtype + "_b" + std::to_string(p.block);
}

// The dtypes each device's kernel takes (docs/KERNELS.md); any other must be refused with a c10::Error.
inline bool kernel_takes(at::DeviceType device, at::ScalarType dtype) {
  return device == at::kCPU || dtype == at::kBFloat16 || dtype == at::kHalf;
}

// Fills the allocator's free blocks of the outputs' sizes with NaN, so that on CUDA (caching allocator) the op's
// outputs are likely handed these blocks and a row the kernel forgets stays NaN and fails the comparison.
inline void poison_output_memory(const at::Tensor& q) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  (void)at::full(q.sizes(), nan, q.options());
  (void)at::full({q.size(0), q.size(2), q.size(1)}, nan, q.options().dtype(at::kFloat));
}

inline void run_table_on(at::Device device, const OpParam& p) {
  namespace ops = svdit::kernels::torch_ops;
  std::random_device entropy;
  for (const LayerCase& c : layer_cases(p.block)) {
    const uint64_t seed = (static_cast<uint64_t>(entropy()) << 32) | entropy();
    SCOPED_TRACE(c.name + " seed=" + std::to_string(seed));
    const std::vector<data::BlockLayout> layouts = compile_heads(c);
    const ops::DeviceLayouts device_layouts = ops::prepare_layouts(data::pack_layouts(layouts), device);
    const Inputs in = make_inputs(c, layouts, p.head_dim, p.dtype, seed, device);
    if (!kernel_takes(device.type(), p.dtype)) {
      EXPECT_THROW((void)ops::sparse_attention(in.q, in.k, in.v, device_layouts), c10::Error);
      continue;
    }
    poison_output_memory(in.q);
    const ops::SparseAttentionResult r = ops::sparse_attention(in.q, in.k, in.v, device_layouts);
    EXPECT_EQ(r.out.device(), device);
    check_against_references(in, r.out, r.lse);
  }
}

}  // namespace svdit::test
