// svdit inspect FILE: a readable summary of a profile (HDF5), a plan (JSON) or weights (safetensors, a sharded
// index or a folder holding one). Exits 1 with the reader's message (file, object, what was expected) on bad input.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "svdit/cli/arg_parser.h"
#include "svdit/data/block_layout.h"
#include "svdit/data/checkpoint_family.h"
#include "svdit/data/error.h"
#include "svdit/data/plan.h"
#include "svdit/data/profile_reader.h"
#include "svdit/data/safetensors.h"

namespace fs = std::filesystem;
using namespace svdit::data;
namespace cli = svdit::cli;

namespace {

constexpr const char* kDescription =
    "Prints a readable summary of FILE, recognised by its content:\n"
    "  profile (HDF5)      meta, profiled steps and prompts, candidates with densities, error/recall figures,\n"
    "                      the measured cost table\n"
    "  plan (JSON)         model, layout, patterns with densities, the schedule as a layer x head table,\n"
    "                      the head placement over ranks when it has one\n"
    "  weights             a .safetensors file, a *.safetensors.index.json, or a folder holding one";

cli::ArgParser make_parser() {
  cli::ArgParser p("svdit inspect", "svdit inspect FILE [--layouts] [--all]", kDescription);
  p.flag("layouts", "also draw each pattern's block layout (query blocks down, key blocks across)");
  p.flag("all", "list every tensor of a weights file (default: the first 40)");
  p.epilogue("exit status: 0 on success, 1 when FILE is unreadable or invalid (the message names the file and the\n"
             "object), 2 on a usage error.");
  return p;
}

struct Options {
  fs::path file;
  bool layouts = false;
  bool all = false;
};

enum class Kind { profile, plan, weights_index, weights };

Kind detect(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return Kind::weights;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path.string(), "file", std::string("cannot open: ") + std::strerror(errno));
  char head[8] = {};
  in.read(head, sizeof head);
  const std::streamsize got = in.gcount();
  static constexpr char kHdf5Magic[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  if (got == 8 && std::memcmp(head, kHdf5Magic, 8) == 0) return Kind::profile;
  // JSON text starts with '{' after optional white space; a safetensors file starts with a binary length.
  std::streamsize i = 0;
  while (i < got && std::strchr(" \t\r\n", head[i]) != nullptr) ++i;
  if (i < got && head[i] == '{') {
    const std::string name = path.filename().string();
    return name.ends_with(".index.json") ? Kind::weights_index : Kind::plan;
  }
  return Kind::weights;
}

void print_layout_picture(const BlockLayout& layout) {
  // One character per block; large layouts are shown at a coarser grain (a cell is '#' when any block in it is
  // computed, '+' when some are).
  const int64_t blocks = layout.num_blocks;
  const int64_t cell = std::max<int64_t>(1, (blocks + 63) / 64);
  const int64_t side = (blocks + cell - 1) / cell;
  std::vector<int64_t> counts(static_cast<size_t>(side * side), 0);
  for (int64_t q = 0; q < blocks; ++q) {
    for (int32_t k : layout.keys_of(q)) ++counts[static_cast<size_t>((q / cell) * side + k / cell)];
  }
  if (cell > 1) std::printf("      (each character: %lld x %lld blocks)\n", static_cast<long long>(cell),
                            static_cast<long long>(cell));
  for (int64_t r = 0; r < side; ++r) {
    std::printf("      ");
    for (int64_t c = 0; c < side; ++c) {
      const int64_t rows = std::min(cell, blocks - r * cell), cols = std::min(cell, blocks - c * cell);
      const int64_t n = counts[static_cast<size_t>(r * side + c)];
      std::putchar(n == 0 ? '.' : (n == rows * cols ? '#' : '+'));
    }
    std::putchar('\n');
  }
}

std::string layout_note(const BlockLayout& layout) {
  if (layout.skip) return "skipped: output is zero";
  return layout.permuted() ? "tokens permuted" : "natural order";
}

void inspect_plan(const fs::path& path, const Options& options) {
  const Plan plan = read_plan(path);
  std::printf("plan %s (format svdit-plan, version %d)\n", path.c_str(), plan.version);
  std::printf("  model   %s: %lld layers x %lld heads, head_dim %lld; family %s\n", plan.model.name.c_str(),
              static_cast<long long>(plan.model.layers), static_cast<long long>(plan.model.heads),
              static_cast<long long>(plan.model.head_dim),
              plan.model.family.empty() ? "not recorded" : plan.model.family.c_str());
  std::printf("  layout  %s\n", describe(plan.layout).c_str());
  std::printf("  patterns (%zu):\n", plan.patterns.size());
  std::printf("    %4s  %-44s %8s %8s  %s\n", "id", "components", "blocks", "tokens", "");
  for (const PlanPattern& p : plan.patterns) {
    const BlockLayout compiled = compile_pattern(p.pattern, plan.layout);
    std::printf("    %4d  %-44s %8.4f %8.4f  %s\n", p.id, describe(p.pattern).c_str(), compiled.block_density(),
                token_density(p.pattern, plan.layout), layout_note(compiled).c_str());
    if (options.layouts) print_layout_picture(compiled);
  }
  std::printf("  schedule (%zu entries; steps no entry covers run dense):\n", plan.schedule.size());
  for (const ScheduleEntry& entry : plan.schedule) {
    std::printf("    steps [%lld, %lld): ", static_cast<long long>(entry.step_begin),
                static_cast<long long>(entry.step_end));
    if (entry.dense) {
      std::printf("dense\n");
      continue;
    }
    // Pattern use and the layer's mean density, weighted by head.
    std::map<int32_t, int64_t> uses;
    double density_sum = 0;
    for (int32_t id : entry.heads) {
      ++uses[id];
      density_sum += plan.find_pattern(id)->density;
    }
    std::printf("mean block density %.4f;", density_sum / static_cast<double>(entry.heads.size()));
    for (const auto& [id, n] : uses) std::printf(" id %d x%lld", id, static_cast<long long>(n));
    std::printf("\n      layer : pattern id per head\n");
    for (int64_t layer = 0; layer < plan.model.layers; ++layer) {
      std::printf("      %5lld :", static_cast<long long>(layer));
      for (int64_t head = 0; head < plan.model.heads; ++head) {
        std::printf(" %3d", entry.heads[static_cast<size_t>(layer * plan.model.heads + head)]);
      }
      std::printf("\n");
    }
  }
  if (plan.placement) {
    const PlanPlacement& placement = *plan.placement;
    std::printf("  placement over %d ranks (head-parallel attention)\n      layer : rank per head\n", placement.ranks);
    for (size_t layer = 0; layer < placement.layers.size(); ++layer) {
      std::printf("      %5zu :", layer);
      for (const int32_t rank : placement.layers[layer]) std::printf(" %3d", rank);
      std::printf("\n");
    }
  }
  if (!plan.provenance.empty()) std::printf("  provenance %s\n", plan.provenance.dump().c_str());
}

void inspect_profile(const fs::path& path, const Options& options) {
  const ProfileReader reader = ProfileReader::open(path);
  const ProfileMeta& meta = reader.meta();
  std::printf("profile %s (format svdit-profile)%s%s\n", path.c_str(), reader.complete() ? "" : "  [INCOMPLETE]",
              meta.synthetic ? "  [SYNTHETIC numbers, not measured]" : "");
  std::printf("  model   %s: %lld layers x %lld heads, head_dim %lld, dtype %s; family %s\n", meta.model.c_str(),
              static_cast<long long>(meta.layers), static_cast<long long>(meta.heads),
              static_cast<long long>(meta.head_dim), meta.dtype.c_str(),
              meta.family.empty() ? "not recorded" : meta.family.c_str());
  std::printf("  layout  %s\n", describe(meta.layout).c_str());
  std::printf("  written by %s at %s\n", meta.tool_version.c_str(), meta.created.c_str());
  std::printf("  steps   %lld profiled of %lld:", static_cast<long long>(meta.num_steps()),
              static_cast<long long>(meta.sampling_steps));
  for (size_t s = 0; s < meta.steps.size(); ++s) {
    std::printf(" %lld (t=%g)", static_cast<long long>(meta.steps[s]), meta.timesteps[s]);
  }
  std::printf("\n  prompts %lld:", static_cast<long long>(meta.num_prompts()));
  for (const std::string& prompt : meta.prompts) std::printf(" \"%s\"", prompt.c_str());
  std::printf("\n");

  // Per candidate: error and recall over every (prompt, step, layer, head) measured.
  const Array5<float>& error = reader.error();
  const Array5<float>& recall = reader.recall();
  const int64_t per_candidate = error.size() / std::max<int64_t>(1, reader.num_candidates());
  const std::optional<CostTable>& cost = reader.cost();
  std::printf("  candidates (%lld); error = relative MSE vs dense, recall = attention mass kept:\n",
              static_cast<long long>(reader.num_candidates()));
  std::printf("    %4s  %-44s %7s %7s %9s %9s %9s %10s\n", "id", "components", "blocks", "tokens", "err mean",
              "err max", "recall", cost ? "us (fewest)" : "");
  for (int64_t c = 0; c < reader.num_candidates(); ++c) {
    const ProfileCandidate& cand = reader.candidates()[static_cast<size_t>(c)];
    double err_sum = 0, err_max = 0, rec_sum = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < per_candidate; ++i) {
      const size_t at = static_cast<size_t>(i * reader.num_candidates() + c);  // candidate is the fastest axis
      if (std::isnan(error.data[at])) continue;
      err_sum += error.data[at];
      err_max = std::max(err_max, static_cast<double>(error.data[at]));
      rec_sum += recall.data[at];
      ++n;
    }
    const double denom = static_cast<double>(std::max<int64_t>(1, n));
    std::printf("    %4d  %-44s %7.4f %7.4f %9.4f %9.4f %9.4f", cand.id, describe(cand.pattern).c_str(),
                cand.block_density, cand.token_density, err_sum / denom, err_max, rec_sum / denom);
    if (cost) std::printf(" %10.2f", cost->time_us(c, cost->group_size_at(0)));
    std::printf("\n");
    if (options.layouts) print_layout_picture(compile_pattern(cand.pattern, meta.layout));
  }
  if (cost) {
    std::string sizes;
    for (int64_t i = 0; i < cost->num_sizes(); ++i) sizes += (i ? "," : "") + std::to_string(cost->group_size_at(i));
    std::printf("  cost    %s on %s (/cost version %lld), median of %lld, group sizes %s, %zu raw kernel records\n",
                cost->source.c_str(), cost->device.c_str(), static_cast<long long>(cost->version),
                static_cast<long long>(cost->repetitions), sizes.c_str(), reader.kernel_records().size());
  } else {
    std::printf("  cost    (none recorded)\n");
  }
  int64_t maps = 0;
  for (int64_t s = 0; s < meta.num_steps(); ++s) {
    for (int64_t l = 0; l < meta.layers; ++l) {
      for (int64_t h = 0; h < meta.heads; ++h) maps += reader.maps_written(s, l, h) ? 1 : 0;
    }
  }
  std::printf("  maps    %lld of %lld (step, layer, head) pooled maps stored, %lld x %lld blocks each\n",
              static_cast<long long>(maps), static_cast<long long>(meta.num_steps() * meta.layers * meta.heads),
              static_cast<long long>(reader.num_blocks()), static_cast<long long>(reader.num_blocks()));
}

