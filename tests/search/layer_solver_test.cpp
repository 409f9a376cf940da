// The one-launch cost model (hand-computed layer times on small cases, the fit from a measured table, version-1
// conversion) and the exact layer solver against exhaustive search.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "search_test_support.h"
#include "svdit/search/cost_model.h"
#include "svdit/search/layer_solver.h"

namespace svdit::search {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int32_t kDense = 0, kSkip = 1, kWindow = 2, kTemporal = 3;

// 3 heads; dense, skip, window, temporal (permuted in the small layout). The table is exact for the model:
//   head  = 10, 0.5, 4, 6 (+1 of pre-pass for temporal)   last = 5, 0.2, 3, 2   pre-pass launch 1.5
//   all-dense layer (SDPA) 25, all-skip layer 1.
SearchInput hand_input(std::vector<int64_t> sizes = {1, 2, 3}) {
  testing::InputBuilder b(1, 3);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(16), 0.5)
      .candidate(testing::temporal(2, 1), 0.6);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  b.launch_cost({10.0, 0.5, 4.0, 5.0}, {5.0, 0.2, 3.0, 2.0}, 25.0, 1.0, std::move(sizes), 1.5, 1.0,
                {false, false, false, true});
  return b.build();
}

TEST(CostModel, FitsTheLaunchModelFromMeasuredLaunches) {
  const CostModel cost(hand_input());
  EXPECT_TRUE(cost.measured());
  EXPECT_EQ(cost.unit(), "us");
  EXPECT_EQ(cost.device(), "test device");
  EXPECT_TRUE(cost.caveat().empty()) << cost.caveat();
  const double head[] = {10.0, 0.5, 4.0, 6.0}, last[] = {5.0, 0.2, 3.0, 2.0};
  for (int64_t c = 0; c < 4; ++c) {
    EXPECT_NEAR(cost.head(c), head[c], 1e-9) << c;
    EXPECT_NEAR(cost.last(c), last[c], 1e-9) << c;
  }
  EXPECT_NEAR(cost.permute_launch(), 1.5, 1e-9);
  EXPECT_TRUE(cost.permuted(kTemporal));
  EXPECT_FALSE(cost.permuted(kWindow));
  EXPECT_FALSE(cost.permuted(kDense));
}

TEST(CostModel, LayerTimeIsOneLaunchComputedByHand) {
  const CostModel cost(hand_input());
  using V = std::vector<int32_t>;
  // Mixed: Σ head + last of head 2 (+ the pre-pass launch when a head is permuted).
  EXPECT_NEAR(cost.layer_time(V{kWindow, kTemporal, kDense}), 4 + 6 + 10 + 5 + 1.5, 1e-9);
  EXPECT_NEAR(cost.layer_time(V{kWindow, kDense, kTemporal}), 4 + 10 + 6 + 2 + 1.5, 1e-9) << "the last head's tail";
  EXPECT_NEAR(cost.layer_time(V{kSkip, kSkip, kWindow}), 0.5 + 0.5 + 4 + 3, 1e-9);
  EXPECT_NEAR(cost.layer_time(V{kDense, kDense, kSkip}), 10 + 10 + 0.5 + 0.2, 1e-9) << "one launch, not SDPA";
  // Uniform layers take the runtime's other paths.
  EXPECT_NEAR(cost.layer_time(V{kDense, kDense, kDense}), 25.0, 1e-12);
  EXPECT_NEAR(cost.layer_time(V{kSkip, kSkip, kSkip}), 1.0, 1e-12);
  EXPECT_NEAR(cost.dense_layer_time(), 25.0, 1e-12);
  EXPECT_THROW((void)cost.layer_time(V{kDense, kDense}), std::invalid_argument);
  EXPECT_THROW((void)cost.layer_time(V{kDense, kDense, 9}), std::out_of_range);
}

TEST(CostModel, MixedLayerIsOneLaunchNotASumOfGroupLaunches) {
  const SearchInput in = hand_input();
  const CostModel cost(in);
  // The old model priced each same-pattern group as its own measured launch: window × 2 and dense × 1.
  const double groups = in.cost->time_us(kWindow, 2) + in.cost->time_us(kDense, 1);
  const double one_launch = cost.layer_time(std::vector<int32_t>{kWindow, kDense, kWindow});
  EXPECT_NEAR(groups, (3 + 2 * 4) + (5 + 10), 1e-9);
  EXPECT_NEAR(one_launch, 4 + 10 + 4 + 3, 1e-9);  // one fixed part, the last head's (window)
  EXPECT_LT(one_launch, groups);
}

