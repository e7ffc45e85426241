#pragma once

#include "rmqc/plugin/registrar.h"

namespace rmqc::connectors::file {

// Registers FileSourceConnector and FileSinkConnector under the Java sample's class names
// (org.apache.rocketmq.connect.file.*) and their short names.
void register_file_connectors(PluginRegistrar& registrar);

}  // namespace rmqc::connectors::file
