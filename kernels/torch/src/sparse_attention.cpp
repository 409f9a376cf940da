// The public C++ entry points of svdit.sparse_attention (see svdit/kernels/torch/sparse_attention.h).

#include "svdit/kernels/torch/sparse_attention.h"

#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "sparse_attention_inputs.h"

namespace svdit::kernels::torch_ops {

namespace {

at::Tensor int32_on(const std::vector<int32_t>& values, at::IntArrayRef shape, at::Device device) {
  at::Tensor host = at::empty(shape, at::TensorOptions().dtype(at::kInt));
  std::copy(values.begin(), values.end(), host.data_ptr<int32_t>());
  return host.to(device);
}

const c10::OperatorHandle& sparse_attention_op() {
  static const c10::OperatorHandle op = c10::Dispatcher::singleton().findSchemaOrThrow("svdit::sparse_attention", "");
  return op;
}

}  // namespace

DeviceLayouts prepare_layouts(const data::PackedLayouts& packed, at::Device device) {
  DeviceLayouts out;
  out.row_begin = int32_on(packed.row_begin, {packed.heads, packed.num_blocks + 1}, device);  // [H, nb + 1]
  out.key_blocks = int32_on(packed.key_blocks, {packed.computed_blocks()}, device);          // [Σ blocks]
  out.order = packed.order.empty() ? at::empty({0}, at::TensorOptions().dtype(at::kInt).device(device))
                                   : int32_on(packed.order, {packed.heads, packed.seq_len}, device);  // [H, S]
  out.block_size = packed.block_size;
  return out;
}

DeviceLayouts prepare_layouts(std::span<const data::BlockLayout* const> layouts, at::Device device) {
  return prepare_layouts(data::pack_layouts(layouts), device);
}

SparseAttentionResult sparse_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                       const DeviceLayouts& layouts, const std::string& backend, int64_t variant) {
  if (!sparse_attention_runs_on(q.device().type())) {
    throw std::invalid_argument(
        "sparse attention on a " + q.device().str() + " tensor, but this build of the svdit op library has no " +
        "kernel for it" + (q.is_cuda() ? " (it was built without the CUDA kernels: configure with nvcc on PATH "
                                         "or -DSVDIT_CUDA=ON)"
                                       : ""));
  }
  static const auto op = sparse_attention_op().typed<SparseAttentionSignature>();
  auto [out, lse] = op.call(q, k, v, layouts.row_begin, layouts.key_blocks, layouts.order, layouts.block_size,
                            backend, variant);
  return {std::move(out), std::move(lse)};
}

bool sparse_attention_runs_on(c10::DeviceType device) {
  switch (device) {
    case c10::DeviceType::CPU: return sparse_attention_op().hasKernelForDispatchKey(c10::DispatchKey::CPU);
    case c10::DeviceType::CUDA: return sparse_attention_op().hasKernelForDispatchKey(c10::DispatchKey::CUDA);
    default: return false;
  }
}

}  // namespace svdit::kernels::torch_ops
