#include "svdit/data/plan.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "svdit/data/size_limits.h"
#include "svdit/data/strict_json.h"
#include "svdit/data/atomic_file.h"
#include "svdit/data/error.h"

namespace svdit::data {

using nlohmann::json;

// A plan nests five levels (plan → schedule → entry → heads → row); provenance may hold a frontier table or two.
// Anything far deeper is hostile, and would overflow the stack in recursive copies (found by svdit-fuzz-plan).
constexpr int kMaxPlanJsonDepth = 32;

// ------------------------------------------------------------------------------------------------------------
// Plan queries
// ------------------------------------------------------------------------------------------------------------

const PlanPattern* Plan::find_pattern(int32_t id) const {
  for (const PlanPattern& p : patterns)
    if (p.id == id) return &p;
  return nullptr;
}

const ScheduleEntry* Plan::entry_for(int64_t step) const {
  // Linear: a schedule has a handful of entries, and this stays correct on a plan that was never validated.
  for (const ScheduleEntry& e : schedule)
    if (e.covers(step)) return &e;
  return nullptr;
}

std::optional<int32_t> Plan::pattern_for(int64_t step, int64_t layer, int64_t head) const {
  if (layer < 0 || layer >= model.layers || head < 0 || head >= model.heads)
    throw std::out_of_range("Plan::pattern_for: (layer " + std::to_string(layer) + ", head " +
                            std::to_string(head) + ") is outside the plan's model (" +
                            std::to_string(model.layers) + " layers x " + std::to_string(model.heads) + " heads)");
  const ScheduleEntry* entry = entry_for(step);
  if (entry == nullptr || entry->dense) return std::nullopt;
  const auto index = static_cast<size_t>(layer * model.heads + head);
  if (index >= entry->heads.size())
    throw std::out_of_range("Plan::pattern_for: schedule entry for steps [" + std::to_string(entry->step_begin) +
                            ", " + std::to_string(entry->step_end) + ") has " +
                            std::to_string(entry->heads.size()) + " ids, not layers x heads (plan not validated)");
  return entry->heads[index];
}

// ------------------------------------------------------------------------------------------------------------
// Validation of an in-memory plan
// ------------------------------------------------------------------------------------------------------------

namespace {

std::string indexed(const std::string& base, size_t i) { return base + "[" + std::to_string(i) + "]"; }

void require_positive(int64_t value, const std::string& source, const std::string& object) {
  if (value <= 0)
    throw FormatError(source, object, "expected a positive integer, found " + std::to_string(value));
}

std::string format_double(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

void validate_model(const PlanModel& model, const std::string& source) {
  if (model.name.empty()) throw FormatError(source, "model.name", "expected a non-empty string, found \"\"");
  require_positive(model.layers, source, "model.layers");
  require_positive(model.heads, source, "model.heads");
  require_positive(model.head_dim, source, "model.head_dim");
  require_at_most(model.layers, kMaxLayers, source, "model.layers", "transformer blocks");
  require_at_most(model.heads, kMaxHeads, source, "model.heads", "attention heads per layer");
  require_at_most(model.head_dim, kMaxHeadDim, source, "model.head_dim", "channels per head");
}

// The placement's rules: version 3, a rank count in [1, kMaxRanks], one row per layer, one rank per head, each in
// [0, ranks). A rank may run no heads of a layer (more ranks than heads, or a balanced split that needs it). The
// reader checks the same rules while it reads (sizes before storing, ranks before narrowing them to int32), so the
// messages live here once.
std::string placement_version_problem(int64_t version) {
  return "a head placement needs version " + std::to_string(kPlanVersion) + ", the plan has version " +
         std::to_string(version);
}
bool valid_rank_count(int64_t ranks) { return ranks >= 1 && ranks <= kMaxRanks; }
std::string rank_count_problem(int64_t ranks) {
  return "expected a rank count in [1, " + std::to_string(kMaxRanks) + "], found " + std::to_string(ranks);
}
std::string placement_rows_problem(int64_t layers, size_t found) {
  return "expected " + std::to_string(layers) + " rows (model.layers), found " + std::to_string(found);
}
std::string placement_row_problem(int64_t heads, size_t found) {
  return "expected " + std::to_string(heads) + " ranks (model.heads), found " + std::to_string(found);
}
std::string rank_problem(int64_t ranks, int64_t found) {
  return "expected a rank in [0, " + std::to_string(ranks) + ") (placement.ranks), found " + std::to_string(found);
}

void validate_placement(const PlanPlacement& placement, const Plan& plan, const std::string& source) {
  if (plan.version < kPlanVersion) throw FormatError(source, "placement", placement_version_problem(plan.version));
  if (!valid_rank_count(placement.ranks))
    throw FormatError(source, "placement.ranks", rank_count_problem(placement.ranks));
  if (static_cast<int64_t>(placement.layers.size()) != plan.model.layers)
    throw FormatError(source, "placement.layers", placement_rows_problem(plan.model.layers, placement.layers.size()));
  for (size_t l = 0; l < placement.layers.size(); ++l) {
    const std::vector<int32_t>& row = placement.layers[l];
    const std::string row_path = indexed("placement.layers", l);
    if (static_cast<int64_t>(row.size()) != plan.model.heads)
      throw FormatError(source, row_path, placement_row_problem(plan.model.heads, row.size()));
    for (size_t h = 0; h < row.size(); ++h)
      if (row[h] < 0 || row[h] >= placement.ranks)
        throw FormatError(source, indexed(row_path, h), rank_problem(placement.ranks, row[h]));
  }
}

}  // namespace

void validate(const Plan& plan, const std::string& source) {
  if (plan.version < kOldestPlanVersion || plan.version > kPlanVersion)
    throw FormatError(source, "version",
                      "unsupported version " + std::to_string(plan.version) + " (this reader knows versions " +
                          std::to_string(kOldestPlanVersion) + " to " + std::to_string(kPlanVersion) + ")");
  validate_model(plan.model, source);
  if (plan.version < 2 && !plan.model.family.empty())
    throw FormatError(source, "model.family", "needs version 2, the plan has version " + std::to_string(plan.version));
  validate(plan.layout, source);  // names the field: "layout.frames", …

  std::map<int32_t, size_t> index_of_id;
  for (size_t i = 0; i < plan.patterns.size(); ++i) {
    const PlanPattern& p = plan.patterns[i];
    const std::string path = indexed("patterns", i);
    if (p.id < 0) throw FormatError(source, path + ".id", "expected a non-negative id, found " + std::to_string(p.id));
    const auto [it, inserted] = index_of_id.emplace(p.id, i);
    if (!inserted)
      throw FormatError(source, path + ".id",
                        "duplicate pattern id " + std::to_string(p.id) + " (also " + indexed("patterns", it->second) +
                            ")");
    if (!std::isfinite(p.density) || p.density < 0.0 || p.density > 1.0)
      throw FormatError(source, path + ".density",
                        "expected a block density in [0, 1], found " + format_double(p.density));
    validate(p.pattern, plan.layout, source, path + ".components");
  }

  const int64_t layers = plan.model.layers;
  const int64_t heads = plan.model.heads;
  for (size_t e = 0; e < plan.schedule.size(); ++e) {
    const ScheduleEntry& entry = plan.schedule[e];
    const std::string path = indexed("schedule", e);
    if (entry.step_begin < 0)
      throw FormatError(source, path + ".steps[0]",
                        "expected a non-negative first step, found " + std::to_string(entry.step_begin));
    if (entry.step_end <= entry.step_begin)
      throw FormatError(source, path + ".steps",
                        "expected a non-empty range [from, to) with from < to, found [" +
                            std::to_string(entry.step_begin) + ", " + std::to_string(entry.step_end) + ")");
    if (e > 0) {
      const ScheduleEntry& previous = plan.schedule[e - 1];
      if (entry.step_begin < previous.step_begin)
        throw FormatError(source, path + ".steps",
                          "entries must be sorted by step: [" + std::to_string(entry.step_begin) + ", " +
                              std::to_string(entry.step_end) + ") comes after [" +
                              std::to_string(previous.step_begin) + ", " + std::to_string(previous.step_end) + ")");
      if (entry.step_begin < previous.step_end)
        throw FormatError(source, path + ".steps",
                          "overlaps " + indexed("schedule", e - 1) + ": [" + std::to_string(entry.step_begin) +
                              ", " + std::to_string(entry.step_end) + ") starts before step " +
                              std::to_string(previous.step_end));
    }
    if (entry.dense) {
      if (!entry.heads.empty())
        throw FormatError(source, path + ".heads",
                          "a dense entry has no heads table, found " + std::to_string(entry.heads.size()) + " ids");
      continue;
    }
    // Compared by division: layers × heads of a corrupt in-memory plan could overflow int64.
    const auto count = static_cast<int64_t>(entry.heads.size());
    if (count % heads != 0 || count / heads != layers)
      throw FormatError(source, path + ".heads",
                        "expected a table of " + std::to_string(layers) + " layers x " + std::to_string(heads) +
                            " heads = " + std::to_string(layers * heads) + " ids, found " + std::to_string(count));
    for (int64_t l = 0; l < layers; ++l)
      for (int64_t h = 0; h < heads; ++h) {
        const int32_t id = entry.heads[static_cast<size_t>(l * heads + h)];
        if (index_of_id.count(id) == 0)
          throw FormatError(source,
                            path + ".heads[" + std::to_string(l) + "][" + std::to_string(h) + "]",
                            "pattern id " + std::to_string(id) + " is not in \"patterns\"");
      }
  }
  if (plan.placement) validate_placement(*plan.placement, plan, source);
  if (!plan.provenance.is_object())
    throw FormatError(source, "provenance", "expected an object, found a " + std::string(plan.provenance.type_name()));
}

void check_plan_matches(const Plan& plan, const PlanModel& model, const TokenLayout& layout,
                        const std::string& source) {
  std::vector<std::pair<std::string, std::string>> mismatches;  // (field, "plan has X, model has Y")
  auto compare = [&](const char* field, const auto& planned, const auto& actual) {
    if (planned == actual) return;
    std::ostringstream what;
    if constexpr (std::is_convertible_v<decltype(planned), std::string>)
      what << "plan has \"" << planned << "\", model has \"" << actual << "\"";
    else
      what << "plan has " << planned << ", model has " << actual;
    mismatches.emplace_back(field, what.str());
  };
  if (!plan.model.family.empty() && !model.family.empty()) compare("model.family", plan.model.family, model.family);
  compare("model.name", plan.model.name, model.name);
  compare("model.layers", plan.model.layers, model.layers);
  compare("model.heads", plan.model.heads, model.heads);
  compare("model.head_dim", plan.model.head_dim, model.head_dim);
  compare("layout.frames", plan.layout.frames, layout.frames);
  compare("layout.height", plan.layout.height, layout.height);
  compare("layout.width", plan.layout.width, layout.width);
  compare("layout.text_prefix", plan.layout.text_prefix, layout.text_prefix);
  compare("layout.text_suffix", plan.layout.text_suffix, layout.text_suffix);
  compare("layout.block_size", plan.layout.block_size, layout.block_size);
  if (mismatches.empty()) return;

  // Every mismatch at once: a user re-running a search for the right shape wants the full list, not one per try.
  std::string object;
  std::string what = "the plan was made for another model or layout: ";
  for (size_t i = 0; i < mismatches.size(); ++i) {
    object += (i ? ", " : "") + mismatches[i].first;
    what += (i ? "; " : "") + mismatches[i].first + ": " + mismatches[i].second;
  }
  throw FormatError(source, object, what);
}

// ------------------------------------------------------------------------------------------------------------
// JSON → Plan
// ------------------------------------------------------------------------------------------------------------

namespace {

// "the string \"abc\"", "an array of 3 elements", … — what the reader actually found, for the error message.
std::string describe_found(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return j.get<bool>() ? "true" : "false";
    case json::value_t::string: {
      std::string s = j.dump();
      if (s.size() > 40) s = s.substr(0, 37) + "...\"";
      return "the string " + s;
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return j.dump();
    case json::value_t::array: return "an array of " + std::to_string(j.size()) + " elements";
    case json::value_t::object: return "an object";
    default: return j.type_name();
  }
}

class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& object, const std::string& what) const {
    throw FormatError(source_, object, what);
  }

