#pragma once
// The sparse plan executor: self-attention as a plan prescribes it (docs/RUNTIME.md, docs/FORMATS.md "Plan (JSON)").
//
// On construction the plan is checked against the model and the token layout (check_plan_matches: the message
// names every mismatching field with both values), and every pattern the schedule uses is compiled to its block
// layout exactly once. Per (schedule entry, layer) the layer runs one of three ways (svdit::search::CostModel
// prices exactly these, docs/SEARCH.md "Cost model"):
//   - every head dense (or the step runs dense)  → the dense backend, so an all-dense plan computes exactly what
//     no plan computes;
//   - every head skip                            → zeros;
//   - otherwise                                  → one svdit.sparse_attention call for the whole layer, each head
//     with its own layout (svdit/kernels/torch/sparse_attention.h: the CUDA kernel for CUDA tensors, the CPU
//     kernel for CPU tensors). Heads that share a pattern share one compiled layout; the packed per-layer arrays
//     are built and put on the device once and reused at every step.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/data/block_layout.h"
#include "svdit/data/plan.h"
#include "svdit/runtime/attention_backend.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::runtime {

class SparsePlanAttention final : public AttentionBackend {
 public:
  // `source` names the plan in error messages (its file path). Throws data::FormatError when the plan does not
  // match `config` / `layout`, or names a pattern it does not define.
  SparsePlanAttention(data::Plan plan, const data::PlanModel& model, const data::TokenLayout& layout,
                      std::string source);
  // The same for a Wan2.1 config (plan_model(config)).
  SparsePlanAttention(data::Plan plan, const WanConfig& config, const data::TokenLayout& layout,
                      std::string source);
  ~SparsePlanAttention() override;

  std::string name() const override { return "sparse-plan"; }
  at::Tensor self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const SelfAttentionCall& call) override;

  // How one layer at one step runs.
  enum class LayerMode { dense, skip, sparse };
  struct LayerPlan {
    LayerMode mode = LayerMode::dense;
    std::vector<const data::BlockLayout*> layouts;             // [H], for mode sparse
    double block_density = 1.0;                                // computed blocks / all blocks, over the heads
  };
  // Over all heads; self_attention with call.heads decides the same way over those heads.
  const LayerPlan& layer_plan(int64_t step, int64_t layer) const;

  // A forward whose layout has fewer text tokens after the video than `layout` (T1' < T1, every other field equal:
  // HunyuanVideo's valid text tokens) runs the same plan compiled for its layout — text rows and columns are kept by
  // every pattern, stripe columns clipped to the video — once per T1'. layer_plan() and the densities describe
  // the checked layout.
  const data::Plan& plan() const { return plan_; }
  const data::TokenLayout& layout() const { return layout_; }
  // Mean block density over every layer of a step (1 for a dense step).
  double step_block_density(int64_t step) const;

 private:
  struct DeviceLayer;  // the packed layouts of one layer on one device (sparse_plan_attention.cpp)
  // entry × layers + layer, and the heads of the call (empty: all; head-parallel ranks run a subset)
  using DeviceKey = std::pair<size_t, std::vector<int64_t>>;

  // The plan, already checked, compiled for a layout with a shorter text suffix.
  SparsePlanAttention(const SparsePlanAttention& checked, const data::TokenLayout& shorter_text);
  void compile_schedule();  // compiled_ and layer_plans_ for plan_ at layout_
  at::Tensor sparse_layer(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const LayerPlan& lp,
                          const DeviceKey& key);

  data::Plan plan_;
  data::TokenLayout layout_;
  std::string source_;
  int64_t layers_ = 0, heads_ = 0;
  std::map<int32_t, data::BlockLayout> compiled_;  // pattern id → layout, each compiled once
  LayerPlan dense_layer_;                          // for steps that no entry covers, or dense entries
  std::vector<LayerPlan> layer_plans_;             // [entry × layer]
  std::mutex device_mutex_;
  std::map<DeviceKey, std::unique_ptr<DeviceLayer>> device_layers_;
  std::map<int64_t, std::unique_ptr<SparsePlanAttention>> shorter_text_;  // key: the call's text suffix T1'
};

}  // namespace svdit::runtime
