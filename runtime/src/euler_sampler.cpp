// Euler steps of the flow ODE (see flow_sampler.h).

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "svdit/runtime/flow_sampler.h"

namespace svdit::runtime {

at::Tensor EulerSampler::step(const at::Tensor& velocity, const at::Tensor& sample) {
  if (index_ >= schedule_.steps()) {
    throw std::logic_error("EulerSampler: step " + std::to_string(index_) + " beyond the schedule's " +
                           std::to_string(schedule_.steps()) + " steps");
  }
  const auto i = static_cast<size_t>(index_++);
  const double dt = schedule_.sigmas[i + 1] - schedule_.sigmas[i];  // negative: σ decreases
  return sample + dt * velocity;                                     // [B, C, T, H, W]
}

std::unique_ptr<FlowSampler> make_sampler(std::string_view name, FlowSchedule schedule) {
  std::string n(name);
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (n == "euler") return std::make_unique<EulerSampler>(std::move(schedule));
  if (n == "unipc" || n == "uni_pc" || n == "unipc2") return std::make_unique<UniPcSampler>(std::move(schedule));
  throw std::invalid_argument("--sampler: expected unipc or euler, found \"" + std::string(name) + "\"");
}

}  // namespace svdit::runtime
