#include "base/heap_allocator.h"

#include <cstddef>
#include <cstdlib>
#include <dlfcn.h>
#include <string>

namespace rmqc {
namespace {

template <typename Fn>
Fn lookup(const char* name) {
  return reinterpret_cast<Fn>(::dlsym(RTLD_DEFAULT, name));
}

// A block from the C heap (not from the allocator's own API), so the answer is about who serves
// malloc, not about which libraries are loaded.
bool owns_malloc_blocks(bool (*owns)(const void*)) {
  void* block = std::calloc(1, 64);  // calloc: GCC warns of a malloc block read through const void*
  const bool mine = block != nullptr && owns(block);
  std::free(block);
  return mine;
}

}  // namespace

std::string heap_allocator() {
  using MiVersion = int (*)();
  using MiOwns = bool (*)(const void*);
  if (auto version = lookup<MiVersion>("mi_version")) {
    auto owns = lookup<MiOwns>("mi_is_in_heap_region");
    if (owns != nullptr && owns_malloc_blocks(owns)) {
      const int v = version();  // e.g. 209 for 2.0.9
      return "mimalloc " + std::to_string(v / 100) + "." + std::to_string(v / 10 % 10) + "." +
             std::to_string(v % 10);
    }
  }
  using Mallctl = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
  if (auto mallctl = lookup<Mallctl>("mallctl")) {
    const char* version = nullptr;
    std::size_t size = sizeof(version);
    // jemalloc only answers when it is the process' malloc; a sanitizer's malloc has no mallctl.
    if (mallctl("version", &version, &size, nullptr, 0) == 0 && version != nullptr) {
      return std::string("jemalloc ") + version;
    }
  }
  // Sanitizer builds: the sanitizer's allocator serves malloc whatever else is linked.
  if (lookup<void*>("__asan_init") != nullptr) return "AddressSanitizer";
  if (lookup<void*>("__tsan_init") != nullptr) return "ThreadSanitizer";
  return "glibc";
}

}  // namespace rmqc
