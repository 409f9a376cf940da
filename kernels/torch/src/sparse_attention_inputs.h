#pragma once
// What the CPU and the CUDA kernel of svdit.sparse_attention share: the C++ signature every kernel registers
// (the dispatcher checks that callers and kernels agree on it) and the checks of the schema's contract.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <tuple>

#include <c10/util/string_view.h>

namespace svdit::kernels::torch_ops {

// sparse_attention(Tensor q, Tensor k, Tensor v, Tensor row_begin, Tensor key_blocks, Tensor? order,
//                  int block_size, str backend='automatic', int variant=0) -> (Tensor out, Tensor lse)
using SparseAttentionSignature = std::tuple<at::Tensor, at::Tensor>(
    const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& row_begin,
    const at::Tensor& key_blocks, const std::optional<at::Tensor>& order, int64_t block_size,
    c10::string_view backend, int64_t variant);

// The sizes of one call, once its arguments passed check_sparse_attention_inputs.
struct SparseAttentionSizes {
  int64_t batch = 0;       // B
  int64_t seq_len = 0;     // S
  int64_t heads = 0;       // H
  int64_t head_dim = 0;    // D
  int64_t block_size = 0;  // b: 64 or 128
  int64_t num_blocks = 0;  // ⌈S / b⌉
  bool permuted = false;   // order given (non-empty)
};

// Checks the schema's contract (TORCH_CHECK, naming `kernel` and the argument, expected vs found): q, k, v one
// shape [B, S, H, D] with B, S, H, D ≥ 1, one dtype out of `dtypes`, last dimension contiguous; row_begin
// contiguous int32 [H, ⌈S/b⌉ + 1]; key_blocks contiguous int32; order absent, empty, or contiguous int32 [H, S];
// b 64 or 128; every tensor on q's device. The arrays' contents are the kernels' business.
SparseAttentionSizes check_sparse_attention_inputs(const char* kernel, const at::Tensor& q, const at::Tensor& k,
                                                   const at::Tensor& v, const at::Tensor& row_begin,
                                                   const at::Tensor& key_blocks,
                                                   const std::optional<at::Tensor>& order, int64_t block_size,
                                                   std::initializer_list<at::ScalarType> dtypes);

}  // namespace svdit::kernels::torch_ops
