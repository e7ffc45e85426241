// The MySQL CDC connector's snapshot.mode and snapshot.locking.mode against the shared private
// MariaDB: `always` snapshots again at a restart with a committed position, the old names
// `schema_only` and `schema_only_recovery` behave as `no_data` and `recovery`, and
// `snapshot.locking.mode`: `minimal` needs RELOAD (a user without it fails with what to change),
// `none` snapshots without any lock (and without RELOAD), `extended` snapshots completely.

#include "rmqc/api/errors.h"
#include "rmqc/api/struct.h"

#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "cdc/tests/cdc_test_support.h"
#include "cdc/tests/mysql_task_fixture.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::connectors::cdc {
namespace {

using jdbc::testing::MariaDbServer;

class MysqlSnapshotModesTest : public cdc_test::MysqlTaskTest {
 protected:
  void SetUp() override {
    open_database("cdcm_", 24);  // the topic stays below 127 characters
    prefix_ = "srv";
    sql("CREATE TABLE " + db_ + ".t (id INT PRIMARY KEY, v VARCHAR(20))");
    sql("INSERT INTO " + db_ + ".t VALUES (1, 'a'), (2, 'b')");
  }

  KeyValue config(std::initializer_list<KeyValue::Map::value_type> extra = {}) {
    KeyValue c{{"database.hostname", srv_->host()}, {"database.port", std::to_string(srv_->port())},
               {"database.user", srv_->user()},     {"database.password", srv_->password()},
               {"topic.prefix", prefix_},           {"database.include.list", db_},
               {"include.schema.changes", "false"}, {"tombstones.on.delete", "false"},
               {"poll.interval.ms", "50"},          {"connect.backoff.max.ms", "500"}};
    for (const auto& [k, v] : extra) c.put(k, v);
    return c;
  }

  // Polls until n records of the table's topic arrived (60 s at most).
  std::vector<ConnectRecord> poll_n(MysqlCdcTask* task, std::size_t n) {
    std::vector<ConnectRecord> out;
    const std::string topic = prefix_ + "_" + db_ + "_t";
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
      for (auto& r : task->poll()) {
        if (r.topic() == topic) out.push_back(std::move(r));
      }
    }
    EXPECT_EQ(out.size(), n) << "records before the deadline";
    return out;
  }

  // "op:id" of each record, e.g. {"r:1", "r:2", "c:3"}.
  static std::vector<std::string> ops(const std::vector<ConnectRecord>& records) {
    std::vector<std::string> out;
    for (const auto& r : records) {
      const Struct& e = r.value.as_struct();
      const std::string op = e.get_string("op");
      const Struct& row = op == "d" ? e.get_struct("before") : e.get_struct("after");
      out.push_back(op + ":" + std::to_string(row.get_int32("id")));
    }
    return out;
  }
};

TEST_F(MysqlSnapshotModesTest, AlwaysSnapshotsAgainAtARestartWithACommittedPosition) {
  auto* first = start_task(config({{"snapshot.mode", "always"}}));
  EXPECT_EQ(ops(poll_n(first, 2)), (std::vector<std::string>{"r:1", "r:2"}));
  sql("INSERT INTO " + db_ + ".t VALUES (3, 'c')");
  auto streamed = poll_n(first, 1);
  ASSERT_EQ(ops(streamed), (std::vector<std::string>{"c:3"}));
  first->stop();
  const RecordOffset committed = streamed[0].position.offset;

  // initial with that position streams on: the snapshot is not taken again.
  sql("INSERT INTO " + db_ + ".t VALUES (4, 'd')");
  auto* initial = start_task(config(), committed);
  EXPECT_EQ(ops(poll_n(initial, 1)), (std::vector<std::string>{"c:4"}));
  initial->stop();

  // always with the same position: every row again as a read, then the stream from there on.
  auto* again = start_task(config({{"snapshot.mode", "always"}}), committed);
  auto reads = poll_n(again, 4);
  EXPECT_EQ(ops(reads), (std::vector<std::string>{"r:1", "r:2", "r:3", "r:4"}));
  for (const auto& r : reads) {
    EXPECT_NE(r.value.as_struct().get_struct("source").get_string("snapshot"), "false");
  }
  sql("UPDATE " + db_ + ".t SET v = 'x' WHERE id = 1");
  EXPECT_EQ(ops(poll_n(again, 1)), (std::vector<std::string>{"u:1"}));
}