  const json& object(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "expected an object, found " + describe_found(j));
    return j;
  }

  const json& array(const json& j, const std::string& path) const {
    if (!j.is_array()) fail(path, "expected an array, found " + describe_found(j));
    return j;
  }

  // Key lookup in an object already checked by object(). `parent` is "" at the root.
  const json& field(const json& obj, const char* key, const std::string& parent) const {
    const auto it = obj.find(key);
    if (it == obj.end()) fail(join(parent, key), "missing required field");
    return *it;
  }

  // Unknown keys are refused: a misspelt optional key would otherwise be dropped without a word.
  void only_keys(const json& obj, std::initializer_list<const char*> allowed, const std::string& parent) const {
    for (const auto& [key, value] : obj.items()) {
      bool known = false;
      for (const char* a : allowed) known = known || key == a;
      if (!known) {
        std::string list;
        for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        fail(join(parent, key), "unknown field (expected only: " + list + ")");
      }
    }
  }

  int64_t integer(const json& j, const std::string& path) const {
    if (j.is_number_integer() && !j.is_number_unsigned()) return j.get<int64_t>();
    if (j.is_number_unsigned()) {
      const auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return static_cast<int64_t>(u);
      fail(path, "integer " + j.dump() + " is out of range");
    }
    fail(path, "expected an integer, found " + describe_found(j));
  }

