// svdit bench e2e: one full DiT forward (all layers) at a real size with random weights, dense vs with a plan:
// time per forward and per CFG step, the share of self-attention in it, and the speed-up.

#include <ATen/ATen.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/cli/video_options.h"
#include "svdit/data/plan.h"
#include "svdit/kernels/cpu/dense_attention.h"
#include "svdit/kernels/cpu/sparse_attention.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/mixed_plan.h"
#include "svdit/runtime/sparse_plan_attention.h"
#include "svdit/runtime/tool_options.h"
#include "svdit/runtime/wan_model.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;

namespace {

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit bench e2e", "svdit bench e2e [--model PRESET|CONFIG.json] [--plan PLAN.json | --mix SPEC] [options]",
                  "Times one DiT forward pass (every layer, random weights, B = 1) dense and with a sparse plan, at\n"
                  "the model's real size. A sampling step is two such forwards (classifier-free guidance). The\n"
                  "self-attention share comes from a separate pass with device timers around each self-attention\n"
                  "call. Without --plan, a synthetic plan mixes window / temporal / stripe+window / skip / dense\n"
                  "heads (--mix). Presets of every family (" + rt::describe_presets() + "); the video is the\n"
                  "family's native size (Wan2.1 1.3B 832×480, 14B 1280×720, CogVideoX1.5 1360×768; 81 frames),\n"
                  "override with --frames/--height/--width.\n\n"
                  "--verify instead checks the sparse path of this build on this device against the CPU reference,\n"
                  "layer by layer, on a small model.");
  p.option("model", "NAME", "a preset (" + rt::describe_presets() + ") or a config.json", "1.3B");
  cli::add_video_size_options(p, {{"", "default: the family's, 81 for Wan2.1 and CogVideoX1.5"},
                                  {"", "default: the family's; 720 for 14B"}, {"", "default: the family's; 1280 for 14B"}});
  p.option("plan", "PLAN.json", "plan to run (must match the model and video)");
  p.option("mix", "SPEC", "synthetic plan: KIND=WEIGHT,… over dense, skip, window, temporal, stripe", rt::kDefaultMix);
  p.option("dense-layers", "N", "synthetic plan: the first N layers dense", "0");
  p.option("block-size", "B", "synthetic plan: attention block size (64 or 128)", "128");
  p.option("step", "N", "the denoising step whose plan entry is timed (default: the first sparse step)");
  p.option("warmup", "N", "untimed forwards first", "1");
  p.option("reps", "N", "timed forwards (median reported)", "3");
  rt::add_device_options(p);
  p.option("seed", "N", "seed of the weights, inputs and synthetic plan", "0");
  p.option("write-plan", "FILE", "write the plan that was timed");
  p.flag("skip-dense", "time the plan only");
  p.flag("verify", "check the sparse path against the CPU reference on a small model, then exit");
  return p;
}

// Wraps a backend (or dense attention) with device timers around each self-attention call.
class TimedAttention final : public rt::AttentionBackend {
 public:
  TimedAttention(rt::AttentionBackend* inner, at::Device device) : inner_(inner), timer_(device) {}
  std::string name() const override { return "timed"; }
  at::Tensor self_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const rt::SelfAttentionCall& call) override {
    timer_.begin();
    at::Tensor out = inner_ ? inner_->self_attention(q, k, v, call) : rt::dense_attention(q, k, v);  // [B, S, H, D]
    timer_.end();
    return out;
  }
  double total_ms() { return timer_.total_ms(); }
  void reset() { timer_.reset(); }

 private:
  rt::AttentionBackend* inner_;
  rt::IntervalTimer timer_;
};

struct Inputs {
  at::Tensor latents;   // [1, C, T, H, W]
  at::Tensor timestep;  // [1]
  rt::TextInputs context;  // embeddings [1, L, text_dim] (+ pooled, embedded guidance where the family takes them)
};

struct Timing {
  double forward_ms = 0;    // median over reps
  double attention_ms = 0;  // from the timed pass
  double timed_pass_ms = 0;
};

