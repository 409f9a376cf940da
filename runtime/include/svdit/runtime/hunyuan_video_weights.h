#pragma once
// HunyuanVideo's weights: the exact set of tensors a config implies, by diffusers name (the naming of every public
// safetensors checkpoint of HunyuanVideoTransformer3DModel), loading from safetensors (single file, sharded index,
// or folder), random initialisation for benchmarks at full size, and saving (tests).
//
// A checkpoint must hold exactly the expected tensors: a missing, extra or mis-shaped key is a FormatError naming
// the file, the key and the expected versus found shape (all problems at once, up to 40), checked before any byte
// is read, so a Wan checkpoint or a truncated download never runs.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "svdit/runtime/hunyuan_video_config.h"
#include "svdit/runtime/wan_weights.h"  // ExpectedTensor, StateDict, WeightOptions (family-neutral types)

namespace svdit::data {
class SafetensorsCollection;
}

namespace svdit::runtime {

// Top level, the token refiner, then the dual-stream and the single-stream blocks. keep_fp32: the conditioning
// MLPs (time, guidance, pooled text), every modulation linear and every norm gain, as the Wan runtime keeps them
// (fp32 modulation and statistics, GEMMs in the compute dtype).
std::vector<ExpectedTensor> hunyuan_video_expected_tensors(const HunyuanVideoConfig& config);

// Checks the checkpoint's tensor names and shapes against the config before any byte is read (FormatError naming
// the checkpoint, the keys and expected versus found shapes).
void check_hunyuan_video_checkpoint(const data::SafetensorsCollection& weights, const HunyuanVideoConfig& config);

// check_hunyuan_video_checkpoint, then every tensor converted (F32, BF16 or F16 in the file) and moved to the
// device: keep_fp32 tensors in fp32, the rest in `compute_dtype`.
StateDict load_hunyuan_video_state_dict(const data::SafetensorsCollection& weights, const HunyuanVideoConfig& config,
                                        const WeightOptions& options);

// Random weights of the right shapes (linear weights ~ N(0, 1/fan_in), biases ~ N(0, 0.02²), norm gains ≈ 1),
// generated on the target device from `seed`. Deterministic for a given seed and device.
StateDict random_hunyuan_video_state_dict(const HunyuanVideoConfig& config, const WeightOptions& options,
                                          uint64_t seed);

// Writes the tensors (diffusers names) in `storage_dtype` (kFloat, kBFloat16 or kHalf) as one safetensors file.
void save_hunyuan_video_state_dict(const std::filesystem::path& path, const StateDict& state,
                                   at::ScalarType storage_dtype = at::kFloat);

// True when the checkpoint's tensor names are HunyuanVideoTransformer3DModel's (it holds
// context_embedder.token_refiner.* or single_transformer_blocks.*): family detection without a config.json.
bool looks_like_hunyuan_video(const data::SafetensorsCollection& weights);

}  // namespace svdit::runtime
