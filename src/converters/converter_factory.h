#pragma once

#include "rmqc/api/converter.h"
#include "rmqc/api/key_value.h"

#include "plugins/plugin_registry.h"

#include <memory>
#include <string_view>

namespace rmqc::converters {

// The default converter class of workers and connectors (as in the Java runtime).
inline constexpr std::string_view kDefaultConverter =
    "org.apache.rocketmq.connect.runtime.converter.record.StringConverter";

// Builds and configures the key (is_key) or value converter of a connector: the class comes from
// "key.converter" / "value.converter", else worker_default; its config is every connector key
// under "key.converter." / "value.converter." with the prefix removed.
Result<std::unique_ptr<RecordConverter>> make_converter(
    const plugins::PluginRegistry& registry, const KeyValue& connector_config, bool is_key,
    std::string_view worker_default = kDefaultConverter);

}  // namespace rmqc::converters
