// The default candidate family, top_k column choice, candidates files and step lists.

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "profiler_test_support.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/error.h"
#include "svdit/data/pattern.h"
#include "svdit/profiler/candidate_family.h"
#include "svdit/profiler/step_selection.h"

namespace svdit::profiler {
namespace {

using data::ComponentKind;
using data::TokenLayout;
using data::TokenRange;

const TokenLayout kDemo{12, 8, 12, 0, 0, 64};  // P = 96, S = 1152, G = 18

TEST(CandidateFamily, DefaultFamilyOfTheDemoLayout) {
  std::vector<data::ProfileCandidate> c = default_candidates(kDemo);
  ASSERT_EQ(c.size(), 18u);
  EXPECT_TRUE(has_top_k_placeholders(c));
  for (size_t i = 0; i < c.size(); ++i) EXPECT_EQ(c[i].id, static_cast<int32_t>(i));
  EXPECT_TRUE(c[0].pattern.is_dense());
  EXPECT_TRUE(c[1].pattern.is_skip());
  std::vector<int64_t> widths;
  int temporal = 0, first_frame = 0, top_k = 0;
  for (const auto& cand : c) {
    for (const auto& comp : cand.pattern.components) {
      if (comp.kind == ComponentKind::window && cand.pattern.components.size() == 1) widths.push_back(comp.window);
      if (comp.kind == ComponentKind::temporal) ++temporal;
      if (comp.kind == ComponentKind::stripe) ++(comp.rule == "first_frame" ? first_frame : top_k);
    }
  }
  EXPECT_EQ(widths, (std::vector<int64_t>{48, 96, 192, 384}));
  EXPECT_EQ(temporal, 6);
  EXPECT_EQ(first_frame, 3);
  EXPECT_EQ(top_k, 3);

  fill_top_k(c, {{128, 256}}, kDemo);
  EXPECT_FALSE(has_top_k_placeholders(c));
  for (const auto& cand : c) {
    EXPECT_DOUBLE_EQ(cand.block_density, data::compile_pattern(cand.pattern, kDemo).block_density());
    EXPECT_GE(cand.block_density, cand.token_density);
  }
  EXPECT_EQ(c[0].block_density, 1.0);
  EXPECT_EQ(c[1].block_density, 0.0);
  EXPECT_EQ(default_top_k_blocks(kDemo), 2);  // round(96 / 64)
  // The same family with other top_k columns is "the same candidates" for a resume; another family is not.
  std::string why;
  EXPECT_TRUE(same_candidates(c, default_candidates(kDemo), &why)) << why;
  EXPECT_FALSE(same_candidates(c, default_candidates(TokenLayout{12, 8, 16, 0, 0, 64}), &why));
  EXPECT_NE(why.find("candidate"), std::string::npos);
}

TEST(CandidateFamily, SingleFrameHasNoTemporalOrFirstFrame) {
  const TokenLayout one{1, 16, 16, 0, 0, 64};
  for (const auto& cand : default_candidates(one)) {
    for (const auto& comp : cand.pattern.components) {
      EXPECT_NE(comp.kind, ComponentKind::temporal);
      EXPECT_NE(comp.rule, "first_frame");
    }
  }
}

TEST(CandidateFamily, TopKColumnsAreWholeBlocksOfMostMass) {
  std::vector<double> mass(1152, 1.0);
  for (int j = 640; j < 704; ++j) mass[static_cast<size_t>(j)] = 50.0;  // block 10
  for (int j = 704; j < 768; ++j) mass[static_cast<size_t>(j)] = 40.0;  // block 11
  for (int j = 0; j < 64; ++j) mass[static_cast<size_t>(j)] = 30.0;     // block 0
  EXPECT_EQ(choose_top_k_columns(mass, kDemo, 2), (std::vector<TokenRange>{{640, 768}}));
  EXPECT_EQ(choose_top_k_columns(mass, kDemo, 3), (std::vector<TokenRange>{{0, 64}, {640, 768}}));
  EXPECT_THROW(choose_top_k_columns(std::vector<double>(10, 1.0), kDemo, 2), std::invalid_argument);
}

TEST(CandidateFamily, CandidatesFile) {
  const auto dir = test::test_dir();
  auto write = [&](const std::string& text) {
    const auto path = dir / "c.json";
    std::ofstream(path) << text;
    return path;
  };
  const auto c = read_candidates_file(
      write(R"([[{"type": "dense"}], {"id": 7, "components": [{"type": "window", "w": 96}]},
               [{"type": "temporal", "w_s": 12, "w_f": 11}]])"),
      kDemo);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].id, 0);
  EXPECT_EQ(c[1].id, 7);
  EXPECT_EQ(c[2].id, 2);
  EXPECT_EQ(c[1].pattern, data::make_pattern({data::window_component(96)}));
  EXPECT_GT(c[2].block_density, 0.0);
  auto message = [&](const std::string& text) {
    try {
      static_cast<void>(read_candidates_file(write(text), kDemo));
    } catch (const data::FormatError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message(R"([[{"type": "window", "w": 96}]])").find("no dense candidate"), std::string::npos);
  EXPECT_NE(message(R"([[{"type": "dense"}], {"id": 0, "components": [{"type": "skip"}]}])").find("[1].id"),
            std::string::npos);
  EXPECT_NE(message(R"([[{"type": "dense"}], {"id": 3, "pattern": []}])").find("[1].pattern"), std::string::npos);
  EXPECT_NE(message(R"([[{"type": "dense"}], [{"type": "window", "w": -1}]])").find("[1]"), std::string::npos);
  EXPECT_NE(message("[").find("not valid JSON"), std::string::npos);
  EXPECT_NE(message("{}").find("non-empty array"), std::string::npos);
  test::remove_tree(dir);
}

TEST(StepSelection, Syntax) {
  EXPECT_EQ(parse_steps("all", 3, "x"), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(parse_steps("none", 3, "x"), (std::vector<int64_t>{}));
  EXPECT_EQ(parse_steps("every:5", 12, "x"), (std::vector<int64_t>{0, 5, 10}));
  EXPECT_EQ(parse_steps("every:5+2", 12, "x"), (std::vector<int64_t>{2, 7}));
  EXPECT_EQ(parse_steps("9,0,4,4", 10, "x"), (std::vector<int64_t>{0, 4, 9}));
  EXPECT_THROW(parse_steps("10", 10, "x"), std::invalid_argument);
  EXPECT_THROW(parse_steps("every:0", 10, "x"), std::invalid_argument);
  EXPECT_THROW(parse_steps("1,,2", 10, "x"), std::invalid_argument);
  EXPECT_THROW(parse_steps("every:5+20", 10, "x"), std::invalid_argument);
  try {
    parse_steps("3,x", 10, "profile-steps");
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--profile-steps"), std::string::npos);
  }
}

}  // namespace
}  // namespace svdit::profiler
