#include "plugins/plugin_loader.h"

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/api/record.h"
#include "rmqc/api/schema.h"
#include "rmqc/api/struct.h"
#include "rmqc/api/value.h"
#include "rmqc/plugin/entry.h"

#include "base/logging.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <dlfcn.h>
#include <exception>
#include <filesystem>
#include <link.h>
#include <system_error>
#include <utility>
#include <variant>

namespace fs = std::filesystem;

namespace rmqc {

// Plugins resolve SDK functions (KeyValue::get_string, SchemaBuilder, ...) against the worker
// binary, which exports them (sdk_exports.list). The worker links the SDK from static archives,
// which contribute only the objects something references: these references pull in every SDK
// object file, so a plugin may call SDK functions the worker itself never uses.
struct SdkObjectAnchors {
  std::string_view (*error_code_name)(ErrorCode);
  std::string (Value::*value_to_string)() const;
  SchemaPtr (SchemaBuilder::*schema_build)();
  Struct& (Struct::*struct_put)(std::string_view, Value);
  std::string (KeyValue::*key_value_get_string)(std::string_view, std::string_view) const;
  std::size_t (RecordPartition::*record_partition_hash)() const;
  ConfigDef& (ConfigDef::*config_def_define)(ConfigDef::Key);
  std::string_view (*plugin_kind_name)(PluginKind);
};
extern const SdkObjectAnchors rmqc_sdk_object_anchors;
const SdkObjectAnchors rmqc_sdk_object_anchors{
    &error_code_name,      &Value::to_string,      &SchemaBuilder::build, &Struct::put,
    &KeyValue::get_string, &RecordPartition::hash, &ConfigDef::define,    &plugin_kind_name,
};

namespace plugins {
namespace {

std::shared_ptr<spdlog::logger> log() {
  static const auto logger = rmqc::logger("plugins");
  return logger;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_shared_library(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.ends_with(".so")) return true;
  return name.find(".so.") != std::string::npos;  // libfoo.so.1
}

bool regular_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// Collects the factories an entry registers, so they reach the registry only if the entry
// returns normally.
class StagingRegistrar final : public PluginRegistrar {
 public:
  void add_source_connector(PluginDescriptor d, SourceConnectorFactory f) override {
    add(PluginKind::kSourceConnector, std::move(d), std::move(f));
  }
  void add_sink_connector(PluginDescriptor d, SinkConnectorFactory f) override {
    add(PluginKind::kSinkConnector, std::move(d), std::move(f));
  }
  void add_converter(PluginDescriptor d, ConverterFactory f) override {
    add(PluginKind::kConverter, std::move(d), std::move(f));
  }
  void add_transform(PluginDescriptor d, TransformFactory f) override {
    add(PluginKind::kTransform, std::move(d), std::move(f));
  }
  void add_predicate(PluginDescriptor d, PredicateFactory f) override {
    add(PluginKind::kPredicate, std::move(d), std::move(f));
  }

  std::size_t size() const { return items_.size(); }

  void replay(PluginRegistry& target) {
    for (auto& item : items_) {
      std::visit(
          [&](auto& factory) {
            using F = std::decay_t<decltype(factory)>;
            if constexpr (std::is_same_v<F, SourceConnectorFactory>) {
              target.add_source_connector(std::move(item.descriptor), std::move(factory));
            } else if constexpr (std::is_same_v<F, SinkConnectorFactory>) {
              target.add_sink_connector(std::move(item.descriptor), std::move(factory));
            } else if constexpr (std::is_same_v<F, ConverterFactory>) {
              target.add_converter(std::move(item.descriptor), std::move(factory));
            } else if constexpr (std::is_same_v<F, TransformFactory>) {
              target.add_transform(std::move(item.descriptor), std::move(factory));
            } else {
              target.add_predicate(std::move(item.descriptor), std::move(factory));
            }
          },
          item.factory);
    }
    items_.clear();
  }

 private:
  using Factory = std::variant<SourceConnectorFactory, SinkConnectorFactory, ConverterFactory,
                               TransformFactory, PredicateFactory>;
  struct Item {
    PluginKind kind;
    PluginDescriptor descriptor;
    Factory factory;
  };
  void add(PluginKind kind, PluginDescriptor d, Factory f) {
    if (d.class_name.empty())
      throw std::invalid_argument("a plugin registered an empty class name");
    items_.push_back(Item{kind, std::move(d), std::move(f)});
  }

