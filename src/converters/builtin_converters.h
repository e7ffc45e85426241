#pragma once

#include "rmqc/plugin/registrar.h"

namespace rmqc::converters {

// Registers JsonConverter, StringConverter, ByteArrayConverter and the numeric converters under
// their Java class names (org.apache.rocketmq.connect.runtime.converter.record...) and short
// aliases ("JsonConverter").
void register_builtin_converters(PluginRegistrar& registrar);

}  // namespace rmqc::converters
