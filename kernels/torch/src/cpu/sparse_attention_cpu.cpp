// svdit.sparse_attention on CPU tensors: block-sparse attention written for speed (the plain reference in
// kernels/cpu is written for clarity and checks every kernel). The whole call is ONE parallel region: the
// threads pull (head, query block) tasks, the most key blocks first, and each does, per batch row, one BLAS GEMM
// q·kᵀ over all of the block's key blocks at once, one vectorised softmax pass and one GEMM p·v. The GEMMs read
// q/k/v and write the output in place in their [B, S, H, D] rows (leading dimension H·D) when the head is
// unpermuted and its key blocks are consecutive, as windows are; a permuted head (temporal) or scattered key
// blocks (stripes) are copied row by row into per-thread buffers first. No ATen operator runs per head or per
// task: on the 2-core machine the previous version's ~10 ATen ops per head (each its own fork/join, which on a
// loaded machine waits for a descheduled thread) and ~15 small ops per task made sparse slower than dense SDPA
// (docs/BENCHMARKS.md, "CPU kernel"). Registered for the CPU dispatch key.

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "sparse_attention_inputs.h"

namespace svdit::kernels::torch_ops {

namespace {

constexpr const char* kKernel = "svdit.sparse_attention (CPU)";

// The layout arrays may come from Python: check everything the loops below index with (the CUDA kernel gets the
// same guarantees from data::pack_layouts on the host).
void check_layout_arrays(const SparseAttentionSizes& s, const at::Tensor& row_begin, const at::Tensor& key_blocks) {
  const int32_t* rb = row_begin.const_data_ptr<int32_t>();
  const int32_t* kb = key_blocks.const_data_ptr<int32_t>();
  const int64_t total = key_blocks.numel();
  for (int64_t h = 0; h < s.heads; ++h) {
    const int32_t* row = rb + h * (s.num_blocks + 1);
    for (int64_t qb = 0; qb < s.num_blocks; ++qb) {
      TORCH_CHECK(row[qb] >= 0 && row[qb] <= row[qb + 1] && row[qb + 1] <= total, kKernel, ": row_begin[", h, "][",
                  qb, "..", qb + 1, "] = ", row[qb], ", ", row[qb + 1],
                  " is not an ascending range inside key_blocks (", total, " entries)");
      for (int32_t i = row[qb]; i < row[qb + 1]; ++i) {
        TORCH_CHECK(kb[i] >= 0 && kb[i] < s.num_blocks && (i == row[qb] || kb[i] > kb[i - 1]), kKernel,
                    ": the key blocks of head ", h, ", query block ", qb, " are not ascending inside [0, ",
                    s.num_blocks, ") (key_blocks[", i, "] = ", kb[i], ")");
      }
    }
  }
}

// The softmax of a block row, one pass for the maximum and one for exp and sum, vectorised by hand (GCC/Clang
// vector extensions: 16 floats, lowered to whatever the clone's instruction set has; ATen's vectorised exp is
// compiled only into ATen's own kernels). exp(x − max) is evaluated on x − max clamped at −80: a trained model's
// rows are peaked, and exponents below about −87 give denormals, the slow path of the CPU (13× slower for such a
// row, measured on the 2-core development machine); e⁻⁸⁰ ≈ 1.8e-35 of the maximum is far below fp32's resolution
// of the row's sum (≥ 1), so the result does not change. The exp itself: Cephes' expf (2ⁿ·p(r), |r| ≤ ln2/2,
// about 1 ulp), exact enough for the kernel test table's fp32 bound.
#if defined(__GNUC__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
// Clones for AVX-512 and AVX2 machines beside the baseline, picked at load time (the library itself is built for
// the baseline x86-64 that CI machines run).
#define SVDIT_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SVDIT_CPU_CLONES
#endif

using Floats = float __attribute__((vector_size(64)));
using Ints = int32_t __attribute__((vector_size(64)));
constexpr int64_t kLanes = 16;
constexpr float kMinExponent = -80.0f;

// In place, on x in [−80, 0]; by reference and always inlined, so each clone below gets it in its own
// instruction set and no vector crosses a call (whose ABI would differ between the clones).
template <class F, class I>
[[gnu::always_inline]] inline void exp_nonpositive(F& x) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  F y = x * kLog2e - 0.5f;  // ≤ 0: truncation rounds to the nearest integer n (halves away from 0)
  I n;
  F nf;
  if constexpr (std::is_same_v<F, float>) {
    n = static_cast<int32_t>(y);
    nf = static_cast<float>(n);
  } else {
    n = __builtin_convertvector(y, I);
    nf = __builtin_convertvector(n, F);
  }
  const F r = x - nf * kLn2Hi - nf * kLn2Lo;
  F p = r * 1.9875691500e-4f + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const I bits = (n + 127) << 23;  // 2ⁿ, n ≥ −116: a normal float
  F two_n;
  std::memcpy(&two_n, &bits, sizeof(F));
  x = p * two_n;
}

// In place: row r of scores[rows, n] becomes exp(s − max_r) (clamped as above); row_max[r] = max_r,
// row_sum[r] = the sum of the row (≥ 1).
SVDIT_CPU_CLONES void softmax_rows(float* scores, int64_t rows, int64_t n, float* row_max, float* row_sum) {
  const int64_t vec_end = n - n % kLanes;
  for (int64_t r = 0; r < rows; ++r) {
    float* x = scores + r * n;
    float m = -std::numeric_limits<float>::infinity();
    if (vec_end > 0) {
      Floats mv;
      std::memcpy(&mv, x, sizeof(Floats));
      for (int64_t j = kLanes; j < vec_end; j += kLanes) {
        Floats v;
        std::memcpy(&v, x + j, sizeof(Floats));
        mv = v > mv ? v : mv;
      }
      for (int64_t l = 0; l < kLanes; ++l) m = std::max(m, mv[l]);
    }
    for (int64_t j = vec_end; j < n; ++j) m = std::max(m, x[j]);
    Floats sv{};
    for (int64_t j = 0; j < vec_end; j += kLanes) {
      Floats v;
      std::memcpy(&v, x + j, sizeof(Floats));
      v -= m;
      v = v < kMinExponent ? kMinExponent : v;
      exp_nonpositive<Floats, Ints>(v);
      std::memcpy(x + j, &v, sizeof(Floats));
      sv += v;
    }
    float sum = 0;
    for (int64_t l = 0; l < kLanes; ++l) sum += sv[l];
    for (int64_t j = vec_end; j < n; ++j) {
      x[j] = std::max(x[j] - m, kMinExponent);
      exp_nonpositive<float, int32_t>(x[j]);
      sum += x[j];
    }
    row_max[r] = m;
    row_sum[r] = sum;
  }
}

// The BLAS GEMM that LibTorch's CPU library exports (the Fortran interface of MKL or OpenBLAS, LP64; ATen's
// own at::native::cpublas::gemm is not exported). Weak: with a LibTorch that exports none, at::mm_out on views
// of the same buffers does the same product through the dispatcher.
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc) __attribute__((weak));