  int32_t id(const json& j, const std::string& path) const {
    const int64_t v = integer(j, path);
    if (v < 0 || v > std::numeric_limits<int32_t>::max())
      fail(path, "expected a pattern id in [0, 2^31), found " + std::to_string(v));
    return static_cast<int32_t>(v);
  }

  double number(const json& j, const std::string& path) const {
    if (!j.is_number()) fail(path, "expected a number, found " + describe_found(j));
    return j.get<double>();
  }

  const std::string& source() const { return source_; }

  static std::string join(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }

 private:
  std::string source_;
};

PlanModel read_model(const Reader& r, const json& j, int64_t version) {
  r.object(j, "model");
  if (version >= 2) r.only_keys(j, {"name", "family", "layers", "heads", "head_dim"}, "model");
  else r.only_keys(j, {"name", "layers", "heads", "head_dim"}, "model");
  PlanModel m;
  const json& name = r.field(j, "name", "model");
  if (!name.is_string()) r.fail("model.name", "expected a string, found " + describe_found(name));
  m.name = name.get<std::string>();
  m.layers = r.integer(r.field(j, "layers", "model"), "model.layers");
  m.heads = r.integer(r.field(j, "heads", "model"), "model.heads");
  m.head_dim = r.integer(r.field(j, "head_dim", "model"), "model.head_dim");
  if (const auto it = j.find("family"); it != j.end()) {
    if (!it->is_string() || it->get<std::string>().empty())
      r.fail("model.family", "expected a non-empty string, found " + describe_found(*it));
    m.family = it->get<std::string>();
  }
  return m;
}

