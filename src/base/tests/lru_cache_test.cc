#include "base/lru_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace rmqc {
namespace {

TEST(LruCacheTest, EvictsLeastRecentlyUsed) {
  LruCache<std::string, int, StringHash, std::equal_to<>> cache(2);
  cache.put("a", 1);
  cache.put("b", 2);
  ASSERT_NE(cache.find(std::string_view("a")), nullptr);  // a is now most recent
  cache.put("c", 3);                                      // evicts b
  EXPECT_EQ(cache.find(std::string_view("b")), nullptr);
  EXPECT_EQ(*cache.find(std::string_view("a")), 1);
  EXPECT_EQ(*cache.find(std::string_view("c")), 3);
  cache.put("a", 10);
  EXPECT_EQ(*cache.find(std::string_view("a")), 10);
  EXPECT_EQ(cache.size(), 2u);
  cache.set_capacity(1);
  EXPECT_EQ(cache.size(), 1u);
}

}  // namespace
}  // namespace rmqc
