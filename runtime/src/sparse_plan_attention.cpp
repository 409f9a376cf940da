// The sparse plan executor (see sparse_plan_attention.h).

#include "svdit/runtime/sparse_plan_attention.h"

#include <ATen/ATen.h>

#include <set>
#include <stdexcept>

#include "svdit/data/error.h"
#include "svdit/kernels/torch/sparse_attention.h"

namespace svdit::runtime {

namespace ops = svdit::kernels::torch_ops;

struct SparsePlanAttention::DeviceLayer {
  at::Device device;
  ops::DeviceLayouts layouts;
};

SparsePlanAttention::SparsePlanAttention(data::Plan plan, const WanConfig& config, const data::TokenLayout& layout,
                                         std::string source)
    : SparsePlanAttention(std::move(plan), plan_model(config), layout, std::move(source)) {}

SparsePlanAttention::SparsePlanAttention(data::Plan plan, const data::PlanModel& model,
                                         const data::TokenLayout& layout, std::string source)
    : plan_(std::move(plan)), source_(std::move(source)) {
  // The plan's own block size is part of its layout; everything else must be the model's and the video's.
  layout_ = layout;
  layout_.block_size = plan_.layout.block_size;
  data::validate(plan_, source_);
  data::check_plan_matches(plan_, model, layout_, source_);
  compile_schedule();
}

SparsePlanAttention::SparsePlanAttention(const SparsePlanAttention& checked, const data::TokenLayout& shorter_text)
    : plan_(checked.plan_), layout_(shorter_text), source_(checked.source_) {
  compile_schedule();
}

void SparsePlanAttention::compile_schedule() {
  layers_ = plan_.model.layers;
  heads_ = plan_.model.heads;

  // Compile every pattern the schedule uses, once.
  std::set<int32_t> used;
  for (const data::ScheduleEntry& entry : plan_.schedule) {
    if (!entry.dense) used.insert(entry.heads.begin(), entry.heads.end());
  }
  for (const int32_t id : used) {
    const data::PlanPattern* p = plan_.find_pattern(id);
    if (p == nullptr) {
      throw data::FormatError(source_, "patterns", "the schedule uses pattern id " + std::to_string(id) +
                                                       ", which the plan does not define");
    }
    compiled_.emplace(id, data::compile_pattern(p->pattern, layout_));
  }

  // Decide how each layer runs: the dense path, zeros, or one launch with every head's layout.
  const double all_blocks = static_cast<double>(layout_.num_blocks()) * static_cast<double>(layout_.num_blocks());
  layer_plans_.resize(plan_.schedule.size() * static_cast<size_t>(layers_));
  for (size_t e = 0; e < plan_.schedule.size(); ++e) {
    const data::ScheduleEntry& entry = plan_.schedule[e];
    for (int64_t l = 0; l < layers_; ++l) {
      LayerPlan& lp = layer_plans_[e * static_cast<size_t>(layers_) + static_cast<size_t>(l)];
      if (entry.dense) continue;  // mode dense, density 1
      bool all_dense = true, all_skip = true;
      double computed = 0;
      lp.layouts.resize(static_cast<size_t>(heads_));
      for (int64_t h = 0; h < heads_; ++h) {
        const int32_t id = entry.heads[static_cast<size_t>(l * heads_ + h)];
        const data::Pattern& pattern = plan_.find_pattern(id)->pattern;
        all_dense = all_dense && pattern.is_dense();
        all_skip = all_skip && pattern.is_skip();
        const data::BlockLayout& bl = compiled_.at(id);
        lp.layouts[static_cast<size_t>(h)] = &bl;
        computed += bl.skip ? 0.0 : static_cast<double>(bl.computed_blocks());
      }
      lp.mode = all_dense ? LayerMode::dense : all_skip ? LayerMode::skip : LayerMode::sparse;
      lp.block_density = computed / (all_blocks * static_cast<double>(heads_));
      if (lp.mode == LayerMode::dense) lp.layouts.clear();
    }
  }
}

SparsePlanAttention::~SparsePlanAttention() = default;

const SparsePlanAttention::LayerPlan& SparsePlanAttention::layer_plan(int64_t step, int64_t layer) const {
  if (layer < 0 || layer >= layers_) {
    throw std::out_of_range("sparse plan " + source_ + ": layer " + std::to_string(layer) + " outside [0, " +
                            std::to_string(layers_) + ")");
  }
  const data::ScheduleEntry* entry = plan_.entry_for(step);
  if (entry == nullptr) return dense_layer_;
  const auto e = static_cast<size_t>(entry - plan_.schedule.data());
  return layer_plans_[e * static_cast<size_t>(layers_) + static_cast<size_t>(layer)];
}

double SparsePlanAttention::step_block_density(int64_t step) const {
  double sum = 0;
  for (int64_t l = 0; l < layers_; ++l) sum += layer_plan(step, l).block_density;
  return sum / static_cast<double>(layers_);
}

at::Tensor SparsePlanAttention::self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                               const SelfAttentionCall& call) {
  if (call.layout != nullptr) {
    data::TokenLayout seen = *call.layout;
    seen.block_size = layout_.block_size;
    // Fewer text tokens after the video than the checked layout (HunyuanVideo runs on a prompt's valid text
    // tokens, docs/FORMATS.md "HunyuanVideo: text tokens …"): the same plan, compiled once for that layout.
    data::TokenLayout padded = seen;
    padded.text_suffix = layout_.text_suffix;
    if (seen.text_suffix < layout_.text_suffix && padded == layout_) {
      SparsePlanAttention* variant = nullptr;
      {
        const std::lock_guard<std::mutex> lock(device_mutex_);
        auto& slot = shorter_text_[seen.text_suffix];
        if (!slot) slot.reset(new SparsePlanAttention(*this, seen));
        variant = slot.get();
      }
      return variant->self_attention(q, k, v, call);
    }
    if (!(seen == layout_)) {
      throw std::invalid_argument("sparse plan " + source_ + ": made for the token layout " + data::describe(layout_) +
                                  ", but this forward pass has " + data::describe(seen));
    }
  }
  const int64_t heads_given = call.heads ? static_cast<int64_t>(call.heads->size()) : heads_;
  if (q.dim() != 4 || q.size(1) != layout_.seq_len() || q.size(2) != heads_given) {
    throw std::invalid_argument("sparse plan " + source_ + ": expected q of shape [B, " +
                                std::to_string(layout_.seq_len()) + ", " + std::to_string(heads_given) + ", " +
                                std::to_string(plan_.model.head_dim) + "], found " + c10::str(q.sizes()));
  }
  const LayerPlan& whole = layer_plan(call.step, call.layer);
  // A subset of the heads (head-parallel attention) of a sparse layer runs sparse too, so every head computes
  // exactly what it computes in the whole layer (the kernel treats heads independently); only a subset of skip
  // heads is zeros without a launch.
  LayerPlan subset;
  if (call.heads != nullptr && whole.mode == LayerMode::sparse) {
    bool all_skip = true;
    for (const int64_t h : *call.heads) {
      if (h < 0 || h >= heads_) {
        throw std::out_of_range("sparse plan " + source_ + ": head " + std::to_string(h) + " outside [0, " +
                                std::to_string(heads_) + ")");
      }
      const data::BlockLayout* bl = whole.layouts[static_cast<size_t>(h)];
      subset.layouts.push_back(bl);
      all_skip = all_skip && bl->skip;
    }
    subset.mode = all_skip ? LayerMode::skip : LayerMode::sparse;
  }
  const LayerPlan& lp = call.heads != nullptr && whole.mode == LayerMode::sparse ? subset : whole;
  switch (lp.mode) {
    case LayerMode::dense: return dense_attention(q, k, v);
    case LayerMode::skip: return at::zeros_like(q);  // [B, S, H, D]
    case LayerMode::sparse: break;
  }
  const data::ScheduleEntry* entry = plan_.entry_for(call.step);
  const auto key = static_cast<size_t>(entry - plan_.schedule.data()) * static_cast<size_t>(layers_) +
                   static_cast<size_t>(call.layer);
  return sparse_layer(q, k, v, lp, {key, call.heads ? *call.heads : std::vector<int64_t>{}});
}

at::Tensor SparsePlanAttention::sparse_layer(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                             const LayerPlan& lp, const DeviceKey& key) {
  DeviceLayer* dl = nullptr;
  {
    const std::lock_guard<std::mutex> lock(device_mutex_);
    auto& slot = device_layers_[key];
    if (!slot || slot->device != q.device()) {
      slot = std::make_unique<DeviceLayer>(DeviceLayer{q.device(), ops::prepare_layouts(lp.layouts, q.device())});
    }
    dl = slot.get();
  }
  return ops::sparse_attention(q, k, v, dl->layouts).out;  // [B, S, H, D]
}

}  // namespace svdit::runtime
