#pragma once
// What the search decides from: the parts of a profile it reads (docs/SEARCH.md "What the search reads": /meta,
// /candidates, /error, /cost), held in a plain struct so that the HDF5 path (load_search_input) and in-memory callers
// — tests, benchmarks, the analyzer — go through the same validation and the same solvers.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "svdit/data/profile.h"

namespace svdit::data {
class ProfileReader;
}

namespace svdit::search {

struct SearchInput {
  data::ProfileMeta meta;
  std::vector<data::ProfileCandidate> candidates;
  data::Array5<float> error;             // [prompt, step, layer, head, candidate] relative MSE
  std::optional<data::CostTable> cost;   // absent: the cost model falls back to block density
  std::string source = "<memory>";       // the profile's path; names the input in every message
  std::string digest;                    // "fnv1a64:<16 hex>" of the profile's bytes; empty for in-memory input
  int64_t file_bytes = 0;                // size of the profile file; 0 for in-memory input
  bool complete = true;                  // the profile was marked complete by its writer

  int64_t num_candidates() const { return static_cast<int64_t>(candidates.size()); }
  // Relative MSE of (prompt, profiled step, layer, head, candidate).
  float error_at(int64_t prompt, int64_t step, int64_t layer, int64_t head, int64_t candidate) const {
    return error.at(prompt, step, layer, head, candidate);
  }
};

// The input from an open reader (the analyzer holds one): meta, candidates, error and cost, source = its path.
// No digest (the file is not read again); validated.
SearchInput make_search_input(const data::ProfileReader& reader);

// Reads PROFILE through data::ProfileReader (which validates the file's structure), digests its bytes, then
// runs validate(). Throws data::FormatError naming the file and the dataset at fault.
SearchInput load_search_input(const std::filesystem::path& profile);

// Refuses, with a data::FormatError naming input.source and the object, anything the solvers cannot use:
// invalid meta or candidates, an empty candidate list, no `dense` candidate (the fallback of every rule), an
// error array of the wrong shape, a NaN/negative/infinite error (a measurement missing from the profile), and a
// cost table whose shape or values do not fit the candidates and the model.
void validate(const SearchInput& input);

// Index (row in candidates) of the first candidate whose pattern is `dense`. Throws FormatError when none is.
int64_t dense_candidate(const SearchInput& input);

}  // namespace svdit::search
