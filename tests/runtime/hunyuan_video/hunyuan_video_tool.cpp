// svdit-test-hunyuan-video: the C++ HunyuanVideo model driven from files, for the test against diffusers
// (hunyuan_video_reference_test.py). Two commands:
//   forward: one HunyuanVideoModel::forward_masked on diffusers' inputs (latents, timestep, padded prompt_embeds
//            with prompt_attention_mask, pooled_prompt_embeds, guidance) → the velocity;
//   sample:  sample_hunyuan_video from a conditioning file (hunyuan_video_prompt.h) → the final latents.
// Test-only: once `svdit generate` takes model families it runs HunyuanVideo for users.

#include <ATen/ATen.h>

#include <cstdio>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"
#include "svdit/runtime/hunyuan_video_model.h"
#include "svdit/runtime/hunyuan_video_prompt.h"
#include "svdit/runtime/hunyuan_video_sampling.h"

namespace cli = svdit::cli;
namespace data = svdit::data;
namespace rt = svdit::runtime;

namespace {

std::map<std::string, at::Tensor> read_tensors(const std::string& path) {
  const data::SafetensorsFile file = data::SafetensorsFile::open(path);
  std::map<std::string, at::Tensor> out;
  for (const data::TensorInfo& info : file.tensors()) {
    std::vector<float> values = data::to_float(info, file.bytes(info));
    out[info.name] = at::from_blob(values.data(), info.shape, at::TensorOptions().dtype(at::kFloat)).clone();
  }
  return out;
}

void write_tensor(const std::string& path, const std::string& name, const at::Tensor& tensor) {
  const at::Tensor host = tensor.to(at::kCPU, at::kFloat).contiguous();
  data::TensorData d{name, data::DType::f32, host.sizes().vec(),
                     std::span<const std::byte>(static_cast<const std::byte*>(host.const_data_ptr()), host.nbytes())};
  data::write_safetensors(path, std::span<const data::TensorData>(&d, 1));
}

at::Tensor need(const std::map<std::string, at::Tensor>& tensors, const std::string& name, const std::string& file) {
  const auto it = tensors.find(name);
  if (it == tensors.end()) throw data::FormatError(file, name, "missing");
  return it->second;
}

int run(const cli::ArgParser& args) {
  if (args.positional().size() != 1) throw cli::UsageError("expected one command: forward or sample");
  const std::string command = args.positional()[0];
  const rt::LoadedHunyuanVideo loaded = rt::load_hunyuan_video_model(args.get("weights"), {});
  const rt::HunyuanVideoModel& model = *loaded.model;
  if (command == "forward") {
    const std::string inputs = args.get("inputs");
    const auto t = read_tensors(inputs);
    const at::Tensor guidance = model.config().guidance_embeds ? need(t, "guidance", inputs) : at::Tensor();
    const at::Tensor velocity =
        model.forward_masked(need(t, "latents", inputs), need(t, "timestep", inputs), need(t, "prompt_embeds", inputs),
                             need(t, "prompt_attention_mask", inputs), need(t, "pooled_prompt_embeds", inputs),
                             guidance);  // [B, C, T, H, W]
    write_tensor(args.get("out"), "velocity", velocity);
    return 0;
  }
  if (command == "sample") {
    const rt::HunyuanVideoPrompt prompt = rt::load_hunyuan_video_prompt(args.get("prompt"), model.config());
    rt::HunyuanVideoPrompt negative;
    if (args.has("negative-prompt")) negative = rt::load_hunyuan_video_prompt(args.get("negative-prompt"), model.config());
    rt::HunyuanVideoSamplingOptions options;
    options.steps = args.get_int("steps", 1, 10000);
    options.shift = args.get_double("shift");
    options.guidance = args.get_double("guidance");
    options.true_cfg = args.get_double("true-cfg");
    options.seed = args.get_u64("seed");
    const rt::VideoGeometry g = rt::hunyuan_video_geometry(model.config(), args.get_int("frames"),
                                                           args.get_int("height"), args.get_int("width"));
    const at::Tensor latents = rt::sample_hunyuan_video(model, g, prompt,
                                                        args.has("negative-prompt") ? &negative : nullptr, options);
    write_tensor(args.get("out"), "latents", latents);
    return 0;
  }
  throw cli::UsageError("unknown command \"" + command + "\" (expected forward or sample)");
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser p("svdit-test-hunyuan-video", "svdit-test-hunyuan-video forward|sample --weights DIR [options]",
                   "Runs svdit's HunyuanVideo model on files (the diffusers agreement test's driver), CPU, fp32.");
  p.option("weights", "DIR", "diffusers checkpoint folder (config.json + safetensors)");
  p.option("inputs", "FILE", "forward: latents, timestep, prompt_embeds, prompt_attention_mask, pooled_prompt_embeds, guidance");
  p.option("prompt", "FILE", "sample: the conditioning file");
  p.option("negative-prompt", "FILE", "sample: the negative conditioning file (with --true-cfg > 1)");
  p.option("steps", "N", "sample: denoising steps", "50");
  p.option("shift", "S", "sample: flow shift", "7");
  p.option("guidance", "G", "sample: embedded guidance scale", "6");
  p.option("true-cfg", "G", "sample: classifier-free guidance scale (1: off)", "1");
  p.option("seed", "N", "sample: noise seed", "0");
  p.option("frames", "N", "sample: video frames (1 + 4k)", "1");
  p.option("height", "PX", "sample: height in pixels", "16");
  p.option("width", "PX", "sample: width in pixels", "16");
  p.option("out", "FILE", "output safetensors");
  return cli::run_tool(p, argc, argv, run);
}
