#include "base/heap_allocator.h"

#include <gtest/gtest.h>

#include <string>

namespace rmqc {
namespace {

// The build's RMQC_ALLOCATOR (or the sanitizer's) is what serves malloc, new and delete in the
// linked executable (operator new and delete call malloc): a lost link option would silently bring
// glibc's malloc back.
TEST(HeapAllocator, IsTheOneTheBuildChose) {
  const std::string name = heap_allocator();
  EXPECT_EQ(name.substr(0, name.find(' ')), RMQC_EXPECTED_ALLOCATOR) << name;
}

}  // namespace
}  // namespace rmqc
