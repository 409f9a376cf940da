// torch.ops.svdit.read_plan / check_plan: the Python package (python/svdit) reads and checks plans through the
// same C++ reader and matcher as the runtime (data/include/svdit/data/plan.h), so a plan that `svdit generate`
// refuses is refused in diffusers too, with the same message. Registered as a fragment: registration.cpp holds
// the library's main block.

#include <torch/library.h>

#include <string>

#include "svdit/data/plan.h"

namespace svdit::kernels::torch_ops {

namespace {

// Reads and validates the plan at `path` (every rule of docs/FORMATS.md "Plan (JSON)") and returns it in the
// canonical form serialize_plan writes, so Python indexes a plan that is known to be valid.
std::string read_plan(const std::string& path) { return data::serialize_plan(data::read_plan(path)); }

// Refuses the plan (JSON text, as read_plan returns it) unless it was made for a model of this shape at this
// token layout; the message names every mismatching field with both values. The model's name and the block size
// are the plan's own choice (a diffusers model carries no svdit name), so they are taken from the plan.
void check_plan(const std::string& plan_json, const std::string& source, int64_t layers, int64_t heads,
                int64_t head_dim, int64_t frames, int64_t height, int64_t width, int64_t text_prefix,
                int64_t text_suffix) {
  const data::Plan plan = data::parse_plan(plan_json, source);
  const data::PlanModel model{plan.model.name, layers, heads, head_dim, /*family: the caller does not say*/ ""};
  const data::TokenLayout layout{.frames = frames,
                                 .height = height,
                                 .width = width,
                                 .text_prefix = text_prefix,
                                 .text_suffix = text_suffix,
                                 .block_size = plan.layout.block_size};
  data::check_plan_matches(plan, model, layout, source);
}

}  // namespace

}  // namespace svdit::kernels::torch_ops

TORCH_LIBRARY_FRAGMENT(svdit, m) {
  // Neither takes a tensor: catch-all kernels, like compile_layer.
  m.def("read_plan(str path) -> str", &svdit::kernels::torch_ops::read_plan);
  m.def(
      "check_plan(str plan_json, str source, int layers, int heads, int head_dim, int frames, int height, "
      "int width, int text_prefix, int text_suffix) -> ()",
      &svdit::kernels::torch_ops::check_plan);
}
