// svdit train-demo: train the demo model (docs/DEMO_MODEL.md) with flow matching on procedural videos.

#include <cstdio>

#include "svdit/cli/arg_parser.h"
#include "svdit/demo/trainer.h"
#include "svdit/runtime/tool_options.h"

namespace cli = svdit::cli;
namespace rt = svdit::runtime;
namespace demo = svdit::demo;

namespace {

cli::ArgParser make_parser() {
  const demo::TrainOptions d;
  cli::ArgParser p("svdit train-demo", "svdit train-demo --out DIR [--minutes M | --steps N] [--resume] [options]",
                  "Trains the demo model (Wan2.1 architecture, svdit-demo-shapes v2: dim 192, 8 layers, 3 heads × 64) with\n"
                  "flow matching on procedural videos of moving shapes (20 frames of 96×128 px, pixel-unshuffle latents,\n"
                  "class-word prompts), with the runtime's own WanModel. Writes into DIR: checkpoint.safetensors (every\n"
                  "--checkpoint-every steps and at the end; --resume continues from it), train_log.csv, and at the end\n"
                  "model.safetensors (bf16) + config.json, loss_curve.png, samples.png (UniPC samples of the card's\n"
                  "prompts), ground_truth.png (the generator's videos of the same prompts) and summary.json.");
  p.option("out", "DIR", "output folder");
  p.option("minutes", "M", "wall-clock limit of this run, end-of-run outputs included (0: none)", "0");
  p.option("schedule-minutes", "M",
           "with --steps 0: plan the learning-rate schedule for M minutes of training from this run's start, to be\n"
           "continued with --resume over several runs of --minutes each (0: plan for --minutes)", "0");
  p.option("steps", "N", "planned total steps (the cosine schedule); 0: as many as --minutes allows, measured", "0");
  p.option("batch", "B", "videos per step", std::to_string(d.batch));
  p.option("lr", "LR", "peak learning rate", "5e-4");
  p.option("warmup", "N", "linear warm-up steps", std::to_string(d.warmup));
  p.option("weight-decay", "W", "AdamW decoupled weight decay (matrices only)", "0.01");
  p.option("clip", "C", "global gradient-norm clip", "1.0");
  p.option("sigma-shift", "S", "training σ = s·u/(1 + (s − 1)·u), u ~ U(0, 1)", "3.0");
  p.option("prompt-dropout", "P", "probability of training on the empty prompt (for guidance)", "0.1");
  p.option("ema", "D", "decay of the weights' moving average, which is exported (0: export the last iterate)", "0.999");
  p.option("seed", "N", "seed of the data, the noise and the initial weights", "0");
  p.option("init", "MODEL.safetensors", "start from these weights (an exported model of the same config, e.g.\n"
           "data/samples/demo/model.safetensors) instead of the initialisation; a fresh optimiser and schedule");
  p.option("heldout", "N", "held-out videos", std::to_string(d.heldout));
  p.option("eval-every", "N", "held-out loss every N steps", std::to_string(d.eval_every));
  p.option("log-every", "N", "training-loss log row every N steps", std::to_string(d.log_every));
  p.option("checkpoint-every", "N", "checkpoint every N steps", std::to_string(d.checkpoint_every));
  p.option("data-threads", "N", "CPU threads generating videos (0: cores − 1)", "0");
  rt::add_device_options(p, "fp32, bf16");
  p.option("sample-steps", "N", "UniPC steps of the sample strip", "25");
  p.option("sample-guidance", "G", "guidance of the sample strip", "4.0");
  p.option("sample-shift", "S", "flow shift of the sample strip", "3.0");
  p.flag("resume", "continue from DIR/checkpoint.safetensors (same options)");
  p.flag("no-outputs", "write the checkpoint and the log only (no model, pictures or samples)");
  p.flag("quiet", "no progress bar");
  return p;
}

int run(const cli::ArgParser& args) {
  demo::RunOptions ro;
  demo::TrainOptions& t = ro.train;
  const rt::DeviceChoice choice = rt::device_from_args(args);
  t.device = choice.device;
  t.compute_dtype = choice.dtype;
  t.minutes = args.get_double("minutes");
  t.schedule_minutes = args.get_double("schedule-minutes");
  t.steps = args.get_int("steps");
  t.batch = args.get_int("batch");
  t.lr = args.get_double("lr");
  t.warmup = args.get_int("warmup");
  t.weight_decay = args.get_double("weight-decay");
  t.clip = args.get_double("clip");
  t.sigma_shift = args.get_double("sigma-shift");
  t.prompt_dropout = args.get_double("prompt-dropout");
  t.seed = args.get_u64("seed");
  if (args.has("init")) t.init_weights = args.get("init");
  if (args.has("init") && args.flag_set("resume")) throw cli::UsageError("give at most one of --init and --resume");
  t.ema_decay = args.get_double("ema");
  t.heldout = args.get_int("heldout");
  t.eval_every = args.get_int("eval-every");
  t.log_every = args.get_int("log-every");
  t.checkpoint_every = args.get_int("checkpoint-every");
  t.threads = static_cast<int>(args.get_int("data-threads"));
  if (t.steps <= 0 && t.minutes <= 0) throw cli::UsageError("give --steps or --minutes (or both)");
  if (t.schedule_minutes < 0) throw cli::UsageError("--schedule-minutes: expected a number ≥ 0");
  if (t.schedule_minutes > 0 && t.minutes > t.schedule_minutes) {
    throw cli::UsageError("--schedule-minutes: expected at least --minutes (the schedule spans this run and later ones)");
  }
  for (const auto& [name, value] : {std::pair{"eval-every", t.eval_every}, {"log-every", t.log_every},
                                    {"checkpoint-every", t.checkpoint_every}, {"batch", t.batch},
                                    {"warmup", t.warmup}, {"heldout", t.heldout}}) {
    if (value <= 0) throw cli::UsageError(std::string("--") + name + ": expected a positive integer");
  }
  ro.out_dir = args.get("out");
  ro.resume = args.flag_set("resume");
  ro.sample_steps = args.get_int("sample-steps");
  ro.sample_guidance = args.get_double("sample-guidance");
  ro.sample_shift = args.get_double("sample-shift");
  ro.progress = !args.flag_set("quiet");
  ro.write_outputs = !args.flag_set("no-outputs");
  const demo::RunSummary s = demo::run_training(ro);
  std::printf("steps %lld, %.1f s, held-out loss %.5f (untrained %.5f, ratio %.3f; last iterate %.5f)\n",
              static_cast<long long>(s.steps), s.seconds, s.final_heldout, s.untrained_heldout,
              s.final_heldout / s.untrained_heldout, s.final_heldout_raw);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
