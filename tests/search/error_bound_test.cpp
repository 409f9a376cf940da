// --objective error-bound: the fastest plan whose every head stays within epsilon, priced as the layer's one launch.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "search_test_support.h"
#include "svdit/search/layer_solver.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

using testing::InputBuilder;

// Candidate indices of the small inputs below.
constexpr int32_t kDense = 0, kWindow = 1, kTemporal = 2;

SearchOptions error_bound(double epsilon) {
  SearchOptions o;
  o.objective = Objective::error_bound;
  o.epsilon = epsilon;
  return o;
}

// Each head run alone: launch time proportional to the group (no fusion benefit), so choices are per head.
double linear_cost(const SearchInput& in, int64_t c, int64_t g) {
  return static_cast<double>(g) * (5.0 + 50.0 * in.candidates[static_cast<size_t>(c)].block_density);
}

TEST(ErrorBound, HeadWhoseOnlyAccurateCandidateIsWindowGetsWindow) {
  InputBuilder b(1, 3);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3).candidate(testing::temporal(2, 1), 0.5);
  b.errors([](int64_t, int64_t, int64_t, int64_t h, int64_t c) -> float {
    if (c == kDense) return 0.0f;
    if (h == 0) return c == kWindow ? 0.01f : 0.5f;  // only window is accurate
    if (h == 1) return c == kTemporal ? 0.01f : 0.5f;  // only temporal is
    return 0.01f;                                       // both are: the cheaper (window) wins
  });
  const SearchInput shape = b.build();
  b.cost([&](int64_t c, int64_t g) { return linear_cost(shape, c, g); }, 3);
  const SearchResult r = run_search(b.build(), error_bound(0.05));
  EXPECT_EQ(r.candidate(0, 0, 0), kWindow);
  EXPECT_EQ(r.candidate(0, 0, 1), kTemporal);
  EXPECT_EQ(r.candidate(0, 0, 2), kWindow);
}

TEST(ErrorBound, NothingAccurateEnoughKeepsDense) {
  InputBuilder b(1, 2);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3).candidate(testing::skip(), 0.0);
  b.errors([](int64_t, int64_t, int64_t, int64_t h, int64_t c) -> float {
    if (c == kDense) return 0.0f;
    return h == 0 ? 0.2f : 0.04f;  // head 0: nothing within 0.05; head 1: skip (cheapest) is
  });
  const SearchInput shape = b.build();
  b.cost([&](int64_t c, int64_t g) { return c == 2 ? 0.0 : linear_cost(shape, c, g); }, 2);
  const SearchResult r = run_search(b.build(), error_bound(0.05));
  EXPECT_EQ(r.candidate(0, 0, 0), kDense);
  EXPECT_EQ(r.candidate(0, 0, 1), 2);
}

// Two heads; head 0 may run window or temporal, head 1 only temporal (a version-1-like table, for the fallback).
SearchInput fusion_input(double temporal_pair_us, const std::string& source = "cupti") {
  InputBuilder b(1, 2);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3).candidate(testing::temporal(2, 1), 0.4);
  b.errors([](int64_t, int64_t, int64_t, int64_t h, int64_t c) -> float {
    if (c == kDense) return 0.0f;
    if (h == 1 && c == kWindow) return 0.9f;
    return 0.01f;
  });
  b.cost(
      [&](int64_t c, int64_t g) {
        if (c == kDense) return 50.0 * static_cast<double>(g);
        if (c == kWindow) return 10.0 * static_cast<double>(g);
        return g == 1 ? 12.0 : temporal_pair_us;
      },
      2, source);
  return b.build();
}

// Head 0 may run window (4 us of the launch) or temporal (3.5 us, but permuted: the launch then runs the
// pre-pass, 2 us more). Head 1 may run only window, or only temporal.
SearchResult prepass_case(int32_t head1) {
  InputBuilder b(1, 2);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3).candidate(testing::temporal(2, 1), 0.4);
  b.errors([&](int64_t, int64_t, int64_t, int64_t h, int64_t c) -> float {
    if (c == kDense) return 0.0f;
    return h == 0 || c == head1 ? 0.01f : 0.9f;
  });
  b.launch_cost({20.0, 4.0, 3.5}, {3.0, 3.0, 3.0}, 35.0, 0.5, {1, 2}, 2.0, 0.0, {false, false, true});
  return run_search(b.build(), error_bound(0.05));
}