Timing time_forward(const rt::Model& model, const Inputs& in, rt::AttentionBackend* backend, int64_t step,
                    int64_t warmup, int64_t reps) {
  const at::Device device = model.device();
  rt::ForwardOptions options{step, rt::CfgBranch::conditional, backend, nullptr};
  for (int64_t i = 0; i < warmup; ++i) (void)model.forward(in.latents, in.timestep, in.context, options);
  rt::synchronize(device);
  std::vector<double> ms;
  for (int64_t i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    (void)model.forward(in.latents, in.timestep, in.context, options);
    rt::synchronize(device);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.forward_ms = ms[ms.size() / 2];
  TimedAttention timed(backend, device);
  options.attention = &timed;
  const auto t0 = std::chrono::steady_clock::now();
  (void)model.forward(in.latents, in.timestep, in.context, options);
  rt::synchronize(device);
  t.timed_pass_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  t.attention_ms = timed.total_ms();
  return t;
}

// --verify: every self-attention layer's output on this device against the CPU reference on the same q, k, v.
class ReferenceCheck final : public rt::AttentionObserver {
 public:
  explicit ReferenceCheck(const rt::SparsePlanAttention& plan) : plan_(plan) {}
  void on_self_attention(const rt::SelfAttentionEvent& e) override {
    const int64_t B = e.q.size(0), S = e.q.size(1), H = e.q.size(2), D = e.q.size(3);
    auto bhsd = [](const at::Tensor& t) { return t.transpose(1, 2).to(at::kCPU, at::kFloat).contiguous(); };  // [B, H, S, D]
    const at::Tensor q = bhsd(e.q), k = bhsd(e.k), v = bhsd(e.v);
    at::Tensor out = at::empty_like(q);                            // [B, H, S, D]
    at::Tensor lse = at::empty({B, H, S}, q.options());            // [B, H, S]
    const svdit::kernels::cpu::AttentionShape shape{B, H, S, D};
    const auto& lp = plan_.layer_plan(e.call.step, e.call.layer);
    auto in = [](const at::Tensor& t) { return std::span<const float>(t.const_data_ptr<float>(), static_cast<size_t>(t.numel())); };
    std::span<float> o(out.data_ptr<float>(), static_cast<size_t>(out.numel()));
    std::span<float> l(lse.data_ptr<float>(), static_cast<size_t>(lse.numel()));
    if (lp.mode == rt::SparsePlanAttention::LayerMode::sparse) {
      svdit::kernels::cpu::sparse_attention(in(q), in(k), in(v), shape,
                                            std::span<const svdit::data::BlockLayout* const>(lp.layouts), o, l);
    } else if (lp.mode == rt::SparsePlanAttention::LayerMode::skip) {
      out.zero_();
    } else {
      svdit::kernels::cpu::dense_attention(in(q), in(k), in(v), shape, o, l);
    }
    const at::Tensor got = bhsd(e.out);
    const double err = (got - out).abs().max().item<double>();
    const double scale = std::max(out.abs().max().item<double>(), 1e-6);
    worst = std::max(worst, err / scale);
    std::printf("  layer %lld (%s): max |device − reference| = %.3g (relative %.3g)\n",
                static_cast<long long>(e.call.layer),
                lp.mode == rt::SparsePlanAttention::LayerMode::sparse ? "sparse"
                : lp.mode == rt::SparsePlanAttention::LayerMode::skip ? "skip"
                                                                       : "dense",
                err, err / scale);
  }
  double worst = 0;

 private:
  const rt::SparsePlanAttention& plan_;
};

int verify(const cli::ArgParser& args, const rt::DeviceChoice& choice) {
  const at::Device device = choice.device;
  const at::ScalarType dtype = choice.dtype;
  rt::WanConfig c;
  c.dim = 256;
  c.num_heads = 2;
  c.ffn_dim = 512;
  c.num_layers = 6;
  c.text_dim = 64;
  c.text_len = 32;
  c.name = rt::default_model_name(c);
  const rt::VideoGeometry g = rt::latent_geometry(c, 4, 32, 32);  // grid 4 × 16 × 16 = 1024 tokens
  const svdit::data::TokenLayout layout = rt::token_layout(g, args.get_int("block-size"));
  rt::MixedPlanOptions mo;
  mo.mix = rt::parse_mix("window=1,temporal=1,stripe=1,skip=1,dense=1");
  mo.seed = args.get_u64("seed");
  rt::SparsePlanAttention plan(rt::make_mixed_plan(c, layout, mo), c, layout, "verify plan");
  const rt::WanModel model(c, rt::random_state_dict(c, {device, dtype}, args.get_u64("seed")), "verify");
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(args.get_u64("seed"));
  const at::Tensor latents = at::randn({1, c.in_dim, g.latent_frames, g.latent_height, g.latent_width}, gen);  // [1, C, T, H, W]
  const at::Tensor context = at::randn({1, c.text_len, c.text_dim}, gen);                                     // [1, L, text_dim]
  ReferenceCheck check(plan);
  std::printf("verify: %s on %s (%s), %s, block %lld\n", rt::describe(c).c_str(), device.str().c_str(),
              c10::toString(dtype), svdit::data::describe(layout).c_str(), static_cast<long long>(layout.block_size));
  (void)model.forward(latents, at::full({1}, 500, at::kLong), context,
                      rt::ForwardOptions{0, rt::CfgBranch::conditional, &plan, &check});
  // bf16 inputs and outputs: the kernels accumulate in fp32, so the difference is the output rounding (2^-8).
  const double tolerance = dtype == at::kFloat ? 1e-4 : 2e-2;
  std::printf("verify: worst relative difference %.3g (tolerance %.3g): %s\n", check.worst, tolerance,
              check.worst <= tolerance ? "OK" : "FAILED");
  return check.worst <= tolerance ? 0 : 1;
}

int run_e2e(const cli::ArgParser& args) {
  const rt::DeviceChoice choice = rt::device_from_args(args);
  if (args.flag_set("verify")) return verify(args, choice);
  const at::Device device = choice.device;
  const at::ScalarType dtype = choice.dtype;
  const std::string model_name = args.get("model");
  const uint64_t seed = args.get_u64("seed");
  const auto t_load = std::chrono::steady_clock::now();
  const rt::OpenedModel opened = rt::random_model(model_name, {device, dtype}, seed);
  const rt::Model& model = *opened.model;
  const svdit::data::PlanModel shape = model.plan_model();
  // Wan2.1-14B is benchmarked at its native 720p; every other preset at its family's default size.
  const bool is14b = shape.name == "Wan2.1-T2V-14B";
  const cli::VideoSize video = rt::video_size_from_args(args, model);
  const int64_t frames = video.frames;
  const int64_t height = args.has("height") ? video.height : (is14b ? 720 : video.height);
  const int64_t width = args.has("width") ? video.width : (is14b ? 1280 : video.width);
  const rt::VideoGeometry g = model.video_geometry(frames, height, width);

  svdit::data::Plan plan;
  std::string plan_label;
  if (args.has("plan")) {
    plan = svdit::data::read_plan(args.get("plan"));
    plan_label = args.get("plan");
  } else {
    rt::MixedPlanOptions mo;
    mo.mix = rt::parse_mix(args.get("mix"));
    mo.dense_layers = args.get_int("dense-layers");
    mo.seed = seed;
    plan = rt::make_mixed_plan(shape, model.token_layout(g, args.get_int("block-size")), mo);
    plan_label = "synthetic mix " + args.get("mix") +
                 (mo.dense_layers > 0 ? ", first " + std::to_string(mo.dense_layers) + " layers dense" : "");
  }
  if (args.has("write-plan")) svdit::data::write_plan(plan, args.get("write-plan"));
  rt::SparsePlanAttention sparse(plan, shape, model.token_layout(g, plan.layout.block_size),
                                 args.has("plan") ? args.get("plan") : "synthetic plan");
  int64_t step = 0;
  if (args.has("step")) {
    step = args.get_int("step");
  } else {
    for (const auto& entry : plan.schedule) {
      if (!entry.dense) {
        step = entry.step_begin;
        break;
      }
    }
  }

  std::printf("svdit bench e2e\nmodel      %s\nvideo      %lld frames %lld×%lld → latents %lld×%lld×%lld, %lld tokens\n"
              "device     %s, compute %s, B = 1, random weights (seed %llu)\nplan       %s, step %lld: mean block density %.3f\n",
              model.describe().c_str(), static_cast<long long>(frames), static_cast<long long>(height),
              static_cast<long long>(width), static_cast<long long>(g.latent_frames),
              static_cast<long long>(g.latent_height), static_cast<long long>(g.latent_width),
              static_cast<long long>(model.token_layout(g).seq_len()), device.str().c_str(), c10::toString(dtype),
              static_cast<unsigned long long>(seed), plan_label.c_str(), static_cast<long long>(step),
              sparse.step_block_density(step));
  std::fflush(stdout);

  const rt::TextSpec text = model.text_spec();
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
  Inputs in;
  in.latents = at::randn(model.latent_shape(g), gen).to(device);                             // the family's layout
  in.timestep = at::full({1}, 500, at::kLong);                                                // [1]
  in.context = rt::TextInputs((0.1 * at::randn({1, text.text_len, text.text_dim}, gen)).to(device));  // [1, L, text_dim]
  if (text.pooled_dim > 0) in.context.pooled = at::randn({1, text.pooled_dim}, gen).to(device);    // [1, pooled_dim]
  if (text.embedded_guidance) {  // the family's default scale (the value does not change the time)
    in.context.guidance = rt::embedded_guidance_input(rt::find_model_family(model.family())->default_guidance);
  }
  rt::synchronize(device);
  std::printf("setup      %.1f s (random weights on the device)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
  std::fflush(stdout);

  const int64_t warmup = args.get_int("warmup"), reps = std::max<int64_t>(args.get_int("reps"), 1);
  // A sampling step is two forwards with classifier-free guidance, one for a guidance-distilled family (HunyuanVideo).
  const int forwards_per_step = text.embedded_guidance ? 1 : 2;
  const std::string step_column = "step ms (" + std::to_string(forwards_per_step) + " fwd)";
  std::printf("\n%-8s %12s %14s %10s %18s\n", "", "forward ms", "self-attn ms", "attn share", step_column.c_str());
  Timing dense;
  if (!args.flag_set("skip-dense")) {
    dense = time_forward(model, in, nullptr, step, warmup, reps);
    std::printf("%-8s %12.1f %14.1f %9.1f%% %18.1f\n", "dense", dense.forward_ms, dense.attention_ms,
                100.0 * dense.attention_ms / dense.timed_pass_ms, forwards_per_step * dense.forward_ms);
    std::fflush(stdout);
  }
  const Timing sp = time_forward(model, in, &sparse, step, warmup, reps);
  std::printf("%-8s %12.1f %14.1f %9.1f%% %18.1f\n", "plan", sp.forward_ms, sp.attention_ms,
              100.0 * sp.attention_ms / sp.timed_pass_ms, forwards_per_step * sp.forward_ms);
  if (!args.flag_set("skip-dense")) {
    std::printf("\nspeed-up   forward (= per step) %.2f×, self-attention %.2f×\n", dense.forward_ms / sp.forward_ms,
                dense.attention_ms / sp.attention_ms);
  }
  std::printf("(forward ms: median of %lld after %lld warm-up; attention from one extra forward with device timers)\n",
              static_cast<long long>(reps), static_cast<long long>(warmup));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string sub = argc > 1 ? argv[1] : "";
  if (sub != "e2e") {
    std::printf("usage: svdit bench e2e [options]   (svdit bench e2e --help)\n\n"
                "  e2e      one whole DiT forward, dense vs a sparse plan, at a model family's real sizes\n\n"
                "Kernel-level benchmarks (sparse kernels vs cuDNN SDPA and FlexAttention) are\n"
                "kernels/bench/bench_sparse_attention.py (scripts/gpu-check.sh --bench).\n");
    return sub.empty() || sub == "--help" || sub == "-h" ? 0 : 2;
  }
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc - 1, argv + 1, run_e2e);
}
