#include "converters/converter_factory.h"

namespace rmqc::converters {

Result<std::unique_ptr<RecordConverter>> make_converter(const plugins::PluginRegistry& registry,
                                                        const KeyValue& connector_config,
                                                        bool is_key,
                                                        std::string_view worker_default) {
  const std::string_view key = is_key ? "key.converter" : "value.converter";
  const std::string* configured = connector_config.find(key);
  std::string class_name =
      configured && !configured->empty() ? *configured : std::string(worker_default);
  auto converter = registry.create_converter(class_name);
  if (!converter.ok()) return std::move(converter).error().with_context(std::string(key));
  KeyValue sub = connector_config.with_prefix_stripped(std::string(key) + ".");
  if (auto r = (*converter)->configure(sub, is_key); !r.ok()) {
    return std::move(r).error().with_context(std::string(key) + " " + class_name);
  }
  return converter;
}

}  // namespace rmqc::converters
