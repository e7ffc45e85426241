// CDC table mirrors end to end (issue 13, "Tests"): `rmq-connect standalone` as a child process
// with its embedded broker, a private MariaDB (ROW binlog, full row metadata) and a private
// PostgreSQL (wal_level=logical), and in each direction a Debezium CDC source into a topic and a
// JDBC sink with ExtractNewRecordState writing the other database:
//   MariaDB  inventory.customers --DebeziumMysqlConnector-->    mirror_customers (PostgreSQL)
//   PostgreSQL mirror.orders     --DebeziumPostgresConnector--> orders_copy (MariaDB)
// Rows present before the connectors arrive by the snapshot, inserts, updates and deletes after
// it by streaming; each mirror must end up equal to its source, value for value (deletes
// included, through the tombstone that follows a delete and the sink's delete.enabled), also
// after a clean restart and after a kill -9 while both databases change (nothing lost; the
// duplicate events counted and held to what was not committed at the kill).
#include "broker_probe.h"
#include "jdbc/mysql/mysql_dialect.h"
#include "jdbc/postgres/postgres_dialect.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "sql_rows.h"
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::itest {
namespace {

using connectors::jdbc::Dialect;
using connectors::jdbc::PostgresDialect;
using connectors::jdbc::testing::MariaDbServer;
using connectors::jdbc::testing::PostgresServer;

constexpr const char* kJsonConverter =
    "org.apache.rocketmq.connect.runtime.converter.record.json.JsonConverter";

using Rows = SqlRows;

// Every row of sql as text, sorted (the two databases return them in their own order).
Result<Rows> query(const Dialect& dialect, const connectors::jdbc::ConnectionConfig& config,
                   const std::string& sql) {
  RMQC_ASSIGN_OR_RETURN(Rows out, query_rows(dialect, config, sql));
  std::sort(out.begin(), out.end());
  return out;
}

std::string describe(const Result<Rows>& rows) {
  if (!rows.ok()) return rows.error().to_string();
  std::string out = std::to_string(rows->size()) + " rows";
  for (std::size_t i = 0; i < rows->size() && i < 5; ++i) {
    out += "\n  ";
    for (const auto& v : (*rows)[i]) out += v + " | ";
  }
  return out;
}

Json common_source(const std::string& host, int port, const std::string& user,
                   const std::string& password, const std::string& prefix) {
  return Json{{"max.tasks", "1"},
              {"database.hostname", host},
              {"database.port", std::to_string(port)},
              {"database.user", user},
              {"database.password", password},
              {"topic.prefix", prefix},
              // Kafka Connect's Date/Time/Timestamp, which the JDBC sink writes as temporal
              // columns (Debezium's MicroTimestamp would be a BIGINT there).
              {"time.precision.mode", "connect"},
              {"poll.interval.ms", "100"},
              {"key.converter", kJsonConverter},
              {"value.converter", kJsonConverter}};
}

Json mirror_sink(const std::string& url, const std::string& user, const std::string& password,
                 const std::string& topic, const std::string& table) {
  return Json{{"connector.class", "org.apache.rocketmq.connect.jdbc.connector.JdbcSinkConnector"},
              {"max.tasks", "1"},
              {"connect.topicnames", topic},
              {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
              {"connection.url", url},
              {"connection.user", user},
              {"connection.password", password},
              {"table.name.format", table},
              {"insert.mode", "upsert"},
              {"pk.mode", "record_key"},
              {"delete.enabled", "true"},
              {"auto.create", "true"},
              {"transforms", "unwrap"},
              {"transforms.unwrap.class", "io.debezium.transforms.ExtractNewRecordState"},
              {"transforms.unwrap.drop.tombstones", "false"},
              {"key.converter", kJsonConverter},
              {"value.converter", kJsonConverter}};
}

class CdcMirrorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(worker_bin().empty()) << "RMQ_CONNECT_BIN must point at rmq-connect";
    MariaDbServer::Options mo;
    mo.extra_args = {"--binlog-row-metadata=FULL"};
    auto db = MariaDbServer::start(mo);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    db_ = std::move(db).value();
    auto pg = PostgresServer::start();
    ASSERT_TRUE(pg.ok()) << pg.error().to_string();
    pg_ = std::move(pg).value();
  }

  Result<Rows> maria(const std::string& sql) {
    static const auto dialect = connectors::jdbc::make_mysql_dialect();
    return query(*dialect, db_->connection_config(), sql);
  }
  Result<Rows> postgres(const std::string& sql) {
    PostgresDialect d;
    return query(d, pg_->connection_config(), sql);
  }

  void maria_exec(const std::string& sql) {
    auto r = db_->exec(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
  }
  void pg_exec(const std::string& sql) {
    auto r = pg_->exec(sql);
    ASSERT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
  }

  std::unique_ptr<MariaDbServer> db_;
  std::unique_ptr<PostgresServer> pg_;
};

TEST_F(CdcMirrorTest, MariaDbToPostgresAndPostgresToMariaDbStayEqual) {
  TempDir dir("rmqc_cdc_mirror");
  write_file(dir / "worker.conf", worker_conf(dir / "store", "offsetCommitIntervalMsConfig=500\n"));

  // --- the sources, with rows before the connectors start (the snapshot) ------------------------
  maria_exec("CREATE DATABASE inventory");
  maria_exec(
      "CREATE TABLE inventory.customers (id INT PRIMARY KEY, name VARCHAR(64) NOT NULL, email "
      "VARCHAR(128), balance DECIMAL(10,2), born DATE, updated DATETIME(3))");
  std::string values;
  for (int i = 1; i <= 50; ++i) {
    if (i > 1) values += ",";
    values += "(" + std::to_string(i) + ",'name-" + std::to_string(i) + "'," +
              (i % 7 == 0 ? std::string("NULL") : "'c" + std::to_string(i) + "@example.com'") +
              "," + std::to_string(i * 101) + "." + std::to_string(10 + i % 90) + ",'19" +
              std::to_string(50 + i % 50) + "-0" + std::to_string(1 + i % 9) + "-1" +
              std::to_string(i % 10) + "','2024-02-29 12:00:0" + std::to_string(i % 10) + "." +
              std::to_string(100 + i) + "')";
  }
  maria_exec("INSERT INTO inventory.customers VALUES " + values);

  pg_exec("CREATE SCHEMA mirror");
  pg_exec(
      "CREATE TABLE mirror.orders (id INT PRIMARY KEY, customer INT NOT NULL, item TEXT, "
      "quantity SMALLINT, price NUMERIC(8,3), placed TIMESTAMP(3))");
  pg_exec(
      "INSERT INTO mirror.orders SELECT g, g % 17, 'item-' || g, (g % 5)::smallint, g * 1.125, "
      "TIMESTAMP '2024-01-01 00:00:00' + g * INTERVAL '61.5 seconds' FROM generate_series(1, 40) "
      "g");

  auto w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(dir / "worker.conf", {}, dir / "worker.log")) << w->error();

  // A user with what docs/connectors/cdc-mysql.md asks for, and nothing more.
  maria_exec("CREATE USER 'cdc'@'%' IDENTIFIED BY 'cdc-secret'");
  maria_exec(
      "GRANT SELECT, RELOAD, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, BINLOG MONITOR ON *.* "
      "TO 'cdc'@'%'");
  Json maria_cdc = common_source(db_->host(), db_->port(), "cdc", "cdc-secret", "dbserver1");
  maria_cdc["connector.class"] = "DebeziumMysqlConnector";
  maria_cdc["database.server.id"] = "5401";
  maria_cdc["database.include.list"] = "inventory";
  auto r = w->post("/connectors/customers-cdc", maria_cdc.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  r = w->post("/connectors/customers-mirror",
              mirror_sink(pg_->url(), pg_->user(), pg_->password(), "dbserver1_inventory_customers",
                          "mirror_customers")
                  .dump());
  ASSERT_EQ(r.status, 200) << r.body;

  Json pg_cdc = common_source(pg_->host(), pg_->port(), pg_->user(), pg_->password(), "pgsrv");
  pg_cdc["connector.class"] = "DebeziumPostgresConnector";
  pg_cdc["database.dbname"] = pg_->database();
  pg_cdc["schema.include.list"] = "mirror";
  pg_cdc["slot.name"] = "mirror_slot";
  pg_cdc["publication.autocreate.mode"] = "filtered";
  r = w->post("/connectors/orders-cdc", pg_cdc.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  r = w->post("/connectors/orders-mirror", mirror_sink(db_->url(), db_->user(), db_->password(),
                                                       "pgsrv_mirror_orders", "orders_copy")
                                               .dump());
  ASSERT_EQ(r.status, 200) << r.body;

  // Same text on both sides: temporal values to the millisecond, decimals at their scale.
  const std::string maria_customers =
      "SELECT id, name, email, CAST(balance AS CHAR), CAST(born AS CHAR), "
      "DATE_FORMAT(updated, '%Y-%m-%d %H:%i:%s.%f') FROM inventory.customers";
  const std::string pg_customers =
      "SELECT id::text, name, email, balance::text, born::text, "
      "to_char(updated, 'YYYY-MM-DD HH24:MI:SS.US') FROM mirror_customers";
  const std::string pg_orders =
      "SELECT id::text, customer::text, item, quantity::text, price::text, "
      "to_char(placed, 'YYYY-MM-DD HH24:MI:SS.US') FROM mirror.orders";
  const std::string maria_orders =
      "SELECT id, customer, item, quantity, CAST(price AS CHAR), DATE_FORMAT(placed, "
      "'%Y-%m-%d %H:%i:%s.%f') FROM " +
      db_->database() + ".orders_copy";

  auto equal = [&](const std::string& source_sql, bool source_maria, const std::string& mirror_sql,
                   std::string* why) {
    auto a = source_maria ? maria(source_sql) : postgres(source_sql);
    auto b = source_maria ? postgres(mirror_sql) : maria(mirror_sql);
    if (a.ok() && b.ok() && *a == *b) return true;
    if (why) *why = "source: " + describe(a) + "\nmirror: " + describe(b);
    return false;
  };
  auto wait_equal = [&](const char* what) {
    std::string why;
    EXPECT_TRUE(
        eventually([&] { return equal(maria_customers, true, pg_customers, &why); }, 60s, 300ms))
        << what << ": customers mirror differs\n"
        << why << "\n"
        << w->status("customers-cdc") << w->status("customers-mirror") << "\nworker log:\n"
        << w->log_tail(6000);
    EXPECT_TRUE(eventually([&] { return equal(pg_orders, false, maria_orders, &why); }, 60s, 300ms))
        << what << ": orders mirror differs\n"
        << why << "\n"
        << w->status("orders-cdc") << w->status("orders-mirror") << "\nworker log:\n"
        << w->log_tail(6000);
  };

  // --- 1. the snapshots -------------------------------------------------------------------------
  wait_equal("after the snapshot");
  if (HasFailure()) return;

  // --- 2. streaming: inserts, updates (key kept and NULLs both ways), deletes ------------------
  maria_exec(
      "INSERT INTO inventory.customers VALUES (51, 'late', 'late@example.com', 0.05, "
      "'2000-02-29', '2024-12-31 23:59:59.999'), (52, 'later', NULL, NULL, NULL, NULL)");
  maria_exec("UPDATE inventory.customers SET email = NULL, balance = balance + 1 WHERE id <= 10");
  maria_exec("UPDATE inventory.customers SET email = 'back@example.com' WHERE id = 7");
  maria_exec("DELETE FROM inventory.customers WHERE id IN (3, 30, 52)");
  pg_exec("INSERT INTO mirror.orders VALUES (41, 1, 'new', 9, 99.999, '2024-06-01 10:11:12.345')");
  pg_exec("UPDATE mirror.orders SET item = NULL, quantity = quantity + 1 WHERE id % 4 = 0");
  pg_exec("DELETE FROM mirror.orders WHERE id IN (2, 20, 41)");
  wait_equal("after the stream of changes");
  if (HasFailure()) return;

  // --- 3. a clean restart of the worker; changes made while it is down arrive -------------------
  w->stop();
  maria_exec("UPDATE inventory.customers SET name = 'renamed' WHERE id = 1");
  maria_exec("DELETE FROM inventory.customers WHERE id = 2");
  pg_exec("INSERT INTO mirror.orders VALUES (42, 2, 'while down', 1, 1.5, NULL)");
  ASSERT_TRUE(w->start(dir / "worker.conf", {}, dir / "worker-2.log")) << w->error();
  wait_equal("after a restart");

  if (HasFailure()) return;

  // --- 4. kill -9 while both databases change ---------------------------------------------------
  // Single-row updates: each is exactly one event, so the topics' growth counts duplicates.
  const std::string customers_topic = "dbserver1_inventory_customers";
  const std::string orders_topic = "pgsrv_mirror_orders";
  const long long customers_before = topic_messages(w->namesrv(), customers_topic);
  const long long orders_before = topic_messages(w->namesrv(), orders_topic);
  ASSERT_GT(customers_before, 0);
  ASSERT_GT(orders_before, 0);
  constexpr int kUpdates = 300;
  std::atomic<int> done{0};
  std::string writer_error;
  std::thread writer([&] {
    for (int i = 0; i < kUpdates; ++i) {
      const std::string n = std::to_string(i);
      auto a = db_->exec("UPDATE inventory.customers SET balance = " + n + ".25, name = 'u" + n +
                         "' WHERE id = " + std::to_string(10 + i % 20));
      auto b = pg_->exec("UPDATE mirror.orders SET quantity = " + std::to_string(i % 30000) +
                         ", item = 'u" + n + "' WHERE id = " + std::to_string(3 + i % 15));
      if (!a.ok() || !b.ok()) {
        writer_error = (a.ok() ? b.error() : a.error()).to_string();
        break;
      }
      done = i + 1;
      std::this_thread::sleep_for(5ms);
    }
  });
  ASSERT_TRUE(eventually([&] { return done.load() >= kUpdates / 3; }, 60s, 10ms));
  const long long customers_at_kill = topic_messages(w->namesrv(), customers_topic);
  w->kill9();
  writer.join();
  ASSERT_TRUE(writer_error.empty()) << writer_error;
  ASSERT_TRUE(w->start(dir / "worker.conf", {}, dir / "worker-3.log")) << w->error();
  wait_equal("after a kill -9 mid-stream");
  const long long customers_dups =
      topic_messages(w->namesrv(), customers_topic) - customers_before - kUpdates;
  const long long orders_dups =
      topic_messages(w->namesrv(), orders_topic) - orders_before - kUpdates;
  std::printf(
      "kill -9: %d updates per database; duplicate events: MariaDB %lld, PostgreSQL %lld "
      "(MariaDB events in the topic at the kill: %lld)\n",
      kUpdates, customers_dups, orders_dups, customers_at_kill - customers_before);
  // Nothing lost (the mirrors are equal, and every update is in the topic at least once) ...
  EXPECT_GE(customers_dups, 0);
  EXPECT_GE(orders_dups, 0);
  // ... and no more duplicates than events that could have been uncommitted at the kill.
  EXPECT_LE(customers_dups, customers_at_kill - customers_before);
  EXPECT_LE(orders_dups, kUpdates);

  for (const char* c : {"customers-cdc", "customers-mirror", "orders-cdc", "orders-mirror"}) {
    EXPECT_TRUE(w->all_in(c, "RUNNING")) << w->status(c);
  }
}

}  // namespace
}  // namespace rmqc::itest
