#pragma once
// A one-line progress bar for sampling steps: "step 12/50 [#####.......] 1.23 s/step, ETA 0:47". On a terminal it
// redraws in place; into a file or pipe it prints one line per update, so logs stay readable.

#include <cstdint>
#include <cstdio>
#include <string>

namespace svdit::runtime {

class ProgressBar {
 public:
  ProgressBar(int64_t total, std::string label, std::FILE* out = stderr);
  // `done` units finished; `seconds` the time of the last unit; `note` appended (e.g. "σ 0.87").
  void update(int64_t done, double seconds, const std::string& note = "");
  void finish();

 private:
  int64_t total_;
  std::string label_;
  std::FILE* out_;
  bool tty_;
  double elapsed_ = 0;
};

std::string format_duration(double seconds);  // "0:47", "1:02:03"

}  // namespace svdit::runtime
