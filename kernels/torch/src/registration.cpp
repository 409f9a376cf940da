// The one TORCH_LIBRARY(svdit, ...) block of the project: schemas of every torch.ops.svdit op and their bindings.
// Other libraries that add ops use TORCH_LIBRARY_FRAGMENT(svdit, ...).

#include <torch/library.h>

#include "ops.h"

TORCH_LIBRARY(svdit, m) {
  // Takes no tensor, so it is registered as a catch-all kernel rather than per dispatch key.
  m.def(
      "compile_layer(str patterns_json, int frames, int height, int width, int text_prefix, int text_suffix, "
      "int block_size) -> (Tensor row_begin, Tensor key_blocks, Tensor order, Tensor block_density)",
      &svdit::kernels::torch_ops::compile_layer);
  m.def(
      "sparse_attention(Tensor q, Tensor k, Tensor v, Tensor row_begin, Tensor key_blocks, Tensor? order, "
      "int block_size, str backend='automatic', int variant=0) -> (Tensor out, Tensor lse)");
}

#ifdef SVDIT_TORCH_WITH_CUDA
TORCH_LIBRARY_IMPL(svdit, CUDA, m) { m.impl("sparse_attention", &svdit::kernels::torch_ops::sparse_attention); }
#endif
