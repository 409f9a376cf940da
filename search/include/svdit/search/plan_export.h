#pragma once
// From a search result to a plan (docs/FORMATS.md "Plan (JSON)"): the patterns used, keyed by the
// profile's candidate ids; a dense schedule entry for the warm-up steps; one heads table per bucket; and the
// provenance that says how the plan was made (docs/SEARCH.md "Provenance").

#include <nlohmann/json.hpp>

#include "svdit/data/plan.h"

namespace svdit::search {

struct SearchInput;
struct SearchResult;

nlohmann::json make_provenance(const SearchInput& input, const SearchResult& result);

// The plan passes data::validate and check_plan_matches for the profile's model and layout.
data::Plan make_plan(const SearchInput& input, const SearchResult& result);

// The model a profile describes, as plans name it (for check_plan_matches).
data::PlanModel plan_model(const SearchInput& input);

}  // namespace svdit::search
