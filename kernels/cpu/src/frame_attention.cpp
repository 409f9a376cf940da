#include "svdit/kernels/cpu/frame_attention.h"

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "head_parallel.h"
#include "input_checks.h"
#include "row_attention.h"

namespace svdit::kernels::cpu {

void frame_attention(std::span<const float> q, std::span<const float> k, std::span<const float> lse,
                     const AttentionShape& shape, const svdit::data::TokenLayout& layout, std::span<float> frames) {
  validate(shape);
  const char* fn = "frame_attention";
  if (layout.seq_len() != shape.seq_len || layout.frames <= 0 || layout.tokens_per_frame() <= 0) {
    throw std::invalid_argument(std::string("svdit::kernels::cpu::") + fn + ": token layout with F=" +
                                std::to_string(layout.frames) + ", P=" + std::to_string(layout.tokens_per_frame()) +
                                ", S=" + std::to_string(layout.seq_len()) + " does not describe the tensors' S=" +
                                std::to_string(shape.seq_len));
  }
  const int64_t S = shape.seq_len;
  const int64_t D = shape.head_dim;
  const int64_t F = layout.frames;
  const int64_t P = layout.tokens_per_frame();
  const int64_t T0 = layout.text_prefix;
  detail::check_size(fn, "q", static_cast<int64_t>(q.size()), shape.elements());
  detail::check_size(fn, "k", static_cast<int64_t>(k.size()), shape.elements());
  detail::check_size(fn, "lse", static_cast<int64_t>(lse.size()), shape.rows());
  detail::check_size(fn, "frames", static_cast<int64_t>(frames.size()), shape.heads_total() * F * F);

  detail::for_each_head(shape.heads_total(), [&](int64_t bh) {
    const float* q_head = q.data() + bh * S * D;  // [S, D]
    const float* k_head = k.data() + bh * S * D;  // [S, D]
    const float* lse_head = lse.data() + bh * S;  // [S]
    std::vector<double> sums(static_cast<size_t>(F * F), 0.0);  // [F, F]
    // Video rows against video columns only: text tokens belong to no frame.
    for (int64_t i = layout.video_begin(); i < layout.video_end(); ++i) {
      double* sum_row = sums.data() + ((i - T0) / P) * F;  // [F]
      for (int64_t j = layout.video_begin(); j < layout.video_end(); ++j) {
        const double score = detail::scaled_dot(q_head + i * D, k_head + j * D, D, shape.scale());
        sum_row[(j - T0) / P] += std::exp(score - static_cast<double>(lse_head[i]));
      }
    }
    float* frames_head = frames.data() + bh * F * F;  // [F, F]
    for (int64_t f = 0; f < F * F; ++f) {
      frames_head[f] = static_cast<float>(sums[static_cast<size_t>(f)] / static_cast<double>(P));
    }
  });
}

}  // namespace svdit::kernels::cpu
