// svdit forward: one forward of the DiT of any registered family on given inputs — the model's prediction for one
// latents tensor, timestep and prompt — written as safetensors. The reference tests (tests/python) compare it with
// diffusers' forward on the same weights and inputs.

#include <ATen/ATen.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <span>

#include "svdit/cli/arg_parser.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/latents_file.h"
#include "svdit/runtime/model_family.h"
#include "svdit/runtime/text_embeddings.h"
#include "svdit/runtime/tool_options.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit forward",
                   "svdit forward (--weights PATH | --random-weights CONFIG) --latents FILE --timestep T --out FILE "
                   "[options]",
                   "Runs one forward of the model (one denoiser prediction, conditional branch) on the latents in FILE\n"
                   "(a safetensors file with one tensor \"latents\" in the family's layout: Wan2.1 and HunyuanVideo\n"
                   "[1, C, T, H, W], CogVideoX [1, T, C, H, W]) at timestep T with the prompt's conditioning, and writes\n"
                   "the prediction (tensor \"prediction\", fp32, the latents' shape). Attention is dense.");
  rt::add_model_options(p);
  p.option("latents", "FILE", "the input latents (tensor \"latents\")");
  p.option("timestep", "T", "the model timestep, 0 … 1000: an integer is given as int64, a fraction (HunyuanVideo's\n"
           "flow timesteps 1000·σ) as fp32");
  p.option("embeddings", "FILE[:KEY]", "the prompt's conditioning (text_embeddings.h; HunyuanVideo: its conditioning\n"
           "file) (default: an empty prompt, all rows zero)");
  p.option("guidance", "G", "the embedded guidance scale of a guidance-distilled family (HunyuanVideo), fed as\n"
           "1000·G", "6");
  p.option("out", "FILE", "the prediction (.safetensors)");
  rt::add_device_options(p);
  return p;
}

int run(const cli::ArgParser& args) {
  if (!args.has("latents") || !args.has("timestep") || !args.has("out")) {
    throw cli::UsageError("--latents, --timestep and --out are required");
  }
  const rt::FamilyModelFromArgs loaded = rt::family_model_from_args(args);
  const rt::Model& model = *loaded.model;
  const at::Tensor latents = rt::load_latents(args.get("latents")).latents.to(model.device());  // family's layout
  const double t = args.get_double("timestep");
  if (!(t >= 0 && t <= 1000)) throw cli::UsageError("--timestep: expected 0 … 1000, found " + args.get("timestep"));
  const at::Tensor timestep = t == std::floor(t) ? at::full({1}, static_cast<int64_t>(t), at::kLong)
                                                 : at::full({1}, static_cast<float>(t), at::kFloat);  // [1]
  const rt::TextSpec text = model.text_spec();
  rt::TextInputs context = args.has("embeddings") ? rt::load_text_inputs(args.get("embeddings"), text)
                                                  : rt::zero_text_inputs(text);
  if (text.embedded_guidance) context.guidance = rt::embedded_guidance_input(args.get_double("guidance"));
  const rt::ForwardOptions options{0, rt::CfgBranch::conditional, nullptr, nullptr};  // dense
  const at::Tensor prediction = model.forward(latents, timestep, context, options).to(at::kCPU).contiguous();
  svdit::data::TensorData d;
  d.name = "prediction";
  d.dtype = svdit::data::DType::f32;
  d.shape = prediction.sizes().vec();
  d.bytes = std::span<const std::byte>(static_cast<const std::byte*>(prediction.const_data_ptr()), prediction.nbytes());
  svdit::data::write_safetensors(args.get("out"), std::span<const svdit::data::TensorData>(&d, 1),
                                 {{"model", model.plan_model().name}, {"family", model.family()}, {"weights", loaded.label}});
  std::fprintf(stderr, "wrote   %s (%s) of %s\n", args.get("out").c_str(), c10::str(prediction.sizes()).c_str(),
               model.describe().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
