#pragma once

#include "rmqc/base/result.h"
#include "rmqc/plugin/registrar.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace rmqc::plugins {

struct PluginEntry {
  PluginKind kind;
  PluginDescriptor descriptor;
  std::string origin;  // "builtin" or the shared library path
};

// The one catalogue of connectors, converters, transforms and predicates, built-in or loaded.
// Lookups accept the class name or any alias. Thread-safe: registration happens at start-up and
// on plugin reload, lookups on every connector (re)configuration.
class PluginRegistry final : public PluginRegistrar {
 public:
  // Origin recorded for plugins added until the next call (the loader sets the library path).
  void set_origin(std::string origin);

  void add_source_connector(PluginDescriptor descriptor, SourceConnectorFactory f) override;
  void add_sink_connector(PluginDescriptor descriptor, SinkConnectorFactory f) override;
  void add_converter(PluginDescriptor descriptor, ConverterFactory f) override;
  void add_transform(PluginDescriptor descriptor, TransformFactory f) override;
  void add_predicate(PluginDescriptor descriptor, PredicateFactory f) override;
  using PluginRegistrar::add_converter;
  using PluginRegistrar::add_predicate;
  using PluginRegistrar::add_sink_connector;
  using PluginRegistrar::add_source_connector;
  using PluginRegistrar::add_transform;

  Result<std::unique_ptr<SourceConnector>> create_source_connector(std::string_view name) const;
  Result<std::unique_ptr<SinkConnector>> create_sink_connector(std::string_view name) const;
  Result<std::unique_ptr<RecordConverter>> create_converter(std::string_view name) const;
  Result<std::unique_ptr<Transform>> create_transform(std::string_view name) const;
  Result<std::unique_ptr<Predicate>> create_predicate(std::string_view name) const;

  // nullptr when no plugin has this class name or alias.
  const PluginEntry* find(std::string_view name) const;
  std::vector<PluginEntry> list() const;
  // Names registered twice (the first registration wins); reported by the loader.
  std::vector<std::string> conflicts() const;

 private:
  using Factory = std::variant<SourceConnectorFactory, SinkConnectorFactory, ConverterFactory,
                               TransformFactory, PredicateFactory>;
  struct Slot {
    PluginEntry entry;
    Factory factory;
  };

  void add(PluginKind kind, PluginDescriptor descriptor, Factory factory);
  template <typename Product, typename FactoryT>
  Result<std::unique_ptr<Product>> create(std::string_view name, PluginKind kind) const;

  mutable std::mutex mutex_;
  std::string origin_ = "builtin";
  std::vector<std::unique_ptr<Slot>> slots_;
  std::map<std::string, const Slot*, std::less<>> by_name_;  // class names and aliases
  std::vector<std::string> conflicts_;
};

}  // namespace rmqc::plugins
