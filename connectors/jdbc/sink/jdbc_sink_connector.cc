#include "jdbc/sink/jdbc_sink_connector.h"

#include "rmqc/api/errors.h"

#include "jdbc/common/connection_config.h"
#include "jdbc/sink/jdbc_sink_config.h"
#include "jdbc/sink/jdbc_sink_task.h"

#include <algorithm>

namespace rmqc::connectors::jdbc {

JdbcSinkConnector::JdbcSinkConnector() : JdbcSinkConnector(DialectRegistry::installed()) {}

JdbcSinkConnector::JdbcSinkConnector(std::shared_ptr<const DialectRegistry> dialects)
    : dialects_(std::move(dialects)) {}

ConfigDef JdbcSinkConnector::definition() {
  return JdbcSinkConfig::definition();
}

void JdbcSinkConnector::validate(const KeyValue& config) {
  auto parsed = JdbcSinkConfig::parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  if (!dialects_) throw ConnectException("JDBC sink: no dialects are registered");
  auto settings = connection_settings(config, *dialects_);
  if (!settings.ok()) throw ConnectException(settings.error().message());
}

void JdbcSinkConnector::start(const KeyValue& config) {
  validate(config);
  config_ = config;
}

std::vector<KeyValue> JdbcSinkConnector::task_configs(int max_tasks) {
  return std::vector<KeyValue>(static_cast<std::size_t>(std::max(max_tasks, 1)), config_);
}

std::string JdbcSinkConnector::task_class() const {
  return "org.apache.rocketmq.connect.jdbc.sink.JdbcSinkTask";
}

std::unique_ptr<Task> JdbcSinkConnector::create_task() const {
  return std::make_unique<JdbcSinkTask>(dialects_);
}

}  // namespace rmqc::connectors::jdbc