TokenLayout read_layout(const Reader& r, const json& j) {
  r.object(j, "layout");
  r.only_keys(j, {"frames", "height", "width", "text_prefix", "text_suffix", "block_size"}, "layout");
  TokenLayout t;
  t.frames = r.integer(r.field(j, "frames", "layout"), "layout.frames");
  t.height = r.integer(r.field(j, "height", "layout"), "layout.height");
  t.width = r.integer(r.field(j, "width", "layout"), "layout.width");
  t.text_prefix = r.integer(r.field(j, "text_prefix", "layout"), "layout.text_prefix");
  t.text_suffix = r.integer(r.field(j, "text_suffix", "layout"), "layout.text_suffix");
  t.block_size = r.integer(r.field(j, "block_size", "layout"), "layout.block_size");
  return t;
}

PlanPattern read_pattern(const Reader& r, const json& j, const std::string& path) {
  r.object(j, path);
  r.only_keys(j, {"id", "components", "density"}, path);
  PlanPattern p;
  p.id = r.id(r.field(j, "id", path), path + ".id");
  const std::string components = path + ".components";
  try {
    p.pattern = pattern_from_json(r.field(j, "components", path), r.source(), components);
  } catch (const json::exception& e) {
    // pattern_from_json reports its own FormatErrors; this only guards against a JSON type error slipping
    // through, so that a bad file can never surface as an unexplained library exception.
    r.fail(components, e.what());
  }
  p.density = r.number(r.field(j, "density", path), path + ".density");
  return p;
}