void inspect_weights(const fs::path& path, const Options& options) {
  const SafetensorsCollection weights = SafetensorsCollection::open(path);
  const std::vector<TensorInfo>& tensors = weights.tensors();
  std::map<std::string, int64_t> per_dtype;
  int64_t total_bytes = 0, total_elements = 0;
  for (const TensorInfo& t : tensors) {
    ++per_dtype[to_string(t.dtype)];
    total_bytes += t.numel() * static_cast<int64_t>(dtype_size(t.dtype));
    total_elements += t.numel();
  }
  std::printf("weights %s: %zu tensors in %zu file(s), %lld parameters, %.2f MB\n", path.c_str(), tensors.size(),
              weights.shards().size(), static_cast<long long>(total_elements), static_cast<double>(total_bytes) / 1e6);
  std::printf("  dtypes:");
  for (const auto& [dtype, n] : per_dtype) std::printf(" %s x%lld", dtype.c_str(), static_cast<long long>(n));
  std::printf("\n");
  for (const auto& [key, value] : weights.metadata()) std::printf("  metadata %s = %s\n", key.c_str(), value.c_str());
  // The model family (config.json beside the weights, else the tensor names), and that config's fields.
  try {
    const CheckpointFamily found = identify_checkpoint(weights, path);
    const FamilySignature* signature = find_family_signature(found.family.family);
    std::printf("  family  %s (%s; from %s)\n", found.family.family.c_str(),
                signature ? std::string(signature->name).c_str() : "?", found.family.evidence.c_str());
    if (found.config) {
      std::printf("  config  %s:", found.config->c_str());
      const nlohmann::json config = read_config_json(*found.config);
      for (const auto& [key, value] : config.items()) {
        if (!key.starts_with("_")) std::printf(" %s=%s", key.c_str(), value.dump().c_str());
      }
      std::printf("\n");
    } else {
      std::printf("  config  none beside the weights\n");
    }
  } catch (const FormatError& e) {
    std::printf("  family  not a model svdit recognises: %s\n", e.what());
  }
  const size_t shown = options.all ? tensors.size() : std::min<size_t>(tensors.size(), 40);
  for (size_t i = 0; i < shown; ++i) {
    const TensorInfo& t = tensors[i];
    std::string shape = "[";
    for (size_t d = 0; d < t.shape.size(); ++d) shape += (d ? ", " : "") + std::to_string(t.shape[d]);
    shape += "]";
    std::printf("  %-60s %-5s %s\n", t.name.c_str(), to_string(t.dtype), shape.c_str());
  }
  if (shown < tensors.size()) std::printf("  … %zu more (--all lists every tensor)\n", tensors.size() - shown);
}

int run(const cli::ArgParser& args) {
  if (args.positional().empty()) throw cli::UsageError("missing FILE");
  if (args.positional().size() > 1) {
    throw cli::UsageError("one FILE at a time (got " + args.positional()[0] + " and " + args.positional()[1] + ")");
  }
  const Options options{args.positional()[0], args.flag_set("layouts"), args.flag_set("all")};
  try {
    switch (detect(options.file)) {
      case Kind::profile: inspect_profile(options.file, options); break;
      case Kind::plan: inspect_plan(options.file, options); break;
      case Kind::weights_index:
      case Kind::weights: inspect_weights(options.file, options); break;
    }
  } catch (const FormatError&) {
    throw;  // its message names the file and the object
  } catch (const std::exception& e) {
    throw std::runtime_error(options.file.string() + ": " + e.what());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::ArgParser args = make_parser();
  return cli::run_tool(args, argc, argv, run);
}
