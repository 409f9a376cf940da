// --objective paper: Sparse-vDiT's rule L_c = error_c + lambda (1 - S_c), S_c = 1 - density; dense when every
// L_c > epsilon, else argmin — checked against values computed by hand.
#include <gtest/gtest.h>

#include "search_test_support.h"
#include "svdit/search/search.h"

namespace svdit::search {
namespace {

using testing::InputBuilder;

constexpr int32_t kDense = 0, kSkip = 1, kWindow = 2, kTemporal = 3;

// densities: dense 1, skip 0, window 0.3, temporal 0.6. Errors (max over prompts = the values below):
//   head 0: skip 1.0, window 0.20, temporal 0.02
//   head 1: skip 1.0, window 0.01, temporal 0.00
//   head 2: skip 1.0, window 0.50, temporal 0.40
SearchInput hand_input() {
  InputBuilder b(1, 3);
  b.candidate(testing::dense(), 1.0).candidate(testing::skip(), 0.0).candidate(testing::window(16), 0.3)
      .candidate(testing::temporal(2, 1), 0.6);
  b.errors([](int64_t p, int64_t, int64_t, int64_t h, int64_t c) -> float {
    static constexpr float kError[3][4] = {{0.0f, 1.0f, 0.20f, 0.02f}, {0.0f, 1.0f, 0.01f, 0.0f}, {0.0f, 1.0f, 0.50f, 0.40f}};
    // The second prompt is a little better everywhere: the rule sees the maximum (default quantile).
    const float e = kError[h][c];
    return p == 1 && c >= kWindow ? e * 0.5f : e;
  });
  return b.build();
}

SearchOptions paper(double lambda, double epsilon) {
  SearchOptions o;
  o.objective = Objective::paper;
  o.lambda = lambda;
  o.epsilon = epsilon;
  return o;
}

TEST(Paper, MatchesTheHandComputedExample) {
  // lambda 0.5, epsilon 0.3:
  //   head 0: L = skip 1.0, window 0.20 + 0.15 = 0.35, temporal 0.02 + 0.30 = 0.32 → all > 0.3 → dense
  //   head 1: L = skip 1.0, window 0.01 + 0.15 = 0.16, temporal 0.00 + 0.30 = 0.30 → window (0.16 ≤ 0.3)
  //   head 2: L = skip 1.0, window 0.65, temporal 0.70                              → dense
  const SearchResult r = run_search(hand_input(), paper(0.5, 0.3));
  EXPECT_EQ(r.candidate(0, 0, 0), kDense);
  EXPECT_EQ(r.candidate(0, 0, 1), kWindow);
  EXPECT_EQ(r.candidate(0, 0, 2), kDense);
}

TEST(Paper, DefaultsAreLambdaHalfEpsilonOne) {
  // epsilon 1: head 0 → temporal (0.32 < 0.35), head 1 → window (0.16), head 2 → window (0.65 < 0.70 < 1.0).
  SearchOptions o;
  o.objective = Objective::paper;
  const SearchResult r = run_search(hand_input(), o);
  EXPECT_EQ(r.options.lambda_value(), 0.5);
  EXPECT_EQ(r.options.epsilon_value(), 1.0);
  EXPECT_EQ(r.candidate(0, 0, 0), kTemporal);
  EXPECT_EQ(r.candidate(0, 0, 1), kWindow);
  EXPECT_EQ(r.candidate(0, 0, 2), kWindow);
}

TEST(Paper, LambdaTradesErrorForSparsity) {
  // lambda 0: least error wins (temporal for heads 0, 1 and 2).
  const SearchResult accurate = run_search(hand_input(), paper(0.0, 1.0));
  EXPECT_EQ(accurate.candidate(0, 0, 0), kTemporal);
  EXPECT_EQ(accurate.candidate(0, 0, 1), kTemporal);
  EXPECT_EQ(accurate.candidate(0, 0, 2), kTemporal);
  // lambda 2: head 0: window 0.2 + 0.6 = 0.8, temporal 0.02 + 1.2 = 1.22, skip 1.0 + 0 = 1.0 → window;
  //           head 2: window 0.5 + 0.6 = 1.1, temporal 1.6, skip 1.0 → skip (≤ epsilon 1).
  const SearchResult sparse = run_search(hand_input(), paper(2.0, 1.0));
  EXPECT_EQ(sparse.candidate(0, 0, 0), kWindow);
  EXPECT_EQ(sparse.candidate(0, 0, 2), kSkip);
}

}  // namespace
}  // namespace svdit::search
