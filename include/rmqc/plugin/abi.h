#pragma once

// The ABI record a plugin shared library hands the loader before it registers anything.
//
// Plugins are C++ and share types (std::string, std::function, Value, vtables) with the worker,
// so a plugin must be built with the same SDK headers, compiler family and major version and
// standard library as the worker that loads it (duckdb's "CPP" extension ABI). The record says
// what the plugin was built with; the loader compares it field by field with its own and refuses
// a mismatch naming both sides. See docs/plugin-abi.md.
//
// The struct is plain C with a size prefix so that a future worker can still read the fields an
// older plugin knows about and print a useful error instead of misreading memory.

#include <cstdint>

// Bumped by hand on any incompatible change to include/rmqc/ (a virtual added, a member moved).
#define RMQC_PLUGIN_ABI_VERSION 2

#define RMQC_SDK_VERSION_MAJOR 0
#define RMQC_SDK_VERSION_MINOR 1

// A fingerprint of every header under include/rmqc/, computed by CMake (see
// examples/plugin/CMakeLists.txt) and passed as a compile definition. It catches the header edits
// nobody remembered to bump RMQC_PLUGIN_ABI_VERSION for. Empty when the build did not define it;
// the loader refuses an empty fingerprint from a plugin when its own is set.
#ifndef RMQC_SDK_FINGERPRINT
#define RMQC_SDK_FINGERPRINT ""
#endif

#if defined(__clang__)
#define RMQC_ABI_COMPILER_ID "clang"
#define RMQC_ABI_COMPILER_MAJOR __clang_major__
#define RMQC_ABI_COMPILER_MINOR __clang_minor__
#elif defined(__GNUC__)
#define RMQC_ABI_COMPILER_ID "gcc"
#define RMQC_ABI_COMPILER_MAJOR __GNUC__
#define RMQC_ABI_COMPILER_MINOR __GNUC_MINOR__
#else
#define RMQC_ABI_COMPILER_ID "unknown"
#define RMQC_ABI_COMPILER_MAJOR 0
#define RMQC_ABI_COMPILER_MINOR 0
#endif

// <cstdint> pulled in the standard library's version macros.
#if defined(_LIBCPP_VERSION)
#define RMQC_ABI_STDLIB_ID "libc++"
#define RMQC_ABI_STDLIB_VERSION _LIBCPP_VERSION
#define RMQC_ABI_STDLIB_DUAL_ABI 0
#elif defined(__GLIBCXX__)
#define RMQC_ABI_STDLIB_ID "libstdc++"
#define RMQC_ABI_STDLIB_VERSION _GLIBCXX_RELEASE
#define RMQC_ABI_STDLIB_DUAL_ABI _GLIBCXX_USE_CXX11_ABI
#else
#define RMQC_ABI_STDLIB_ID "unknown"
#define RMQC_ABI_STDLIB_VERSION 0
#define RMQC_ABI_STDLIB_DUAL_ABI 0
#endif

// Checked-iterator modes change the layout of every container.
#if defined(_GLIBCXX_DEBUG) || (defined(_LIBCPP_ABI_VERSION) && _LIBCPP_ABI_VERSION != 1)
#define RMQC_ABI_STDLIB_DEBUG 1
#else
#define RMQC_ABI_STDLIB_DEBUG 0
#endif

extern "C" {

struct RmqcPluginAbi {
  std::uint32_t record_size;    // sizeof(RmqcPluginAbi) in the plugin; fields appended only
  std::uint32_t abi_version;    // RMQC_PLUGIN_ABI_VERSION
  std::uint32_t sdk_major;      // RMQC_SDK_VERSION_MAJOR
  std::uint32_t sdk_minor;      // RMQC_SDK_VERSION_MINOR (informational: newer minors may add
                                // free functions but never change a layout)
  const char* sdk_fingerprint;  // RMQC_SDK_FINGERPRINT
  const char* compiler_id;      // "gcc" | "clang"
  std::uint32_t compiler_major;
  std::uint32_t compiler_minor;   // informational
  const char* stdlib_id;          // "libstdc++" | "libc++"
  std::uint32_t stdlib_version;   // _GLIBCXX_RELEASE or _LIBCPP_VERSION
  std::uint32_t stdlib_dual_abi;  // _GLIBCXX_USE_CXX11_ABI (std::string layout)
  std::uint32_t stdlib_debug;     // 1 with _GLIBCXX_DEBUG
  std::uint32_t cxx_standard;     // __cplusplus / 100 (2020 for C++20)
  std::uint32_t pointer_size;     // sizeof(void*)
  const char* plugin_name;        // the name given to RMQC_PLUGIN_ENTRY
  const char* plugin_version;     // free text, for /plugin/list and logs
};

}  // extern "C"

namespace rmqc::plugin {

// The record as this translation unit's compiler sees it: the worker's own, or the plugin's when
// expanded in a plugin by RMQC_PLUGIN_ENTRY.
constexpr RmqcPluginAbi current_abi(const char* plugin_name = "", const char* plugin_version = "") {
  return RmqcPluginAbi{
      sizeof(RmqcPluginAbi),
      RMQC_PLUGIN_ABI_VERSION,
      RMQC_SDK_VERSION_MAJOR,
      RMQC_SDK_VERSION_MINOR,
      RMQC_SDK_FINGERPRINT,
      RMQC_ABI_COMPILER_ID,
      RMQC_ABI_COMPILER_MAJOR,
      RMQC_ABI_COMPILER_MINOR,
      RMQC_ABI_STDLIB_ID,
      RMQC_ABI_STDLIB_VERSION,
      RMQC_ABI_STDLIB_DUAL_ABI,
      RMQC_ABI_STDLIB_DEBUG,
      static_cast<std::uint32_t>(__cplusplus / 100),
      static_cast<std::uint32_t>(sizeof(void*)),
      plugin_name,
      plugin_version,
  };
}

}  // namespace rmqc::plugin
