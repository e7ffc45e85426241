// Incremental snapshots of the MySQL CDC connector against a private MariaDB: the signal table,
// chunks between watermarks while concurrent writes stream (folding every event per key gives
// the table's final content, and no read is older than a streamed change of its key), a
// restart mid-snapshot resuming where it stopped, and stop-snapshot / pause-snapshot /
// resume-snapshot.

#include "rmqc/api/struct.h"

#include "cdc/common/incremental_snapshot.h"
#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "cdc/tests/cdc_test_support.h"
#include "cdc/tests/mysql_task_fixture.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <mysql.h>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::connectors::cdc {
namespace {

using jdbc::testing::MariaDbServer;
using Clock = std::chrono::steady_clock;

using cdc_test::fold;
using cdc_test::Folded;
using cdc_test::Table;

const Struct& envelope(const ConnectRecord& r) {
  return r.value.as_struct();
}

class MysqlIncrementalSnapshotTest : public cdc_test::MysqlTaskTest {
 protected:
  void SetUp() override {
    open_database("inc_", 64);
    sql("CREATE TABLE " + db_ +
        ".debezium_signal (id VARCHAR(42) PRIMARY KEY, type VARCHAR(32) NOT NULL, data TEXT)");
  }

  void create_table(const std::string& name, int rows) {
    sql("CREATE TABLE " + db_ + "." + name +
        " (id INT PRIMARY KEY, v BIGINT NOT NULL, note VARCHAR(20))");
    for (int start = 1; start <= rows; start += 500) {
      std::string stmt = "INSERT INTO " + db_ + "." + name + " VALUES ";
      for (int id = start; id < start + 500 && id <= rows; ++id) {
        stmt += std::string(id == start ? "" : ",") + "(" + std::to_string(id) + ", 0, 'n" +
                std::to_string(id) + "')";
      }
      sql(stmt);
    }
  }

  // Signals in one statement (one transaction): the reader sees them before any watermark it
  // writes in reaction to the first.
  void signals(const std::vector<std::array<std::string, 3>>& rows) {
    std::string values;
    for (const auto& [id, type, data] : rows) {
      values += (values.empty() ? "('" : ", ('") + id + "', '" + type + "', '" + data + "')";
    }
    sql("INSERT INTO " + db_ + ".debezium_signal VALUES " + values);
  }
  void signal(const std::string& id, const std::string& type, const std::string& data) {
    signals({{id, type, data}});
  }
  std::string execute(const std::vector<std::string>& tables) {
    std::string list;
    for (const auto& t : tables) list += (list.empty() ? "\"" : ", \"") + db_ + "." + t + "\"";
    return "{\"data-collections\": [" + list + "], \"type\": \"incremental\"}";
  }

  // The table's content, read over TCP.
  Table content(const std::string& name) {
    Table out;
    MYSQL* m = mysql_init(nullptr);
    unsigned protocol = MYSQL_PROTOCOL_TCP;
    mysql_optionsv(m, MYSQL_OPT_PROTOCOL, &protocol);
    if (mysql_real_connect(m, srv_->host().c_str(), srv_->user().c_str(), srv_->password().c_str(),
                           db_.c_str(), static_cast<unsigned>(srv_->port()), nullptr,
                           0) == nullptr) {
      ADD_FAILURE() << mysql_error(m);
      mysql_close(m);
      return out;
    }
    const std::string q = "SELECT id, v, note FROM " + name;
    if (mysql_query(m, q.c_str()) == 0) {
      if (MYSQL_RES* res = mysql_store_result(m)) {
        while (MYSQL_ROW row = mysql_fetch_row(res)) {
          out[std::atoll(row[0])] = {std::atoll(row[1]), row[2] ? row[2] : ""};
        }
        mysql_free_result(res);
      }
    } else {
      ADD_FAILURE() << mysql_error(m);
    }
    mysql_close(m);
    return out;
  }

  KeyValue config(std::initializer_list<KeyValue::Map::value_type> extra = {}) {
    KeyValue c{{"database.hostname", srv_->host()},
               {"database.port", std::to_string(srv_->port())},
               {"database.user", srv_->user()},
               {"database.password", srv_->password()},
               {"topic.prefix", prefix_},
               {"database.include.list", db_},
               {"snapshot.mode", "no_data"},
               {"signal.data.collection", db_ + ".debezium_signal"},
               {"incremental.snapshot.chunk.size", "50"},
               {"poll.interval.ms", "50"},
               {"connect.backoff.max.ms", "500"},
               {"heartbeat.interval.ms", "100"}};
    for (const auto& [k, v] : extra) c.put(k, v);
    return c;
  }

