// Every connector family built into the worker is also built as a plugin .so from the same
// sources (cmake/rmqc_connector.cmake); this loads those .so files the way the worker loads
// pluginPaths and checks they register exactly what the built-in registration does.
#include "rmqc/api/task.h"

#include "builtin_connectors.h"
#include "plugins/plugin_loader.h"
#include "plugins/plugin_registry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <tuple>

namespace rmqc::connectors {
namespace {

using Registered = std::set<std::tuple<PluginKind, std::string, std::vector<std::string>>>;

Registered registered(const plugins::PluginRegistry& registry) {
  Registered out;
  for (const auto& e : registry.list()) {
    out.emplace(e.kind, e.descriptor.class_name, e.descriptor.aliases);
  }
  return out;
}

TEST(ConnectorModulesTest, EveryBuiltinFamilyLoadsAsAPluginWithTheSameConnectors) {
  plugins::PluginRegistry builtin;
  register_builtin_connectors(builtin);
  ASSERT_FALSE(builtin.list().empty());

  plugins::PluginRegistry loaded;
  plugins::PluginLoader loader(loaded, {RMQC_CONNECTOR_MODULE_DIR});
  loader.load();
  for (const auto& p : loader.problems()) ADD_FAILURE() << p.to_string();

  std::set<std::string> names;
  for (const auto& lib : loader.libraries()) names.insert(lib.name);
  for (const auto& family : builtin_connector_families()) {
    EXPECT_TRUE(names.contains(family)) << "family " << family << " did not load as a plugin";
  }
  EXPECT_EQ(registered(loaded), registered(builtin));
  for (const auto& e : loaded.list()) {
    EXPECT_NE(e.origin, "builtin") << e.descriptor.class_name;
  }
  EXPECT_TRUE(loaded.conflicts().empty());
}

TEST(ConnectorModulesTest, ALoadedConnectorIsUsable) {
  plugins::PluginRegistry loaded;
  plugins::PluginLoader loader(loaded, {RMQC_CONNECTOR_MODULE_DIR});
  loader.load();
  auto source = loaded.create_source_connector("FileSourceConnector");
  ASSERT_TRUE(source.ok()) << source.error().to_string();
  EXPECT_NE((*source)->config_def().find("filename"), nullptr);
  auto task = (*source)->create_task();
  EXPECT_NE(task, nullptr);
}

}  // namespace
}  // namespace rmqc::connectors
