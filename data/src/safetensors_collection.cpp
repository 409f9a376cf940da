// A checkpoint as one set of tensors: a single safetensors file, or shards tied together by an index.
#include <algorithm>
#include <fstream>
#include <iterator>

#include "safetensors_json.h"
#include "svdit/data/error.h"
#include "svdit/data/safetensors.h"

namespace svdit::data {

using nlohmann::json;
using safetensors_detail::describe_json;
using safetensors_detail::quote_name;

namespace fs = std::filesystem;

namespace {

// Real indices are ~100 KB (the 14B model's names 1095 tensors); this only stops a wrong file from being slurped.
constexpr std::uintmax_t kMaxIndexBytes = 100'000'000;

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string read_index_text(const fs::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) throw FormatError(source, "file", "cannot read: " + ec.message());
  if (size > kMaxIndexBytes) {
    throw FormatError(source, "file", "index of " + std::to_string(size) + " bytes exceeds the limit of " +
                                          std::to_string(kMaxIndexBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(source, "file", "cannot open for reading");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw FormatError(source, "file", "read error");
  return text;
}

// Shard names come from a file we do not control; confining them to the index's folder means a downloaded
// index cannot make us open (and report on) arbitrary files elsewhere on the machine.
fs::path shard_relative_path(const std::string& name, const std::string& source, const std::string& tensor) {
  const fs::path relative = fs::path(name).lexically_normal();
  const bool escapes = relative.empty() || relative.is_absolute() || relative.has_root_name() ||
                       relative.begin() == relative.end() || *relative.begin() == "..";
  if (escapes || name.empty() || name.find('\0') != std::string::npos) {
    throw FormatError(source, "weight_map " + quote_name(tensor),
                      "shard " + quote_name(name) + " must be a file name relative to the index's folder, inside it");
  }
  return relative;
}

std::string metadata_value(const json& v) {
  // transformers writes {"total_size": <integer>}; keep non-strings as their JSON text so nothing is lost.
  return v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

SafetensorsCollection SafetensorsCollection::open(const fs::path& path) {
  SafetensorsCollection result;
  fs::path target = path;

  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    std::vector<fs::path> indices;
    std::vector<fs::path> singles;
    for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.empty() || name[0] == '.') continue;  // hidden files, including writers' temporaries
      if (ends_with(name, ".safetensors.index.json")) indices.push_back(entry.path());
      if (ends_with(name, ".safetensors")) singles.push_back(entry.path());
    }
    if (ec) throw FormatError(path.string(), "directory", "cannot list: " + ec.message());
    std::sort(indices.begin(), indices.end());
    std::sort(singles.begin(), singles.end());
    const auto names = [](const std::vector<fs::path>& paths) {
      std::string list;
      for (const fs::path& p : paths) list += (list.empty() ? "" : ", ") + p.filename().string();
      return list;
    };
    if (indices.size() > 1) {
      throw FormatError(path.string(), "directory",
                        "holds several indices (" + names(indices) + "); pass the one to use");
    }
    if (indices.size() == 1) {
      target = indices[0];
    } else if (singles.size() == 1) {
      target = singles[0];
    } else if (singles.empty()) {
      throw FormatError(path.string(), "directory", "holds no *.safetensors.index.json and no *.safetensors file");
    } else {
      throw FormatError(path.string(), "directory",
                        "holds several .safetensors files (" + names(singles) +
                            ") but no *.safetensors.index.json to say how they fit together");
    }
  }

  result.source_ = target.string();
  if (!ends_with(target.filename().string(), ".json")) {
    result.shards_.push_back(SafetensorsFile::open(target));
    result.tensors_ = result.shards_[0].tensors();
    result.shard_index_.assign(result.tensors_.size(), 0);
    result.metadata_ = result.shards_[0].metadata();
    return result;
  }

  // --- sharded: read and check the index ---
  const std::string& source = result.source_;
  const json index = detail::parse_json_strictly(read_index_text(target), source, "index", safetensors_detail::kMaxJsonDepth);
  if (!index.is_object()) {
    throw FormatError(source, "index", "expected a JSON object {\"metadata\": {…}, \"weight_map\": {…}}, found " +
                                           describe_json(index));
  }
  if (const auto it = index.find("metadata"); it != index.end()) {
    if (!it->is_object()) throw FormatError(source, "metadata", "expected an object, found " + describe_json(*it));
    for (const auto& [key, value] : it->items()) result.metadata_.emplace(key, metadata_value(value));
  }
  const auto weight_map = index.find("weight_map");
  if (weight_map == index.end()) throw FormatError(source, "weight_map", "missing (it maps each tensor to its shard)");
  if (!weight_map->is_object()) {
    throw FormatError(source, "weight_map", "expected an object {tensor name: shard file}, found " +
                                                describe_json(*weight_map));
  }

  // Shards in order of first mention; the same file spelled two ways ("a", "./a") is one shard.
  std::vector<fs::path> shard_paths;
  std::map<std::string, size_t> shard_of_tensor;  // the index's word
  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      throw FormatError(source, "weight_map " + quote_name(tensor),
                        "expected a shard file name, found " + describe_json(shard));
    }
    const fs::path relative = shard_relative_path(shard.get<std::string>(), source, tensor);
    auto it = std::find(shard_paths.begin(), shard_paths.end(), relative);
    if (it == shard_paths.end()) {
      const fs::path full = target.parent_path() / relative;
      if (!fs::is_regular_file(full, ec)) {
        throw FormatError(source, "weight_map " + quote_name(tensor),
                          "shard " + quote_name(shard.get<std::string>()) + " does not exist (looked for " +
                              full.string() + ")");
      }
      shard_paths.push_back(relative);
      it = shard_paths.end() - 1;
    }
    shard_of_tensor.emplace(tensor, static_cast<size_t>(it - shard_paths.begin()));
  }
  for (const fs::path& relative : shard_paths) {
    result.shards_.push_back(SafetensorsFile::open(target.parent_path() / relative));
  }

