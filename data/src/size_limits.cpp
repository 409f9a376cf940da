// Sanity bounds on sizes read from files (size_limits.h).
#include "svdit/data/size_limits.h"

#include "svdit/data/error.h"

namespace svdit::data {

void require_at_most(int64_t value, int64_t bound, const std::string& source, const std::string& object,
                     const std::string& why) {
  if (value > bound) {
    throw FormatError(source, object,
                      "found " + std::to_string(value) + ", which exceeds the bound " + std::to_string(bound) + " (" +
                          why + ")");
  }
}

}  // namespace svdit::data
