#pragma once
// The model options shared by the tools that run the DiT (svdit generate, svdit profile):
//   --weights PATH | --random-weights CONFIG [--weights-seed N]

#include <memory>
#include <string>

#include "svdit/runtime/cli_args.h"
#include "svdit/runtime/wan_model.h"
#include "svdit/runtime/wan_weights.h"

namespace svdit::runtime {

// Declares --weights, --random-weights and --weights-seed on `parser`.
void add_model_options(ArgParser& parser);

struct ModelFromArgs {
  std::unique_ptr<WanModel> model;
  std::string label;  // "PATH (original names, config …/config.json)" or "random (1.3B, seed 0)"
};

// Builds the model the options name; UsageError unless exactly one of --weights and --random-weights is given.
ModelFromArgs model_from_args(const ArgParser& args, const WeightOptions& options);

}  // namespace svdit::runtime
