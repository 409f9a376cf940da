// The map cache: loads on a miss only, evicts least recently used beyond its budget, caches no failure.
#include "svdit/analyzer/map_cache.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

using namespace svdit::analyzer;

namespace {

HeadMaps fake(const MapKey& k) {
  HeadMaps m;
  m.blocks = 2;
  m.pooled = {static_cast<float>(k.step), static_cast<float>(k.layer), static_cast<float>(k.head), 1};
  m.frames = 1;
  m.frame = {0.5f};
  return m;
}
constexpr size_t kEntry = 5 * sizeof(float);

TEST(MapCache, LoadsOnMissAndHitsAfterwards) {
  std::vector<MapKey> loaded;
  MapCache cache([&](const MapKey& k) { loaded.push_back(k); return fake(k); }, 10 * kEntry);
  auto a = cache.get({0, 1, 2});
  EXPECT_EQ(a->pooled[1], 1.0f);
  EXPECT_EQ(a->pooled[2], 2.0f);
  auto b = cache.get({0, 1, 2});
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(loaded.size(), 1u);
  EXPECT_EQ(cache.loads(), 1u);
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.bytes(), kEntry);
}

TEST(MapCache, EvictsLeastRecentlyUsedBeyondBudget) {
  MapCache cache(fake, 3 * kEntry);
  cache.get({0, 0, 0});
  cache.get({0, 0, 1});
  cache.get({0, 0, 2});
  cache.get({0, 0, 0});  // refresh: now {0,0,1} is the oldest
  auto keep = cache.get({0, 0, 3});
  EXPECT_EQ(cache.entries(), 3u);
  EXPECT_LE(cache.bytes(), cache.budget());
  EXPECT_FALSE(cache.contains({0, 0, 1}));
  EXPECT_TRUE(cache.contains({0, 0, 0}));
  EXPECT_TRUE(cache.contains({0, 0, 2}));
  EXPECT_TRUE(cache.contains({0, 0, 3}));
  // An evicted entry stays valid for whoever holds it.
  MapCache tiny(fake, 1);
  auto held = tiny.get({1, 1, 1});
  tiny.get({2, 2, 2});
  EXPECT_EQ(tiny.entries(), 1u);  // never drops the one just returned
  EXPECT_EQ(held->pooled[0], 1.0f);
  tiny.clear();
  EXPECT_EQ(tiny.entries(), 0u);
  EXPECT_EQ(tiny.bytes(), 0u);
}

TEST(MapCache, FailuresAreNotCached) {
  int calls = 0;
  MapCache cache([&](const MapKey& k) -> HeadMaps {
    if (++calls == 1) throw std::runtime_error("unreadable");
    return fake(k);
  }, 10 * kEntry);
  EXPECT_THROW(cache.get({0, 0, 0}), std::runtime_error);
  EXPECT_FALSE(cache.contains({0, 0, 0}));
  EXPECT_NO_THROW(cache.get({0, 0, 0}));
  EXPECT_EQ(calls, 2);
}

}  // namespace
