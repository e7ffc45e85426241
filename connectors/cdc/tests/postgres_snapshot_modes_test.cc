// The PostgreSQL CDC connector's snapshot.mode against the shared private PostgreSQL: `always`
// snapshots again at a restart even though the slot and a committed position exist, and the
// old name `never` (Debezium's deprecated name of `no_data`) streams from the new slot without
// reading any row.

#include "rmqc/api/struct.h"

#include "cdc/postgres/postgres_cdc_connector.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::connectors::cdc::postgres {
namespace {

using jdbc::testing::PostgresServer;
using Clock = std::chrono::steady_clock;

PostgresServer* server() {
  return PostgresServer::shared();
}

void sql(const std::string& text) {
  auto r = server()->exec(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
}

KeyValue config(const std::string& name, const std::string& mode) {
  KeyValue c;
  c.put("database.hostname", server()->host());
  c.put("database.port", std::to_string(server()->port()));
  c.put("database.user", server()->user());
  c.put("database.password", server()->password());
  c.put("database.dbname", server()->database());
  c.put("topic.prefix", "srv");
  c.put("slot.name", name);
  c.put("publication.name", name + "_pub");
  c.put("publication.autocreate.mode", "filtered");
  c.put("schema.include.list", name);
  c.put("snapshot.mode", mode);
  c.put("tombstones.on.delete", "false");
  c.put("poll.interval.ms", "50");
  c.put("status.update.interval.ms", "100");
  c.put("connect.backoff.max.ms", "1000");
  c.put("slot.drop.on.stop", "true");  // the test server's slots are shared by every test
  return c;
}

struct TaskRun {
  explicit TaskRun(const KeyValue& config, std::optional<RecordOffset> offset = std::nullopt) {
    ctx.config = config;
    if (offset)
      ctx.reader.offsets[RecordPartition{{"server", Value(std::string("srv"))}}] = *offset;
    task.init(ctx);
    task.start(config);
  }
  ~TaskRun() { task.stop(); }

  // Polls until n data records arrived (60 s at most); heartbeats are left out.
  std::vector<ConnectRecord> poll_n(std::size_t n) {
    std::vector<ConnectRecord> out;
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (out.size() < n && Clock::now() < deadline) {
      for (auto& r : task.poll()) {
        if (!r.topic().starts_with("__debezium-heartbeat")) out.push_back(std::move(r));
      }
    }
    EXPECT_EQ(out.size(), n) << "records before the deadline";
    return out;
  }
  // Polls until the slot exists: changes from then on are streamed. No data record may come.
  void wait_slot(const std::string& slot) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    const std::string check =
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_replication_slots "
        "WHERE slot_name = '" +
        slot + "') THEN RAISE EXCEPTION 'no slot'; END IF; END $$";
    bool found = false;
    while (!found && Clock::now() < deadline) {
      for (auto& r : task.poll()) {
        if (!r.topic().starts_with("__debezium-heartbeat")) {
          ADD_FAILURE() << "a data record before streaming started: " << r.topic();
        }
      }
      found = server()->exec(check).ok();
    }
    EXPECT_TRUE(found) << "replication slot " << slot << " was not created";
  }

  testing::FakeSourceContext ctx;
  PostgresCdcTask task;
};

// "op:id" of each record.
std::vector<std::string> ops(const std::vector<ConnectRecord>& records) {
  std::vector<std::string> out;
  for (const auto& r : records) {
    const Struct& e = r.value.as_struct();
    const std::string op = e.get_string("op");
    const Struct& row = op == "d" ? e.get_struct("before") : e.get_struct("after");
    out.push_back(op + ":" + std::to_string(row.get("id").as_int32()));
  }
  return out;
}

TEST(PostgresSnapshotModes, AlwaysSnapshotsAgainOverAnExistingSlotAndACommittedPosition) {
  ASSERT_NE(server(), nullptr);
  sql("DROP SCHEMA IF EXISTS alw CASCADE; CREATE SCHEMA alw;"
      "CREATE TABLE alw.t (id int PRIMARY KEY, v text); INSERT INTO alw.t VALUES (1, 'a'), (2, "
      "'b')");
  KeyValue keep = config("alw", "always");
  keep.put("slot.drop.on.stop", "false");  // the restart finds the slot
  std::optional<RecordOffset> committed;
  {
    TaskRun first(keep);
    EXPECT_EQ(ops(first.poll_n(2)), (std::vector<std::string>{"r:1", "r:2"}));
    sql("INSERT INTO alw.t VALUES (3, 'c')");
    auto streamed = first.poll_n(1);
    ASSERT_EQ(ops(streamed), (std::vector<std::string>{"c:3"}));
    first.task.commit(streamed[0], RecordMetadata{});
    first.task.commit();
    committed = streamed[0].position.offset;
  }
  sql("DELETE FROM alw.t WHERE id = 2; INSERT INTO alw.t VALUES (4, 'd')");
  // always: the table as it is now, read again, then the stream (the delete and the insert made
  // while the task was down are in the snapshot, not streamed again).
  TaskRun again(config("alw", "always"), committed);
  auto reads = again.poll_n(3);
  EXPECT_EQ(ops(reads), (std::vector<std::string>{"r:1", "r:3", "r:4"}));
  for (const auto& r : reads) {
    EXPECT_NE(r.value.as_struct().get_struct("source").get_string("snapshot"), "false");
  }
  sql("UPDATE alw.t SET v = 'x' WHERE id = 1");
  EXPECT_EQ(ops(again.poll_n(1)), (std::vector<std::string>{"u:1"}));
}

TEST(PostgresSnapshotModes, OldNameNeverStreamsFromTheNewSlotWithoutReads) {
  ASSERT_NE(server(), nullptr);
  sql("DROP SCHEMA IF EXISTS nev CASCADE; CREATE SCHEMA nev;"
      "CREATE TABLE nev.t (id int PRIMARY KEY, v text); INSERT INTO nev.t VALUES (1, 'a')");
  TaskRun run(config("nev", "never"));
  run.wait_slot("nev");  // row 1 is never read
  sql("INSERT INTO nev.t VALUES (2, 'b'); DELETE FROM nev.t WHERE id = 1");
  EXPECT_EQ(ops(run.poll_n(2)), (std::vector<std::string>{"c:2", "d:1"}));
}

}  // namespace
}  // namespace rmqc::connectors::cdc::postgres
