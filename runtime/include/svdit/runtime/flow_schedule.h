#pragma once
// The rectified-flow noise schedule of Wan2.1's samplers (reference/wan21-spec.md §4):
//   σ_i = linspace(σ_max, 0, N + 1)[i] for i < N, σ_max = 0.999 (1 − 1/1000 training timesteps);
//   shifted σ'_i = s·σ_i / (1 + (s − 1)·σ_i);  σ'_N = 0 (the final sigma, "zero");
//   timestep fed to the model t_i = ⌊1000·σ'_i⌋ (int64 truncation, as the reference casts).
// x_σ = (1 − σ)·x0 + σ·ε; the model predicts the velocity v = ε − x0.

#include <cstdint>
#include <vector>

namespace svdit::runtime {

struct FlowSchedule {
  std::vector<double> sigmas;      // [N + 1], decreasing, sigmas[N] = 0
  std::vector<int64_t> timesteps;  // [N]: ⌊1000·σ'_i⌋ (reports, profiles and observers key steps by them)
  // The model takes the fractional timestep 1000·σ'_i in fp32 rather than timesteps[i] (HunyuanVideo's pipeline
  // feeds its flow scheduler's float timesteps); DenoisingLoop::timestep() applies it.
  bool fractional_timesteps = false;
  int64_t steps() const { return static_cast<int64_t>(timesteps.size()); }
};

inline constexpr double kSigmaMax = 0.999;
inline constexpr int64_t kTrainTimesteps = 1000;

// Throws std::invalid_argument for steps < 1 or shift ≤ 0.
FlowSchedule make_flow_schedule(int64_t steps, double shift);

}  // namespace svdit::runtime
