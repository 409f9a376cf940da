// torch.classes.svdit.ProfileSession: the profiler's ProfileSession (profile_session.h) for the Python package, so
// that svdit.profile (python/svdit/profile.py) measures a diffusers pipeline's attention with the same code, and
// writes the same file through the same writer, as `svdit profile`. Built as libsvdit_profile_ops.so, loaded after
// libsvdit_torch_ops.so (it registers into the same `svdit` namespace, as a fragment).
//
// Python feeds one conditional forward at a time with the prompts as the batch: observe(step, layer, q, k, v) takes
// q, k, v [prompts, S, H, D] and measures batch row p as prompt p. observe_prompt / calibrate_prompt take one
// prompt's [1, S', H, D], where S' may lack text suffix tokens (HunyuanVideo: a prompt's valid text only;
// profile_session.h "Shorter text").

#include <torch/custom_class.h>
#include <torch/library.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/profile_session.h"
#include "svdit/profiler/step_selection.h"

namespace svdit::profiler {

namespace {

at::ScalarType compute_dtype(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float16") return at::kHalf;
  if (name == "bfloat16") return at::kBFloat16;
  throw std::invalid_argument("ProfileSession: dtype: expected float32, float16 or bfloat16, found \"" + name + "\"");
}

ErrorPath error_path(const std::string& name) {
  if (name == "auto") return ErrorPath::automatic;
  if (name == "reference") return ErrorPath::reference;
  if (name == "kernel") return ErrorPath::kernel;
  throw std::invalid_argument("ProfileSession: error_path: expected auto, reference or kernel, found \"" + name + "\"");
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class ProfileSessionHolder : public torch::CustomClassHolder {
 public:
  // profile_steps / map_steps: the syntax of `svdit profile --profile-steps` (step_selection.h). timesteps: the
  // sampler's timestep of every one of the sampling_steps steps (the meta records those of the profiled ones).
  ProfileSessionHolder(std::string out, std::string model, int64_t layers, int64_t heads, int64_t head_dim,
                       int64_t frames, int64_t height, int64_t width, int64_t text_prefix, int64_t text_suffix,
                       int64_t block_size, std::string dtype, std::string device, int64_t sampling_steps,
                       std::vector<double> timesteps, std::string profile_steps, std::string map_steps,
                       std::vector<std::string> prompts, std::string candidates_file, int64_t top_k_blocks,
                       std::string cost, int64_t cost_repetitions, int64_t cost_warmup, int64_t max_group,
                       int64_t chunk_mb, std::string errors, bool resume, bool quiet, int64_t seed) {
    data::ProfileMeta meta;
    meta.model = model;
    meta.layers = layers;
    meta.heads = heads;
    meta.head_dim = head_dim;
    meta.layout = {.frames = frames, .height = height, .width = width, .text_prefix = text_prefix,
                   .text_suffix = text_suffix, .block_size = block_size};
    meta.dtype = dtype;
    meta.sampling_steps = sampling_steps;
    if (static_cast<int64_t>(timesteps.size()) != sampling_steps) {
      throw std::invalid_argument("ProfileSession: timesteps: expected one per sampling step (" +
                                  std::to_string(sampling_steps) + "), found " + std::to_string(timesteps.size()));
    }
    meta.steps = parse_steps(profile_steps, sampling_steps, "profile_steps");
    if (meta.steps.empty()) throw std::invalid_argument("profile_steps: selects no step");
    for (const int64_t s : meta.steps) meta.timesteps.push_back(timesteps[static_cast<size_t>(s)]);
    meta.prompts = std::move(prompts);

    ProfileSessionOptions options;
    options.out = out;
    options.resume = resume;
    for (const int64_t s : parse_steps(map_steps, sampling_steps, "map_steps")) {
      if (std::binary_search(meta.steps.begin(), meta.steps.end(), s)) options.map_steps.push_back(s);
    }
    if (!candidates_file.empty()) options.candidates = read_candidates_file(candidates_file, meta.layout);
    options.top_k_blocks = top_k_blocks;
    if (chunk_mb < 1) throw std::invalid_argument("ProfileSession: chunk_mb: expected >= 1, found " + std::to_string(chunk_mb));
    options.measure.chunk_bytes = chunk_mb << 20;
    options.measure.error_path = error_path(errors);
    options.cost = cost;
    options.cost_repetitions = cost_repetitions;
    options.cost_warmup = cost_warmup;
    options.max_group = max_group;
    if (cost_repetitions < 1) throw std::invalid_argument("ProfileSession: cost_repetitions: expected >= 1");
    if (max_group < 0 || max_group > heads) {
      throw std::invalid_argument("ProfileSession: max_group: expected 0 … " + std::to_string(heads) + ", found " +
                                  std::to_string(max_group));
    }
    options.seed = static_cast<uint64_t>(seed);
    options.quiet = quiet;
    session_ = std::make_unique<ProfileSession>(std::move(meta), at::Device(device), compute_dtype(dtype),
                                                std::move(options));
  }

  std::vector<int64_t> steps() const { return session().meta().steps; }
  int64_t last_step() const { return session().last_step(); }
  bool wants(int64_t step) const {
    for (int64_t p = 0; p < session().meta().num_prompts(); ++p) {
      if (session().wants(p, step)) return true;
    }
    return false;
  }
  bool calibrating() const { return session().calibrating(); }

  void calibrate(const at::Tensor& q, const at::Tensor& k) {
    check_batch(q, "calibrate");
    for (int64_t p = 0; p < q.size(0); ++p) session().calibrate(q.narrow(0, p, 1), k.narrow(0, p, 1));
  }
  void end_calibration() { session().end_calibration(); }

  void observe(int64_t step, int64_t layer, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
    check_batch(q, "observe");
    for (int64_t p = 0; p < q.size(0); ++p) {
      session().observe(p, step, layer, q.narrow(0, p, 1), k.narrow(0, p, 1), v.narrow(0, p, 1));
    }
  }
  void calibrate_prompt(const at::Tensor& q, const at::Tensor& k) {
    check_one(q, "calibrate_prompt");
    session().calibrate(q, k);
  }
  void observe_prompt(int64_t prompt, int64_t step, int64_t layer, const at::Tensor& q, const at::Tensor& k,
                      const at::Tensor& v) {
    check_one(q, "observe_prompt");
    session().observe(prompt, step, layer, q, k, v);
  }
  void end_step(int64_t step) { session().end_step(step); }

  // The report as JSON (python/svdit/profile.py returns it as a dict).
  std::string finish() {
    const ProfileRunReport r = session().finish();
    std::ostringstream s;
    s << "{\"out\": " << json_string(r.out.string()) << ", \"slices_measured\": " << r.slices_measured
      << ", \"slices_skipped\": " << r.slices_skipped << ", \"maps_written\": " << r.maps_written
      << ", \"cost_measured\": " << (r.cost_measured ? "true" : "false")
      << ", \"cost_source\": " << json_string(r.cost_source) << ", \"seconds\": " << r.seconds
      << ", \"measure_seconds\": " << r.measure_seconds << ", \"cost_seconds\": " << r.cost_seconds << "}";
    session_.reset();  // releases the target's lock now, not when Python collects the object
    return s.str();
  }

  // Ends an unfinished session (an exception in the pipeline): the lock is released now, not whenever Python
  // collects the object, and what was written stays in "<out>.partial" for resume. Nothing after a finish().
  void close() { session_.reset(); }

 private:
  ProfileSession& session() const {
    if (!session_) throw std::logic_error("ProfileSession: already finished");
    return *session_;
  }
  void check_batch(const at::Tensor& q, const char* what) const {
    const int64_t prompts = session().meta().num_prompts();
    if (q.dim() != 4 || q.size(0) != prompts) {
      throw std::invalid_argument(std::string("ProfileSession.") + what + ": q: expected [prompts = " +
                                  std::to_string(prompts) + ", S, H, D], found " + std::to_string(q.dim()) +
                                  " dimensions" + (q.dim() > 0 ? ", batch " + std::to_string(q.size(0)) : ""));
    }
  }

  static void check_one(const at::Tensor& q, const char* what) {
    if (q.dim() != 4 || q.size(0) != 1) {
      throw std::invalid_argument(std::string("ProfileSession.") + what + ": q: expected [1, S, H, D], found " +
                                  std::to_string(q.dim()) + " dimensions" +
                                  (q.dim() > 0 ? ", batch " + std::to_string(q.size(0)) : ""));
    }
  }

  std::unique_ptr<ProfileSession> session_;
};

}  // namespace

}  // namespace svdit::profiler

TORCH_LIBRARY_FRAGMENT(svdit, m) {
  using svdit::profiler::ProfileSessionHolder;
  m.class_<ProfileSessionHolder>("ProfileSession")
      .def(torch::init<std::string, std::string, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                       int64_t, int64_t, std::string, std::string, int64_t, std::vector<double>, std::string,
                       std::string, std::vector<std::string>, std::string, int64_t, std::string, int64_t, int64_t,
                       int64_t, int64_t, std::string, bool, bool, int64_t>())
      .def("steps", &ProfileSessionHolder::steps)
      .def("last_step", &ProfileSessionHolder::last_step)
      .def("wants", &ProfileSessionHolder::wants)
      .def("calibrating", &ProfileSessionHolder::calibrating)
      .def("calibrate", &ProfileSessionHolder::calibrate)
      .def("end_calibration", &ProfileSessionHolder::end_calibration)
      .def("observe", &ProfileSessionHolder::observe)
      .def("calibrate_prompt", &ProfileSessionHolder::calibrate_prompt)
      .def("observe_prompt", &ProfileSessionHolder::observe_prompt)
      .def("end_step", &ProfileSessionHolder::end_step)
      .def("finish", &ProfileSessionHolder::finish)
      .def("close", &ProfileSessionHolder::close);
}