TEST_F(MysqlSnapshotModesTest, OldNamesSchemaOnlyAndSchemaOnlyRecoveryStreamWithoutReads) {
  auto* schema_only =
      start_task(config({{"snapshot.mode", "schema_only"}, {"heartbeat.interval.ms", "100"}}));
  wait_streaming(schema_only);  // rows 1 and 2 are never read
  sql("INSERT INTO " + db_ + ".t VALUES (3, 'c')");
  auto streamed = poll_n(schema_only, 1);
  ASSERT_EQ(ops(streamed), (std::vector<std::string>{"c:3"}));
  schema_only->stop();

  // schema_only_recovery with a committed position: stream on from it, no reads.
  sql("DELETE FROM " + db_ + ".t WHERE id = 2");
  auto* recovery =
      start_task(config({{"snapshot.mode", "schema_only_recovery"}}), streamed[0].position.offset);
  EXPECT_EQ(ops(poll_n(recovery, 1)), (std::vector<std::string>{"d:2"}));
}

// Debezium's source.row: the row's index in its binlog rows event (a multi-row INSERT is one).
TEST_F(MysqlSnapshotModesTest, RowsOfOneBinlogEventAreNumberedInSourceRow) {
  auto* task = start_task(config({{"snapshot.mode", "no_data"}, {"heartbeat.interval.ms", "100"}}));
  wait_streaming(task);
  sql("INSERT INTO " + db_ + ".t VALUES (3, 'c'), (4, 'd'), (5, 'e')");
  auto records = poll_n(task, 3);
  ASSERT_EQ(ops(records), (std::vector<std::string>{"c:3", "c:4", "c:5"}));
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Struct& src = records[i].value.as_struct().get_struct("source");
    EXPECT_EQ(src.get_int32("row"), static_cast<std::int32_t>(i));
    EXPECT_FALSE(src.get_string("version").empty());
    EXPECT_EQ(src.get_string("name"), prefix_);
    EXPECT_EQ(src.get_int64("pos"),
              records[0].value.as_struct().get_struct("source").get_int64("pos"));
  }
}

TEST_F(MysqlSnapshotModesTest, LockingModeMinimalNeedsReloadNoneDoesNotExtendedIsComplete) {
  sql("CREATE USER IF NOT EXISTS 'cdc_noreload'@'%' IDENTIFIED BY 'pw'");
  sql("GRANT SELECT, SHOW DATABASES, LOCK TABLES, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO "
      "'cdc_noreload'@'%'");

  // minimal (the default) takes FLUSH TABLES WITH READ LOCK: refused without RELOAD.
  auto* minimal =
      start_task(config({{"database.user", "cdc_noreload"}, {"database.password", "pw"}}));
  const std::string refused = poll_failure(minimal);
  EXPECT_NE(refused.find("RELOAD"), std::string::npos) << refused;
  EXPECT_NE(refused.find("snapshot.locking.mode=none"), std::string::npos) << refused;

  // none: no lock; MariaDB gives the consistent snapshot's binlog position, so the snapshot
  // and the stream after it meet with no gap and no overlap.
  auto* none = start_task(config({{"database.user", "cdc_noreload"},
                                  {"database.password", "pw"},
                                  {"snapshot.locking.mode", "none"}}));
  EXPECT_EQ(ops(poll_n(none, 2)), (std::vector<std::string>{"r:1", "r:2"}));
  sql("INSERT INTO " + db_ + ".t VALUES (3, 'c')");
  EXPECT_EQ(ops(poll_n(none, 1)), (std::vector<std::string>{"c:3"}));
  none->stop();

  // extended holds the global read lock for the whole snapshot: complete, then streaming (the
  // lock is released: the insert after it commits and streams).
  auto* extended = start_task(config({{"snapshot.locking.mode", "extended"}}));
  EXPECT_EQ(ops(poll_n(extended, 3)), (std::vector<std::string>{"r:1", "r:2", "r:3"}));
  sql("INSERT INTO " + db_ + ".t VALUES (4, 'd')");
  EXPECT_EQ(ops(poll_n(extended, 1)), (std::vector<std::string>{"c:4"}));
}

}  // namespace
}  // namespace rmqc::connectors::cdc
