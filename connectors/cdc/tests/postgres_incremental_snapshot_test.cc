// Incremental snapshots of the PostgreSQL CDC connector against the private PostgreSQL of the
// CDC tests: chunks between watermarks while concurrent writes stream (folding every event per
// key gives the table's final content, and no read is older than a streamed change of its key),
// a restart mid-snapshot resuming where it stopped, and stop-snapshot.

#include "rmqc/api/struct.h"

#include "cdc/common/incremental_snapshot.h"
#include "cdc/postgres/postgres_cdc_connector.h"
#include "cdc/tests/cdc_test_support.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <iostream>
#include <libpq-fe.h>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::connectors::cdc::postgres {
namespace {

using jdbc::testing::PostgresServer;
using Clock = std::chrono::steady_clock;

PostgresServer& server() {
  return *PostgresServer::shared();
}

using cdc_test::fold;
using cdc_test::Folded;
using cdc_test::Table;

const Struct& envelope(const ConnectRecord& r) {
  return r.value.as_struct();
}

std::string conninfo() {
  return "host=" + server().host() + " port=" + std::to_string(server().port()) +
         " dbname=" + server().database() + " user=" + server().user() +
         " password=" + server().password();
}

// Every row of a query, as text.
std::vector<std::vector<std::string>> rows_of(const std::string& text) {
  std::vector<std::vector<std::string>> out;
  PGconn* conn = PQconnectdb(conninfo().c_str());
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* res = PQexec(conn, text.c_str());
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
      for (int r = 0; r < PQntuples(res); ++r) {
        std::vector<std::string> row;
        for (int c = 0; c < PQnfields(res); ++c) row.emplace_back(PQgetvalue(res, r, c));
        out.push_back(std::move(row));
      }
    } else {
      ADD_FAILURE() << PQresultErrorMessage(res);
    }
    PQclear(res);
  } else {
    ADD_FAILURE() << PQerrorMessage(conn);
  }
  PQfinish(conn);
  return out;
}

class PostgresIncrementalSnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    schema_ = std::string("inc_") + info->name();
    for (auto& c : schema_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    schema_ = schema_.substr(0, 40);
    sql("DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_ +
        "; CREATE TABLE " + schema_ +
        ".debezium_signal (id varchar(42) PRIMARY KEY, type varchar(32) NOT NULL, data text);"
        "CREATE TABLE " +
        schema_ + ".markers (id int PRIMARY KEY)");
  }

  void sql(const std::string& text) {
    auto r = server().exec(text);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }

  void create_table(const std::string& name, int rows) {
    sql("CREATE TABLE " + schema_ + "." + name +
        " (id int PRIMARY KEY, v bigint NOT NULL, note varchar(20));"
        "INSERT INTO " +
        schema_ + "." + name + " SELECT g, 0, 'n' || g FROM generate_series(1, " +
        std::to_string(rows) + ") g");
  }

  void signals(const std::vector<std::array<std::string, 3>>& rows) {
    std::string values;
    for (const auto& [id, type, data] : rows) {
      values += (values.empty() ? "('" : ", ('") + id + "', '" + type + "', '" + data + "')";
    }
    sql("INSERT INTO " + schema_ + ".debezium_signal VALUES " + values);
  }
  std::string execute(const std::vector<std::string>& tables) {
    std::string list;
    for (const auto& t : tables) list += (list.empty() ? "\"" : ", \"") + schema_ + "." + t + "\"";
    return "{\"data-collections\": [" + list + "], \"type\": \"incremental\"}";
  }

  Table content(const std::string& name) {
    Table out;
    for (const auto& row : rows_of("SELECT id, v, note FROM " + schema_ + "." + name)) {
      out[std::stoll(row[0])] = {std::stoll(row[1]), row[2]};
    }
    return out;
  }

  KeyValue config() {
    KeyValue c;
    c.put("database.hostname", server().host());
    c.put("database.port", std::to_string(server().port()));
    c.put("database.user", server().user());
    c.put("database.password", server().password());
    c.put("database.dbname", server().database());
    c.put("topic.prefix", "srv");
    c.put("slot.name", schema_);
    c.put("publication.name", schema_ + "_pub");
    c.put("publication.autocreate.mode", "filtered");
    c.put("schema.include.list", schema_);
    c.put("snapshot.mode", "no_data");
    c.put("signal.data.collection", schema_ + ".debezium_signal");
    c.put("incremental.snapshot.chunk.size", "50");
    c.put("poll.interval.ms", "50");
    c.put("status.update.interval.ms", "100");
    c.put("connect.backoff.max.ms", "1000");
    c.put("slot.drop.on.stop", "true");
    return c;
  }

  struct Run {
    Run(const KeyValue& config, std::optional<RecordOffset> offset) {
      if (offset)
        ctx.reader.offsets[RecordPartition{{"server", Value(std::string("srv"))}}] = *offset;
      ctx.config = config;
      task.init(ctx);
      task.start(config);
    }
    ~Run() { task.stop(); }
    testing::FakeSourceContext ctx;
    PostgresCdcTask task;
  };

  std::unique_ptr<Run> start(const KeyValue& c, std::optional<RecordOffset> offset = {}) {
    auto run = std::make_unique<Run>(c, std::move(offset));
    // Changes count once the slot exists.
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (
        Clock::now() < deadline &&
        rows_of("SELECT 1 FROM pg_replication_slots WHERE slot_name = '" + schema_ + "'").empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return run;
  }

  std::string topic(const std::string& table) const { return "srv_" + schema_ + "_" + table; }

  // Inserts a marker row and polls (data records into *out, the whole poll kept) until its event
  // arrived; returns whether its offset still carries a running incremental snapshot.
  bool poll_past_marker(PostgresCdcTask& task, std::vector<ConnectRecord>* out) {
    const int id = ++markers_;
    sql("INSERT INTO " + schema_ + ".markers VALUES (" + std::to_string(id) + ")");
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    std::optional<bool> running;
    while (!running && Clock::now() < deadline) {
      for (auto& r : task.poll()) {
        if (r.topic().starts_with("__debezium-heartbeat")) continue;
        if (r.topic() == topic("markers")) {
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
  void poll_until_snapshot_done(PostgresCdcTask& task, std::vector<ConnectRecord>* out) {
    for (int i = 0; i < 600; ++i) {
      if (!poll_past_marker(task, out)) return;
    }
    ADD_FAILURE() << "the incremental snapshot did not end";
  }

  std::string schema_;
  int markers_ = 0;
};

TEST_F(PostgresIncrementalSnapshotTest, ChunksWhileWritesStreamFoldToTheFinalTable) {
  constexpr int kRows = 2000;
  create_table("items", kRows);
  auto run = start(config());
  std::vector<ConnectRecord> events;
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    // One connection, one transaction per statement.
    PGconn* conn = PQconnectdb(conninfo().c_str());
    std::mt19937 rng(11);
    std::int64_t counter = 0;
    const std::string t = schema_ + ".items";
    for (int i = 0; i < 400; ++i) {
      const int id = static_cast<int>(rng() % (kRows + 200)) + 1;
      std::string statement;
      switch (rng() % 4) {
        case 0:
          statement = "DELETE FROM " + t + " WHERE id = " + std::to_string(id);
          break;
        case 1:
          statement = "INSERT INTO " + t + " VALUES (" + std::to_string(id) + ", " +
                      std::to_string(++counter) + ", 'ins') ON CONFLICT DO NOTHING";
          break;
        default:
          statement = "UPDATE " + t + " SET v = " + std::to_string(++counter) +
                      ", note = 'upd' WHERE id = " + std::to_string(id);
          break;
      }
      PQclear(PQexec(conn, statement.c_str()));
    }
    PQfinish(conn);
    writing = false;
  });
  signals({{"sig-1", "execute-snapshot", execute({"items"})}});
  while (writing) {
    for (auto& r : run->task.poll()) events.push_back(std::move(r));
  }
  writer.join();
  poll_until_snapshot_done(run->task, &events);
  for (const auto& r : events) {
    EXPECT_NE(r.topic(), topic("debezium_signal")) << "a signal row was emitted";
  }
  const Folded f = fold(events, topic("items"));
  EXPECT_EQ(f.stale_reads, 0);
  EXPECT_GT(f.reads, kRows / 2);
  EXPECT_EQ(f.table, content("items"));
  std::cout << "reads " << f.reads << " of " << kRows << " rows, " << events.size() << " events\n";
}

TEST_F(PostgresIncrementalSnapshotTest, RestartMidSnapshotResumesAfterTheCommittedKey) {
  constexpr int kRows = 1500;
  create_table("items", kRows);
  KeyValue c = config();
  c.put("max.batch.size", "100");
  c.put("slot.drop.on.stop", "false");  // the second run streams on from the same slot
  auto run = start(c);
  signals({{"sig-1", "execute-snapshot", execute({"items"})}});
  std::vector<ConnectRecord> first;
  std::int64_t reads = 0;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (reads < 400 && Clock::now() < deadline) {
    for (auto& r : run->task.poll()) {
      if (r.topic() == topic("items")) ++reads;
      first.push_back(std::move(r));
    }
  }
  ASSERT_GE(reads, 400);
  ASSERT_LT(reads, kRows) << "the snapshot ended before the restart";
  const RecordOffset committed = first.back().position.offset;
  ASSERT_NE(committed.find(kIncrementalCollectionsField), nullptr);
  run.reset();
  sql("UPDATE " + schema_ + ".items SET v = 99, note = 'down' WHERE id = " + std::to_string(kRows));

  auto again = start(config(), committed);
  std::vector<ConnectRecord> second;
  poll_until_snapshot_done(again->task, &second);
  const Folded f2 = fold(second, topic("items"));
  EXPECT_LE(f2.reads, kRows - reads + 50);
  std::vector<ConnectRecord> all = first;
  all.insert(all.end(), second.begin(), second.end());
  Folded f = fold(all, topic("items"));
  EXPECT_EQ(f.table, content("items"));
  EXPECT_EQ(f.table[kRows].second, "down");
  EXPECT_EQ(f.stale_reads, 0);
  std::cout << "first run " << reads << " reads, second run " << f2.reads << " reads of " << kRows
            << " rows\n";
}

TEST_F(PostgresIncrementalSnapshotTest, KeylessTableBySurrogateKeyWhileWritesStream) {
  constexpr int kRows = 300;
  const std::string t = schema_ + ".nokey";
  sql("CREATE TABLE " + t +
      " (id int UNIQUE, v bigint NOT NULL, note varchar(20));"
      "ALTER TABLE " +
      t + " REPLICA IDENTITY FULL; INSERT INTO " + t +
      " SELECT g, 0, 'n' || g FROM generate_series(1, " + std::to_string(kRows) + ") g");
  auto run = start(config());
  std::vector<ConnectRecord> events;
  std::atomic<bool> writing{true};
  std::thread writer([&] {
    PGconn* conn = PQconnectdb(conninfo().c_str());
    std::mt19937 rng(5);
    for (int i = 1; i <= 150; ++i) {
      const std::string id = std::to_string(rng() % (kRows + 20) + 1);
      const std::string statement =
          rng() % 5 == 0
              ? "DELETE FROM " + t + " WHERE id = " + id
              : "UPDATE " + t + " SET v = " + std::to_string(i) + ", note = 'upd' WHERE id = " + id;
      PQclear(PQexec(conn, statement.c_str()));
    }
    PQfinish(conn);
    writing = false;
  });
  signals({{"sig-1", "execute-snapshot",
            "{\"data-collections\": [\"" + t +
                "\"], \"type\": \"incremental\", "
                "\"surrogate-key\": \"id\"}"}});
  while (writing) {
    for (auto& r : run->task.poll()) events.push_back(std::move(r));
  }
  writer.join();
  poll_until_snapshot_done(run->task, &events);
  const Folded f = fold(events, topic("nokey"));
  EXPECT_EQ(f.stale_reads, 0);
  EXPECT_GT(f.reads, 0);
  EXPECT_EQ(f.table, content("nokey"));
}

TEST_F(PostgresIncrementalSnapshotTest, StopSnapshotAndTablesItCannotRead) {
  create_table("a", 120);
  create_table("b", 80);
  sql("CREATE TABLE " + schema_ + ".nokey (v int); INSERT INTO " + schema_ + ".nokey VALUES (1)");
  KeyValue c = config();
  c.put("notification.enabled.channels", "sink");
  c.put("notification.sink.topic.name", "cdc_notes");
  auto run = start(c);
  std::vector<ConnectRecord> events;
  signals(
      {{"sig-1", "execute-snapshot", execute({"nokey", "a", "missing", "b", "debezium_signal"})},
       {"sig-2", "stop-snapshot", execute({"b"})},
       {"sig-3", "execute-snapshot", "{not json"}});
  poll_until_snapshot_done(run->task, &events);
  EXPECT_EQ(fold(events, topic("a")).reads, 120);
  EXPECT_EQ(fold(events, topic("a")).table, content("a"));
  EXPECT_EQ(fold(events, topic("b")).reads, 0);
  EXPECT_EQ(fold(events, topic("nokey")).reads, 0);
  for (const auto& r : events) {
    EXPECT_NE(r.topic(), topic("debezium_signal")) << "the signal table was snapshotted";
  }

  cdc_test::expect_scan_outcomes(events, "cdc_notes", schema_);

  events.clear();
  signals({{"sig-4", "execute-snapshot", execute({"a", "b"})},
           {"sig-5", "stop-snapshot", "{\"type\": \"incremental\"}"}});
  EXPECT_FALSE(poll_past_marker(run->task, &events));
  EXPECT_EQ(fold(events, topic("a")).reads + fold(events, topic("b")).reads, 0);
}

}  // namespace
}  // namespace rmqc::connectors::cdc::postgres
