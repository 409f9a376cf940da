#pragma once
// The journal of a partial profile, "<target>.partial.journal": what ProfileWriter may trust in the partial HDF5
// file after a crash. One text line per unit that reached the partial file — appended only after HDF5 flushed
// that unit — carrying a checksum of the unit's bytes as written:
//
//   begin 0 0 0 <hash> <line hash>     the file's skeleton (meta, candidates, empty datasets) is complete
//   slice P S L <hash> <line hash>     error + recall of (prompt P, step S, layer L)
//   maps  S L H <hash> <line hash>     pooled (float16 bits) + frame map of (step S, layer L, head H)
//   omit  S 0 0 <hash> <line hash>     the maps of step S are marked "not recorded"
//   cost  0 0 0 <hash> <line hash>     the cost table and kernel records
//
// Hashes are 64-bit FNV-1a, in hex. The line hash covers the line before it, so a line torn by a crash in the
// middle of its write is ignored rather than misread. A unit counts as written on resume only when its record is
// present AND the checksum of what the partial file now holds matches it; anything else is redone. Internal to
// svdit_data; docs/FORMATS.md "Profile (HDF5)" / docs/PROFILER.md describe it for users.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <tuple>

#include "svdit/data/profile.h"

namespace svdit::data::profile_journal {

// 64-bit FNV-1a over a sequence of byte ranges.
class Checksum {
 public:
  Checksum& add(const void* data, size_t size);
  template <class T>
  Checksum& add(std::span<const T> values) {
    return add(values.data(), values.size_bytes());
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 14695981039346656037ull;
};

uint64_t slice_checksum(std::span<const float> error, std::span<const float> recall);
uint64_t maps_checksum(std::span<const uint16_t> pooled_half, std::span<const float> frames);
uint64_t cost_checksum(const CostTable& table, std::span<const KernelRecord> records);

enum class Unit : char { begin = 'b', slice = 's', maps = 'm', omit = 'o', cost = 'c' };

class Journal {
 public:
  static std::filesystem::path path_for(const std::filesystem::path& partial);  // "<partial>.journal"
  // Starts an empty journal (truncating an old one) and records `begin`.
  static Journal create(const std::filesystem::path& partial);
  // Reads the records of an existing journal and opens it for appending; nullopt when there is none.
  static std::optional<Journal> open(const std::filesystem::path& partial);
  static void remove(const std::filesystem::path& partial);  // no error when absent

  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  // The checksum last recorded for a unit, or nullopt when none was.
  std::optional<uint64_t> find(Unit unit, int64_t a = 0, int64_t b = 0, int64_t c = 0) const;
  bool begun() const { return find(Unit::begin).has_value(); }

  // Appends one record (one write(2)); throws std::runtime_error naming the journal and errno.
  void record(Unit unit, int64_t a, int64_t b, int64_t c, uint64_t checksum);

 private:
  Journal(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::filesystem::path path_;
  int fd_ = -1;
  std::map<std::tuple<char, int64_t, int64_t, int64_t>, uint64_t> records_;
};

}  // namespace svdit::data::profile_journal