  // Inserts a marker row into table `markers` and polls (data records into *out) until its
  // create event arrived; returns whether that event's offset still carries a running
  // incremental snapshot.
  bool poll_past_marker(MysqlCdcTask* task, std::vector<ConnectRecord>* out) {
    const int id = ++markers_;
    sql("INSERT INTO " + db_ + ".markers VALUES (" + std::to_string(id) + ")");
    const std::string topic = prefix_ + "_" + db_ + "_markers";
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::optional<bool> running;
    while (!running && Clock::now() < deadline) {
      // The whole poll is kept: records after the marker belong to the caller too.
      for (auto& r : task->poll()) {
        if (r.topic().starts_with("__debezium-heartbeat")) continue;
        if (r.topic() == topic) {
          if (envelope(r).get_struct("after").get("id").as_int32() == id) {
            running = r.position.offset.find(kIncrementalCollectionsField) != nullptr;
          }
          continue;
        }
        out->push_back(std::move(r));
      }
    }
    if (running) return *running;
    ADD_FAILURE() << "marker " << id << " did not arrive";
    return false;
  }

  // Polls until the incremental snapshot is over (a marker's offset no longer carries it).
  void poll_until_snapshot_done(MysqlCdcTask* task, std::vector<ConnectRecord>* out) {
    for (int i = 0; i < 600; ++i) {
      if (!poll_past_marker(task, out)) return;
    }
    ADD_FAILURE() << "the incremental snapshot did not end";
  }

  int markers_ = 0;
};

TEST_F(MysqlIncrementalSnapshotTest, ChunksWhileWritesStreamFoldToTheFinalTable) {
  constexpr int kRows = 2000;
  create_table("items", kRows);
  sql("CREATE TABLE " + db_ + ".markers (id INT PRIMARY KEY)");
  auto* task = start_task(config());
  std::vector<ConnectRecord> events;
  wait_streaming(task, &events);

  // Updates (v from one growing counter), deletes and inserts on random keys while the snapshot
  // runs.
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    std::mt19937 rng(7);
    std::int64_t counter = 0;
    for (int i = 0; i < 400; ++i) {
      const int id = static_cast<int>(rng() % (kRows + 200)) + 1;
      const std::string t = db_ + ".items";
      switch (rng() % 4) {
        case 0:
          (void)srv_->exec("DELETE FROM " + t + " WHERE id = " + std::to_string(id));
          break;
        case 1:
          (void)srv_->exec("INSERT IGNORE INTO " + t + " VALUES (" + std::to_string(id) + ", " +
                           std::to_string(++counter) + ", 'ins')");
          break;
        default:
          (void)srv_->exec("UPDATE " + t + " SET v = " + std::to_string(++counter) +
                           ", note = 'upd' WHERE id = " + std::to_string(id));
          break;
      }
    }
    writing = false;
  });
  signal("sig-1", "execute-snapshot", execute({"items"}));
  while (writing) {
    for (auto& r : task->poll()) events.push_back(std::move(r));
  }
  writer.join();
  poll_until_snapshot_done(task, &events);

  for (const auto& r : events) {
    EXPECT_NE(r.topic(), topic("debezium_signal")) << "a signal row was emitted";
  }
  const Folded f = fold(events, topic("items"));
  EXPECT_EQ(f.stale_reads, 0);
  EXPECT_GT(f.reads, kRows / 2);
  EXPECT_EQ(f.table, content("items"));
  std::cout << "reads " << f.reads << " of " << kRows << " rows, " << events.size() << " events\n";
}

TEST_F(MysqlIncrementalSnapshotTest, RestartMidSnapshotResumesAfterTheCommittedKey) {
  constexpr int kRows = 1500;
  create_table("items", kRows);
  sql("CREATE TABLE " + db_ + ".markers (id INT PRIMARY KEY)");
  auto* task = start_task(config({{"max.batch.size", "100"}}));
  std::vector<ConnectRecord> first;
  wait_streaming(task, &first);
  signal("sig-1", "execute-snapshot", execute({"items"}));
  // The worker committed the offset of the last record it got after about 400 reads.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::int64_t reads = 0;
  while (reads < 400 && Clock::now() < deadline) {
    for (auto& r : task->poll()) {
      if (r.topic() == topic("items")) ++reads;
      first.push_back(std::move(r));
    }
  }
  ASSERT_GE(reads, 400);
  ASSERT_LT(reads, kRows) << "the snapshot ended before the restart";
  const RecordOffset committed = first.back().position.offset;
  ASSERT_NE(committed.find(kIncrementalCollectionsField), nullptr);
  task->stop();
  // A change while the task is down.
  sql("UPDATE " + db_ + ".items SET v = 99, note = 'down' WHERE id = " + std::to_string(kRows));

  auto* again = start_task(config(), committed);
  std::vector<ConnectRecord> second;
  poll_until_snapshot_done(again, &second);
  const Folded f2 = fold(second, topic("items"));
  // Resumed, not restarted: the second run reads what the first did not, give or take a chunk.
  EXPECT_LE(f2.reads, kRows - reads + 50);
  std::vector<ConnectRecord> all = first;
  all.insert(all.end(), second.begin(), second.end());
  Folded f = fold(all, topic("items"));
  const Table want = content("items");
  EXPECT_EQ(f.table.size(), want.size());
  for (const auto& [id, row] : want) {
    auto it = f.table.find(id);
    if (it == f.table.end()) {
      ADD_FAILURE() << "row " << id << " missing";
    } else {
      EXPECT_EQ(it->second, row) << "row " << id;
    }
  }
  EXPECT_EQ(f.table[kRows].second, "down");
  EXPECT_EQ(f.stale_reads, 0);
  std::cout << "first run " << reads << " reads, second run " << f2.reads << " reads of " << kRows
            << " rows\n";
}

