#include "svdit/kernels/cpu/relative_mse.h"

#include <limits>

#include "input_checks.h"

namespace svdit::kernels::cpu {

std::vector<double> relative_mse(std::span<const float> candidate_out, std::span<const float> dense_out,
                                 const AttentionShape& shape) {
  validate(shape);
  detail::check_size("relative_mse", "candidate_out", static_cast<int64_t>(candidate_out.size()), shape.elements());
  detail::check_size("relative_mse", "dense_out", static_cast<int64_t>(dense_out.size()), shape.elements());

  const int64_t head_elements = shape.head_elements();
  std::vector<double> result(static_cast<size_t>(shape.heads_total()));  // [B, H]
  for (int64_t bh = 0; bh < shape.heads_total(); ++bh) {
    double error = 0.0;  // ‖O_c − O‖²
    double norm = 0.0;   // ‖O‖²
    for (int64_t e = bh * head_elements; e < (bh + 1) * head_elements; ++e) {
      const double reference = dense_out[static_cast<size_t>(e)];
      const double diff = static_cast<double>(candidate_out[static_cast<size_t>(e)]) - reference;
      error += diff * diff;
      norm += reference * reference;
    }
    // A zero reference output can only come from zero values; then "no error" is 0 and any error is infinite.
    if (norm == 0.0) {
      result[static_cast<size_t>(bh)] = error == 0.0 ? 0.0 : std::numeric_limits<double>::infinity();
    } else {
      result[static_cast<size_t>(bh)] = error / norm;
    }
  }
  return result;
}

}  // namespace svdit::kernels::cpu
