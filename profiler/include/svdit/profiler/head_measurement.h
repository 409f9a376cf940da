#pragma once
// What the profiler measures about one self-attention layer, from its real q, k, v (docs/PROFILER.md "What is
// measured"): per head and candidate the relative MSE of the head's output and the attention mass the candidate
// keeps, and per head the block-pooled attention map and the frame-to-frame map.
//
// Never S×S: every head is processed in chunks of query rows; a chunk's scores and softmax probabilities are
// [rows, S] fp32 on the model's device, with `rows` chosen so that all of a chunk's temporaries stay within
// MeasureOptions::chunk_bytes (at least one row). From the probabilities p of a chunk (the exact dense softmax of
// those rows, in fp32 from q, k converted to fp32):
//   - for every distinct token order π among the candidates' block layouts (identity, position-major for temporal,
//     gathered stripe columns first): the block mass M_π[qb, kb] = Σ_{i in layout query block qb} Σ_{j in layout
//     key block kb} p_ij; recall(c) = Σ_{(qb,kb) computed by c} M_π(c)[qb, kb] / S — exactly the blocks the kernel
//     computes. M_identity / rows(g) is the pooled map;
//   - frames[f, f'] = (1/P) Σ_{i in frame f} Σ_{j in frame f'} p_ij;
//   - errors, reference path (CPU, or a GPU build without the kernels, fp32 runs, head_dim other than 64/128):
//     Y_π[i, kb] = Σ_{j in kb} p_ij v_j ([rows, G, D], one batched GEMM per order, the cost of one dense pass);
//     the candidate's output row i is Σ_{kb computed} Y_π[i, kb] / Σ_{kb computed} M-row mass — softmax restricted
//     to the computed blocks, as the kernel defines it; a row with no block outputs 0. The reference O is the same
//     computation with every block, so dense's error is exactly 0 and skip's exactly 1;
//   - errors, kernel path (CUDA, bf16/fp16, head_dim 64 or 128, a build with the kernels): one launch of the
//     runtime's block-sparse kernel per candidate covering all heads, the reference O the same kernel with the
//     dense layout; ‖O_c − O‖² / ‖O‖² summed in fp32 per head.

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/block_layout.h"
#include "svdit/data/token_layout.h"

namespace svdit::profiler {

enum class ErrorPath {
  automatic,  // the kernel on CUDA when it can run the shape and dtype, the reference otherwise
  reference,  // always the chunked ATen computation (on the model's device)
  kernel,     // always the block-sparse kernel; throws when it cannot run
};

struct MeasureOptions {
  // Bound on the temporaries of one chunk of query rows (bytes). The default suits a CPU; on a GPU larger chunks
  // (e.g. 256 MiB) mean fewer launches.
  int64_t chunk_bytes = int64_t{16} << 20;
  ErrorPath error_path = ErrorPath::automatic;
};

// Rows per chunk for sequence length S and head_dim D (≥ 1): the chunk's fp32 temporaries (scores, probabilities,
// a permuted copy, Y and its transpose: about 4·S + 2·(S/b)·D floats per row) fit in chunk_bytes.
int64_t chunk_rows(int64_t seq_len, int64_t head_dim, int64_t block_size, int64_t chunk_bytes);

struct LayerMeasurement {
  int64_t heads = 0, candidates = 0, blocks = 0, frames = 0;
  std::vector<float> error;   // [head, candidate]; empty when not requested
  std::vector<float> recall;  // [head, candidate]; empty when not requested
  std::vector<float> pooled;  // [head, G, G]; empty when not requested
  std::vector<float> frame_map;  // [head, F, F]; empty when not requested
};

class LayerMeasurer {
 public:
  // layouts[c] = compile_pattern(candidate c, layout). The measurer keeps its own copies.
  LayerMeasurer(const data::TokenLayout& layout, std::vector<data::BlockLayout> layouts, MeasureOptions options = {});
  ~LayerMeasurer();
  LayerMeasurer(const LayerMeasurer&) = delete;
  LayerMeasurer& operator=(const LayerMeasurer&) = delete;

  // q, k, v: [1, S, H, D] (the observer's tensors: any float dtype, any device). `errors` fills error and recall,
  // `maps` fills pooled and frame_map.
  LayerMeasurement measure(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, bool errors, bool maps);

  // Whether measure() would take the kernel path for these tensors.
  bool uses_kernel(const at::Tensor& q) const;

  int64_t num_candidates() const { return static_cast<int64_t>(layouts_.size()); }

 private:
  struct DeviceState;
  DeviceState& device_state(at::Device device);
  void measure_head(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t head, bool errors,
                    bool reference_errors, bool maps, LayerMeasurement& out);
  void kernel_errors(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, LayerMeasurement& out);

  data::TokenLayout layout_;
  std::vector<data::BlockLayout> layouts_;
  MeasureOptions options_;
  std::vector<std::vector<int32_t>> orders_;  // distinct token orders; [0] is the identity (empty)
  std::vector<size_t> order_of_;              // [candidate] index into orders_
  std::vector<bool> full_;                    // [candidate] identity order and every block computed
  std::vector<std::vector<int64_t>> candidates_of_;  // [order] the candidates computed through it (not skip/full)
  std::map<std::string, std::unique_ptr<DeviceState>> devices_;
};

// Σ over heads and query rows of the dense attention probability each key column receives: [S], for choosing the
// top_k stripe columns (candidate_family.h). q, k: [1, S, H, D]. Chunked like LayerMeasurer.
std::vector<double> column_mass(const at::Tensor& q, const at::Tensor& k, int64_t chunk_bytes);

}  // namespace svdit::profiler
