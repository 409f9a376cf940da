#pragma once
// The candidate patterns a profile measures (docs/PROFILER.md "Candidates"): the default family derived from the
// token layout, or a list read from a JSON file; each with its exact block and token density.
//
// Default family, in this order (ids are the row numbers 0, 1, … of the list, so they are stable for a given layout;
// a member that would repeat an earlier one, or is undefined for the layout, is left out and the ids stay dense):
//   dense, skip;
//   window  w = ⌊x·P⌉ for x in 0.5, 1, 2, 4 (P tokens per frame), w ≥ 1, only widths that leave out some pair;
//   temporal (w_s, w_f) for w_s in ⌊W'/2⌉, W', 2W' (spatial radius in raster positions: half a row, a row, two rows)
//            and w_f in F − 1 (every frame) and ⌈(F − 1)/4⌉, when F > 1;
//   stripe  first_frame alone, + window ⌊P/2⌉, + window P   (when F > 1);
//   stripe  top_k alone, + window ⌊P/2⌉, + window P, where top_k are the k key blocks (of b consecutive tokens, in
//           original order) with the most attention mass in a calibration forward (choose_top_k_columns), k =
//           default_top_k_blocks(layout) unless given: about one frame's worth of columns, in whole blocks so the
//           gathered columns fill whole key blocks of the kernel.
// Until the calibration ran, the top_k members hold an empty column list (has_top_k_placeholders()).

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "svdit/data/profile.h"
#include "svdit/data/token_layout.h"

namespace svdit::profiler {

inline constexpr const char* kTopKRule = "top_k";

// max(1, round(P / b)), at most G − 1 blocks (so the stripe never covers every key).
int64_t default_top_k_blocks(const data::TokenLayout& layout);

// The default family for `layout`. top_k_columns: the calibrated stripe columns, or empty for placeholders.
// Densities are filled in when the columns are known (placeholders get 0 until fill_top_k()).
std::vector<data::ProfileCandidate> default_candidates(const data::TokenLayout& layout,
                                                       const std::vector<data::TokenRange>& top_k_columns = {});

// True when some candidate is a top_k stripe whose columns are still to be chosen.
bool has_top_k_placeholders(const std::vector<data::ProfileCandidate>& candidates);

// Puts `columns` into every top_k placeholder and computes all densities. Throws FormatError when a pattern is
// then invalid for the layout.
void fill_top_k(std::vector<data::ProfileCandidate>& candidates, const std::vector<data::TokenRange>& columns,
                const data::TokenLayout& layout);

// Sets block_density (compile_pattern) and token_density of every candidate.
void compute_densities(std::vector<data::ProfileCandidate>& candidates, const data::TokenLayout& layout);

// The top `k_blocks` blocks by summed column mass: column_mass[S] is the attention mass each key column received
// (any positive scale). Blocks are b consecutive tokens of the original order restricted to the video tokens
// (text columns are always kept anyway); ties go to the lower block. Returned sorted, adjacent blocks merged.
std::vector<data::TokenRange> choose_top_k_columns(std::span<const double> column_mass,
                                                   const data::TokenLayout& layout, int64_t k_blocks);

// A candidates file (docs/PROFILER.md): a JSON array whose elements are either a pattern (an array of components,
// docs/FORMATS.md "Patterns (JSON)"; its id is its position in the array) or an object {"id": N, "components":
// [...]}. Every pattern is validated for `layout`; ids must be unique and ≥ 0, and a dense candidate must be present
// (the reference of every error and the search's baseline). Errors name the file and the element.
std::vector<data::ProfileCandidate> read_candidates_file(const std::filesystem::path& path,
                                                         const data::TokenLayout& layout);

// Whether `file` (the candidates of a partial profile) are the `requested` ones: the same ids and patterns in the
// same order, except that a requested top_k placeholder matches any top_k stripe with the same other components.
// On a mismatch `why` says which row differs.
bool same_candidates(const std::vector<data::ProfileCandidate>& file,
                     const std::vector<data::ProfileCandidate>& requested, std::string* why = nullptr);

}  // namespace svdit::profiler
