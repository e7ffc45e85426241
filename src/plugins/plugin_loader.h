#pragma once

#include "rmqc/base/result.h"
#include "rmqc/plugin/abi.h"

#include "plugins/plugin_registry.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::plugins {

// A shared library the loader accepted.
struct PluginLibrary {
  std::string path;  // canonical
  std::string name;  // from RMQC_PLUGIN_ENTRY(name)
  std::string version;
  std::size_t plugin_count = 0;  // factories it registered
};

// A library that was reported and skipped, or a name that was registered twice.
struct PluginLoadProblem {
  std::string path;  // empty for a name conflict
  std::string message;

  std::string to_string() const { return path.empty() ? message : path + ": " + message; }
};

// Loads connector, converter, transform and predicate plugins from shared libraries into a
// PluginRegistry (docs/plugin-abi.md). pluginPaths entries are directories (every *.so in them
// and in their direct subdirectories) or single .so files. Each library is dlopen()ed with
// RTLD_NOW | RTLD_LOCAL, its ABI record is checked against the worker's, then its entry registers
// through a staging registrar that is copied into the registry only when the entry returned, so
// a throwing entry leaves no half-registered plugin behind.
//
// A broken library (dlopen error, no entry symbol, wrong ABI, throwing entry) is logged, listed
// by problems() and skipped; loading never fails the worker. A loaded library is never dlclose()d:
// factories, objects and vtables point into it for the life of the process.
//
// Thread-safe; load()/reload() calls are serialized.
class PluginLoader {
 public:
  explicit PluginLoader(PluginRegistry& registry, std::vector<std::string> plugin_paths = {});
  PluginLoader(const PluginLoader&) = delete;
  PluginLoader& operator=(const PluginLoader&) = delete;

  // The worker's pluginPaths value: entries separated by ',' or ';', blanks trimmed.
  static std::vector<std::string> split_paths(std::string_view value);

  void add_path(std::string path);

  // Scans every plugin path and loads each library not loaded before. Returns how many libraries
  // were loaded by this call. A broken library that did not change on disk since it was last
  // rejected is not retried (its problem stays listed).
  std::size_t load();
  // /plugin/reload: the same scan again; returns the number of new libraries.
  std::size_t reload() { return load(); }

  // Loads one library outside the scan (tests, tools). The error says why it was refused.
  Result<PluginLibrary> load_library(const std::string& path);

  std::vector<PluginLibrary> libraries() const;
  // Libraries skipped by the latest scan and every name conflict in the registry so far.
  std::vector<PluginLoadProblem> problems() const;

  // This worker's ABI record.
  static const RmqcPluginAbi& worker_abi();
  // Empty when a plugin with record `plugin` may be loaded by a worker with record `worker`;
  // otherwise every mismatching field with both sides' values.
  static std::string abi_mismatch(const RmqcPluginAbi& worker, const RmqcPluginAbi& plugin);
  // "ABI 1, SDK 0.1 (fingerprint 3f2a...), gcc 12, libstdc++ 12 (cxx11 ABI), C++2020, 64-bit"
  static std::string describe_abi(const RmqcPluginAbi& abi);

 private:
  // Identifies a file version, so a rejected library is retried once it was rebuilt.
  struct FileStamp {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
    std::int64_t mtime_ns = 0;
    std::int64_t size = 0;
    bool operator==(const FileStamp&) const = default;
  };
  struct Rejected {
    FileStamp stamp;
    std::string message;
  };
  struct Loaded {
    PluginLibrary library;
    FileStamp stamp;
    void* handle = nullptr;
    bool change_reported = false;
  };

  std::vector<std::string> candidates() const;
  // Loads one canonical path; the caller holds mutex_.
  Result<PluginLibrary> load_locked(const std::string& canonical, const FileStamp& stamp);

  PluginRegistry& registry_;
  mutable std::mutex mutex_;
  std::vector<std::string> plugin_paths_;
  std::map<std::string, Loaded> loaded_;      // by canonical path
  std::map<std::string, Rejected> rejected_;  // by canonical path
  std::vector<PluginLoadProblem> scan_problems_;
};

}  // namespace rmqc::plugins