ScheduleEntry read_entry(const Reader& r, const json& j, const std::string& path, const PlanModel& model) {
  r.object(j, path);
  r.only_keys(j, {"steps", "dense", "heads"}, path);
  ScheduleEntry e;
  const std::string steps_path = path + ".steps";
  const json& steps = r.array(r.field(j, "steps", path), steps_path);
  if (steps.size() != 2) r.fail(steps_path, "expected [from, to], found " + describe_found(steps));
  e.step_begin = r.integer(steps[0], steps_path + "[0]");
  e.step_end = r.integer(steps[1], steps_path + "[1]");

  if (const auto it = j.find("dense"); it != j.end()) {
    if (!it->is_boolean()) r.fail(path + ".dense", "expected true or false, found " + describe_found(*it));
    e.dense = it->get<bool>();
  }
  const auto heads_it = j.find("heads");
  if (e.dense) {
    if (heads_it != j.end()) r.fail(path + ".heads", "a dense entry (\"dense\": true) has no heads table");
    return e;
  }
  if (heads_it == j.end())
    r.fail(path, "expected \"heads\" (a layers x heads table of pattern ids) or \"dense\": true");

  // The table is checked against the model row by row before anything is stored, so a huge or ragged table
  // is refused with the row that is wrong instead of after allocating layers × heads from untrusted sizes.
  const std::string heads_path = path + ".heads";
  const json& table = r.array(*heads_it, heads_path);
  if (static_cast<int64_t>(table.size()) != model.layers)
    r.fail(heads_path, "expected " + std::to_string(model.layers) + " rows (model.layers), found " +
                           std::to_string(table.size()));
  e.heads.reserve(table.size() * static_cast<size_t>(model.heads));
  for (size_t l = 0; l < table.size(); ++l) {
    const std::string row_path = indexed(heads_path, l);
    const json& row = r.array(table[l], row_path);
    if (static_cast<int64_t>(row.size()) != model.heads)
      r.fail(row_path, "expected " + std::to_string(model.heads) + " pattern ids (model.heads), found " +
                           std::to_string(row.size()));
    for (size_t h = 0; h < row.size(); ++h) e.heads.push_back(r.id(row[h], indexed(row_path, h)));
  }
  return e;
}

PlanPlacement read_placement(const Reader& r, const json& j, const PlanModel& model) {
  r.object(j, "placement");
  r.only_keys(j, {"ranks", "layers"}, "placement");
  PlanPlacement p;
  const int64_t ranks = r.integer(r.field(j, "ranks", "placement"), "placement.ranks");
  if (!valid_rank_count(ranks)) r.fail("placement.ranks", rank_count_problem(ranks));
  p.ranks = static_cast<int32_t>(ranks);
  // Sized against the model row by row before storing, as the heads tables are (read_entry).
  const json& rows = r.array(r.field(j, "layers", "placement"), "placement.layers");
  if (static_cast<int64_t>(rows.size()) != model.layers)
    r.fail("placement.layers", placement_rows_problem(model.layers, rows.size()));
  p.layers.reserve(rows.size());
  for (size_t l = 0; l < rows.size(); ++l) {
    const std::string row_path = indexed("placement.layers", l);
    const json& row = r.array(rows[l], row_path);
    if (static_cast<int64_t>(row.size()) != model.heads) r.fail(row_path, placement_row_problem(model.heads, row.size()));
    std::vector<int32_t>& ranks_of = p.layers.emplace_back();
    ranks_of.reserve(row.size());
    for (size_t h = 0; h < row.size(); ++h) {
      const std::string path = indexed(row_path, h);
      const int64_t rank = r.integer(row[h], path);
      if (rank < 0 || rank >= ranks) r.fail(path, rank_problem(ranks, rank));
      ranks_of.push_back(static_cast<int32_t>(rank));
    }
  }
  return p;
}

}  // namespace

