#pragma once
// The output of svdit generate: one safetensors file with the final latents under the name "latents"
// ([1, C, T, H, W] fp32) and the run's settings as string metadata (model, seed, steps, sampler, plan, …), so
// that svdit compare and the user can tell two outputs apart.

#include <filesystem>
#include <map>
#include <string>

#include <ATen/core/Tensor.h>

namespace svdit::runtime {

struct LatentsFile {
  at::Tensor latents;  // [1, C, T, H, W] fp32, CPU
  std::map<std::string, std::string> metadata;
};

void save_latents(const std::filesystem::path& path, const at::Tensor& latents,
                  const std::map<std::string, std::string>& metadata);

// Throws data::FormatError naming the file when it has no "latents" tensor of rank 5.
LatentsFile load_latents(const std::filesystem::path& path);

}  // namespace svdit::runtime
