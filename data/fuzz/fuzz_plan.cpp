// libFuzzer target: arbitrary text as a plan (svdit::data::parse_plan).
// Bugs it reports (by aborting): a crash or sanitizer report; any exception other than FormatError or
// nlohmann::json::exception; and, for text the reader accepts, a serialize → parse round trip that does not give
// back an equal plan, or a serialized plan that the reader then refuses.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "svdit/data/error.h"
#include "svdit/data/plan.h"

namespace {

[[noreturn]] void fail(const char* what, const char* detail = "") {
  std::fprintf(stderr, "svdit-fuzz-plan: %s%s%s\n", what, *detail ? ": " : "", detail);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  svdit::data::Plan plan;
  try {
    plan = svdit::data::parse_plan(text, "<fuzz>");
  } catch (const svdit::data::FormatError&) {
    return 0;
  } catch (const nlohmann::json::exception&) {
    return 0;
  } catch (const std::exception& e) {
    fail("parse_plan threw an unexpected exception", e.what());
  } catch (...) {
    fail("parse_plan threw an exception of unknown type");
  }

  // An accepted plan must survive being written and read back unchanged: the analyzer and the search write
  // plans with serialize_plan, the runtime reads them with parse_plan.
  try {
    const std::string written = svdit::data::serialize_plan(plan);
    const svdit::data::Plan reread = svdit::data::parse_plan(written, "<round trip>");
    if (!(reread == plan)) fail("serialize_plan → parse_plan changed the plan");
  } catch (const std::exception& e) {
    fail("an accepted plan could not be written and read back", e.what());
  }
  return 0;
}