Plan parse_plan(std::string_view json_text, const std::string& source) {
  const json root = detail::parse_json_strictly(json_text, source, "JSON text", kMaxPlanJsonDepth);
  const Reader r(source);
  r.object(root, "plan (top-level value)");

  // format and version first: a file of another kind or a newer version gets that message, not a complaint
  // about fields this reader does not know.
  const json& format = r.field(root, "format", "");
  if (!format.is_string() || format.get<std::string>() != kPlanFormat)
    r.fail("format", std::string("expected \"") + kPlanFormat + "\", found " + describe_found(format));
  const int64_t version = r.integer(r.field(root, "version", ""), "version");
  if (version < kOldestPlanVersion || version > kPlanVersion)
    r.fail("version", "unsupported version " + std::to_string(version) + " (this reader knows versions " +
                          std::to_string(kOldestPlanVersion) + " to " + std::to_string(kPlanVersion) + ")");
  // A placement in an older file is named as such rather than as an unknown field: the file claims a version that
  // cannot carry it (written by hand, or by a tool that forgot the bump), and the fix is the version, not the key.
  if (version < kPlanVersion && root.contains("placement"))
    r.fail("placement", placement_version_problem(version));
  r.only_keys(root, {"format", "version", "model", "layout", "patterns", "schedule", "placement", "provenance"}, "");

  Plan plan;
  plan.version = static_cast<int>(version);
  plan.model = read_model(r, r.field(root, "model", ""), version);
  validate_model(plan.model, source);  // the heads tables below are sized by it
  plan.layout = read_layout(r, r.field(root, "layout", ""));

  const json& patterns = r.array(r.field(root, "patterns", ""), "patterns");
  plan.patterns.reserve(patterns.size());
  for (size_t i = 0; i < patterns.size(); ++i)
    plan.patterns.push_back(read_pattern(r, patterns[i], indexed("patterns", i)));

  const json& schedule = r.array(r.field(root, "schedule", ""), "schedule");
  plan.schedule.reserve(schedule.size());
  for (size_t i = 0; i < schedule.size(); ++i)
    plan.schedule.push_back(read_entry(r, schedule[i], indexed("schedule", i), plan.model));

  if (const auto it = root.find("placement"); it != root.end()) plan.placement = read_placement(r, *it, plan.model);
  if (const auto it = root.find("provenance"); it != root.end()) plan.provenance = r.object(*it, "provenance");

  validate(plan, source);
  return plan;
}