// MKL's per-thread thread count, through its C entry point (mkl_service.h maps mkl_set_num_threads_local to it;
// the lower-case symbol is the Fortran one, which takes a pointer). Weak, as above: absent with another BLAS.
// LibTorch sets MKL's global count to its own (2 on the 2-core machine), and MKL called from each of our OpenMP
// threads would then start a nested team of its own: 4 threads on 2 cores, spin-waiting at every GEMM's
// barriers (measured: 1.0 s instead of 0.16 s for one call at the demo's shape, 2 threads against 1). Each of
// our threads asks for 1 for the duration of the call.
extern "C" int MKL_Set_Num_Threads_Local(int threads) __attribute__((weak));

// Row-major c[m, n] = alpha · a[m, k] · (b_transposed ? b[n, k]ᵀ : b[k, n]), rows lda/ldb/ldc floats apart.
void gemm_rows(const float* a, int64_t lda, const float* b, int64_t ldb, bool b_transposed, float* c, int64_t ldc,
               int64_t m, int64_t n, int64_t k, float alpha) {
  if (sgemm_ != nullptr) {
    // Column-major BLAS sees the row-major matrices transposed: cᵀ[n, m] = op(b)ᵀ · aᵀ.
    const int mi = static_cast<int>(n), ni = static_cast<int>(m), ki = static_cast<int>(k);
    const int ldbi = static_cast<int>(ldb), ldai = static_cast<int>(lda), ldci = static_cast<int>(ldc);
    const float zero = 0.0f;
    sgemm_(b_transposed ? "T" : "N", "N", &mi, &ni, &ki, &alpha, b, &ldbi, a, &ldai, &zero, c, &ldci);
    return;
  }
  const at::TensorOptions f32 = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor at_a = at::from_blob(const_cast<float*>(a), {m, k}, {lda, 1}, f32);
  const at::Tensor at_b = b_transposed ? at::from_blob(const_cast<float*>(b), {n, k}, {ldb, 1}, f32).t()
                                       : at::from_blob(const_cast<float*>(b), {k, n}, {ldb, 1}, f32);
  at::Tensor at_c = at::from_blob(c, {m, n}, {ldc, 1}, f32);
  at::mm_out(at_c, at_a, at_b).mul_(alpha);
}

