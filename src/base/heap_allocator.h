#pragma once

#include <string>

namespace rmqc {

// The allocator that serves this process' malloc: "mimalloc 2.0.9", "jemalloc 5.3.0-0-g..." or
// "glibc". Found at run time (the allocator's own API, looked up with dlsym, asked whether a fresh
// malloc() block is its own), so it tells the truth under LD_PRELOAD and in sanitizer builds, where
// the sanitizer's allocator replaces any linked one. RMQC_ALLOCATOR in CMake picks what is linked.
std::string heap_allocator();

}  // namespace rmqc