Plan read_plan(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw FormatError(source, "file", "is a directory, not a plan file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(source, "file", std::string("cannot open: ") + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw FormatError(source, "file", std::string("read failed: ") + std::strerror(errno));
  return parse_plan(contents.str(), source);
}

// ------------------------------------------------------------------------------------------------------------
// Plan → JSON text
// ------------------------------------------------------------------------------------------------------------

namespace {

// The writer lays the file out by hand rather than with json::dump(4): dump would put every pattern id of a
// 40×40 heads table on its own line and sort "format" after "layout". Values still go through json::dump, so
// strings are escaped and doubles are written in their shortest round-trip form.
void inline_value(const json& j, std::string& out);

// Components read best in the order of docs/FORMATS.md — type first, then its parameters, the (possibly long)
// column list last; other objects keep json's sorted, hence stable, order after these keys.
constexpr const char* kLeadingKeys[] = {"type", "w", "w_s", "w_f", "rule", "columns"};

bool is_leading_key(const std::string& key) {
  for (const char* k : kLeadingKeys)
    if (key == k) return true;
  return false;
}

void inline_object(const json& j, std::string& out) {
  out += '{';
  bool first = true;
  auto emit = [&](const std::string& key, const json& value) {
    out += first ? "" : ", ";
    first = false;
    out += json(key).dump();
    out += ": ";
    inline_value(value, out);
  };
  for (const char* key : kLeadingKeys)
    if (const auto it = j.find(key); it != j.end()) emit(key, *it);
  for (const auto& [key, value] : j.items())
    if (!is_leading_key(key)) emit(key, value);
  out += '}';
}

void inline_value(const json& j, std::string& out) {
  if (j.is_object()) {
    inline_object(j, out);
  } else if (j.is_array()) {
    out += '[';
    for (size_t i = 0; i < j.size(); ++i) {
      if (i) out += ", ";
      inline_value(j[i], out);
    }
    out += ']';
  } else {
    out += j.dump();
  }
}

// Free-form provenance: objects one key per line, arrays of scalars on one line.
void pretty_value(const json& j, std::string& out, int indent) {
  const std::string pad(static_cast<size_t>(indent + 2), ' ');
  const std::string close_pad(static_cast<size_t>(indent), ' ');
  if (j.is_object() && !j.empty()) {
    out += "{\n";
    size_t i = 0;
    for (const auto& [key, value] : j.items()) {
      out += pad + json(key).dump() + ": ";
      pretty_value(value, out, indent + 2);
      out += ++i < j.size() ? ",\n" : "\n";
    }
    out += close_pad + "}";
    return;
  }
  if (j.is_array() && !j.empty()) {
    bool scalars = true;
    for (const json& e : j) scalars = scalars && !e.is_structured();
    if (!scalars) {
      out += "[\n";
      for (size_t i = 0; i < j.size(); ++i) {
        out += pad;
        pretty_value(j[i], out, indent + 2);
        out += i + 1 < j.size() ? ",\n" : "\n";
      }
      out += close_pad + "]";
      return;
    }
  }
  inline_value(j, out);
}

}  // namespace

std::string serialize_plan(const Plan& plan) {
  validate(plan);

  std::string out = "{\n";
  out += "  \"format\": " + json(kPlanFormat).dump() + ",\n";
  out += "  \"version\": " + std::to_string(plan.version) + ",\n";
  out += "  \"model\": {\"name\": " + json(plan.model.name).dump() +
         (plan.model.family.empty() ? "" : ", \"family\": " + json(plan.model.family).dump()) +
         ", \"layers\": " + std::to_string(plan.model.layers) + ", \"heads\": " + std::to_string(plan.model.heads) +
         ", \"head_dim\": " + std::to_string(plan.model.head_dim) + "},\n";
  const TokenLayout& t = plan.layout;
  out += "  \"layout\": {\"frames\": " + std::to_string(t.frames) + ", \"height\": " + std::to_string(t.height) +
         ", \"width\": " + std::to_string(t.width) + ", \"text_prefix\": " + std::to_string(t.text_prefix) +
         ", \"text_suffix\": " + std::to_string(t.text_suffix) + ", \"block_size\": " +
         std::to_string(t.block_size) + "},\n";

  out += "  \"patterns\": [";
  for (size_t i = 0; i < plan.patterns.size(); ++i) {
    const PlanPattern& p = plan.patterns[i];
    out += i ? ",\n" : "\n";
    out += "    {\"id\": " + std::to_string(p.id) + ", \"density\": " + json(p.density).dump() +
           ", \"components\": ";
    inline_value(to_json(p.pattern), out);
    out += "}";
  }
  out += plan.patterns.empty() ? "],\n" : "\n  ],\n";

  out += "  \"schedule\": [";
  const auto heads = static_cast<size_t>(plan.model.heads);
  for (size_t e = 0; e < plan.schedule.size(); ++e) {
    const ScheduleEntry& entry = plan.schedule[e];
    out += e ? ",\n" : "\n";
    out += "    {\"steps\": [" + std::to_string(entry.step_begin) + ", " + std::to_string(entry.step_end) + "], ";
    if (entry.dense) {
      out += "\"dense\": true}";
      continue;
    }
    out += "\"heads\": [\n";
    for (size_t row = 0; row * heads < entry.heads.size(); ++row) {
      out += "      [";
      for (size_t h = 0; h < heads; ++h) out += (h ? ", " : "") + std::to_string(entry.heads[row * heads + h]);
      out += (row + 1) * heads < entry.heads.size() ? "],\n" : "]\n";
    }
    out += "    ]}";
  }
  out += plan.schedule.empty() ? "],\n" : "\n  ],\n";

  if (plan.placement) {
    const PlanPlacement& p = *plan.placement;
    out += "  \"placement\": {\"ranks\": " + std::to_string(p.ranks) + ", \"layers\": [\n";
    for (size_t l = 0; l < p.layers.size(); ++l) {
      out += "    [";
      for (size_t h = 0; h < p.layers[l].size(); ++h) out += (h ? ", " : "") + std::to_string(p.layers[l][h]);
      out += l + 1 < p.layers.size() ? "],\n" : "]\n";
    }
    out += "  ]},\n";
  }

  out += "  \"provenance\": ";
  pretty_value(plan.provenance, out, 2);
  out += "\n}\n";
  return out;
}

void write_plan(const Plan& plan, const std::filesystem::path& path) {
  write_file_atomically(path, serialize_plan(plan));
}

}  // namespace svdit::data
