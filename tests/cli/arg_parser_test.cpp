// The command-line library every tool parses with (svdit_cli): options, flags, --name=value, repeatable and
// several-valued options, positionals, the errors that name what is wrong, the generated help, the video-size
// group and run_tool's exit statuses. Torch-free, like the library.
#include "svdit/cli/arg_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "svdit/cli/video_options.h"

namespace {

using svdit::cli::ArgParser;
using svdit::cli::UsageError;

ArgParser make_parser() {
  ArgParser p("svdit tool", "svdit tool FILE [options]", "Does a thing to FILE.");
  p.option("out", "FILE", "where to write");
  p.option("steps", "N", "how many steps", "50");
  p.option("scale", "S", "a factor", "1.5");
  p.option("seed", "N", "a seed", "0");
  p.option("prompt", "TEXT", "a prompt (repeatable)");
  p.option_tuple("explain", {"L", "H"}, "explain head H of layer L (repeatable)");
  p.flag("quiet", "print less");
  return p;
}

// What `message` of the UsageError thrown by `f` is; fails the test when nothing is thrown.
template <typename F>
std::string usage_error(F&& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError";
  return "";
}

TEST(ArgParser, OptionsFlagsAndPositionals) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse({"in.h5", "--out", "a.json", "--steps", "7", "--quiet", "more"}));
  EXPECT_EQ(p.get("out"), "a.json");
  EXPECT_EQ(p.get_int("steps"), 7);
  EXPECT_TRUE(p.flag_set("quiet"));
  EXPECT_EQ(p.positional(), (std::vector<std::string>{"in.h5", "more"}));
}

TEST(ArgParser, FallbacksAndUnsetOptions) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse(std::vector<std::string>{}));
  EXPECT_TRUE(p.has("steps"));
  EXPECT_EQ(p.get_int("steps"), 50);
  EXPECT_DOUBLE_EQ(p.get_double("scale"), 1.5);
  EXPECT_FALSE(p.has("out"));
  EXPECT_FALSE(p.flag_set("quiet"));
  EXPECT_EQ(usage_error([&] { (void)p.get("out"); }), "--out is required");
  EXPECT_TRUE(p.get_all("prompt").empty());
  EXPECT_EQ(p.get_all("steps"), (std::vector<std::string>{"50"}));
}

TEST(ArgParser, NameEqualsValue) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse({"--steps=12", "--out=x=y.json", "--prompt="}));
  EXPECT_EQ(p.get_int("steps"), 12);
  EXPECT_EQ(p.get("out"), "x=y.json");  // only the first '=' separates
  EXPECT_EQ(p.get("prompt"), "");       // an empty value is a value
  EXPECT_EQ(usage_error([&] { make_parser().parse({"--quiet=1"}); }), "--quiet takes no value");
}

TEST(ArgParser, RepeatableAndSeveralValuedOptions) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse({"--prompt", "a cat", "--explain", "1", "2", "--prompt", "a dog", "--explain", "3", "0"}));
  EXPECT_EQ(p.get_all("prompt"), (std::vector<std::string>{"a cat", "a dog"}));
  EXPECT_EQ(p.get("prompt"), "a dog");  // the last one wins for get()
  EXPECT_EQ(p.occurrences("explain"), (std::vector<std::vector<std::string>>{{"1", "2"}, {"3", "0"}}));
  EXPECT_TRUE(p.occurrences("prompt").size() == 2);
  EXPECT_EQ(usage_error([&] { make_parser().parse({"--explain", "1"}); }), "--explain needs values (L H)");
  EXPECT_EQ(usage_error([&] { make_parser().parse({"--explain=1"}); }), "--explain takes 2 values, not --explain=…");
}

TEST(ArgParser, ValuesAreTakenAsGivenEvenWhenTheyLookLikeOptions) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse({"--seed", "-3", "--out", "--quiet"}));
  EXPECT_EQ(p.get_int("seed"), -3);
  EXPECT_EQ(p.get("out"), "--quiet");
  EXPECT_FALSE(p.flag_set("quiet"));
}

