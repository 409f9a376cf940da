// svdit.sparse_attention on CUDA tensors: the shared table (sparse_attention_cases.h) through the op's CUDA
// kernel, the same harness as the CPU kernel's (torch_sparse_attention_op_test.cpp). SKIPPED without a device.

#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "sparse_attention_op_harness.h"

namespace svdit::test {
namespace {

class SparseAttentionOpCuda : public ::testing::TestWithParam<OpParam> {};

TEST_P(SparseAttentionOpCuda, MatchesReferencesOnEveryCase) {
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  ASSERT_TRUE(kernels::torch_ops::sparse_attention_runs_on(at::kCUDA)) << "a CUDA build without the op's CUDA kernel";
  run_table_on(at::Device(at::kCUDA, 0), GetParam());
}

INSTANTIATE_TEST_SUITE_P(Table, SparseAttentionOpCuda, ::testing::ValuesIn(op_params()), op_param_name);

}  // namespace
}  // namespace svdit::test