TEST_F(MysqlIncrementalSnapshotTest, KeylessTableBySurrogateKeyWhileWritesStream) {
  constexpr int kRows = 300;
  const std::string t = db_ + ".nokey";
  sql("CREATE TABLE " + t + " (id INT UNIQUE, v BIGINT NOT NULL, note VARCHAR(20))");
  sql("CREATE TABLE " + db_ + ".markers (id INT PRIMARY KEY)");
  std::string rows;
  for (int id = 1; id <= kRows; ++id) {
    rows += (id == 1 ? "(" : ", (") + std::to_string(id) + ", 0, 'n" + std::to_string(id) + "')";
  }
  sql("INSERT INTO " + t + " VALUES " + rows);
  auto* task = start_task(config());
  std::vector<ConnectRecord> events;
  wait_streaming(task, &events);
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    std::mt19937 rng(5);
    for (int i = 1; i <= 150; ++i) {
      const std::string id = std::to_string(rng() % (kRows + 20) + 1);
      (void)srv_->exec(rng() % 5 == 0 ? "DELETE FROM " + t + " WHERE id = " + id
                                      : "UPDATE " + t + " SET v = " + std::to_string(i) +
                                            ", note = 'upd' WHERE id = " + id);
    }
    writing = false;
  });
  signal("sig-1", "execute-snapshot",
         "{\"data-collections\": [\"" + t +
             "\"], \"type\": \"incremental\", "
             "\"surrogate-key\": \"id\"}");
  while (writing) {
    for (auto& r : task->poll()) {
      if (!r.topic().starts_with("__debezium-heartbeat")) events.push_back(std::move(r));
    }
  }
  writer.join();
  poll_until_snapshot_done(task, &events);
  const Folded f = fold(events, topic("nokey"));
  EXPECT_EQ(f.stale_reads, 0);
  EXPECT_GT(f.reads, 0);
  EXPECT_EQ(f.table, content("nokey"));
}

TEST_F(MysqlIncrementalSnapshotTest, StopPauseResumeAndTablesItCannotRead) {
  create_table("a", 120);
  create_table("b", 80);
  create_table("c", 200);
  sql("CREATE TABLE " + db_ + ".nokey (v INT)");
  sql("INSERT INTO " + db_ + ".nokey VALUES (1)");
  sql("CREATE TABLE " + db_ + ".markers (id INT PRIMARY KEY)");
  auto* task = start_task(config(
      {{"notification.enabled.channels", "sink"}, {"notification.sink.topic.name", "cdc_notes"}}));
  std::vector<ConnectRecord> events;
  wait_streaming(task, &events);

  // b is stopped while still queued; a keyless table and a missing one are skipped; bad
  // signals are ignored.
  signals(
      {{"sig-1", "execute-snapshot", execute({"nokey", "a", "missing", "b", "debezium_signal"})},
       {"sig-2", "stop-snapshot", execute({"b"})},
       {"sig-3", "execute-snapshot", "{not json"},
       {"sig-4", "execute-snapshot", "{\"data-collections\": [\"x.y\"], \"type\": \"blocking\"}"}});
  poll_until_snapshot_done(task, &events);
  EXPECT_EQ(fold(events, topic("a")).reads, 120);
  EXPECT_EQ(fold(events, topic("a")).table, content("a"));
  EXPECT_EQ(fold(events, topic("b")).reads, 0);
  EXPECT_EQ(fold(events, topic("nokey")).reads, 0);
  for (const auto& r : events) {
    EXPECT_NE(r.topic(), topic("debezium_signal")) << "the signal table was snapshotted";
  }

  cdc_test::expect_scan_outcomes(events, "cdc_notes", db_);

  // Paused with the execute: the first chunk (read before the pause was seen) is all.
  events.clear();
  signals({{"sig-5", "execute-snapshot", execute({"c"})}, {"sig-6", "pause-snapshot", ""}});
  EXPECT_TRUE(poll_past_marker(task, &events)) << "the paused snapshot is kept in the offset";
  EXPECT_TRUE(poll_past_marker(task, &events));
  EXPECT_EQ(fold(events, topic("c")).reads, 50);
  signal("sig-7", "resume-snapshot", "");
  poll_until_snapshot_done(task, &events);
  EXPECT_EQ(fold(events, topic("c")).reads, 200);
  EXPECT_EQ(fold(events, topic("c")).table, content("c"));

  // Stopped as a whole: after the stop no read follows.
  events.clear();
  signals({{"sig-8", "execute-snapshot", execute({"a", "c"})},
           {"sig-9", "stop-snapshot", "{\"type\": \"incremental\"}"}});
  EXPECT_FALSE(poll_past_marker(task, &events));
  EXPECT_EQ(fold(events, topic("a")).reads + fold(events, topic("c")).reads, 0);
}

}  // namespace
}  // namespace rmqc::connectors::cdc
