// A whole training run of the demo model: prefetching data, the loop with its time limit, logging, evaluation,
// checkpoints, and the model card's outputs (see trainer.h, run_training).

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <fstream>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "svdit/data/atomic_file.h"
#include "svdit/data/png.h"
#include "svdit/demo/plot.h"
#include "svdit/demo/trainer.h"
#include "svdit/runtime/device.h"
#include "svdit/runtime/pixel_unshuffle.h"
#include "svdit/runtime/progress_bar.h"
#include "svdit/runtime/sampling.h"
#include "svdit/runtime/text_embeddings.h"

namespace svdit::demo {

namespace rt = svdit::runtime;
using Clock = std::chrono::steady_clock;

namespace {

// Generates batches `first`, `first` + 1, … on a background thread, `depth` ahead of the consumer.
class Prefetcher {
 public:
  Prefetcher(const TrainOptions& options, int64_t first, size_t depth)
      : options_(options), depth_(depth), thread_([this, first] { run(first); }) {}
  ~Prefetcher() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  HostBatch pop() {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !queue_.empty() || error_; });
    if (queue_.empty() && error_) std::rethrow_exception(error_);
    HostBatch b = std::move(queue_.front());
    queue_.pop_front();
    cv_.notify_all();
    return b;
  }

 private:
  void run(int64_t step) {
    try {
      for (;; ++step) {
        HostBatch b = make_batch(options_, step);
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
        queue_.push_back(std::move(b));
        cv_.notify_all();
      }
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
      cv_.notify_all();
    }
  }

  TrainOptions options_;
  size_t depth_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<HostBatch> queue_;
  bool stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // last: starts once the rest is constructed
};

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s.precision(digits);
  s << std::fixed << v;
  return s.str();
}

std::string number(double v) {
  if (!std::isfinite(v)) return "";
  std::ostringstream s;
  s.precision(7);
  s << v;
  return s.str();
}

void write_csv(const std::filesystem::path& path, const std::vector<HistoryRow>& history) {
  std::string text = "step,loss,lr,heldout_loss,grad_norm,seconds\n";
  for (const HistoryRow& r : history) {
    text += std::to_string(r.step) + "," + number(r.loss) + "," + number(r.lr) + "," + number(r.heldout) + "," +
            number(r.grad_norm) + "," + fixed(r.seconds, 2) + "\n";
  }
  data::write_file_atomically(path, text);
}

void write_image(const std::filesystem::path& path, const Image& img) {
  data::write_png(path, img.rgb, img.width, img.height);
}

// Every prompt sampled with the runtime (UniPC, CFG against the empty prompt), decoded, one row per prompt.
Image sample_strip(const rt::WanModel& model, const std::vector<std::string>& prompts, const VideoSize& vs,
                   const RunOptions& o) {
  const at::NoGradGuard no_grad;
  const rt::WanConfig& config = model.config();
  const rt::VideoGeometry g = rt::video_geometry(config, vs.frames, vs.height, vs.width);
  const rt::PixelUnshuffleDecoder decoder(config);
  std::vector<std::vector<uint8_t>> videos;
  for (size_t i = 0; i < prompts.size(); ++i) {
    rt::SamplingOptions so;
    so.steps = o.sample_steps;
    so.shift = o.sample_shift;
    so.guidance = o.sample_guidance;
    so.seed = i;
    const at::Tensor latents = rt::sample_video(model, g, rt::prompt_embeddings(prompts[i], config),
                                                rt::prompt_embeddings("", config), so);  // [1, C, T, h, w]
    const at::Tensor frames = decoder.decode(latents);                                     // [T, H, W, 3]
    videos.emplace_back(frames.const_data_ptr<uint8_t>(), frames.const_data_ptr<uint8_t>() + frames.numel());
  }
  return video_strip(videos, vs);
}

Image truth_strip(const std::vector<std::string>& prompts, const VideoSize& vs) {
  std::vector<std::vector<uint8_t>> videos;
  for (size_t i = 0; i < prompts.size(); ++i) videos.push_back(render_video(scene_for_prompt(prompts[i], i, vs), vs));
  return video_strip(videos, vs);
}

Image loss_plot(const std::vector<HistoryRow>& history) {
  PlotSeries train{{}, {}, {40, 90, 200}, false}, held{{}, {}, {215, 50, 40}, true};
  for (const HistoryRow& r : history) {
    if (std::isfinite(r.loss)) {
      train.x.push_back(static_cast<double>(r.step));
      train.y.push_back(r.loss);
    }
    if (std::isfinite(r.heldout)) {
      held.x.push_back(static_cast<double>(r.step));
      held.y.push_back(r.heldout);
    }
  }
  return line_plot({train, held});
}

}  // namespace