TEST(ArgParser, DoubleDashEndsTheOptions) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse({"--quiet", "--", "--out", "-x"}));
  EXPECT_TRUE(p.flag_set("quiet"));
  EXPECT_FALSE(p.has("out"));
  EXPECT_EQ(p.positional(), (std::vector<std::string>{"--out", "-x"}));
}

TEST(ArgParser, UnknownOptionsAndMissingValuesAreNamed) {
  EXPECT_EQ(usage_error([] { make_parser().parse({"--frobnicate", "3"}); }), "unknown option --frobnicate");
  EXPECT_EQ(usage_error([] { make_parser().parse({"--frob=3"}); }), "unknown option --frob");
  EXPECT_EQ(usage_error([] { make_parser().parse({"-x"}); }), "unknown option -x");
  EXPECT_EQ(usage_error([] { make_parser().parse({"--out"}); }), "--out needs a value (FILE)");
}

TEST(ArgParser, MalformedNumbersNameTheOptionAndQuoteTheText) {
  ArgParser p = make_parser();
  ASSERT_TRUE(p.parse({"--steps", "7x", "--scale", "fast", "--seed", "-1"}));
  EXPECT_EQ(usage_error([&] { (void)p.get_int("steps"); }), "--steps: expected an integer, found \"7x\"");
  EXPECT_EQ(usage_error([&] { (void)p.get_double("scale"); }), "--scale: expected a number, found \"fast\"");
  EXPECT_EQ(usage_error([&] { (void)p.get_u64("seed"); }), "--seed: expected a non-negative integer, found \"-1\"");
  EXPECT_EQ(p.get_int("seed"), -1);
  ASSERT_TRUE(p.parse({"--steps", "0"}));
  EXPECT_EQ(usage_error([&] { (void)p.get_int("steps", 1, 100); }), "--steps: expected an integer in [1, 100], found 0");
  EXPECT_EQ(p.get_int("steps", 0, 100), 0);
  EXPECT_EQ(usage_error([] { (void)svdit::cli::parse_int("--size width", ""); }),
            "--size width: expected an integer, found \"\"");
  EXPECT_DOUBLE_EQ(svdit::cli::parse_double("--x", "1e-3"), 1e-3);
  const svdit::cli::PixelSize size = svdit::cli::parse_pixel_size("--size", "1280x800");
  EXPECT_EQ(size.width, 1280);
  EXPECT_EQ(size.height, 800);
  EXPECT_EQ(usage_error([] { (void)svdit::cli::parse_pixel_size("--size", "800"); }),
            "--size: expected WxH, e.g. 1280x800, found \"800\"");
  EXPECT_EQ(usage_error([] { (void)svdit::cli::parse_pixel_size("--size", "800x0"); }),
            "--size height: expected an integer in [1, 65536], found 0");
}

TEST(ArgParser, HelpAnywhereWinsOverErrors) {
  EXPECT_FALSE(make_parser().parse({"--frobnicate", "--help"}));
  EXPECT_FALSE(make_parser().parse({"-h"}));
  ArgParser p = make_parser();
  EXPECT_TRUE(p.parse({"--", "--help"}));  // after "--" it is a file name
  EXPECT_EQ(p.positional(), (std::vector<std::string>{"--help"}));
}

TEST(ArgParser, HelpListsEveryOptionWithItsValueAndDefault) {
  ArgParser p = make_parser();
  p.option("long-option-name", "SOME-VALUE", "first line\nsecond line");
  p.epilogue("exit status: 0 or 2.");
  const std::string help = p.help();
  EXPECT_EQ(help.rfind("usage: svdit tool FILE [options]\n\nDoes a thing to FILE.\n\noptions:\n", 0), 0u) << help;
  EXPECT_NE(help.find("  --out FILE                  where to write\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  --steps N                   how many steps (default 50)\n"), std::string::npos) << help;
  EXPECT_NE(help.find("  --explain L H               explain head H"), std::string::npos) << help;
  EXPECT_NE(help.find("  --quiet                     print less\n"), std::string::npos) << help;
  // A long option name puts its help on the next line; continuation lines stay in the help column.
  EXPECT_NE(help.find("  --long-option-name SOME-VALUE\n                              first line\n"
                      "                              second line\n"),
            std::string::npos)
      << help;
  EXPECT_NE(help.find("  -h, --help                  this text\n\nexit status: 0 or 2.\n"), std::string::npos) << help;
  EXPECT_LT(help.find("--out"), help.find("--steps"));  // declaration order
}

