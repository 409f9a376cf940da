#pragma once
// Block-sparse flash-attention forward (docs/KERNELS.md): one launch computes a whole layer of heads, each head with
// its own compiled BlockLayout (dense, skip, window, temporal, stripe+window, ...).
//
//   out[b, token(l), h, :] = softmax_j( q[b, token(l), h] · k[b, token(j), h] · scale ) v[b, token(j), h]
//
// over the layout positions j of the key blocks listed for the query block of layout position l, where
// token(l) = order[h, l] (or l when the head is not permuted). Gathering rows by `order` happens while loading
// and the output is scattered back while storing, so q/k/v/out stay in original token order.
// Rows with no key block (skip heads) get output 0 and lse -inf.
//
// Tensors are addressed through element strides with a contiguous last (head_dim) dimension, so the runtime can
// hand over [B, S, H, D] views of its fused QKV projection without a copy; [B, H, S, D] works as well.
// No torch here: kernels/torch wraps this for tensors.

#include <cuda_runtime.h>

#include <cstdint>

namespace svdit::kernels {

enum class ScalarType { bf16, fp16 };

enum class AttentionBackend {
  automatic,  // hopper where it can run (sm_90 device, sm_90a code built, block 128), else portable
  portable,   // mma.sync m16n8k16 + cp.async: sm_80 and newer, block 64 or 128
  hopper,     // wgmma + warp-specialised TMA / cp.async producer: sm_90a, block 128 only
};

const char* to_string(AttentionBackend backend);

// Knobs of the Hopper backend for benchmarks and tests only (docs/KERNELS.md); the portable backend ignores them.
// Every setting but skip_loads gives bit-identical output (tested); the default is what real use runs.
struct KernelDebug {
  enum class LoadPath {
    automatic,      // TMA wherever the tensor maps can be built, else every tile gathered by cp.async
    cp_async_only,  // no TMA: every tile gathered by 16-byte cp.async (the v5 producer)
    tma_required,   // TMA; throws std::invalid_argument if the tensor maps cannot be built (the path cannot vanish)
  };
  LoadPath load = LoadPath::automatic;
  bool skip_loads = false;          // the producer copies nothing: WRONG output on stale shared memory; times the math
  bool no_permute_prepass = false;  // rows of permuted heads gathered by cp.async in the kernel, no pre-pass
};

// The torch op's `int variant` argument as a KernelDebug: 8 skip_loads, 16 load = cp_async_only, 32 load =
// tma_required, 64 no_permute_prepass (bits may be combined, 0 = the default). Throws std::invalid_argument on other
// bits and on 16 | 32 (no path is both).
KernelDebug debug_from_variant_bits(int bits);

// Element strides of a 4-D tensor whose last (head_dim) dimension is contiguous.
struct Strides {
  int64_t batch = 0;
  int64_t head = 0;
  int64_t row = 0;  // one token
};

struct SparseAttentionParams {
  ScalarType dtype = ScalarType::bf16;
  int head_dim = 128;  // 64 or 128
  int batch = 0;       // B
  int heads = 0;       // H
  int seq_len = 0;     // S, any value ≥ 1 (need not be a multiple of the block)

  const void* q = nullptr;  // [B, S, H, D] through q_strides
  const void* k = nullptr;  // [B, S, H, D] through k_strides
  const void* v = nullptr;  // [B, S, H, D] through v_strides
  void* out = nullptr;      // [B, S, H, D] through out_strides
  Strides q_strides, k_strides, v_strides, out_strides;
  float* lse = nullptr;  // [B, H, S] contiguous fp32, natural log; may be null

  // Per-head layouts of one layer, packed by pack_layouts(): all heads share S and the block size.
  int block_size = 128;                 // b: 64 or 128
  const int32_t* row_begin = nullptr;   // [H, num_blocks + 1] absolute offsets into key_blocks
  const int32_t* key_blocks = nullptr;  // [Σ computed blocks] ascending within each query block
  const int32_t* order = nullptr;       // [H, S] layout position → original token; null: no head permuted

  float scale = 0.0f;  // 0 means 1/√head_dim
  AttentionBackend backend = AttentionBackend::automatic;
  KernelDebug debug;  // benchmarking and tests only; the default is what real use runs
};

// Validates the parameters (throws std::invalid_argument naming the field) and launches on `stream`.
// Returns the backend that ran.
AttentionBackend sparse_attention_forward(const SparseAttentionParams& params, cudaStream_t stream);

// The backend `automatic` resolves to for these parameters on the current device.
AttentionBackend resolve_backend(const SparseAttentionParams& params);

}  // namespace svdit::kernels
