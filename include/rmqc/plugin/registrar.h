#pragma once

#include "rmqc/api/connector.h"
#include "rmqc/api/converter.h"
#include "rmqc/api/predicate.h"
#include "rmqc/api/transform.h"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

enum class PluginKind { kSourceConnector, kSinkConnector, kConverter, kTransform, kPredicate };

std::string_view plugin_kind_name(PluginKind kind);  // "source", "sink", "converter", ...

// What a plugin is called and what it is. class_name keeps the Java name users already have in
// their configs (org.apache.rocketmq.connect...); aliases are short names ("JsonConverter").
struct PluginDescriptor {
  std::string class_name;
  std::vector<std::string> aliases;
  std::string version = "undefined";
  std::string doc;
};

using SourceConnectorFactory = std::function<std::unique_ptr<SourceConnector>()>;
using SinkConnectorFactory = std::function<std::unique_ptr<SinkConnector>()>;
using ConverterFactory = std::function<std::unique_ptr<RecordConverter>()>;
using TransformFactory = std::function<std::unique_ptr<Transform>()>;
using PredicateFactory = std::function<std::unique_ptr<Predicate>()>;

// Handed to a plugin's entry function (and to the built-ins' registration functions): each
// plugin adds its factories explicitly. A name registered twice is reported by the registry.
class PluginRegistrar {
 public:
  virtual ~PluginRegistrar() = default;
  virtual void add_source_connector(PluginDescriptor descriptor, SourceConnectorFactory f) = 0;
  virtual void add_sink_connector(PluginDescriptor descriptor, SinkConnectorFactory f) = 0;
  virtual void add_converter(PluginDescriptor descriptor, ConverterFactory f) = 0;
  virtual void add_transform(PluginDescriptor descriptor, TransformFactory f) = 0;
  virtual void add_predicate(PluginDescriptor descriptor, PredicateFactory f) = 0;

  template <typename T>
  void add_converter(PluginDescriptor descriptor) {
    add_converter(std::move(descriptor), [] { return std::make_unique<T>(); });
  }
  template <typename T>
  void add_transform(PluginDescriptor descriptor) {
    add_transform(std::move(descriptor), [] { return std::make_unique<T>(); });
  }
  template <typename T>
  void add_predicate(PluginDescriptor descriptor) {
    add_predicate(std::move(descriptor), [] { return std::make_unique<T>(); });
  }
  template <typename T>
  void add_source_connector(PluginDescriptor descriptor) {
    add_source_connector(std::move(descriptor), [] { return std::make_unique<T>(); });
  }
  template <typename T>
  void add_sink_connector(PluginDescriptor descriptor) {
    add_sink_connector(std::move(descriptor), [] { return std::make_unique<T>(); });
  }
};

}  // namespace rmqc
