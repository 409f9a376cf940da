// The sampling progress bar (see progress_bar.h).

#include "svdit/runtime/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace svdit::runtime {

std::string format_duration(double seconds) {
  const auto total = static_cast<long long>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, (total / 60) % 60, total % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
  }
  return text;
}

ProgressBar::ProgressBar(int64_t total, std::string label, std::FILE* out)
    : total_(std::max<int64_t>(total, 1)), label_(std::move(label)), out_(out), tty_(::isatty(::fileno(out)) != 0) {}

void ProgressBar::update(int64_t done, double seconds, const std::string& note) {
  elapsed_ += seconds;
  constexpr int kWidth = 24;
  const auto filled = static_cast<int>(kWidth * std::clamp<double>(static_cast<double>(done) / static_cast<double>(total_), 0, 1));
  const double per_step = done > 0 ? elapsed_ / static_cast<double>(done) : 0;
  const double eta = per_step * static_cast<double>(total_ - done);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(out_, "%s%s %lld/%lld [%s] %.2f s/step, elapsed %s, ETA %s%s%s%s", tty_ ? "\r" : "", label_.c_str(),
               static_cast<long long>(done), static_cast<long long>(total_), bar.c_str(), per_step,
               format_duration(elapsed_).c_str(), format_duration(eta).c_str(), note.empty() ? "" : ", ",
               note.c_str(), tty_ ? "\033[K" : "\n");
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (tty_) std::fprintf(out_, "\n");
  std::fflush(out_);
}

}  // namespace svdit::runtime
