// run_profile on a tiny random model on the CPU: the profile follows docs/FORMATS.md, dense/skip errors are exact,
// recall is ≤ 1 and grows with the window, --map-steps omits maps, an interrupted and resumed profile equals one
// run straight through, and a resume refuses a partial file of another run.

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <vector>

#include "profiler_test_support.h"
#include "svdit/data/pattern.h"
#include "svdit/data/profile_reader.h"
#include "svdit/data/profile_writer.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/profile_run.h"

namespace svdit::profiler {
namespace {

using namespace svdit::profiler::test;

struct TinyRun {
  TinyRun()
      : config(tiny_config()),
        model(config, runtime::random_state_dict(config, runtime::WeightOptions{}, 3), "test"),
        geometry(runtime::video_geometry(config, kFrames, kHeight, kWidth)),
        negative(at::zeros({1, 8, 64})) {
    at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(17);
    prompts.push_back({"first prompt", at::randn({1, 8, 64}, gen)});
    prompts.push_back({"second prompt", at::randn({1, 8, 64}, gen)});
  }
  runtime::WanConfig config;
  runtime::WanModel model;
  runtime::VideoGeometry geometry;
  std::vector<PromptInput> prompts;
  at::Tensor negative;  // [1, text_len, text_dim]
};

ProfileRunOptions small_options(const std::filesystem::path& out) {
  ProfileRunOptions o;
  o.out = out;
  o.block_size = 64;
  o.sampling.steps = 4;
  o.sampling.guidance = 3.0;
  o.sampling.seed = 5;
  o.profile_steps = {0, 2};
  o.map_steps = {0};  // step 2's maps omitted
  o.cost = "cpu";
  o.cost_repetitions = 1;
  o.cost_warmup = 0;
  o.max_group = 2;
  o.quiet = true;
  return o;
}

TEST(ProfileRun, WritesAProfileThatFollowsTheFormat) {
  const auto dir = test_dir();
  const TinyRun s;
  const ProfileRunOptions options = small_options(dir / "p.h5");
  const ProfileRunReport report = run_profile(s.model, s.geometry, s.prompts, s.negative, options);
  EXPECT_EQ(report.slices_measured, 2 * 2 * 2);
  EXPECT_EQ(report.maps_written, 1 * 2 * 2);
  EXPECT_TRUE(report.cost_measured);
  EXPECT_GT(report.peak_rss_bytes, 0);
  EXPECT_FALSE(std::filesystem::exists(data::ProfileWriter::partial_path(options.out)));

  const data::ProfileReader r = data::ProfileReader::open(options.out);
  ASSERT_TRUE(r.complete());
  const data::ProfileMeta& m = r.meta();
  EXPECT_EQ(m.model, tiny_config().name);
  EXPECT_EQ(m.layers, 2);
  EXPECT_EQ(m.heads, 2);
  EXPECT_EQ(m.head_dim, 64);
  EXPECT_EQ(m.layout, (data::TokenLayout{3, 8, 6, 0, 0, 64}));
  EXPECT_EQ(m.dtype, "float32");
  EXPECT_EQ(m.sampling_steps, 4);
  EXPECT_EQ(m.steps, (std::vector<int64_t>{0, 2}));
  ASSERT_EQ(m.timesteps.size(), 2u);
  EXPECT_GT(m.timesteps[0], m.timesteps[1]);
  EXPECT_EQ(m.prompts, (std::vector<std::string>{"first prompt", "second prompt"}));
  EXPECT_FALSE(m.synthetic);

  // Candidates: the default family with the top_k columns chosen, densities exact.
  const auto& cands = r.candidates();
  const auto expected = default_candidates(m.layout);
  ASSERT_EQ(cands.size(), expected.size());
  EXPECT_TRUE(same_candidates(cands, expected));
  EXPECT_FALSE(has_top_k_placeholders(cands));
  for (const auto& c : cands) {
    EXPECT_DOUBLE_EQ(c.block_density, data::compile_pattern(c.pattern, m.layout).block_density());
    EXPECT_DOUBLE_EQ(c.token_density, data::token_density(c.pattern, m.layout));
  }
  ASSERT_TRUE(cands[0].pattern.is_dense());
  ASSERT_TRUE(cands[1].pattern.is_skip());
  std::vector<size_t> windows;  // in ascending width
  for (size_t c = 0; c < cands.size(); ++c) {
    const auto& comps = cands[c].pattern.components;
    if (comps.size() == 1 && comps[0].kind == data::ComponentKind::window) windows.push_back(c);
  }
  ASSERT_GE(windows.size(), 2u);

  const auto& err = r.error();
  const auto& rec = r.recall();
  for (int64_t p = 0; p < 2; ++p) {
    for (int64_t st = 0; st < 2; ++st) {
      for (int64_t l = 0; l < 2; ++l) {
        for (int64_t h = 0; h < 2; ++h) {
          EXPECT_EQ(err.at(p, st, l, h, 0), 0.0f);
          EXPECT_EQ(err.at(p, st, l, h, 1), 1.0f);
          EXPECT_NEAR(rec.at(p, st, l, h, 0), 1.0f, 1e-5);
          EXPECT_EQ(rec.at(p, st, l, h, 1), 0.0f);
          for (int64_t c = 0; c < r.num_candidates(); ++c) {
            EXPECT_LE(rec.at(p, st, l, h, c), 1.0f);
            EXPECT_TRUE(std::isfinite(err.at(p, st, l, h, c)) && err.at(p, st, l, h, c) >= 0);
          }
          for (size_t w = 1; w < windows.size(); ++w) {
            EXPECT_GE(rec.at(p, st, l, h, static_cast<int64_t>(windows[w])),
                      rec.at(p, st, l, h, static_cast<int64_t>(windows[w - 1])));
            EXPECT_LE(err.at(p, st, l, h, static_cast<int64_t>(windows[w])),
                      err.at(p, st, l, h, static_cast<int64_t>(windows[w - 1])) + 1e-4);
          }
        }
      }
    }
  }

  // Maps: step 0 stored, step 1 (sampler step 2) omitted.
  const int64_t G = m.layout.num_blocks();
  for (int64_t l = 0; l < 2; ++l) {
    for (int64_t h = 0; h < 2; ++h) {
      ASSERT_TRUE(r.maps_written(0, l, h));
      EXPECT_FALSE(r.maps_written(1, l, h));
      const std::vector<float> pooled = r.pooled_map(0, l, h);
      for (int64_t g = 0; g < G; ++g) {
        double sum = 0;
        for (int64_t j = 0; j < G; ++j) sum += pooled[static_cast<size_t>(g * G + j)];
        EXPECT_NEAR(sum, 1.0, 1e-2);
      }
      const std::vector<float> frames = r.frame_map(0, l, h);
      for (int64_t f = 0; f < 3; ++f) {
        double sum = 0;
        for (int64_t j = 0; j < 3; ++j) sum += frames[static_cast<size_t>(f * 3 + j)];
        EXPECT_NEAR(sum, 1.0, 1e-4);  // no text tokens: every frame row holds all its mass
      }
    }
  }
  ASSERT_TRUE(r.cost().has_value());
  EXPECT_EQ(r.cost()->source, "cpu-aten");
  EXPECT_EQ(r.cost()->max_group, 2);
  EXPECT_EQ(r.cost()->num_candidates, r.num_candidates());
  remove_tree(dir);
}

TEST(ProfileRun, InterruptedAndResumedEqualsStraight) {
  const auto dir = test_dir();
  const TinyRun s;
  ProfileRunOptions straight = small_options(dir / "straight.h5");
  straight.map_steps = {0, 2};
  static_cast<void>(run_profile(s.model, s.geometry, s.prompts, s.negative, straight));

  ProfileRunOptions cut = straight;
  cut.out = dir / "resumed.h5";
  // Interrupted twice: inside the first profiled step (after 3 slices), then inside the second (its maps of the
  // first prompt measured but not written yet), resumed each time.
  cut.interrupt_after_slices = 3;
  EXPECT_THROW(run_profile(s.model, s.geometry, s.prompts, s.negative, cut), ProfileInterrupted);
  ASSERT_TRUE(std::filesystem::exists(data::ProfileWriter::partial_path(cut.out)));
  EXPECT_FALSE(std::filesystem::exists(cut.out));
  cut.resume = true;
  EXPECT_THROW(run_profile(s.model, s.geometry, s.prompts, s.negative, cut), ProfileInterrupted);
  cut.interrupt_after_slices = -1;
  const ProfileRunReport report = run_profile(s.model, s.geometry, s.prompts, s.negative, cut);
  EXPECT_EQ(report.slices_skipped, 6);
  EXPECT_EQ(report.slices_measured, 2);

  const data::ProfileReader a = data::ProfileReader::open(straight.out);
  const data::ProfileReader b = data::ProfileReader::open(cut.out);
  ASSERT_TRUE(b.complete());
  data::ProfileMeta ma = a.meta(), mb = b.meta();
  ma.created = mb.created = "";
  EXPECT_EQ(ma, mb);
  EXPECT_EQ(a.candidates(), b.candidates());
  EXPECT_EQ(a.error(), b.error());
  EXPECT_EQ(a.recall(), b.recall());
  for (int64_t st = 0; st < 2; ++st) {
    for (int64_t l = 0; l < 2; ++l) {
      for (int64_t h = 0; h < 2; ++h) {
        EXPECT_EQ(a.pooled_map(st, l, h), b.pooled_map(st, l, h)) << st << l << h;
        EXPECT_EQ(a.frame_map(st, l, h), b.frame_map(st, l, h)) << st << l << h;
      }
    }
  }
  remove_tree(dir);
}

TEST(ProfileRun, ResumeRefusesAnotherRun) {
  const auto dir = test_dir();
  const TinyRun s;
  ProfileRunOptions options = small_options(dir / "p.h5");
  options.interrupt_after_slices = 1;
  EXPECT_THROW(run_profile(s.model, s.geometry, s.prompts, s.negative, options), ProfileInterrupted);
  options.interrupt_after_slices = -1;
  options.resume = true;
  options.profile_steps = {0, 3};
  try {
    static_cast<void>(run_profile(s.model, s.geometry, s.prompts, s.negative, options));
    FAIL() << "a resume with other steps was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("steps (file: [0, 2], this run: [0, 3])"), std::string::npos) << e.what();
  }
  // Without --resume the partial file is replaced and the run completes.
  options.resume = false;
  static_cast<void>(run_profile(s.model, s.geometry, s.prompts, s.negative, options));
  EXPECT_TRUE(data::ProfileReader::open(options.out).complete());
  remove_tree(dir);
}

TEST(ProfileRun, RefusesBadOptions) {
  const auto dir = test_dir();
  const TinyRun s;
  ProfileRunOptions options = small_options(dir / "p.h5");
  options.map_steps = {1};  // not profiled
  EXPECT_THROW(run_profile(s.model, s.geometry, s.prompts, s.negative, options), std::invalid_argument);
  options = small_options(dir / "p.h5");
  options.profile_steps = {4};  // outside the 4 sampling steps
  EXPECT_THROW(run_profile(s.model, s.geometry, s.prompts, s.negative, options), std::invalid_argument);
  options = small_options(dir / "p.h5");
  options.cost = "cupti";  // no CUDA device here
  EXPECT_THROW(run_profile(s.model, s.geometry, s.prompts, s.negative, options), std::runtime_error);
  EXPECT_THROW(run_profile(s.model, s.geometry, {}, s.negative, small_options(dir / "p.h5")), std::invalid_argument);
  remove_tree(dir);
}

}  // namespace
}  // namespace svdit::profiler
