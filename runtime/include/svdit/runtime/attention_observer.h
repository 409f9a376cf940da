#pragma once
// The attention hook: an observer sees every self-attention layer's real inputs and output during a forward pass
// (the profiler records maps and candidate errors there). Observation only — the observer cannot change the
// result, so a profiled run computes exactly what an unprofiled one does.

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/attention_backend.h"

namespace svdit::runtime {

struct SelfAttentionEvent {
  SelfAttentionCall call;  // step, layer, CFG branch, token layout
  int64_t timestep = 0;    // the integer timestep (0..999) fed to the model at this step
  // All [B, S, H, D] in the compute dtype, on the model's device; valid during the callback only (copy to keep).
  const at::Tensor& q;    // after the q RMSNorm and RoPE: exactly what the backend received
  const at::Tensor& k;    // after the k RMSNorm and RoPE
  const at::Tensor& v;
  const at::Tensor& out;  // what the backend returned (dense, or sparse under a plan)
};

class AttentionObserver {
 public:
  virtual ~AttentionObserver() = default;
  // Called once per self-attention layer per forward pass, in layer order, after the backend ran.
  virtual void on_self_attention(const SelfAttentionEvent& event) = 0;
};

}  // namespace svdit::runtime
