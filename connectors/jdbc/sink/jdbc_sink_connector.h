#pragma once

// JdbcSinkConnector: writes the records of its topics into database tables (MySQL/MariaDB,
// PostgreSQL, SQLite); see jdbc_sink_task.h and docs/connectors/jdbc.md, "Sink".

#include "rmqc/api/connector.h"

#include "jdbc/common/dialect_registry.h"

#include <memory>
#include <string>
#include <vector>

namespace rmqc::connectors::jdbc {

class JdbcSinkConnector final : public SinkConnector {
 public:
  // Dialects of the loaded plugin (DialectRegistry::installed()).
  JdbcSinkConnector();
  explicit JdbcSinkConnector(std::shared_ptr<const DialectRegistry> dialects);

  static ConfigDef definition();

  // The keys, their combinations (delete.enabled needs pk.mode record_key; upsert and update
  // need a pk.mode), the URL and the dialect. The database is not contacted: a task that
  // cannot connect fails at start with the cause.
  void validate(const KeyValue& config) override;
  void start(const KeyValue& config) override;
  void stop() override {}
  ConfigDef config_def() const override { return definition(); }
  // max.tasks copies of the config: each task writes the records of the queues it consumes.
  std::vector<KeyValue> task_configs(int max_tasks) override;
  std::string task_class() const override;
  std::unique_ptr<Task> create_task() const override;

 private:
  std::shared_ptr<const DialectRegistry> dialects_;
  KeyValue config_;
};

}  // namespace rmqc::connectors::jdbc
