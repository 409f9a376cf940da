#pragma once
// The three objectives (docs/SEARCH.md "Objectives"). Each fills result.choice for the layers after warm-up in
// every bucket; run_search has set up buckets, errors, cost and the dense warm-up layers before, and computes
// the figures after. Internal to svdit_search.

#include "svdit/search/input.h"
#include "svdit/search/search.h"

namespace svdit::search::detail {

void choose_paper(const SearchInput& input, SearchResult& result);
void choose_error_bound(const SearchInput& input, SearchResult& result);
void choose_time_budget(const SearchInput& input, SearchResult& result);

}  // namespace svdit::search::detail