RunSummary run_training(const RunOptions& ro) {
  const TrainOptions& o = ro.train;
  const auto started = Clock::now();
  std::filesystem::create_directories(ro.out_dir);
  const std::filesystem::path checkpoint = ro.out_dir / "checkpoint.safetensors";
  if (!o.device.is_cpu()) {
    at::globalContext().setAllowTF32CuBLAS(true);  // the fp32 GEMMs (time MLP) in TF32
    at::globalContext().setAllowTF32CuDNN(true);
  }

  Trainer trainer(o);
  if (ro.resume) {
    if (!std::filesystem::exists(checkpoint)) {
      throw std::runtime_error(checkpoint.string() + ": --resume: no checkpoint to continue from");
    }
    trainer.load_checkpoint(checkpoint);
    std::fprintf(stderr, "resumed %s at step %lld of %lld (%.0f s trained)\n", checkpoint.c_str(),
                 static_cast<long long>(trainer.step()), static_cast<long long>(trainer.total_steps()),
                 trainer.seconds());
  }
  std::fprintf(stderr, "model   %s\ndata    %lld frames of %lld×%lld px, batch %lld, device %s, compute %s\n",
               rt::describe(o.model).c_str(), static_cast<long long>(o.video.frames),
               static_cast<long long>(o.video.height), static_cast<long long>(o.video.width),
               static_cast<long long>(o.batch), o.device.str().c_str(), c10::toString(o.compute_dtype));

  const HeldOutSet heldout = make_heldout(o);
  std::vector<HistoryRow>& history = trainer.history();
  RunSummary summary;
  if (trainer.step() == 0 && history.empty()) {
    const double h = trainer.heldout_loss(heldout);
    history.push_back({0, std::numeric_limits<double>::quiet_NaN(), trainer.learning_rate(0), h, 0,
                       std::numeric_limits<double>::quiet_NaN()});
    std::fprintf(stderr, "held-out loss of the untrained model: %.5f (%lld videos)\n", h,
                 static_cast<long long>(o.heldout));
  }

  // The time limit leaves room for the end: a final evaluation, the checkpoint, and (outputs) the sample strip.
  const double reserve = ro.write_outputs ? (o.device.is_cpu() ? 60.0 : 25.0) : 2.0;
  const double budget = o.minutes > 0 ? o.minutes * 60.0 - reserve : std::numeric_limits<double>::infinity();
  auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - started).count(); };

  const int64_t first = trainer.step();
  const int64_t measure_from = first + 10, measure_to = first + 40;
  double measure_start = 0;
  std::unique_ptr<rt::ProgressBar> bar;
  if (trainer.total_steps() > 0) bar = std::make_unique<rt::ProgressBar>(trainer.total_steps(), "step");
  at::Tensor loss_sum;
  int64_t loss_count = 0;
  double last_log_time = elapsed();
  int64_t last_log_step = first;
  double run_seconds_before = trainer.seconds();
  const double loop_start = elapsed();
  {
    Prefetcher prefetch(o, first, 3);
    while (trainer.total_steps() <= 0 || trainer.step() < trainer.total_steps()) {
      if (elapsed() >= budget) {
        std::fprintf(stderr, "\ntime limit reached at step %lld\n", static_cast<long long>(trainer.step()));
        break;
      }
      const HostBatch batch = prefetch.pop();
      const at::Tensor loss = trainer.train_step(batch);  // [] on the device
      loss_sum = loss_sum.defined() ? loss_sum + loss : loss;
      ++loss_count;
      const int64_t step = trainer.step();  // steps done

      // Without a planned total, fix it from the measured speed (the cosine needs it; warm-up is still on).
      if (trainer.total_steps() <= 0 && (step == measure_from || step == measure_to)) {
        rt::synchronize(o.device);
        if (step == measure_from) {
          measure_start = elapsed();
        } else {
          const double per_step = (elapsed() - measure_start) / static_cast<double>(measure_to - measure_from);
          // The schedule's length: this run's limit, or the longer span of several resumed runs.
          const double plan_budget = o.schedule_minutes > 0 ? o.schedule_minutes * 60.0 - reserve : budget;
          const double left = std::isfinite(plan_budget) ? plan_budget - elapsed() : 0;
          const int64_t total = std::max<int64_t>(step + 1, step + static_cast<int64_t>(left / per_step * 0.97));
          trainer.set_total_steps(total);
          std::fprintf(stderr, "%.3f s/step (%.0f videos/s): planning %lld steps in the time limit\n", per_step,
                       static_cast<double>(o.batch) / per_step, static_cast<long long>(total));
          bar = std::make_unique<rt::ProgressBar>(total, "step");
        }
      }
      const bool log = step % o.log_every == 0;
      const bool eval = step % o.eval_every == 0;
      if (log || eval) {
        HistoryRow row;
        row.step = step;
        row.loss = (loss_sum / static_cast<double>(loss_count)).item<double>();
        row.lr = trainer.learning_rate(step - 1);
        row.grad_norm = trainer.last_grad_norm();
        row.heldout = eval ? trainer.heldout_loss(heldout) : std::numeric_limits<double>::quiet_NaN();
        trainer.seconds() = run_seconds_before + elapsed() - loop_start;
        row.seconds = trainer.seconds();
        history.push_back(row);
        loss_sum = at::Tensor();
        loss_count = 0;
        const double now = elapsed();
        const double per_step = (now - last_log_time) / static_cast<double>(std::max<int64_t>(1, step - last_log_step));
        last_log_time = now;
        last_log_step = step;
        std::string note = "loss " + fixed(row.loss, 4) + ", lr " + fixed(row.lr * 1e4, 2) + "e-4";
        if (eval) note += ", held-out " + fixed(row.heldout, 4);
        if (bar && ro.progress) {
          bar->update(step, per_step, note);
        } else if (ro.progress) {
          std::fprintf(stderr, "step %lld: %s\n", static_cast<long long>(step), note.c_str());
        }
        if (eval && !bar && !ro.progress) {
          std::fprintf(stderr, "step %lld: %s\n", static_cast<long long>(step), note.c_str());
        }
      }
      if (step % o.checkpoint_every == 0) trainer.save_checkpoint(checkpoint);
    }
  }
  if (bar && ro.progress) bar->finish();
  trainer.seconds() = run_seconds_before + elapsed() - loop_start;

  // Final evaluation (unless this very step was just evaluated) and checkpoint.
  if (history.empty() || history.back().step != trainer.step() || !std::isfinite(history.back().heldout)) {
    HistoryRow row;
    row.step = trainer.step();
    row.loss = loss_count > 0 ? (loss_sum / static_cast<double>(loss_count)).item<double>()
                              : std::numeric_limits<double>::quiet_NaN();
    row.lr = trainer.learning_rate(std::max<int64_t>(0, trainer.step() - 1));
    row.grad_norm = trainer.last_grad_norm();
    row.heldout = trainer.heldout_loss(heldout);
    row.seconds = trainer.seconds();
    if (!history.empty() && history.back().step == row.step) history.back().heldout = row.heldout;
    else history.push_back(row);
  }
  trainer.save_checkpoint(checkpoint);
  write_csv(ro.out_dir / "train_log.csv", history);

  summary.steps = trainer.step();
  summary.seconds = trainer.seconds();
  summary.untrained_heldout = history.front().heldout;
  summary.final_heldout_raw = history.back().heldout;
  summary.final_heldout = summary.final_heldout_raw;
  if (o.ema_decay > 0) {
    trainer.use_ema_weights();  // from here on: the moving average (the checkpoint keeps the iterate)
    summary.final_heldout = trainer.heldout_loss(heldout);
  }
  std::fprintf(stderr,
               "step %lld, %.0f s of training: held-out loss %.5f (untrained %.5f, ratio %.3f; last iterate %.5f)\n",
               static_cast<long long>(summary.steps), summary.seconds, summary.final_heldout, summary.untrained_heldout,
               summary.final_heldout / summary.untrained_heldout, summary.final_heldout_raw);

  if (ro.write_outputs) {
    trainer.export_model(ro.out_dir / "model.safetensors", at::kBFloat16);
    write_image(ro.out_dir / "loss_curve.png", loss_plot(history));
    const std::vector<std::string> prompts = demo_prompts();
    write_image(ro.out_dir / "ground_truth.png", truth_strip(prompts, o.video));
    const auto sampling_started = Clock::now();
    write_image(ro.out_dir / "samples.png", sample_strip(trainer.model(), prompts, o.video, ro));
    const double sampling_seconds = std::chrono::duration<double>(Clock::now() - sampling_started).count();
    nlohmann::json s = {
        {"model", o.model.name},
        {"steps", summary.steps},
        {"training_seconds", summary.seconds},
        {"videos_seen", summary.steps * o.batch},
        {"untrained_heldout_loss", summary.untrained_heldout},
        {"final_heldout_loss", summary.final_heldout},
        {"final_heldout_loss_last_iterate", summary.final_heldout_raw},
        {"exported_weights", o.ema_decay > 0 ? "moving average" : "last iterate"},
        {"heldout_ratio", summary.final_heldout / summary.untrained_heldout},
        {"heldout_videos", o.heldout},
        {"sample_prompts", prompts},
        {"sample_steps", ro.sample_steps},
        {"sample_guidance", ro.sample_guidance},
        {"sample_shift", ro.sample_shift},
        {"sampling_seconds", sampling_seconds},
        {"options", to_json(o)},
    };
    data::write_file_atomically(ro.out_dir / "summary.json", s.dump(2) + "\n");
    std::fprintf(stderr, "wrote   %s: model.safetensors, config.json, train_log.csv, loss_curve.png, samples.png, "
                 "ground_truth.png, summary.json\n", ro.out_dir.c_str());
  }
  return summary;
}

}  // namespace svdit::demo
