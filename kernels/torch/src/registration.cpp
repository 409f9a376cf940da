// The one TORCH_LIBRARY(svdit, ...) block of the project: the schemas of every torch.ops.svdit op. The kernels
// register themselves per dispatch key next to their code (TORCH_LIBRARY_IMPL in src/cpu/ and src/cuda/);
// other libraries that add ops use TORCH_LIBRARY_FRAGMENT(svdit, ...).

#include <torch/library.h>

#include "ops.h"

TORCH_LIBRARY(svdit, m) {
  // Takes no tensor, so it is registered as a catch-all kernel rather than per dispatch key.
  m.def(
      "compile_layer(str patterns_json, int frames, int height, int width, int text_prefix, int text_suffix, "
      "int block_size) -> (Tensor row_begin, Tensor key_blocks, Tensor order, Tensor block_density)",
      &svdit::kernels::torch_ops::compile_layer);
  // CPU: src/cpu/sparse_attention_cpu.cpp; CUDA: src/cuda/sparse_attention_cuda.cpp (builds with the kernels).
  m.def(
      "sparse_attention(Tensor q, Tensor k, Tensor v, Tensor row_begin, Tensor key_blocks, Tensor? order, "
      "int block_size, str backend='automatic', int variant=0) -> (Tensor out, Tensor lse)");
}