TEST(CostModel, NoisyTimingsNeverFitANegativeShareOrFixedPart) {
  // A loaded CPU can time more heads as faster (window) or tilt the line below the origin (temporal); the free
  // least-squares line then priced heads at negative time and plans at absurd speed-ups.
  testing::InputBuilder b(1, 3);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(16), 0.5)
      .candidate(testing::temporal(2, 1), 0.6);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  const double window[] = {30.0, 20.0, 10.0}, temporal[] = {1.0, 10.0, 19.0};
  const auto time = [&](int64_t c, int64_t g) {
    return c == kWindow ? window[g - 1] : c == kTemporal ? temporal[g - 1] : 5.0 * static_cast<double>(g);
  };
  b.cost(time, 3, "cpu-aten");
  const CostModel cost(b.build());
  EXPECT_EQ(cost.head(kWindow), 0.0);
  EXPECT_NEAR(cost.last(kWindow), 20.0, 1e-9) << "the best constant";
  EXPECT_NEAR(cost.head(kTemporal), (1.0 + 2 * 10.0 + 3 * 19.0) / (1.0 + 4.0 + 9.0), 1e-9) << "the best line through 0";
  EXPECT_EQ(cost.last(kTemporal), 0.0);
  for (int32_t a = 0; a < 4; ++a)
    for (int32_t c = 0; c < 4; ++c) EXPECT_GE(cost.layer_time(std::vector<int32_t>{a, c, kWindow}), 0.0);
}

TEST(CostModel, APrePassLargerThanTheWholeInterceptLeavesNoNegativeFixedPart) {
  // Temporal's whole-launch line has intercept 0.5 but its pre-pass's own line 1.5 (timing noise: measured −3.8 µs
  // at the 14B shape on the H200): the launch's fixed part is 0, not −1.
  testing::InputBuilder b(1, 3);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(16), 0.5)
      .candidate(testing::temporal(2, 1), 0.6);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  b.launch_cost({10.0, 0.5, 4.0, 5.0}, {5.0, 0.2, 3.0, -1.0}, 25.0, 1.0, {1, 2, 3}, 1.5, 1.0,
                {false, false, false, true});
  const CostModel cost(b.build());
  EXPECT_NEAR(cost.head(kTemporal), 6.0, 1e-9);
  EXPECT_EQ(cost.last(kTemporal), 0.0);
  EXPECT_NEAR(cost.layer_time(std::vector<int32_t>{kWindow, kWindow, kTemporal}), 4 + 4 + 6 + 0 + 1.5, 1e-9);
}

TEST(CostModel, OneMeasuredSizeHasNoFixedPartAndSaysSo) {
  const CostModel cost(hand_input({3}));
  EXPECT_NEAR(cost.head(kWindow), (3 + 3 * 4.0) / 3, 1e-9);
  EXPECT_EQ(cost.last(kWindow), 0.0);
  EXPECT_NE(cost.caveat().find("only one group size"), std::string::npos) << cost.caveat();
}

TEST(CostModel, VersionOneTableIsConvertedWithACaveat) {
  testing::InputBuilder b(1, 4);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(16), 0.5);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  b.cost([](int64_t c, int64_t g) {
    const auto n = static_cast<double>(g);
    return c == kSkip ? 0.0 : (c == kDense ? 7.0 + 9.0 * n : 2.0 + 3.0 * n);
  }, 4);
  SearchInput in = b.build();
  in.cost->version = 1;
  const CostModel cost(in);
  EXPECT_TRUE(cost.measured());
  EXPECT_NEAR(cost.head(kWindow), 3.0, 1e-9);
  EXPECT_NEAR(cost.last(kWindow), 2.0, 1e-9);
  EXPECT_NEAR(cost.head(kSkip), 0.0, 1e-12);
  EXPECT_NEAR(cost.dense_layer_time(), 7.0 + 4 * 9.0, 1e-9) << "the sparse kernel running every head dense";
  EXPECT_NE(cost.caveat().find("version-1"), std::string::npos) << cost.caveat();
}

TEST(CostModel, FallsBackToDensityWithoutAUsableTable) {
  SearchInput in = hand_input();
  in.cost->source = "cpu-wallclock";  // the fp64 reference: nothing to do with the runtime
  const CostModel cost(in);
  EXPECT_FALSE(cost.measured());
  EXPECT_EQ(cost.unit(), "dense-head");
  EXPECT_NEAR(cost.layer_time(std::vector<int32_t>{kWindow, kTemporal, kDense}), 0.5 + 0.6 + 1.0, 1e-12);
  EXPECT_NEAR(cost.dense_layer_time(), 3.0, 1e-12);
  EXPECT_NE(cost.caveat().find("fp64 CPU reference"), std::string::npos) << cost.caveat();
}

struct Tiny {
  SearchInput input;
  CostModel cost;
  std::vector<double> primary, secondary;
};

