// The CDC plugin's entry: Debezium-compatible change data capture from MySQL/MariaDB binlogs and
// PostgreSQL logical replication (docs/connectors/cdc.md).

#include "rmqc/plugin/entry.h"

#include "cdc/common/envelope.h"

#include <memory>

#if __has_include("cdc/mysql/mysql_cdc_connector.h")
#include "cdc/mysql/mysql_cdc_connector.h"
#define RMQC_CDC_HAS_MYSQL 1
#endif
#if __has_include("cdc/postgres/postgres_cdc_connector.h")
#include "cdc/postgres/postgres_cdc_connector.h"
#define RMQC_CDC_HAS_POSTGRES 1
#endif

RMQC_PLUGIN_ENTRY(cdc) {
  using namespace rmqc::connectors::cdc;
#ifdef RMQC_CDC_HAS_MYSQL
  registrar.add_source_connector(
      {"org.apache.rocketmq.connect.debezium.mysql.DebeziumMysqlConnector",
       {"io.debezium.connector.mysql.MySqlConnector", "DebeziumMysqlConnector", "MySqlConnector",
        "mysql-cdc"},
       "1.0",
       "Captures row changes of MySQL/MariaDB from the binlog (ROW format) as Debezium change "
       "events: snapshot then stream, schema history, heartbeats."},
      [] { return std::make_unique<MysqlCdcConnector>(); });
#endif
#ifdef RMQC_CDC_HAS_POSTGRES
  registrar.add_source_connector(
      {"org.apache.rocketmq.connect.debezium.postgres.DebeziumPostgresConnector",
       {"io.debezium.connector.postgresql.PostgresConnector", "DebeziumPostgresConnector",
        "PostgresConnector", "postgres-cdc"},
       "1.0",
       "Captures row changes of PostgreSQL through logical replication (pgoutput) as Debezium "
       "change events: exported-snapshot then stream, slot flushed only after delivery."},
      [] { return std::make_unique<PostgresCdcConnector>(); });
#endif
#if !defined(RMQC_CDC_HAS_MYSQL) && !defined(RMQC_CDC_HAS_POSTGRES)
  (void)registrar;
#endif
}
