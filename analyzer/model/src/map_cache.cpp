#include "svdit/analyzer/map_cache.h"

namespace svdit::analyzer {

MapCache::MapCache(Loader loader, size_t budget_bytes) : loader_(std::move(loader)), budget_(budget_bytes) {}

std::shared_ptr<const HeadMaps> MapCache::get(const MapKey& key) {
  if (auto it = index_.find(key); it != index_.end()) {
    ++hits_;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->second;
  }
  auto maps = std::make_shared<const HeadMaps>(loader_(key));
  ++loads_;
  lru_.emplace_front(key, maps);
  index_[key] = lru_.begin();
  bytes_ += maps->bytes();
  while (bytes_ > budget_ && lru_.size() > 1) {
    bytes_ -= lru_.back().second->bytes();
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  return maps;
}

void MapCache::clear() {
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

}  // namespace svdit::analyzer
