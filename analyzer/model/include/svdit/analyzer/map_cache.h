#pragma once
// The attention maps of a profile are its bulk (Wan2.1-14B at 720p: 591 × 591 blocks per head, 1600 heads per
// step), so the analyzer reads a head's maps only when a view shows them and keeps the most recently used ones
// up to a memory budget. Loading is synchronous: one head's maps is one compressed HDF5 chunk (~0.7 MB at
// 14B), read in milliseconds, and HDF5 as packaged is not thread-safe.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <vector>

namespace svdit::analyzer {

struct MapKey {
  int64_t step = 0, layer = 0, head = 0;  // profiled step index
  auto operator<=>(const MapKey&) const = default;
};

struct HeadMaps {
  int64_t blocks = 0;         // G
  std::vector<float> pooled;  // [G, G] block-pooled attention probabilities, original token order
  int64_t frames = 0;         // F
  std::vector<float> frame;   // [F, F] frame-to-frame attention mass
  size_t bytes() const { return (pooled.size() + frame.size()) * sizeof(float); }
};

class MapCache {
 public:
  using Loader = std::function<HeadMaps(const MapKey&)>;

  MapCache(Loader loader, size_t budget_bytes);

  // The maps of `key`, loading them on a miss (what the loader throws propagates; nothing is cached then).
  // The least recently used entries are dropped once the budget is exceeded — never the one just returned.
  std::shared_ptr<const HeadMaps> get(const MapKey& key);
  bool contains(const MapKey& key) const { return index_.contains(key); }
  void clear();

  size_t loads() const { return loads_; }
  size_t hits() const { return hits_; }
  size_t entries() const { return lru_.size(); }
  size_t bytes() const { return bytes_; }
  size_t budget() const { return budget_; }

 private:
  using Entry = std::pair<MapKey, std::shared_ptr<const HeadMaps>>;
  Loader loader_;
  size_t budget_;
  std::list<Entry> lru_;  // most recently used first
  std::map<MapKey, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0, loads_ = 0, hits_ = 0;
};

}  // namespace svdit::analyzer
