// Every built-in connector has a page under docs/connectors/ that names its class and every key
// of its config_def(), so a user finds each key without reading code.
#include "rmqc/api/task.h"

#include "builtin_connectors.h"
#include "plugins/plugin_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace rmqc::connectors {
namespace {

namespace fs = std::filesystem;

std::vector<std::pair<std::string, std::string>> connector_docs() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& entry : fs::directory_iterator(fs::path(RMQC_SOURCE_DIR) / "docs/connectors")) {
    if (entry.path().extension() != ".md") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    out.emplace_back(entry.path().filename().string(), text.str());
  }
  return out;
}

TEST(ConnectorDocsTest, EveryBuiltinConnectorKeyIsDocumented) {
  plugins::PluginRegistry registry;
  register_builtin_connectors(registry);
  const auto docs = connector_docs();
  ASSERT_FALSE(docs.empty());
  int connectors = 0;
  for (const auto& e : registry.list()) {
    ConfigDef def;
    if (e.kind == PluginKind::kSourceConnector) {
      auto c = registry.create_source_connector(e.descriptor.class_name);
      ASSERT_TRUE(c.ok());
      def = (*c)->config_def();
    } else if (e.kind == PluginKind::kSinkConnector) {
      auto c = registry.create_sink_connector(e.descriptor.class_name);
      ASSERT_TRUE(c.ok());
      def = (*c)->config_def();
    } else {
      continue;
    }
    ++connectors;
    const std::string* page = nullptr;
    std::string page_name;
    for (const auto& [name, text] : docs) {
      if (text.find(e.descriptor.class_name) != std::string::npos) {
        page = &text;
        page_name = name;
      }
    }
    ASSERT_NE(page, nullptr) << e.descriptor.class_name << " is named in no docs/connectors/*.md";
    for (const auto& k : def.keys()) {
      EXPECT_NE(page->find("`" + k.name + "`"), std::string::npos)
          << k.name << " of " << e.descriptor.class_name << " is not in docs/connectors/"
          << page_name;
    }
  }
  EXPECT_GE(connectors, 2);
}

}  // namespace
}  // namespace rmqc::connectors
