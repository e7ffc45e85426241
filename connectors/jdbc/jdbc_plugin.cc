// The JDBC plugin's entry: the connectors and the dialects they can use.

#include "rmqc/plugin/entry.h"

#include "jdbc/common/dialect_registry.h"
#include "jdbc/source/jdbc_source_connector.h"
#include "jdbc/sqlite/sqlite_dialect.h"

#include <memory>
#include <type_traits>

#if __has_include("jdbc/postgres/postgres_dialect.h")
#include "jdbc/postgres/postgres_dialect.h"
#define RMQC_JDBC_HAS_POSTGRES 1
#endif
#if __has_include("jdbc/mysql/mysql_dialect.h")
#include "jdbc/mysql/mysql_dialect.h"
#define RMQC_JDBC_HAS_MYSQL 1
#endif
#if __has_include("jdbc/sink/jdbc_sink_connector.h")
#include "jdbc/sink/jdbc_sink_connector.h"
#define RMQC_JDBC_HAS_SINK 1
#endif

namespace rmqc::connectors::jdbc {

void register_all_dialects(DialectRegistry& registry) {
  register_sqlite_dialect(registry);
#ifdef RMQC_JDBC_HAS_POSTGRES
  register_postgres_dialect(registry);
#endif
#ifdef RMQC_JDBC_HAS_MYSQL
  register_mysql_dialect(registry);
#endif
}

}  // namespace rmqc::connectors::jdbc

RMQC_PLUGIN_ENTRY(jdbc) {
  using namespace rmqc::connectors::jdbc;
  auto dialects = std::make_shared<DialectRegistry>();
  register_all_dialects(*dialects);
  std::shared_ptr<const DialectRegistry> shared = dialects;
  DialectRegistry::install(shared);
  registrar.add_source_connector(
      {"org.apache.rocketmq.connect.jdbc.connector.JdbcSourceConnector",
       {"org.apache.rocketmq.connect.jdbc.source.JdbcSourceConnector", "JdbcSourceConnector"},
       "1.0",
       "Reads database tables (MySQL/MariaDB, PostgreSQL, SQLite) into topics: bulk, "
       "incrementing, timestamp or timestamp+incrementing mode, resuming at the committed "
       "offset of each table."},
      [shared] { return std::make_unique<JdbcSourceConnector>(shared); });
#ifdef RMQC_JDBC_HAS_SINK
  registrar.add_sink_connector(
      {"org.apache.rocketmq.connect.jdbc.connector.JdbcSinkConnector",
       {"org.apache.rocketmq.connect.jdbc.sink.JdbcSinkConnector", "JdbcSinkConnector"},
       "1.0",
       "Writes records into database tables (MySQL/MariaDB, PostgreSQL, SQLite): insert, upsert "
       "or update in batches of one transaction, deletes, auto.create and auto.evolve."},
      [shared]() -> std::unique_ptr<rmqc::SinkConnector> {
        // The sink takes the registry when it has such a constructor, else it finds the
        // installed one itself (DialectRegistry::installed()).
        if constexpr (std::is_constructible_v<JdbcSinkConnector,
                                              std::shared_ptr<const DialectRegistry>>) {
          return std::make_unique<JdbcSinkConnector>(shared);
        } else {
          return std::make_unique<JdbcSinkConnector>();
        }
      });
#endif
}