TEST(ArgParser, DeclaringAnOptionTwiceOrReadingAnUndeclaredOneIsAProgrammingError) {
  ArgParser p = make_parser();
  EXPECT_THROW(p.flag("quiet", "again"), std::logic_error);
  EXPECT_THROW((void)p.get("nonexistent"), std::logic_error);
  EXPECT_THROW((void)p.flag_set("nonexistent"), std::logic_error);
}

TEST(VideoSizeOptions, DefaultsNotesAndPositiveValues) {
  ArgParser p("svdit tool", "svdit tool", "");
  svdit::cli::add_video_size_options(p, {{"81", "1 + 4k"}, {"480", ""}, {"", "default: the model's"}});
  EXPECT_NE(p.help().find("--frames N                  video frames (1 + 4k) (default 81)"), std::string::npos)
      << p.help();
  EXPECT_NE(p.help().find("--width PX                  video width in pixels (default: the model's)"),
            std::string::npos)
      << p.help();
  ASSERT_TRUE(p.parse({"--width", "832"}));
  const svdit::cli::VideoSize size = svdit::cli::video_size_from_args(p);
  EXPECT_EQ(size.frames, 81);
  EXPECT_EQ(size.height, 480);
  EXPECT_EQ(size.width, 832);
  ASSERT_TRUE(p.parse({"--width", "0"}));
  EXPECT_NE(usage_error([&] { (void)svdit::cli::video_size_from_args(p); }).find("--width: expected an integer in [1, "),
            std::string::npos);
  ASSERT_TRUE(p.parse(std::vector<std::string>{}));
  EXPECT_EQ(usage_error([&] { (void)svdit::cli::video_size_from_args(p); }), "--width is required");
}

// run_tool as main(): exit statuses and where the messages go.
int run_with(const std::vector<const char*>& argv, int (*body)(const ArgParser&), std::string* out,
             std::string* err) {
  ArgParser p = make_parser();
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  const int status = svdit::cli::run_tool(p, static_cast<int>(argv.size()), argv.data(), body);
  *out = ::testing::internal::GetCapturedStdout();
  *err = ::testing::internal::GetCapturedStderr();
  return status;
}

TEST(RunTool, ExitStatusesAndMessages) {
  std::string out, err;
  auto ok = [](const ArgParser& a) { return a.flag_set("quiet") ? 0 : 3; };
  EXPECT_EQ(run_with({"tool", "--quiet"}, ok, &out, &err), 0);
  EXPECT_EQ(run_with({"tool"}, ok, &out, &err), 3);  // the tool's own status

  EXPECT_EQ(run_with({"tool", "--help"}, ok, &out, &err), 0);
  EXPECT_EQ(out.rfind("usage: svdit tool FILE [options]", 0), 0u) << out;
  EXPECT_EQ(err, "");

  EXPECT_EQ(run_with({"tool", "--bogus"}, ok, &out, &err), 2);
  EXPECT_EQ(err.rfind("svdit tool: unknown option --bogus\nusage: svdit tool FILE [options]", 0), 0u) << err;
  EXPECT_EQ(out, "");

  auto usage = [](const ArgParser&) -> int { throw UsageError("give a FILE"); };
  EXPECT_EQ(run_with({"tool"}, usage, &out, &err), 2);
  EXPECT_EQ(err.rfind("svdit tool: give a FILE\n", 0), 0u) << err;

  auto fails = [](const ArgParser&) -> int { throw std::runtime_error("in.h5: cannot open"); };
  EXPECT_EQ(run_with({"tool"}, fails, &out, &err), 1);
  EXPECT_EQ(err, "svdit tool: in.h5: cannot open\n");
}

}  // namespace
