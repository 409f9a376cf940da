#pragma once
// The option groups of the tools that run the DiT, declared on the command-line library's parser (svdit_cli) and
// read into runtime types, one function each:
//   device:   --device DEV, --dtype TYPE, --threads N       (generate, profile, bench e2e, train-demo)
//   model:    --weights PATH | --random-weights PRESET|CONFIG [--weights-seed N]   (generate, profile): any family
//   sampling: --steps, --shift, --guidance, --true-cfg, --seed, --sampler (generate, profile; --shift and
//             --guidance default to the family's: ModelFamily::default_shift/default_guidance)
// and the defaults of the video-size group (svdit/cli/video_options.h) for Wan.

#include <memory>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include "svdit/cli/arg_parser.h"
#include "svdit/cli/video_options.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/wan_model.h"

namespace svdit::runtime {

// --frames/--height/--width of the Wan tools: Wan2.1's VAE maps 1 + 4k frames to 1 + k latent frames, and 81 frames
// of 832×480 is the 1.3B model's native size.
inline const cli::VideoSizeDefaults kWanVideoSize{{"81", "1 + 4k for Wan's VAE"}, {"480", ""}, {"832", ""}};

// Declares --device, --dtype and --threads; `dtypes` lists the explicit choices the tool supports.
void add_device_options(cli::ArgParser& parser, const std::string& dtypes = "fp32, bf16, fp16");

struct DeviceChoice {
  c10::Device device = c10::kCPU;
  c10::ScalarType dtype = c10::kFloat;  // the compute dtype ("auto" resolved for the device)
};

// Applies --threads (LibTorch's intra-op threads) when given, and resolves --device and --dtype.
DeviceChoice device_from_args(const cli::ArgParser& args);

// Declares --weights, --random-weights and --weights-seed.
void add_model_options(cli::ArgParser& parser);

struct FamilyModelFromArgs {
  std::unique_ptr<Model> model;  // any registered family (model_family.h)
  std::string label;  // "PATH (wan2.1: config.json _class_name …)" or "random (1.3B, seed 0)"
  c10::Device device = c10::kCPU;  // as --device named it ("cuda", not the model tensors' "cuda:0")
};

// Builds the model the options name (load_model / random_model: any registered family) on the device and in the
// compute dtype of the device group (which the tool declares too); UsageError unless exactly one of --weights and
// --random-weights is given.
FamilyModelFromArgs family_model_from_args(const cli::ArgParser& args);

// The same for the tools that run Wan2.1 only (the demo's): a model of another family is refused naming it.
struct ModelFromArgs {
  std::unique_ptr<WanModel> model;
  std::string label;
  c10::Device device = c10::kCPU;
};
ModelFromArgs model_from_args(const cli::ArgParser& args);

// The video size the options give, each of --frames/--height/--width defaulting to the family's (ModelFamily::
// video_size) when absent. The tools declare the group with cli::add_video_size_options(p, kAnyFamilyVideoSize).
cli::VideoSize video_size_from_args(const cli::ArgParser& args, const Model& model);
extern const cli::VideoSizeDefaults kAnyFamilyVideoSize;

// Declares --steps, --shift, --guidance, --true-cfg, --seed and --sampler; --shift, --guidance and --sampler
// default to auto (the family's), the rest to SamplingOptions{}'s values.
// `seed_help` says what the seed seeds in this tool.
void add_sampling_options(cli::ArgParser& parser, const std::string& seed_help = "noise seed");

// The sampling options given (UsageError for --steps below 1); auto --shift/--guidance are SamplingOptions{}'s.
SamplingOptions sampling_options_from_args(const cli::ArgParser& args);
// The same with auto resolved to the model's family: its default_shift, default_guidance and own sampler.
SamplingOptions sampling_options_from_args(const cli::ArgParser& args, const Model& model);

}  // namespace svdit::runtime
