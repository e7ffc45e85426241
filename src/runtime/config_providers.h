#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "config/worker_config.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::runtime {

// The values ${...} references of one connector resolved to, each with its reference: what must
// never show in a status trace, a log line or a REST error. scrub() puts the reference back in
// place of every occurrence of a value ("cannot open /data/${file:/etc/app.properties:dir}/x"),
// longest value first. Values shorter than 3 characters are not hidden (they would mangle every
// trace and hide nothing). Thread-safe once built (immutable).
class SecretScrubber {
 public:
  void add(std::string value, std::string reference);
  bool empty() const { return secrets_.empty(); }
  std::string scrub(std::string text) const;

 private:
  std::vector<std::pair<std::string, std::string>> secrets_;  // value, reference; longest first
};

// Kafka-Connect-style config providers: a connector config value may reference
// ${env:VAR}, ${file:/path/file.properties:key} or ${dir:/path:file}. References are resolved
// only when a connector or task starts (LocalWorker); stored configs, REST answers and logs keep
// the ${...} text. Only the providers listed in config.providers resolve, and each only within
// its allow-list (docs/operations.md#config-providers). With no provider enabled, values are
// left as they are. Thread-safe (immutable).
class ConfigProviders {
 public:
  ConfigProviders() = default;
  explicit ConfigProviders(const config::WorkerConfig& config);

  bool enabled() const { return env_ || file_ || dir_; }
  // Whether a value holds a ${provider:...} reference a resolve() would act on.
  bool references(std::string_view value) const;
  // The config with every reference replaced. Errors (kInvalidConfig) name the key and the
  // reference, never a resolved value: an unknown or disabled provider, a variable or path
  // outside the allow-list, a missing variable, file or key. Each value a reference resolved to
  // is added to `secrets` when given.
  Result<KeyValue> resolve(const KeyValue& config, SecretScrubber* secrets = nullptr) const;
  // Task configs a connector derived from the resolved config get the references back: a value
  // equal to a value some reference of `raw` resolved to becomes that reference again, so a
  // stored or shown task config never holds the secret. (A connector that transforms a secret
  // before putting it into a task config is not covered, as in Kafka Connect.)
  KeyValue unresolve(KeyValue task_config, const KeyValue& raw, const KeyValue& resolved) const;

 private:
  Result<std::string> lookup(std::string_view provider, std::string_view path,
                             std::string_view key) const;
  static bool path_allowed(const std::string& canonical, const std::vector<std::string>& allowed);

  bool env_ = false;
  bool file_ = false;
  bool dir_ = false;
  std::vector<std::string> env_allowlist_;
  std::vector<std::string> file_paths_;  // canonical
  std::vector<std::string> dir_paths_;   // canonical
};

}  // namespace rmqc::runtime