// 4 heads x 5 candidates (dense, skip, two windows, temporal), random model parameters, some forbidden.
Tiny tiny(uint64_t seed, double forbid) {
  testing::Random random(seed);
  testing::InputBuilder b(1, 4);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(8), 0.3)
      .candidate(testing::window(16), 0.5).candidate(testing::temporal(2, 1), 0.6);
  b.errors([](int64_t, int64_t, int64_t, int64_t, int64_t) { return 0.0f; });
  std::vector<double> head(5), last(5);
  for (size_t c = 0; c < 5; ++c) {
    head[c] = (c == 1 ? 0.5 : 2.0 + 20.0 * random.uniform());
    last[c] = 10.0 * random.uniform();
  }
  const double dense_layer = 4.0 * head[0] * (0.6 + 0.6 * random.uniform());  // SDPA: faster or slower
  b.launch_cost(head, last, dense_layer, 3.0 * random.uniform(), {1, 2, 4}, 8.0 * random.uniform(),
                random.uniform(), {false, false, false, false, true});
  Tiny t{b.build(), {}, {}, {}};
  t.cost = CostModel(t.input);
  for (int64_t h = 0; h < 4; ++h)
    for (int64_t c = 0; c < 5; ++c) {
      const bool allowed = c == 0 || random.uniform() >= forbid;
      t.primary.push_back(allowed ? 0.0 : kInf);
      t.secondary.push_back(random.uniform());
    }
  return t;
}

TEST(LayerSolver, ErrorBoundFormIsExact) {
  for (int i = 0; i < 300; ++i) {
    const Tiny t = tiny(1000 + static_cast<uint64_t>(i), 0.4);
    const LayerProblem problem{.heads = 4, .candidates = 5, .primary = t.primary, .secondary = t.secondary,
                               .cost = &t.cost, .time_weight = 1.0};
    const LayerSolution s = solve_layer(problem);
    const LayerSolution exact = solve_layer_brute_force(problem);
    ASSERT_EQ(s.choice.size(), 4u);
    for (size_t h = 0; h < 4; ++h) ASSERT_LT(t.primary[h * 5 + static_cast<size_t>(s.choice[h])], kInf) << "case " << i;
    EXPECT_NEAR(s.time, t.cost.layer_time(s.choice), 1e-9) << "case " << i;
    EXPECT_NEAR(s.time, exact.time, 1e-9) << "case " << i;
    if (std::abs(s.time - exact.time) < 1e-9) {
      EXPECT_NEAR(s.secondary, exact.secondary, 1e-9) << "case " << i;
    }
  }
}

TEST(LayerSolver, WeightedFormIsExact) {
  // time-budget form: primary = error, time weighted by a multiplier.
  for (int i = 0; i < 300; ++i) {
    Tiny t = tiny(5000 + static_cast<uint64_t>(i), 0.0);
    testing::Random random(77 + static_cast<uint64_t>(i));
    for (size_t k = 0; k < t.primary.size(); ++k) t.primary[k] = k % 5 == 0 ? 0.0 : random.uniform();
    const LayerProblem problem{.heads = 4, .candidates = 5, .primary = t.primary, .secondary = {},
                               .cost = &t.cost, .time_weight = 0.001 + 0.1 * random.uniform()};
    const LayerSolution s = solve_layer(problem);
    const LayerSolution exact = solve_layer_brute_force(problem);
    EXPECT_NEAR(s.objective(), exact.objective(), 1e-9) << "case " << i;
  }
}

TEST(LayerSolver, KeepsTheDensePathWhenASparseLaunchDoesNotPay) {
  // Head 2 alone may run window; but a mixed launch (10 + 10 + 4 + last 3 = 27) is slower than SDPA (25).
  const SearchInput in = hand_input();
  const CostModel cost(in);
  std::vector<double> primary(3 * 4, kInf);
  for (size_t h = 0; h < 3; ++h) primary[h * 4 + kDense] = 0.0;
  primary[2 * 4 + kWindow] = 0.0;
  const LayerSolution s = solve_layer({.heads = 3, .candidates = 4, .primary = primary, .secondary = {},
                                       .cost = &cost, .time_weight = 1.0});
  EXPECT_EQ(s.choice, (std::vector<int32_t>{kDense, kDense, kDense}));
  EXPECT_NEAR(s.time, 25.0, 1e-12);
  // With every head free to run window, the launch pays: 4 + 4 + 4 + 3 = 15 < 25.
  for (size_t h = 0; h < 3; ++h) primary[h * 4 + kWindow] = 0.0;
  const LayerSolution all = solve_layer({.heads = 3, .candidates = 4, .primary = primary, .secondary = {},
                                         .cost = &cost, .time_weight = 1.0});
  EXPECT_EQ(all.choice, (std::vector<int32_t>{kWindow, kWindow, kWindow}));
  EXPECT_NEAR(all.time, 15.0, 1e-12);
}

TEST(LayerSolver, NoAllowedCandidateIsRefused) {
  const Tiny t = tiny(3, 0.0);
  std::vector<double> primary(t.primary.size(), kInf);
  EXPECT_THROW((void)solve_layer({.heads = 4, .candidates = 5, .primary = primary, .secondary = {},
                                  .cost = &t.cost, .time_weight = 1.0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace svdit::search
