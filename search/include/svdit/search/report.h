#pragma once
// What svdit-search prints and exports besides the plan: the readable summary (pattern counts per layer,
// density, predicted speed-up), --explain L H (why a head got its pattern: every candidate's error, time and
// verdict), --csv (one row per head and bucket), and the time-budget frontier table.

#include <cstdint>
#include <ostream>

namespace svdit::search {

struct SearchInput;
struct SearchResult;

void print_summary(std::ostream& out, const SearchInput& input, const SearchResult& result);
void print_frontier(std::ostream& out, const SearchResult& result);
// Throws OptionError("--explain: …") when layer or head is outside the model.
void print_explanation(std::ostream& out, const SearchInput& input, const SearchResult& result, int64_t layer,
                       int64_t head);
// Header: bucket,step_begin,step_end,layer,head,candidate_id,pattern,block_density,error,group_size,
//         layer_time,warmup
void write_csv(std::ostream& out, const SearchInput& input, const SearchResult& result);

}  // namespace svdit::search