TEST(ErrorBound, APermutedPatternPaysThePrepassLaunchOnceForTheLayer) {
  const SearchResult window = prepass_case(kWindow);
  EXPECT_EQ(window.candidate(0, 0, 0), kWindow) << "temporal alone is cheaper, but would add the pre-pass launch";
  EXPECT_EQ(window.candidate(0, 0, 1), kWindow);
  EXPECT_NEAR(window.layer_time[0][0], 4.0 + 4.0 + 3.0, 1e-9);

  const SearchResult temporal = prepass_case(kTemporal);
  EXPECT_EQ(temporal.candidate(0, 0, 0), kTemporal) << "head 1 pays the pre-pass already";
  EXPECT_EQ(temporal.candidate(0, 0, 1), kTemporal);
  EXPECT_NEAR(temporal.layer_time[0][0], 3.5 + 3.5 + 3.0 + 2.0, 1e-9);
}

TEST(ErrorBound, CpuWallclockCostFallsBackToDensityAndSaysSo) {
  // The same numbers timed on the CPU reference are not trusted: density decides (window 0.3 + temporal 0.4 <
  // 2 x temporal 0.4), and the result says why.
  const SearchResult r = run_search(fusion_input(14.0, "cpu-wallclock"), error_bound(0.05));
  EXPECT_FALSE(r.cost.measured());
  EXPECT_EQ(r.cost.unit(), "dense-head");
  EXPECT_EQ(r.candidate(0, 0, 0), kWindow);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("cpu-wallclock"), std::string::npos) << r.notes[0];
  EXPECT_NEAR(r.layer_time[0][0], 0.7, 1e-12);
}

TEST(ErrorBound, NoCostTableFallsBackToDensity) {
  InputBuilder b(1, 2);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3).candidate(testing::temporal(2, 1), 0.5);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  const SearchResult r = run_search(b.build(), error_bound(0.05));
  EXPECT_FALSE(r.cost.measured());
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("no cost table"), std::string::npos) << r.notes[0];
  EXPECT_EQ(r.candidate(0, 0, 0), kWindow);
  EXPECT_EQ(r.candidate(0, 0, 1), kWindow);
  EXPECT_NEAR(r.speedup(), 1.0 / 0.3, 1e-9);  // every step, every head at density 0.3
}

TEST(ErrorBound, NeverExceedsEpsilonOnTheCalibrationData) {
  const SearchInput input = testing::random_input(7, 6, 8, {0, 3, 6}, 10, 3);
  int64_t sparse_heads = 0;
  for (const double epsilon : {0.005, 0.02, 0.05, 0.2}) {
    for (const int64_t buckets : {0, 1, 2}) {
      SearchOptions o = error_bound(epsilon);
      o.buckets = buckets;
      const SearchResult r = run_search(input, o);
      for (size_t b = 0; b < r.buckets.size(); ++b)
        for (int64_t l = 0; l < r.layers; ++l)
          for (int64_t h = 0; h < r.heads; ++h) {
            const int32_t c = r.candidate(static_cast<int64_t>(b), l, h);
            sparse_heads += c != r.dense;
            for (int64_t p = 0; p < input.meta.num_prompts(); ++p)
              for (const int64_t s : r.buckets[b].profiled)
                ASSERT_LE(static_cast<double>(input.error_at(p, s, l, h, c)), epsilon)
                    << "epsilon " << epsilon << " buckets " << buckets << " bucket " << b << " layer " << l
                    << " head " << h << " candidate " << c << " prompt " << p << " step " << s;
          }
      EXPECT_LE(r.time, r.dense_time);
    }
  }
  EXPECT_GT(sparse_heads, 0) << "the check must see sparse heads to mean anything";
}

TEST(ErrorBound, QuantileChoosesWhichCalibrationSampleBinds) {
  // One head, four prompts; window is accurate on three of them.
  InputBuilder b(1, 1, {0}, 10, 4);
  b.candidate(testing::dense(), 1.0).candidate(testing::window(16), 0.3);
  b.errors([](int64_t p, int64_t, int64_t, int64_t, int64_t c) -> float { return c == kDense ? 0.0f : p == 3 ? 0.5f : 0.01f; });
  const SearchInput input = b.build();
  SearchOptions o = error_bound(0.05);
  EXPECT_EQ(run_search(input, o).candidate(0, 0, 0), kDense) << "max over prompts sees the outlier";
  o.quantile = 0.75;  // nearest rank: the 3rd of 4 sorted samples
  EXPECT_EQ(run_search(input, o).candidate(0, 0, 0), kWindow);
  o.quantile = 0.8;  // rank ceil(3.2) = 4: the outlier again
  EXPECT_EQ(run_search(input, o).candidate(0, 0, 0), kDense);
}

}  // namespace
}  // namespace svdit::search