  // Each tensor must be exactly where the index says. A tensor in a shard the index does not point to is
  // refused too: it is either a duplicate (two shards, two possibly different values) or a stray file mixed in
  // from another checkpoint, and silently picking one would load the wrong weights.
  for (const auto& [tensor, shard] : shard_of_tensor) {
    const SafetensorsFile& file = result.shards_[shard];
    if (file.find(tensor) == nullptr) {
      throw FormatError(file.source(), "tensor " + quote_name(tensor),
                        "the index " + source + " places this tensor in this shard, but its header does not list it");
    }
  }
  for (size_t s = 0; s < result.shards_.size(); ++s) {
    const SafetensorsFile& file = result.shards_[s];
    for (const TensorInfo& t : file.tensors()) {
      const auto it = shard_of_tensor.find(t.name);
      if (it == shard_of_tensor.end()) {
        throw FormatError(file.source(), "tensor " + quote_name(t.name),
                          "present in this shard but not named by the weight_map of " + source);
      }
      if (it->second != s) {
        throw FormatError(file.source(), "tensor " + quote_name(t.name),
                          "also present in shard " + result.shards_[it->second].source() +
                              ", where the index places it; a tensor must be in exactly one shard");
      }
      result.tensors_.push_back(t);
      result.shard_index_.push_back(s);
    }
  }
  // Sort tensors and their shard numbers together, by name.
  std::vector<size_t> order(result.tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return result.tensors_[a].name < result.tensors_[b].name; });
  std::vector<TensorInfo> tensors;
  std::vector<size_t> shard_index;
  tensors.reserve(order.size());
  shard_index.reserve(order.size());
  for (const size_t i : order) {
    tensors.push_back(std::move(result.tensors_[i]));
    shard_index.push_back(result.shard_index_[i]);
  }
  result.tensors_ = std::move(tensors);
  result.shard_index_ = std::move(shard_index);
  return result;
}

size_t SafetensorsCollection::index_of(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  if (it == tensors_.end() || it->name != name) {
    throw FormatError(source_, "tensor " + quote_name(name), "no such tensor in this checkpoint");
  }
  return static_cast<size_t>(it - tensors_.begin());
}

const TensorInfo* SafetensorsCollection::find(std::string_view name) const {
  const auto it = std::lower_bound(tensors_.begin(), tensors_.end(), name,
                                   [](const TensorInfo& t, std::string_view n) { return t.name < n; });
  return it != tensors_.end() && it->name == name ? &*it : nullptr;
}

const TensorInfo& SafetensorsCollection::at(std::string_view name) const { return tensors_[index_of(name)]; }

const SafetensorsFile& SafetensorsCollection::shard_of(std::string_view name) const {
  return shards_[shard_index_[index_of(name)]];
}

std::span<const std::byte> SafetensorsCollection::bytes(std::string_view name) const {
  const size_t i = index_of(name);
  return shards_[shard_index_[i]].bytes(tensors_[i]);
}

}  // namespace svdit::data
