#pragma once

#include "rmqc/api/key_value.h"
#include "rmqc/api/predicate.h"
#include "rmqc/api/transform.h"
#include "rmqc/base/result.h"

#include "plugins/plugin_registry.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::transforms {

// The transforms of one connector, in order, built from its config:
//   transforms                      = a, b             (aliases, trimmed)
//   transforms.<alias>.class        = <class or alias>  (".type", Kafka's spelling, also works)
//   transforms.<alias>.<key>        = ...               (passed to start() without the prefix)
//   transforms.<alias>.predicate    = <predicate alias> (apply only where the predicate holds)
//   transforms.<alias>.negate       = true|false        (... or where it does not)
//   predicates                      = p, q
//   predicates.<name>.type          = <class or alias>  (".class" also works)
//   predicates.<name>.<key>         = ...
// Every config problem (unknown class, bad value, undefined predicate) is found by build() and
// reported as one InvalidConfig error naming the full key. apply() is reentrant as long as the
// transforms are (the built-in ones are).
class TransformChain {
 public:
  TransformChain() = default;
  TransformChain(TransformChain&&) noexcept = default;
  TransformChain& operator=(TransformChain&&) noexcept = default;
  ~TransformChain();

  static Result<TransformChain> build(const KeyValue& connector_config,
                                      const plugins::PluginRegistry& registry);

  // Builds and stops a chain: the config check for connector creation and the REST validate
  // endpoint.
  static Result<void> validate(const KeyValue& connector_config,
                               const plugins::PluginRegistry& registry);

  // The record after every transform, or nullopt when one of them dropped it. A transform's
  // DataException (a record it cannot handle) propagates to the caller's error handling.
  std::optional<ConnectRecord> apply(ConnectRecord record) const;

  // Stops every transform and predicate (idempotent).
  void stop();

  bool empty() const { return stages_.empty(); }
  std::size_t size() const { return stages_.size(); }
  // Aliases in order, for logs and the REST API.
  std::vector<std::string> aliases() const;

 private:
  struct Stage {
    std::string alias;
    std::unique_ptr<Transform> transform;
    std::shared_ptr<Predicate> predicate;  // shared: several transforms may use one predicate
    bool negate = false;
  };
  std::vector<Stage> stages_;
  std::vector<std::shared_ptr<Predicate>> predicates_;
  bool stopped_ = false;
};

}  // namespace rmqc::transforms
