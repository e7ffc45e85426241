// docs/configuration.md must list every worker key and every connector key the runtime reads.
// RMQC_PRINT_CONFIG_TABLES=1 prints the tables the doc is written from.
#include "config/worker_config.h"
#include "runtime/worker.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

namespace rmqc::runtime {
namespace {

std::string table(const ConfigDef& def) {
  std::ostringstream out;
  out << "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const auto& k : def.keys()) {
    std::string d =
        k.default_value ? (k.default_value->empty() ? "(empty)" : *k.default_value) : "(required)";
    out << "| `" << k.name << "` | " << config_type_name(k.type) << " | `" << d << "` | "
        << k.documentation << " |\n";
  }
  return out.str();
}

TEST(ConfigDocsTest, EveryKeyIsDocumented) {
  if (std::getenv("RMQC_PRINT_CONFIG_TABLES")) {
    std::cout << "## worker\n"
              << table(config::worker_config_def()) << "\n## connector\n"
              << table(runtime_connector_def());
  }
  std::ifstream in("../../docs/configuration.md");
  ASSERT_TRUE(in.good()) << "docs/configuration.md missing";
  std::stringstream doc;
  doc << in.rdbuf();
  for (const ConfigDef* def : {&config::worker_config_def(), &runtime_connector_def()}) {
    for (const auto& k : def->keys()) {
      EXPECT_NE(doc.str().find("`" + k.name + "`"), std::string::npos)
          << k.name << " is not in docs/configuration.md";
    }
  }
}

}  // namespace
}  // namespace rmqc::runtime