// Checks that row h of `order` is a permutation of [0, S) (the output is scattered through it); nullptr when it
// is the identity (an unpermuted head in a layer with permuted ones), else the row.
const int32_t* head_order(const SparseAttentionSizes& s, const at::Tensor& order, int64_t h) {
  const int32_t* row = order.const_data_ptr<int32_t>() + h * s.seq_len;
  std::vector<char> seen(static_cast<size_t>(s.seq_len), 0);
  bool identity = true;
  for (int64_t l = 0; l < s.seq_len; ++l) {
    const int32_t t = row[l];
    TORCH_CHECK(t >= 0 && t < s.seq_len && !seen[static_cast<size_t>(t)], kKernel, ": order[", h,
                "] is not a permutation of [0, ", s.seq_len, ") (order[", h, "][", l, "] = ", t, ")");
    seen[static_cast<size_t>(t)] = 1;
    identity = identity && t == l;
  }
  return identity ? nullptr : row;
}

std::tuple<at::Tensor, at::Tensor> sparse_attention_cpu(const at::Tensor& q, const at::Tensor& k,
                                                        const at::Tensor& v, const at::Tensor& row_begin,
                                                        const at::Tensor& key_blocks,
                                                        const std::optional<at::Tensor>& order, int64_t block_size,
                                                        c10::string_view backend, int64_t variant) {
  const SparseAttentionSizes s = check_sparse_attention_inputs(kKernel, q, k, v, row_begin, key_blocks, order,
                                                               block_size, {at::kFloat, at::kBFloat16, at::kHalf});
  TORCH_CHECK(backend == "automatic" || backend == "auto", kKernel, ": backend '", std::string(backend),
              "' is a CUDA backend (CPU tensors take 'automatic')");
  TORCH_CHECK(variant == 0, kKernel, ": variant ", variant, " is a CUDA benchmarking knob (CPU tensors take 0)");
  check_layout_arrays(s, row_begin, key_blocks);

  const int64_t S = s.seq_len, b = s.block_size, nb = s.num_blocks, H = s.heads, D = s.head_dim, HD = H * D;
  const int32_t* rb = row_begin.const_data_ptr<int32_t>();
  const int32_t* kb = key_blocks.const_data_ptr<int32_t>();
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(D)));

  // fp32 [B, S, H, D] contiguous: no copy for the runtime's CPU path (fp32, contiguous); bf16/fp16 converted once.
  const auto as_f32 = [](const at::Tensor& t) { return t.to(at::kFloat).contiguous(); };
  const at::Tensor qf = as_f32(q), kf = as_f32(k), vf = as_f32(v);
  std::vector<const int32_t*> orders(static_cast<size_t>(H), nullptr);  // layout position → token; null: identity
  for (int64_t h = 0; h < H && s.permuted; ++h) orders[static_cast<size_t>(h)] = head_order(s, *order, h);
  at::Tensor out = at::empty({s.batch, S, H, D}, qf.options());  // every row written below
  at::Tensor lse = at::empty({s.batch, H, S}, qf.options());

  // Every (head, query block), the most key blocks first: the threads take tasks from a shared counter, so a few
  // long rows (dense heads, stripes) do not leave a thread idle at the end (at::parallel_for's static split would).
  struct Task {
    int32_t head, qb, keys;
  };
  std::vector<Task> tasks;
  int64_t max_rows = 0;  // key rows of the longest block row
  for (int64_t h = 0; h < H; ++h) {
    for (int64_t qb = 0; qb < nb; ++qb) {
      const int32_t n = rb[h * (nb + 1) + qb + 1] - rb[h * (nb + 1) + qb];
      tasks.push_back({static_cast<int32_t>(h), static_cast<int32_t>(qb), n});
      max_rows = std::max<int64_t>(max_rows, int64_t{n} * b);
    }
  }
  std::stable_sort(tasks.begin(), tasks.end(), [](const Task& x, const Task& y) { return x.keys > y.keys; });
  const float* qd = qf.const_data_ptr<float>();
  const float* kd = kf.const_data_ptr<float>();
  const float* vd = vf.const_data_ptr<float>();
  float* od = out.mutable_data_ptr<float>();
  float* ld = lse.mutable_data_ptr<float>();
  const int64_t threads = std::min<int64_t>(at::get_num_threads(), static_cast<int64_t>(tasks.size()));
  std::atomic<size_t> next{0};
  at::parallel_for(0, threads, 1, [&](int64_t, int64_t) {
    // Per thread: the GEMMs run single-threaded (above); gathered q/k/v rows, one block row of scores, a block
    // of output rows.
    const int mkl_threads = MKL_Set_Num_Threads_Local != nullptr ? MKL_Set_Num_Threads_Local(1) : 0;
    std::vector<float> qbuf(static_cast<size_t>(b * D)), obuf(static_cast<size_t>(b * D));
    std::vector<float> kbuf, vbuf, scores(static_cast<size_t>(b * max_rows)), row_max(b), row_sum(b);
    for (size_t t = next++; t < tasks.size(); t = next++) {
      const Task task = tasks[t];
      const int64_t h = task.head, n = task.keys;
      const int32_t* ord = orders[static_cast<size_t>(h)];
      const int32_t* keys = kb + rb[h * (nb + 1) + task.qb];
      const int64_t first_row = task.qb * b, rows = std::min(b, S - first_row);
      const auto token = [&](int64_t l) -> int64_t { return ord != nullptr ? ord[l] : l; };
      const bool direct_keys = ord == nullptr && n > 0 && keys[n - 1] - keys[0] == n - 1;  // one range of rows
      int64_t nk = 0;
      for (int64_t j = 0; j < n; ++j) nk += std::min(b, S - keys[j] * b);
      if (!direct_keys && kbuf.size() < static_cast<size_t>(nk * D)) {
        kbuf.resize(static_cast<size_t>(nk * D));
        vbuf.resize(static_cast<size_t>(nk * D));
      }
      for (int64_t bi = 0; bi < s.batch; ++bi) {
        const int64_t base = bi * S * HD + h * D;  // token 0 of this batch row and head
        float* lp = ld + (bi * H + h) * S;
        if (n == 0) {  // no key block: output 0, lse −inf
          for (int64_t r = 0; r < rows; ++r) {
            const int64_t tok = token(first_row + r);
            std::fill_n(od + base + tok * HD, D, 0.0f);
            lp[tok] = neg_inf;
          }
          continue;
        }
        const float* qp = qd + base + first_row * HD;
        int64_t ldq = HD;
        if (ord != nullptr) {
          for (int64_t r = 0; r < rows; ++r) std::memcpy(&qbuf[r * D], qd + base + token(first_row + r) * HD, D * sizeof(float));
          qp = qbuf.data();
          ldq = D;
        }
        const float* kp = kd + base + keys[0] * b * HD;
        const float* vp = vd + base + keys[0] * b * HD;
        int64_t ldk = HD;
        if (!direct_keys) {  // the key blocks' rows, in layout order, into one [nk, D] buffer each for k and v
          int64_t at_row = 0;
          for (int64_t j = 0; j < n; ++j) {
            for (int64_t l = keys[j] * b; l < std::min((keys[j] + 1) * b, S); ++l, ++at_row) {
              const int64_t tok = token(l);
              std::memcpy(&kbuf[at_row * D], kd + base + tok * HD, D * sizeof(float));
              std::memcpy(&vbuf[at_row * D], vd + base + tok * HD, D * sizeof(float));
            }
          }
          kp = kbuf.data();
          vp = vbuf.data();
          ldk = D;
        }
        gemm_rows(qp, ldq, kp, ldk, /*b_transposed=*/true, scores.data(), nk, rows, nk, D, scale);
        softmax_rows(scores.data(), rows, nk, row_max.data(), row_sum.data());
        // out rows = p·v / row sum: straight into the output when the head is unpermuted, else via obuf.
        float* op = ord == nullptr ? od + base + first_row * HD : obuf.data();
        const int64_t ldo = ord == nullptr ? HD : D;
        gemm_rows(scores.data(), nk, vp, ldk, /*b_transposed=*/false, op, ldo, rows, D, nk, 1.0f);
        for (int64_t r = 0; r < rows; ++r) {
          const float inv = 1.0f / row_sum[static_cast<size_t>(r)];
          const int64_t tok = token(first_row + r);
          float* dst = od + base + tok * HD;
          for (int64_t d = 0; d < D; ++d) dst[d] = op[r * ldo + d] * inv;
          lp[tok] = row_max[static_cast<size_t>(r)] + std::log(row_sum[static_cast<size_t>(r)]);
        }
      }
    }
    if (MKL_Set_Num_Threads_Local != nullptr) MKL_Set_Num_Threads_Local(mkl_threads);  // 0: back to the global
  });
  return {out.to(q.scalar_type()), lse};
}
static_assert(std::is_same_v<decltype(sparse_attention_cpu), SparseAttentionSignature>);

}  // namespace

}  // namespace svdit::kernels::torch_ops

TORCH_LIBRARY_IMPL(svdit, CPU, m) { m.impl("sparse_attention", &svdit::kernels::torch_ops::sparse_attention_cpu); }
