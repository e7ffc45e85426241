#include "plugins/plugin_registry.h"

namespace rmqc {

std::string_view plugin_kind_name(PluginKind kind) {
  switch (kind) {
    case PluginKind::kSourceConnector:
      return "source";
    case PluginKind::kSinkConnector:
      return "sink";
    case PluginKind::kConverter:
      return "converter";
    case PluginKind::kTransform:
      return "transform";
    case PluginKind::kPredicate:
      return "predicate";
  }
  return "unknown";
}

namespace plugins {

void PluginRegistry::set_origin(std::string origin) {
  std::lock_guard lock(mutex_);
  origin_ = std::move(origin);
}

void PluginRegistry::add(PluginKind kind, PluginDescriptor descriptor, Factory factory) {
  std::lock_guard lock(mutex_);
  auto slot =
      std::make_unique<Slot>(Slot{{kind, std::move(descriptor), origin_}, std::move(factory)});
  std::vector<std::string> names = slot->entry.descriptor.aliases;
  names.insert(names.begin(), slot->entry.descriptor.class_name);
  for (const auto& name : names) {
    if (name.empty()) continue;
    if (!by_name_.emplace(name, slot.get()).second) {
      conflicts_.push_back(name + " (" + std::string(plugin_kind_name(kind)) + " from " +
                           slot->entry.origin + ")");
    }
  }
  slots_.push_back(std::move(slot));
}

void PluginRegistry::add_source_connector(PluginDescriptor d, SourceConnectorFactory f) {
  add(PluginKind::kSourceConnector, std::move(d), std::move(f));
}
void PluginRegistry::add_sink_connector(PluginDescriptor d, SinkConnectorFactory f) {
  add(PluginKind::kSinkConnector, std::move(d), std::move(f));
}
void PluginRegistry::add_converter(PluginDescriptor d, ConverterFactory f) {
  add(PluginKind::kConverter, std::move(d), std::move(f));
}
void PluginRegistry::add_transform(PluginDescriptor d, TransformFactory f) {
  add(PluginKind::kTransform, std::move(d), std::move(f));
}
void PluginRegistry::add_predicate(PluginDescriptor d, PredicateFactory f) {
  add(PluginKind::kPredicate, std::move(d), std::move(f));
}

template <typename Product, typename FactoryT>
Result<std::unique_ptr<Product>> PluginRegistry::create(std::string_view name,
                                                        PluginKind kind) const {
  FactoryT factory;
  {
    std::lock_guard lock(mutex_);
    auto it = by_name_.find(name);
    if (it == by_name_.end()) {
      return Error(ErrorCode::kNotFound, "no " + std::string(plugin_kind_name(kind)) +
                                             " plugin named '" + std::string(name) + "'");
    }
    if (it->second->entry.kind != kind) {
      return Error(ErrorCode::kInvalidConfig,
                   "'" + std::string(name) + "' is a " +
                       std::string(plugin_kind_name(it->second->entry.kind)) + " plugin, not a " +
                       std::string(plugin_kind_name(kind)));
    }
    factory = std::get<FactoryT>(it->second->factory);
  }
  // Plugin constructors may throw (connector code); keep that inside the barrier.
  try {
    auto product = factory();
    if (!product) {
      return Error(ErrorCode::kInternal, "plugin '" + std::string(name) + "' created nothing");
    }
    return product;
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal,
                 "plugin '" + std::string(name) + "' failed to construct: " + e.what());
  }
}

Result<std::unique_ptr<SourceConnector>> PluginRegistry::create_source_connector(
    std::string_view name) const {
  return create<SourceConnector, SourceConnectorFactory>(name, PluginKind::kSourceConnector);
}
Result<std::unique_ptr<SinkConnector>> PluginRegistry::create_sink_connector(
    std::string_view name) const {
  return create<SinkConnector, SinkConnectorFactory>(name, PluginKind::kSinkConnector);
}
Result<std::unique_ptr<RecordConverter>> PluginRegistry::create_converter(
    std::string_view name) const {
  return create<RecordConverter, ConverterFactory>(name, PluginKind::kConverter);
}
Result<std::unique_ptr<Transform>> PluginRegistry::create_transform(std::string_view name) const {
  return create<Transform, TransformFactory>(name, PluginKind::kTransform);
}
Result<std::unique_ptr<Predicate>> PluginRegistry::create_predicate(std::string_view name) const {
  return create<Predicate, PredicateFactory>(name, PluginKind::kPredicate);
}

const PluginEntry* PluginRegistry::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second->entry;
}

std::vector<PluginEntry> PluginRegistry::list() const {
  std::lock_guard lock(mutex_);
  std::vector<PluginEntry> out;
  out.reserve(slots_.size());
  for (const auto& s : slots_) out.push_back(s->entry);
  return out;
}

std::vector<std::string> PluginRegistry::conflicts() const {
  std::lock_guard lock(mutex_);
  return conflicts_;
}

}  // namespace plugins
}  // namespace rmqc
