#include "rmqc/plugin/entry.h"

#include "file/file_connectors.h"
#include "plugins/plugin_registry.h"

#include <gtest/gtest.h>

RMQC_PLUGIN_DECLARE(file);

namespace rmqc::connectors::file {
namespace {

TEST(FileConnectorsRegistrationTest, JavaAndShortNamesResolve) {
  plugins::PluginRegistry registry;
  register_file_connectors(registry);
  for (const char* name :
       {"org.apache.rocketmq.connect.file.FileSourceConnector", "FileSourceConnector"}) {
    auto c = registry.create_source_connector(name);
    ASSERT_TRUE(c.ok()) << name << ": " << c.error().to_string();
    EXPECT_NE((*c)->config_def().find("filename"), nullptr);
  }
  for (const char* name :
       {"org.apache.rocketmq.connect.file.FileSinkConnector", "FileSinkConnector"}) {
    auto c = registry.create_sink_connector(name);
    ASSERT_TRUE(c.ok()) << name << ": " << c.error().to_string();
  }
  EXPECT_EQ(registry.find("FileSinkConnector")->origin, "builtin");
  EXPECT_TRUE(registry.conflicts().empty());
}

TEST(FileConnectorsRegistrationTest, BuiltinEntryRegistersTheSame) {
  plugins::PluginRegistry registry;
  rmqc_plugin_register_file(registry);
  EXPECT_NE(registry.find("FileSourceConnector"), nullptr);
  EXPECT_NE(registry.find("org.apache.rocketmq.connect.file.FileSinkConnector"), nullptr);
}

}  // namespace
}  // namespace rmqc::connectors::file
