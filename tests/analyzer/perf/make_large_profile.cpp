// svdit-analyze-make-large-profile OUT.h5 [MAPPED_STEPS] — a SYNTHETIC profile of Wan2.1-14B's size at 720p, for
// measuring how the analyzer keeps up (docs/ANALYZER.md "Responsiveness"): 40 layers × 40 heads, F = 21,
// H' = 45, W' = 80 (S = 75600, b = 128: 591 × 591 blocks per map), 10 profiled steps of 50, 2 prompts, 20
// candidates, a cost table, and every error and recall value. Maps are written for the first MAPPED_STEPS
// profiled steps (default 1) of every head — 1600 maps of 591 × 591 per step — and the profile is left
// unfinished (complete = 0; the reader accepts it, and shows "not stored" for the other maps), which keeps the
// file at a few GB per mapped step rather than the ~56 GB of a full 50-step profile.
// The numbers are made up (smooth functions of the indices); only their sizes matter here.
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "svdit/cli/arg_parser.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/pattern.h"
#include "svdit/data/profile_writer.h"

using namespace svdit::data;

namespace {

int make_profile(const svdit::cli::ArgParser& args) {
  const std::vector<std::string>& files = args.positional();
  if (files.empty() || files.size() > 2) throw svdit::cli::UsageError("expected OUT.h5 [MAPPED_STEPS]");
  const std::string out = files[0];
  const int64_t mapped_steps = files.size() > 1 ? svdit::cli::parse_int("MAPPED_STEPS", files[1]) : 1;
  {
    ProfileMeta meta;
    meta.model = "synthetic-wan2.1-14b-size";
    meta.layers = 40;
    meta.heads = 40;
    meta.head_dim = 128;
    meta.layout = TokenLayout{21, 45, 80, 0, 0, 128};
    meta.dtype = "bfloat16";
    meta.sampling_steps = 50;
    for (int64_t s = 0; s < 10; ++s) {
      meta.steps.push_back(s * 5);
      meta.timesteps.push_back(1000.0 - 20.0 * static_cast<double>(s * 5));
    }
    meta.prompts = {"a", "b"};
    meta.synthetic = true;
    const TokenLayout& t = meta.layout;
    const int64_t p = t.tokens_per_frame();

    std::vector<Pattern> patterns = {make_pattern({dense_component()}), make_pattern({skip_component()})};
    for (int64_t w : {p / 4, p / 2, p, 2 * p, 4 * p}) patterns.push_back(make_pattern({window_component(w)}));
    for (int64_t ws : {8, 40, 160}) {
      for (int64_t wf : {2, 5}) patterns.push_back(make_pattern({temporal_component(ws, wf)}));
    }
    for (int64_t w : {p / 2, p, 2 * p}) patterns.push_back(make_pattern({first_frame_stripe(t), window_component(w)}));
    for (int64_t w : {p / 4, p / 2, p}) {
      patterns.push_back(make_pattern({stripe_component({{0, 2 * p}}, "first_frame"), window_component(w)}));
    }
    std::vector<ProfileCandidate> candidates;
    for (size_t i = 0; i < patterns.size(); ++i) {
      const BlockLayout bl = compile_pattern(patterns[i], t);
      candidates.push_back({static_cast<int32_t>(i), patterns[i], bl.block_density(), token_density(patterns[i], t)});
    }
    const auto n = static_cast<int64_t>(candidates.size());
    std::printf("%lld candidates, G = %lld\n", static_cast<long long>(n), static_cast<long long>(t.num_blocks()));

    ProfileWriter writer = ProfileWriter::create(out, meta, candidates);
    std::vector<float> error(static_cast<size_t>(meta.heads * n)), recall(error.size());
    for (int64_t pr = 0; pr < 2; ++pr) {
      for (int64_t s = 0; s < meta.num_steps(); ++s) {
        for (int64_t l = 0; l < meta.layers; ++l) {
          for (int64_t h = 0; h < meta.heads; ++h) {
            for (int64_t c = 0; c < n; ++c) {
              const double d = candidates[static_cast<size_t>(c)].block_density;
              const double e = candidates[static_cast<size_t>(c)].pattern.is_skip()
                                   ? 1.0
                                   : (1 - d) * (0.02 + 0.2 * std::pow(std::sin(0.7 * static_cast<double>(l * 41 + h * 7 + c * 3 + s + pr)), 2));
              error[static_cast<size_t>(h * n + c)] = static_cast<float>(e);
              recall[static_cast<size_t>(h * n + c)] = static_cast<float>(std::max(0.0, 1 - e));
            }
          }
          writer.write_error_recall(pr, s, l, error, recall);
        }
      }
    }
    CostTable cost;
    cost.source = "cupti";
    cost.device = "synthetic";
    cost.repetitions = 1;
    cost.num_candidates = n;
    cost.max_group = meta.heads;
    // A launch of g heads: a fixed part plus g times a head's share (tiles plus time per computed block).
    for (int64_t c = 0; c < n; ++c) {
      for (int64_t g = 1; g <= meta.heads; ++g) {
        cost.us.push_back(8.0 + static_cast<double>(g) * (1.0 + 270.0 * candidates[static_cast<size_t>(c)].block_density));
      }
    }
    cost.dense_layer_us = 0.9 * (8.0 + static_cast<double>(meta.heads) * 271.0);
    cost.skip_layer_us = 5.0;
    writer.write_cost(cost, {});

    // Maps: a local band, a first-frame sink and a floor, rows normalised.
    const int64_t g = t.num_blocks(), f = t.frames;
    std::vector<float> pooled(static_cast<size_t>(g * g)), frames(static_cast<size_t>(f * f));
    for (int64_t s = 0; s < std::min(mapped_steps, meta.num_steps()); ++s) {
      for (int64_t l = 0; l < meta.layers; ++l) {
        for (int64_t h = 0; h < meta.heads; ++h) {
          const double width = 2.0 + static_cast<double>((l * 7 + h) % 30);
          for (int64_t q = 0; q < g; ++q) {
            double sum = 0;
            for (int64_t k = 0; k < g; ++k) {
              const double v = std::exp(-std::abs(static_cast<double>(q - k)) / width) + (k < 2 * p / 128 ? 0.3 : 0.0) + 1e-4;
              pooled[static_cast<size_t>(q * g + k)] = static_cast<float>(v);
              sum += v;
            }
            for (int64_t k = 0; k < g; ++k) pooled[static_cast<size_t>(q * g + k)] = static_cast<float>(pooled[static_cast<size_t>(q * g + k)] / sum);
          }
          for (int64_t a = 0; a < f; ++a) {
            double sum = 0;
            for (int64_t b = 0; b < f; ++b) sum += std::exp(-std::abs(static_cast<double>(a - b)) / 2.0);
            for (int64_t b = 0; b < f; ++b) frames[static_cast<size_t>(a * f + b)] = static_cast<float>(std::exp(-std::abs(static_cast<double>(a - b)) / 2.0) / sum);
          }
          writer.write_maps(s, l, h, pooled, frames);
        }
        std::printf("step %lld layer %lld maps written\n", static_cast<long long>(s), static_cast<long long>(l));
        std::fflush(stdout);
      }
    }
    std::printf("wrote %s (unfinished: complete = 0)\n", ProfileWriter::partial_path(out).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* const program = "svdit-analyze-make-large-profile";
  svdit::cli::ArgParser args(program, std::string(program) + " OUT.h5 [MAPPED_STEPS]",
                             "Writes a synthetic profile of Wan2.1-14B's size at 720p (unfinished), with maps for the\n"
                             "first MAPPED_STEPS profiled steps (default 1), for measuring the analyzer's\n"
                             "responsiveness.");
  return svdit::cli::run_tool(args, argc, argv, make_profile);
}
