// SearchBackend over the project's search library (svdit_search, docs/SEARCH.md): the same objectives, layer
// solver, cost model and frontier as `svdit search`, so what the analyzer shows and saves is what the command
// line would produce for the same settings.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include "svdit/analyzer/search_backend.h"
#include "svdit/data/error.h"
#include "svdit/data/profile_reader.h"
#include "svdit/search/digest.h"
#include "svdit/search/input.h"
#include "svdit/search/options.h"
#include "svdit/search/plan_export.h"
#include "svdit/search/plan_figures.h"
#include "svdit/search/search.h"

namespace svdit::analyzer {

namespace {

class SvditSearchBackend final : public SearchBackend {
 public:
  std::string name() const override { return "svdit_search"; }

  SearchResult solve(const data::ProfileReader& profile, const SearchSettings& settings) override {
    const search::SearchInput& in = input(profile);
    search::SearchOptions o = base_options(settings);
    switch (settings.objective) {
      case Objective::error_bound:
        o.objective = search::Objective::error_bound;
        o.epsilon = settings.epsilon;
        break;
      case Objective::paper:
        o.objective = search::Objective::paper;
        o.epsilon = settings.epsilon;
        o.lambda = settings.lambda;
        break;
      case Objective::time_budget: {
        o.objective = search::Objective::time_budget;
        // The search refuses a budget below its fastest plan; a slider can ask for one, so it is raised to
        // the fastest frontier point instead of failing.
        const auto& f = frontier(profile, settings);
        const double fastest = f.empty() ? 0.0 : f.front().time_us * steps(in);
        o.budget_us = std::max(settings.budget_fraction * dense_generation_time_, fastest * (1 + 1e-9));
        break;
      }
    }
    return result_of(in, search::run_search(in, o), settings);
  }

  std::vector<TradeoffPoint> frontier(const data::ProfileReader& profile, const SearchSettings& settings) override {
    const search::SearchInput& in = input(profile);
    const double q = search_quantile(settings.aggregate);
    if (frontier_quantile_ == q && !frontier_.empty()) return frontier_;
    // The time-budget sweep evaluates its whole multiplier grid whatever the budget; all-dense's time is a
    // budget every plan meets.
    search::SearchOptions o = base_options(settings);
    o.objective = search::Objective::time_budget;
    o.speedup = 1.0;
    const search::SearchResult r = search::run_search(in, o);
    dense_generation_time_ = r.dense_time;
    std::vector<TradeoffPoint> points;
    for (const search::FrontierPoint& p : r.frontier) {
      TradeoffPoint t;
      t.time_us = p.time / steps(in);
      t.error = p.error;
      t.parameter = p.multiplier;
      t.dense_time_us = r.dense_time / steps(in);
      t.unit = r.cost.unit();
      points.push_back(t);
    }
    frontier_ = pareto_front(std::move(points));
    frontier_quantile_ = q;
    return frontier_;
  }

  TradeoffPoint evaluate(const data::ProfileReader& profile, const data::Plan& plan,
                         const SearchSettings& settings) override {
    const search::SearchInput& in = input(profile);
    TradeoffPoint t;
    try {
      const search::PlanFigures f = search::evaluate_plan(in, plan, search_quantile(settings.aggregate));
      t.time_us = f.time / steps(in);
      t.error = f.mean_error;
      t.dense_time_us = f.dense_time / steps(in);
      t.unit = f.unit;
    } catch (const data::FormatError&) {
      // A pattern the profile never measured: the plan has no place on these axes (the view says so).
      t.time_us = t.error = t.dense_time_us = std::numeric_limits<double>::quiet_NaN();
    }
    return t;
  }

  SearchResult solve_at(const data::ProfileReader& profile, const SearchSettings& settings,
                        const TradeoffPoint& point) override {
    // The least-error plan within the point's own time is the point (the frontier is what the sweep found).
    const search::SearchInput& in = input(profile);
    search::SearchOptions o = base_options(settings);
    o.objective = search::Objective::time_budget;
    // (A plan that skips every head takes no time; the search wants a positive budget.)
    o.budget_us = std::max(point.time_us * steps(in) * (1 + 1e-9), point.dense_time_us * steps(in) * 1e-12);
    return result_of(in, search::run_search(in, o), settings);
  }

 private:
  static double steps(const search::SearchInput& in) { return static_cast<double>(in.meta.sampling_steps); }

  static search::SearchOptions base_options(const SearchSettings& settings) {
    search::SearchOptions o;
    o.quantile = search_quantile(settings.aggregate);
    return o;
  }

  SearchResult result_of(const search::SearchInput& in, const search::SearchResult& r, const SearchSettings& settings) {
    SearchResult out;
    out.plan = search::make_plan(in, r);
    out.point.time_us = r.time / steps(in);
    out.point.error = r.mean_error;
    out.point.parameter = settings.objective == Objective::time_budget ? r.multiplier : settings.epsilon;
    out.point.dense_time_us = r.dense_time / steps(in);
    out.point.unit = r.cost.unit();
    char speedup[32];
    std::snprintf(speedup, sizeof speedup, "%.2fx", r.speedup());
    out.summary = std::string(search::to_string(r.options.objective)) + " (svdit_search): " + speedup + " predicted";
    return out;
  }

  // The search's view of the open profile, built once per profile (it copies the error array). With the file's
  // digest, as `svdit search` records it, so that a plan searched here is the plan the command line writes —
  // except for profiles over kDigestLimit, whose digest (a full read of tens of GB at Wan2.1-14B size) would
  // stall the GUI: their plans record none (docs/ANALYZER.md).
  static constexpr std::uintmax_t kDigestLimit = 1ull << 30;
  const search::SearchInput& input(const data::ProfileReader& profile) {
    if (!input_ || reader_ != &profile || source_ != profile.path().string()) {
      input_ = search::make_search_input(profile);
      std::error_code ec;
      const std::uintmax_t size = std::filesystem::file_size(profile.path(), ec);
      if (!ec && size <= kDigestLimit) {
        const search::FileDigest d = search::digest_file(profile.path());
        input_->digest = d.text;
        input_->file_bytes = d.bytes;
      }
      reader_ = &profile;
      source_ = profile.path().string();
      frontier_.clear();
      frontier_quantile_ = -1;
    }
    return *input_;
  }

  std::optional<search::SearchInput> input_;
  const data::ProfileReader* reader_ = nullptr;
  std::string source_;
  std::vector<TradeoffPoint> frontier_;
  double frontier_quantile_ = -1;
  double dense_generation_time_ = 0;
};

}  // namespace

std::unique_ptr<SearchBackend> make_search_backend() { return std::make_unique<SvditSearchBackend>(); }

}  // namespace svdit::analyzer
