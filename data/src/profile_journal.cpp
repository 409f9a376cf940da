// The journal of a partial profile (profile_journal.h).
#include "profile_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace svdit::data::profile_journal {

Checksum& Checksum::add(const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash_ ^= bytes[i];
    hash_ *= 1099511628211ull;
  }
  return *this;
}

uint64_t slice_checksum(std::span<const float> error, std::span<const float> recall) {
  return Checksum().add(error).add(recall).value();
}

uint64_t maps_checksum(std::span<const uint16_t> pooled_half, std::span<const float> frames) {
  return Checksum().add(pooled_half).add(frames).value();
}

uint64_t cost_checksum(const CostTable& table, std::span<const KernelRecord> records) {
  Checksum sum;
  auto add_string = [&](const std::string& text) {
    const uint64_t size = text.size();
    sum.add(&size, sizeof size).add(text.data(), text.size());
  };
  add_string(table.source);
  add_string(table.device);
  sum.add(&table.repetitions, sizeof table.repetitions).add(&table.max_group, sizeof table.max_group);
  sum.add(std::span<const double>(table.us));
  sum.add(std::span<const int64_t>(table.group_sizes)).add(std::span<const double>(table.permute_us));
  sum.add(&table.dense_layer_us, sizeof table.dense_layer_us).add(&table.skip_layer_us, sizeof table.skip_layer_us);
  for (const KernelRecord& r : records) {
    add_string(r.name);
    for (const int64_t v : {r.start_ns, r.end_ns, r.shared_memory_bytes}) sum.add(&v, sizeof v);
    for (const int32_t v : {r.grid_x, r.grid_y, r.grid_z, r.block_x, r.block_y, r.block_z, r.registers, r.candidate,
                            r.group_size}) {
      sum.add(&v, sizeof v);
    }
  }
  return sum.value();
}

namespace {

std::runtime_error journal_error(const std::filesystem::path& path, const std::string& step, int error_number) {
  return std::runtime_error("cannot write " + path.string() + ": " + step + " failed: " + std::strerror(error_number));
}

// "<kind> <a> <b> <c> <hash>" — the part of a line its line hash covers.
std::string record_text(char kind, int64_t a, int64_t b, int64_t c, uint64_t checksum) {
  char text[128];
  std::snprintf(text, sizeof text, "%c %" PRId64 " %" PRId64 " %" PRId64 " %016" PRIx64, kind, a, b, c, checksum);
  return text;
}

uint64_t line_hash(const std::string& text) { return Checksum().add(text.data(), text.size()).value(); }

}  // namespace

std::filesystem::path Journal::path_for(const std::filesystem::path& partial) {
  std::filesystem::path path = partial;
  path += ".journal";
  return path;
}

Journal Journal::create(const std::filesystem::path& partial) {
  const std::filesystem::path path = path_for(partial);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0666);
  if (fd < 0) throw journal_error(path, "creating", errno);
  Journal journal(path, fd);
  journal.record(Unit::begin, 0, 0, 0, 0);
  return journal;
}

std::optional<Journal> Journal::open(const std::filesystem::path& partial) {
  const std::filesystem::path path = path_for(partial);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  Journal journal(path, fd);
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    // A valid line is its record text, a space and the 16-hex-digit hash of that text; anything else (a line torn
    // by a crash, a stray edit) is skipped: its unit is simply redone.
    if (line.size() < 18 || line[line.size() - 17] != ' ') continue;
    const std::string text = line.substr(0, line.size() - 17);
    char kind = 0;
    int64_t a = 0, b = 0, c = 0;
    uint64_t checksum = 0;
    if (std::sscanf(text.c_str(), "%c %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNx64, &kind, &a, &b, &c, &checksum) !=
            5 ||
        record_text(kind, a, b, c, checksum) != text) {
      continue;
    }
    char expected[17];
    std::snprintf(expected, sizeof expected, "%016" PRIx64, line_hash(text));
    if (line.compare(line.size() - 16, 16, expected) != 0) continue;
    journal.records_[{kind, a, b, c}] = checksum;
  }
  return journal;
}

void Journal::remove(const std::filesystem::path& partial) {
  std::error_code ec;
  std::filesystem::remove(path_for(partial), ec);
}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), records_(std::move(other.records_)) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    records_ = std::move(other.records_);
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<uint64_t> Journal::find(Unit unit, int64_t a, int64_t b, int64_t c) const {
  const auto it = records_.find({static_cast<char>(unit), a, b, c});
  if (it == records_.end()) return std::nullopt;
  return it->second;
}

void Journal::record(Unit unit, int64_t a, int64_t b, int64_t c, uint64_t checksum) {
  const std::string text = record_text(static_cast<char>(unit), a, b, c, checksum);
  char hash[24];
  std::snprintf(hash, sizeof hash, " %016" PRIx64 "\n", line_hash(text));
  const std::string line = text + hash;
  // One write(2) of a short line to an O_APPEND file: a crash leaves the line whole or torn at its end, which
  // open() skips. A short write (disk full) is an error, not a retry: the torn rest would follow other data.
  const ssize_t written = ::write(fd_, line.data(), line.size());
  if (written < 0) throw journal_error(path_, "appending to", errno);
  if (static_cast<size_t>(written) != line.size()) throw journal_error(path_, "appending to", ENOSPC);
  records_[{static_cast<char>(unit), a, b, c}] = checksum;
}

}  // namespace svdit::data::profile_journal