  std::vector<Item> items_;
};

std::string dl_error(std::string_view fallback) {
  const char* e = dlerror();
  return e != nullptr ? std::string(e) : std::string(fallback);
}

std::string text_or(const char* s, std::string_view fallback) {
  return s != nullptr && *s != '\0' ? std::string(s) : std::string(fallback);
}

}  // namespace

PluginLoader::PluginLoader(PluginRegistry& registry, std::vector<std::string> plugin_paths)
    : registry_(registry), plugin_paths_(std::move(plugin_paths)) {}

std::vector<std::string> PluginLoader::split_paths(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const auto pos = value.find_first_of(",;");
    const auto item = trim(value.substr(0, pos));
    if (!item.empty()) out.emplace_back(item);
    if (pos == std::string_view::npos) break;
    value.remove_prefix(pos + 1);
  }
  return out;
}

void PluginLoader::add_path(std::string path) {
  std::lock_guard lock(mutex_);
  plugin_paths_.push_back(std::move(path));
}

const RmqcPluginAbi& PluginLoader::worker_abi() {
  static constexpr RmqcPluginAbi kAbi = plugin::current_abi("worker", RMQC_VERSION);
  return kAbi;
}

std::string PluginLoader::describe_abi(const RmqcPluginAbi& abi) {
  std::string fp = text_or(abi.sdk_fingerprint, "none");
  return "ABI " + std::to_string(abi.abi_version) + ", SDK " + std::to_string(abi.sdk_major) + "." +
         std::to_string(abi.sdk_minor) + " (fingerprint " + fp + "), " +
         text_or(abi.compiler_id, "?") + " " + std::to_string(abi.compiler_major) + "." +
         std::to_string(abi.compiler_minor) + ", " + text_or(abi.stdlib_id, "?") + " " +
         std::to_string(abi.stdlib_version) + (abi.stdlib_dual_abi != 0 ? " (cxx11 ABI)" : "") +
         (abi.stdlib_debug != 0 ? " (debug)" : "") + ", C++" + std::to_string(abi.cxx_standard) +
         ", " + std::to_string(abi.pointer_size * 8) + "-bit";
}

std::string PluginLoader::abi_mismatch(const RmqcPluginAbi& worker, const RmqcPluginAbi& plugin) {
  std::vector<std::string> diffs;
  auto check = [&](bool same, std::string_view field, const std::string& p, const std::string& w) {
    if (!same) diffs.push_back(std::string(field) + ": plugin " + p + ", worker " + w);
  };
  auto num = [](std::uint32_t v) { return std::to_string(v); };
  auto str = [](const char* s) {
    return s == nullptr ? std::string("(none)") : "'" + std::string(s) + "'";
  };
  auto same_str = [](const char* a, const char* b) {
    return std::string_view(a == nullptr ? "" : a) == std::string_view(b == nullptr ? "" : b);
  };

  check(plugin.abi_version == worker.abi_version, "plugin ABI version", num(plugin.abi_version),
        num(worker.abi_version));
  if (plugin.abi_version != worker.abi_version) {
    // Later fields of another ABI version may not even exist; this one difference is the answer.
    return diffs.front();
  }
  check(plugin.sdk_major == worker.sdk_major, "SDK major version", num(plugin.sdk_major),
        num(worker.sdk_major));
  check(plugin.sdk_minor <= worker.sdk_minor, "SDK minor version (newer than the worker's)",
        num(plugin.sdk_minor), num(worker.sdk_minor));
  if (worker.sdk_fingerprint != nullptr && *worker.sdk_fingerprint != '\0') {
    check(same_str(plugin.sdk_fingerprint, worker.sdk_fingerprint),
          "SDK header fingerprint (plugin built against other include/rmqc headers)",
          str(plugin.sdk_fingerprint), str(worker.sdk_fingerprint));
  }
  check(same_str(plugin.compiler_id, worker.compiler_id) &&
            plugin.compiler_major == worker.compiler_major,
        "compiler", text_or(plugin.compiler_id, "?") + " " + num(plugin.compiler_major),
        text_or(worker.compiler_id, "?") + " " + num(worker.compiler_major));
  check(same_str(plugin.stdlib_id, worker.stdlib_id) &&
            plugin.stdlib_version == worker.stdlib_version,
        "C++ standard library", text_or(plugin.stdlib_id, "?") + " " + num(plugin.stdlib_version),
        text_or(worker.stdlib_id, "?") + " " + num(worker.stdlib_version));
  check(plugin.stdlib_dual_abi == worker.stdlib_dual_abi, "_GLIBCXX_USE_CXX11_ABI",
        num(plugin.stdlib_dual_abi), num(worker.stdlib_dual_abi));
  check(plugin.stdlib_debug == worker.stdlib_debug, "standard library debug mode",
        num(plugin.stdlib_debug), num(worker.stdlib_debug));
  check(plugin.cxx_standard == worker.cxx_standard, "C++ standard",
        "C++" + num(plugin.cxx_standard), "C++" + num(worker.cxx_standard));
  check(plugin.pointer_size == worker.pointer_size, "pointer size", num(plugin.pointer_size),
        num(worker.pointer_size));

  std::string out;
  for (const auto& d : diffs) {
    if (!out.empty()) out += "; ";
    out += d;
  }
  return out;
}

std::vector<std::string> PluginLoader::candidates() const {
  std::vector<std::string> out;
  for (const auto& entry : plugin_paths_) {
    const fs::path root(entry);
    std::error_code ec;
    if (fs::is_directory(root, ec)) {
      // Each *.so in the directory is a plugin; a subdirectory is one plugin folder whose *.so
      // files are candidates too (its private dependencies should live in a lib/ below it).
      for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path p = it->path();
        if (fs::is_directory(p, ec)) {
          for (fs::directory_iterator sub(p, ec), send; !ec && sub != send; sub.increment(ec)) {
            if (is_shared_library(sub->path()) && regular_file(sub->path())) {
              out.push_back(sub->path().string());
            }
          }
          ec.clear();
        } else if (is_shared_library(p) && regular_file(p)) {
          out.push_back(p.string());
        }
      }
      if (ec) log()->warn("plugin path {}: {}", entry, ec.message());
    } else if (regular_file(root)) {
      out.push_back(root.string());
    } else {
      log()->warn("plugin path {} does not exist or is neither a directory nor a file", entry);
    }
  }
  // The first registration of a name wins: make that independent of directory order.
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t PluginLoader::load() {
  std::lock_guard lock(mutex_);
  scan_problems_.clear();
  std::size_t added = 0;
  for (const auto& path : candidates()) {
    std::error_code ec;
    const std::string canonical = fs::canonical(path, ec).string();
    if (ec) {
      scan_problems_.push_back({path, "cannot resolve path: " + ec.message()});
      continue;
    }
    struct stat st {};
    if (::stat(canonical.c_str(), &st) != 0) {
      scan_problems_.push_back({path, std::string("cannot stat: ") + std::strerror(errno)});
      continue;
    }
    const FileStamp stamp{
        static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
        static_cast<std::int64_t>(st.st_size)};

    if (auto it = loaded_.find(canonical); it != loaded_.end()) {
      if (!(it->second.stamp == stamp) && !it->second.change_reported) {
        // The old code stays mapped and in use; only a restart can switch to the new file.
        log()->warn("plugin library {} changed on disk; restart the worker to load the new version",
                    canonical);
        it->second.change_reported = true;
      }
      continue;
    }
    if (auto it = rejected_.find(canonical); it != rejected_.end() && it->second.stamp == stamp) {
      scan_problems_.push_back({canonical, it->second.message});
      continue;
    }
    auto result = load_locked(canonical, stamp);
    if (result) {
      ++added;
    } else {
      scan_problems_.push_back({canonical, result.error().message()});
    }
  }
  return added;
}

Result<PluginLibrary> PluginLoader::load_library(const std::string& path) {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  const std::string canonical = fs::canonical(path, ec).string();
  if (ec) return Error(ErrorCode::kNotFound, path + ": " + ec.message());
  if (auto it = loaded_.find(canonical); it != loaded_.end()) return it->second.library;
  struct stat st {};
  if (::stat(canonical.c_str(), &st) != 0) {
    return Error(ErrorCode::kIoError, canonical + ": " + std::strerror(errno));
  }
  return load_locked(
      canonical,
      FileStamp{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
                static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                static_cast<std::int64_t>(st.st_size)});
}

Result<PluginLibrary> PluginLoader::load_locked(const std::string& canonical,
                                                const FileStamp& stamp) {
  auto reject = [&](std::string message, void* handle) -> Error {
    // Nothing of the plugin ran except its static initializers, so unmapping it is safe, and it
    // lets a rebuilt library at the same path be loaded by a later reload.
    if (handle != nullptr) dlclose(handle);
    log()->error("plugin library {} skipped: {}", canonical, message);
    rejected_[canonical] = Rejected{stamp, message};
    return Error(ErrorCode::kInvalidArgument, std::move(message));
  };

  dlerror();
  void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return reject("dlopen failed: " + dl_error("unknown error"), nullptr);

  for (const auto& [path, other] : loaded_) {
    if (other.handle == handle) {
      // The same file under another name (a hard link): its entry already ran.
      return reject("same library as " + path + ", already loaded", handle);
    }
  }

  dlerror();
  void* symbol = dlsym(handle, RMQC_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    return reject(std::string("not a plugin: no symbol ") + RMQC_PLUGIN_ENTRY_SYMBOL +
                      " (define it with RMQC_PLUGIN_ENTRY from rmqc/plugin/entry.h)",
                  handle);
  }
  // dlsym also searches the library's dependencies; the entry must be the library's own.
  link_map* own = nullptr;
  link_map* owner = nullptr;
  Dl_info info{};
  if (dlinfo(handle, RTLD_DI_LINKMAP, &own) == 0 &&
      dladdr1(symbol, &info, reinterpret_cast<void**>(&owner), RTLD_DL_LINKMAP) != 0 &&
      owner != own) {
    return reject(std::string("not a plugin: ") + RMQC_PLUGIN_ENTRY_SYMBOL +
                      " comes from its dependency " + text_or(info.dli_fname, "?"),
                  handle);
  }
  auto entry = reinterpret_cast<RmqcPluginEntryFn>(symbol);

  const RmqcPluginAbi* record = nullptr;
  try {
    record = entry(nullptr);
  } catch (...) {
    return reject("entry threw while reporting its ABI record", handle);
  }
  if (record == nullptr) return reject("entry returned no ABI record", handle);

  // Read only the bytes the plugin says it has: an older plugin's record may be shorter.
  RmqcPluginAbi abi{};
  constexpr std::size_t kMinimum = offsetof(RmqcPluginAbi, abi_version) + sizeof(abi.abi_version);
  if (record->record_size < kMinimum) return reject("malformed ABI record", handle);
  std::memcpy(&abi, record, std::min<std::size_t>(record->record_size, sizeof abi));
  if (abi.abi_version == worker_abi().abi_version && record->record_size < sizeof abi) {
    return reject(
        "ABI record shorter than ABI version " + std::to_string(abi.abi_version) + " defines",
        handle);
  }
  if (auto mismatch = abi_mismatch(worker_abi(), abi); !mismatch.empty()) {
    std::string plugin_side = abi.abi_version == worker_abi().abi_version
                                  ? describe_abi(abi)
                                  : "ABI " + std::to_string(abi.abi_version);
    return reject("incompatible plugin ABI: " + mismatch + " [plugin: " + plugin_side +
                      "; worker: " + describe_abi(worker_abi()) + "]",
                  handle);
  }

  PluginLibrary library;
  library.path = canonical;
  library.name = text_or(abi.plugin_name, fs::path(canonical).stem().string());
  library.version = text_or(abi.plugin_version, "undefined");

  StagingRegistrar staging;
  std::string failure;
  try {
    entry(&staging);
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    // The entry ran plugin code that may have left state behind (threads, atexit handlers): keep
    // the library mapped rather than unmapping code that may still run.
    log()->error("plugin library {} skipped: entry threw: {}", canonical, failure);
    rejected_[canonical] = Rejected{stamp, "entry threw: " + failure};
    return Error(ErrorCode::kInternal, "entry threw: " + failure);
  }

  library.plugin_count = staging.size();
  const std::size_t conflicts_before = registry_.conflicts().size();
  registry_.set_origin(canonical);
  staging.replay(registry_);
  registry_.set_origin("builtin");
  const auto conflicts = registry_.conflicts();
  for (std::size_t i = conflicts_before; i < conflicts.size(); ++i) {
    log()->warn("plugin library {}: name {} already registered; the first registration wins",
                canonical, conflicts[i]);
  }

  rejected_.erase(canonical);
  loaded_[canonical] = Loaded{library, stamp, handle, false};
  log()->info("loaded plugin library {} ({} {}, {} plugins)", canonical, library.name,
              library.version, library.plugin_count);
  return library;
}

std::vector<PluginLibrary> PluginLoader::libraries() const {
  std::lock_guard lock(mutex_);
  std::vector<PluginLibrary> out;
  out.reserve(loaded_.size());
  for (const auto& [path, loaded] : loaded_) out.push_back(loaded.library);
  return out;
}

std::vector<PluginLoadProblem> PluginLoader::problems() const {
  std::vector<PluginLoadProblem> out;
  {
    std::lock_guard lock(mutex_);
    out = scan_problems_;
  }
  for (auto& conflict : registry_.conflicts()) {
    out.push_back({"", "duplicate plugin name " + conflict + "; the first registration wins"});
  }
  return out;
}

}  // namespace plugins
}  // namespace rmqc
