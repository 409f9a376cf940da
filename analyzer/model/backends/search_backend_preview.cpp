// SearchBackend over the analyzer's preview solver (used while the build has no svdit_search).
#include "svdit/analyzer/preview_solver.h"
#include "svdit/analyzer/search_backend.h"
#include "svdit/data/profile_reader.h"

namespace svdit::analyzer {

namespace {

class PreviewBackend final : public SearchBackend {
 public:
  std::string name() const override { return "analyzer preview solver"; }
  SearchResult solve(const data::ProfileReader& profile, const SearchSettings& settings) override {
    const ProfileView view = ProfileView::of(profile);
    SearchResult r;
    r.plan = preview_solve(view, settings, profile.path().string());
    r.point = preview_evaluate(view, r.plan, settings);
    r.summary = std::string(to_string(settings.objective)) + " (" + name() + ")";
    return r;
  }
  std::vector<TradeoffPoint> frontier(const data::ProfileReader& profile, const SearchSettings& settings) override {
    return preview_frontier(ProfileView::of(profile), settings);
  }
  TradeoffPoint evaluate(const data::ProfileReader& profile, const data::Plan& plan,
                         const SearchSettings& settings) override {
    return preview_evaluate(ProfileView::of(profile), plan, settings);
  }
  SearchResult solve_at(const data::ProfileReader& profile, const SearchSettings& settings,
                        const TradeoffPoint& point) override {
    // The preview's frontier points are error-bound plans; their parameter is ε.
    SearchSettings at = settings;
    at.objective = Objective::error_bound;
    at.epsilon = point.parameter;
    return solve(profile, at);
  }
};

}  // namespace

std::unique_ptr<SearchBackend> make_search_backend() { return std::make_unique<PreviewBackend>(); }

}  // namespace svdit::analyzer
