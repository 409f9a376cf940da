#pragma once
// Predicted attention time of a layer: the one pricing model of svdit (docs/SEARCH.md "Cost model"). It prices the
// launch the runtime makes (docs/RUNTIME.md, runtime/src/sparse_plan_attention.cpp):
//   - every head dense  → the dense path (SDPA), one measured time;
//   - every head skip   → zeros, one measured time;
//   - otherwise         → ONE sparse launch of all H heads: one CTA per (query block, head), launched head after
//     head (grid x = query block, y = head), so the SMs work through the heads' tiles in wave after wave, plus the
//     permute pre-pass (one more kernel) when any head is permuted. Its time is
//
//         Σ_h head(c_h)  +  last(c_{H-1})  +  [any head permuted] · permute_launch
//
//     head(c): a head's share of the machine — its tiles' fixed cost and time per computed block, over all SMs,
//              and its rows of the pre-pass when c is permuted;
//     last(c): the launch's fixed part when the last head runs c — the launch itself plus the tail of the last
//              wave, which is the last head's tiles (they are dispatched last);
//     permute_launch: the pre-pass kernel's fixed part.
//
// The parameters are fitted from the profile's measurements of one launch of g heads of one candidate, for the
// measured group sizes g (/cost/table, docs/FORMATS.md): a least-squares line t(g) = a + g·s per candidate; s is
// head(c) and a − (the pre-pass's own intercept) is last(c). A version-1 table (one launch per group of heads,
// skip launching nothing, no dense path measured) is converted the same way, with a note.
//
// Without a measured table (none in the profile, or a version-1 table timed on the fp64 CPU reference, which
// says nothing about the runtime) the model falls back to block density: head(c) = density(c), in units of one
// dense head, no fixed parts; it then predicts ratios, not microseconds, and the output and provenance say so.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "svdit/data/profile.h"

namespace svdit::search {

struct SearchInput;

class CostModel {
 public:
  CostModel() = default;
  explicit CostModel(const SearchInput& input);
  // From the parts of a profile it reads (the analyzer holds these without a SearchInput); cost may be null.
  // The candidates must include a dense one (validate(SearchInput) refuses profiles without).
  CostModel(const data::ProfileMeta& meta, const std::vector<data::ProfileCandidate>& candidates,
            const data::CostTable* cost);

  bool measured() const { return measured_; }
  const std::string& source() const { return source_; }  // "cupti", "cpu-aten" or "density-proportional"
  const std::string& device() const { return device_; }  // the machine the times were measured on ("" if none)
  const std::string& unit() const { return unit_; }      // "us" or "dense-head"
  const std::string& note() const { return note_; }      // where the times come from, and any conversion
  const std::string& caveat() const { return caveat_; }  // non-empty when the times are assumed or converted
  int64_t heads() const { return heads_; }
  int64_t num_candidates() const { return static_cast<int64_t>(head_.size()); }

  // The launch model's parameters (see above), in unit().
  double head(int64_t candidate) const { return head_.at(static_cast<size_t>(candidate)); }
  double last(int64_t candidate) const { return last_.at(static_cast<size_t>(candidate)); }
  double permute_launch() const { return permute_launch_; }
  bool permuted(int64_t candidate) const { return permuted_.at(static_cast<size_t>(candidate)) != 0; }
  bool dense(int64_t candidate) const { return dense_.at(static_cast<size_t>(candidate)) != 0; }  // the pattern
  bool skip(int64_t candidate) const { return skip_.at(static_cast<size_t>(candidate)) != 0; }
  double dense_layer() const { return dense_layer_; }
  double skip_layer() const { return skip_layer_; }

  // What head `head` on `candidate` adds to a mixed launch, fixed parts aside: head(c), plus last(c) for the
  // last head. The solvers' per-head term.
  double head_time(int64_t head, int64_t candidate) const {
    return this->head(candidate) + (head == heads_ - 1 ? last(candidate) : 0.0);
  }
  // The predicted time of one layer whose head h runs candidate choice[h] (choice.size() == heads()).
  double layer_time(std::span<const int32_t> choice) const;
  // The same launch model for the share of such a layer that one rank runs under head-parallel attention
  // (docs/RUNTIME.md "Sequence parallel"): the heads `heads` (model head indices, ascending, as the runtime hands
  // them to the kernel). The runtime takes the layer's path from the whole layer — all dense: the dense path, all
  // skip: zeros — and runs a subset of a sparse layer as one sparse launch of those heads (zeros when they are all
  // skip), so: the dense and skip paths cost dense_layer() or skip_layer() × |heads| / H (measured for all H; they
  // grow with the heads they run), a launch costs Σ head(c) + last(c of the last of `heads`) + the pre-pass when
  // one of them is permuted. No heads cost 0; every head gives layer_time(choice).
  double heads_time(std::span<const int32_t> choice, std::span<const int32_t> heads) const;
  // The layer with every head on the dense candidate.
  double dense_layer_time() const { return dense_layer_; }

 private:
  bool measured_ = false;
  std::string source_, device_, unit_, note_, caveat_;
  int64_t heads_ = 0;
  std::vector<double> head_, last_;
  std::vector<char> permuted_, dense_, skip_;  // per candidate
  double permute_launch_ = 0.0, dense_layer_ = 0.0, skip_layer_ = 0.0;

  void check_choice(std::span<const int32_t> choice, const char* caller) const;
  // The sparse launch of the heads `heads` (all of them when `heads` is null) of a layer that is not all dense
  // or all skip: one formula for layer_time and heads_time.
  double launch_time(std::span<const int32_t> choice, const std::span<const int32_t>* heads) const;
};

}  // namespace svdit::search
