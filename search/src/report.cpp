// Human-readable output of a search: summary, explanation of one head, CSV, frontier.
#include "svdit/search/report.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "svdit/search/input.h"
#include "svdit/search/options.h"
#include "svdit/search/search.h"

namespace svdit::search {

namespace {

// printf into a std::string: the tables are column-aligned, which iostream manipulators make unreadable.
template <class... Args>
std::string format(const char* fmt, Args... args) {
  const int n = std::snprintf(nullptr, 0, fmt, args...);
  std::string text(static_cast<size_t>(std::max(n, 0)) + 1, '\0');
  std::snprintf(text.data(), text.size(), fmt, args...);
  text.pop_back();
  return text;
}

long long ll(int64_t v) { return static_cast<long long>(v); }

std::string parameters_text(const SearchResult& r) {
  const SearchOptions& o = r.options;
  std::string text = std::string("objective ") + to_string(o.objective);
  switch (o.objective) {
    case Objective::paper: text += format(" (lambda %g, epsilon %g", o.lambda_value(), o.epsilon_value()); break;
    case Objective::error_bound: text += format(" (epsilon %g", o.epsilon_value()); break;
    case Objective::time_budget:
      text += o.budget_us ? format(" (budget %g %s", *o.budget_us, r.cost.unit().c_str())
                          : format(" (speed-up target %g = budget %g %s", *o.speedup, r.budget, r.cost.unit().c_str());
      break;
  }
  text += o.quantile >= 1.0 ? ", error = max over calibration samples)"
                            : format(", error = %g-quantile over calibration samples)", o.quantile);
  return text;
}

std::string steps_text(const SearchInput& input, const Bucket& b) {
  std::string text = format("steps [%lld, %lld) from profiled step", ll(b.step_begin), ll(b.step_end));
  if (b.profiled.size() > 1) text += "s";
  for (const int64_t s : b.profiled) text += format(" %lld", ll(input.meta.steps[static_cast<size_t>(s)]));
  return text;
}

// Heads of `layer` in bucket b on candidate c, not counting `except`.
int64_t heads_on(const SearchResult& r, size_t b, int64_t layer, int32_t c, int64_t except) {
  int64_t n = 0;
  for (int64_t h = 0; h < r.heads; ++h)
    if (h != except && r.candidate(static_cast<int64_t>(b), layer, h) == c) ++n;
  return n;
}

std::string csv_quote(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (const char ch : field) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

}  // namespace

void print_summary(std::ostream& out, const SearchInput& input, const SearchResult& r) {
  const data::ProfileMeta& meta = input.meta;
  out << "svdit search: " << parameters_text(r) << "\n";
  out << format("  profile   %s: %s, %lld layers x %lld heads, %lld prompts, %lld of %lld steps profiled%s\n",
                input.source.c_str(), meta.model.c_str(), ll(meta.layers), ll(meta.heads), ll(meta.num_prompts()),
                ll(meta.num_steps()), ll(meta.sampling_steps), meta.synthetic ? "  [SYNTHETIC numbers]" : "");
  out << "  cost      " << r.cost.note() << "\n";
  for (const std::string& note : r.notes) out << "  note: " << note << "\n";
  if (r.options.warmup_steps > 0 || r.options.warmup_layers > 0) {
    std::string warmup = "  warm-up  ";
    if (r.options.warmup_steps > 0) warmup += format(" dense steps [0, %lld)", ll(r.options.warmup_steps));
    if (r.options.warmup_layers > 0)
      warmup += format("%s dense layers [0, %lld) in every step", r.options.warmup_steps > 0 ? "," : "",
                       ll(r.options.warmup_layers));
    out << warmup << "\n";
  }

  // Patterns used, as columns.
  std::set<int32_t> used;
  for (const auto& table : r.choice) used.insert(table.begin(), table.end());
  const std::vector<int32_t> columns(used.begin(), used.end());
  out << "  patterns  (id: components, block density)\n";
  for (const int32_t c : columns) {
    const data::ProfileCandidate& cand = input.candidates[static_cast<size_t>(c)];
    out << format("    %4d: %-44s %.4f\n", cand.id, data::describe(cand.pattern).c_str(), cand.block_density);
  }

  const char* unit = r.cost.unit().c_str();
  const double dense_layer = r.cost.dense_layer_time();
  out << "  schedule\n";
  if (!r.buckets.empty() && r.buckets.front().step_begin > 0)
    out << format("    steps [0, %lld): dense (warm-up)\n", ll(r.buckets.front().step_begin));
  for (size_t b = 0; b < r.buckets.size(); ++b) {
    double t = 0.0, density = 0.0;
    for (const double lt : r.layer_time[b]) t += lt;
    for (const int32_t c : r.choice[b]) density += input.candidates[static_cast<size_t>(c)].block_density;
    density /= static_cast<double>(r.layers * r.heads);
    out << format("    %-44s density %.3f, %.4g %s per step, speed-up %.2fx\n", steps_text(input, r.buckets[b]).c_str(),
                  density, t, unit, dense_layer * static_cast<double>(r.layers) / t);
  }
  if (r.buckets.empty()) out << format("    steps [0, %lld): dense\n", ll(r.sampling_steps));

  if (!r.buckets.empty()) {
    // Per layer: how many heads run each pattern (summed over buckets), and the step-weighted density and time.
    out << (r.buckets.size() > 1 ? format("  heads per pattern and layer (summed over %zu buckets)\n", r.buckets.size())
                                 : std::string("  heads per pattern and layer\n"));
    std::string header = "    layer";
    for (const int32_t c : columns) header += format(" %5d", input.candidates[static_cast<size_t>(c)].id);
    out << header << "   density  speed-up\n";
    int64_t sparse_steps = 0;
    for (const Bucket& b : r.buckets) sparse_steps += b.num_steps();
    for (int64_t l = 0; l < r.layers; ++l) {
      std::map<int32_t, int64_t> counts;
      double density = 0.0, t = 0.0;
      for (size_t b = 0; b < r.buckets.size(); ++b) {
        const auto steps = static_cast<double>(r.buckets[b].num_steps());
        t += steps * r.layer_time[b][static_cast<size_t>(l)];
        for (int64_t h = 0; h < r.heads; ++h) {
          const int32_t c = r.candidate(static_cast<int64_t>(b), l, h);
          ++counts[c];
          density += steps * input.candidates[static_cast<size_t>(c)].block_density;
        }
      }
      density /= static_cast<double>(sparse_steps * r.heads);
      t /= static_cast<double>(sparse_steps);
      std::string row = format("    %5lld", ll(l));
      for (const int32_t c : columns) row += counts[c] ? format(" %5lld", ll(counts[c])) : std::string("     .");
      row += format("   %7.3f  %7.2fx%s", density, dense_layer / t,
                    l < r.options.warmup_layers ? "  (warm-up)" : "");
      out << row << "\n";
    }
  }
  out << format("  predicted attention time per generation: %.6g %s (all-dense %.6g %s): speed-up %.3fx\n", r.time,
                unit, r.dense_time, unit, r.speedup());
  out << format("  density %.4f over all steps (%.4f over sparse steps); mean error %.4g per (step, layer, head)\n",
                r.density, r.sparse_density, r.mean_error);
  if (r.placement) {
    const RankPlacement& p = *r.placement;
    out << format("  head placement over %d ranks (per generation, each layer's slowest rank, summed over layers):\n",
                  p.ranks);
    out << format("    balanced %.6g %s, contiguous split %.6g %s (balanced %+.1f %%)\n", p.time, unit, p.contiguous_time,
                  unit, p.contiguous_time > 0.0 ? 100.0 * (p.time / p.contiguous_time - 1.0) : 0.0);
    out << format("    ideal %.6g %s (one process %.6g %s / %d); speed-up over one process: balanced %.3fx, "
                  "contiguous %.3fx\n",
                  p.ideal_time, unit, p.single_time, unit, p.ranks, p.single_time / p.time,
                  p.single_time / p.contiguous_time);
    out << format("    %lld of %lld layers balanced, the others keep the contiguous split (it was as fast)\n",
                  ll(p.balanced_layers()), ll(r.layers));
  }
}

void print_frontier(std::ostream& out, const SearchResult& r) {
  out << format("  Pareto frontier swept (%zu points; time of one generation in %s):\n", r.frontier.size(),
                r.cost.unit().c_str());
  out << format("    %12s %14s %10s %12s\n", "multiplier", "time", "speed-up", "mean error");
  for (const FrontierPoint& p : r.frontier)
    out << format("    %12.4g %14.6g %9.3fx %12.5g%s\n", p.multiplier, p.time, r.dense_time / p.time,
                  p.error, p.multiplier == r.multiplier ? "   <- chosen" : "");
}

void print_explanation(std::ostream& out, const SearchInput& input, const SearchResult& r, int64_t layer,
                       int64_t head) {
  if (layer < 0 || layer >= r.layers || head < 0 || head >= r.heads)
    throw OptionError(format("--explain: (layer %lld, head %lld) is outside the model (%lld layers x %lld heads)",
                             ll(layer), ll(head), ll(r.layers), ll(r.heads)));
  const SearchOptions& o = r.options;
  const char* unit = r.cost.unit().c_str();
  out << format("explain layer %lld head %lld: %s\n", ll(layer), ll(head), parameters_text(r).c_str());
  if (r.buckets.empty()) {
    out << "  every step is warm-up: dense\n";
    return;
  }
  if (layer < o.warmup_layers) {
    out << format("  layer %lld is a warm-up layer (--warmup-layers %lld): dense in every step\n", ll(layer),
                  ll(o.warmup_layers));
    return;
  }
  const int64_t prompts = input.meta.num_prompts();
  for (size_t b = 0; b < r.buckets.size(); ++b) {
    const auto bi = static_cast<int64_t>(b);
    const int32_t chosen = r.candidate(bi, layer, head);
    const int64_t samples = prompts * static_cast<int64_t>(r.buckets[b].profiled.size());
    out << format("  %s (%lld calibration samples)\n", steps_text(input, r.buckets[b]).c_str(), ll(samples));
    // "layer": the layer's predicted time with this head on candidate c, the other heads staying as chosen.
    std::vector<int32_t> row(&r.choice[b][static_cast<size_t>(layer * r.heads)],
                             &r.choice[b][static_cast<size_t>(layer * r.heads)] + r.heads);
    auto marginal = [&](int32_t c) {
      row[static_cast<size_t>(head)] = c;
      const double t = r.cost.layer_time(row);
      row[static_cast<size_t>(head)] = chosen;
      return t;
    };
    const double chosen_marginal = marginal(chosen);
    const double chosen_error = chosen == r.dense ? 0.0 : r.errors.at(bi, layer, head, chosen);
    out << format("    %4s  %-44s %7s %9s %9s %9s %10s %10s  %s\n", "id", "pattern", "density", "error", "mean",
                  "max", "share", "layer", "verdict");
    for (int64_t c = 0; c < input.num_candidates(); ++c) {
      const data::ProfileCandidate& cand = input.candidates[static_cast<size_t>(c)];
      double mean = 0.0, max = 0.0;
      for (int64_t p = 0; p < prompts; ++p)
        for (const int64_t s : r.buckets[b].profiled) {
          const double e = input.error_at(p, s, layer, head, c);
          mean += e;
          max = std::max(max, e);
        }
      mean /= static_cast<double>(samples);
      const double error = c == r.dense ? 0.0 : r.errors.at(bi, layer, head, c);
      const auto ci = static_cast<int32_t>(c);
      const double here = marginal(ci);
      std::string verdict;
      switch (o.objective) {
        case Objective::paper: {
          const double loss = error + o.lambda_value() * cand.block_density;
          if (c == r.dense)
            verdict = ci == chosen ? format("CHOSEN: every sparse L > epsilon %g", o.epsilon_value())
                                   : std::string("fallback when every sparse L > epsilon");
          else if (ci == chosen)
            verdict = format("CHOSEN: least L = %.4g <= epsilon %g", loss, o.epsilon_value());
          else
            verdict = format("L = %.4g%s", loss, loss > o.epsilon_value() ? " > epsilon" : " (not the least)");
          break;
        }
        case Objective::error_bound: {
          const bool allowed = c == r.dense || error <= o.epsilon_value();
          if (ci == chosen) verdict = "CHOSEN: fastest allowed layer";
          else if (!allowed)
            verdict = format("rejected: error %.4g > epsilon %g", error, o.epsilon_value());
          else
            verdict = format("allowed, %+.4g %s on the layer vs the chosen", here - chosen_marginal, unit);
          break;
        }
        case Objective::time_budget: {
          const double score = error + r.multiplier * here;
          const double chosen_score = chosen_error + r.multiplier * chosen_marginal;
          verdict = ci == chosen ? format("CHOSEN: least error + mu x time = %.4g (mu %.4g)", score, r.multiplier)
                                 : format("error + mu x time = %.4g (%+.4g)", score, score - chosen_score);
          break;
        }
      }
      out << format("    %4d  %-44s %7.4f %9.4g %9.4g %9.4g %10.4g %10.4g  %s\n", cand.id,
                    data::describe(cand.pattern).c_str(), cand.block_density, error, mean, max,
                    r.cost.head_time(head, ci), here, verdict.c_str());
    }
  }
  out << format("  (error = the %s over the samples; share = %s this head adds to its layer's launch on that pattern; "
                "layer = %s of the whole layer with this head on it, the other heads as chosen)\n",
                o.quantile >= 1.0 ? "max" : format("%g-quantile", o.quantile).c_str(), unit, unit);
}

void write_csv(std::ostream& out, const SearchInput& input, const SearchResult& r) {
  out << "bucket,step_begin,step_end,layer,head,candidate_id,pattern,block_density,error,group_size,layer_time,"
         "warmup\n";
  for (size_t b = 0; b < r.buckets.size(); ++b)
    for (int64_t l = 0; l < r.layers; ++l)
      for (int64_t h = 0; h < r.heads; ++h) {
        const int32_t c = r.candidate(static_cast<int64_t>(b), l, h);
        const data::ProfileCandidate& cand = input.candidates[static_cast<size_t>(c)];
        const double error = c == r.dense ? 0.0 : r.errors.at(static_cast<int64_t>(b), l, h, c);
        out << format("%zu,%lld,%lld,%lld,%lld,%d,%s,%.9g,%.9g,%lld,%.9g,%d\n", b, ll(r.buckets[b].step_begin),
                      ll(r.buckets[b].step_end), ll(l), ll(h), cand.id, csv_quote(data::describe(cand.pattern)).c_str(),
                      cand.block_density, error, ll(heads_on(r, b, l, c, -1)), r.layer_time[b][static_cast<size_t>(l)],
                      l < r.options.warmup_layers ? 1 : 0);
      }
}

}  // namespace svdit::search
