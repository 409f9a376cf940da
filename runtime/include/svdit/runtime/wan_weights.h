#pragma once
// The Wan2.1 DiT's weights: the exact set of tensors a config implies (reference/wan21-spec.md §3), their two
// naming schemes (the original Wan repository's and diffusers'), loading from safetensors (single file or
// sharded), random initialisation for benchmarks at full size, and saving (tests, the demo model).
//
// Inside svdit every tensor is known by its ORIGINAL name ("blocks.3.self_attn.q.weight"); a diffusers checkpoint
// is translated on load. A checkpoint must hold exactly the expected tensors: a missing, extra or mis-shaped key
// is an error that names the key and both shapes, so a wrong or truncated download never runs.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>

#include "svdit/runtime/model_family.h"
#include "svdit/runtime/wan_config.h"

namespace svdit::data {
class SafetensorsCollection;
}

namespace svdit::runtime {

enum class KeyNaming { original, diffusers };
const char* to_string(KeyNaming naming);  // "original", "diffusers"

// One tensor the model needs, by original name.
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
  // Kept in fp32 whatever the compute dtype: the time MLP, the modulation tables and the norm weights, as the
  // reference does (fp32 statistics and modulation; bf16 GEMMs only).
  bool keep_fp32 = false;
};

// The 15 + 27·L tensors of a config, top-level first, then block by block.
std::vector<ExpectedTensor> expected_tensors(const WanConfig& config);

// The name an original-named tensor has under `naming` ("blocks.3.self_attn.q.weight" → "blocks.3.attn1.to_q.weight").
// Throws std::invalid_argument for a name that is not a Wan2.1 DiT tensor.
std::string key_for(std::string_view original_name, KeyNaming naming);

// Which scheme a checkpoint uses: diffusers when it has any tensor only diffusers names (condition_embedder.*,
// scale_shift_table, proj_out.*, blocks.*.attn1.*), otherwise original.
KeyNaming detect_naming(const data::SafetensorsCollection& weights);

// Checks the checkpoint's tensor names and shapes against the config before any byte is read. Every problem is a
// FormatError naming the checkpoint, the key (as the file spells it) and what was expected versus found; when
// several keys are wrong the message lists them all (up to a few dozen).
void check_checkpoint(const data::SafetensorsCollection& weights, const WanConfig& config, KeyNaming naming);

// Tensors by original name, on one device: keep_fp32 tensors in fp32, the rest in `compute_dtype`.
using StateDict = std::map<std::string, at::Tensor>;

// WeightOptions (device, compute dtype): model_family.h.

// check_checkpoint, then every tensor converted (F32, BF16 or F16 in the file) and moved to the device.
StateDict load_state_dict(const data::SafetensorsCollection& weights, const WanConfig& config,
                          const WeightOptions& options);

// Random weights of the right shapes and sensible scales (linear weights ~ N(0, 1/fan_in), norm weights ≈ 1,
// modulation ~ N(0, 1/dim)), generated on the target device from `seed`: for benchmarks at full size without a
// checkpoint, and for tests. Deterministic for a given seed and device.
StateDict random_state_dict(const WanConfig& config, const WeightOptions& options, uint64_t seed);

// Writes the tensors under `naming` in `storage_dtype` (kFloat, kBFloat16 or kHalf) as one safetensors file.
void save_state_dict(const std::filesystem::path& path, const StateDict& state, KeyNaming naming,
                     at::ScalarType storage_dtype = at::kFloat);

}  // namespace svdit::runtime
