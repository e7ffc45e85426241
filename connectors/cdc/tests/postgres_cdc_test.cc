// DebeziumPostgresConnector against a private PostgreSQL 15 with wal_level=logical
// (connectors/jdbc/tests/testing/postgres_server.h): the task runs in-process with a fake
// context; acknowledgements and position commits are made by the test as the worker would.

#include "rmqc/api/errors.h"
#include "rmqc/api/struct.h"

#include "cdc/postgres/pg_types.h"
#include "cdc/postgres/pgoutput.h"
#include "cdc/postgres/postgres_cdc_connector.h"
#include "cdc/tests/cdc_test_support.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <libpq-fe.h>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rmqc {
inline void PrintTo(const Value& v, std::ostream* os) {
  *os << v.to_string();
}
}  // namespace rmqc

namespace rmqc::connectors::cdc::postgres {
namespace {

using jdbc::testing::PostgresServer;
using Clock = std::chrono::steady_clock;

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new jdbc::testing::PostgresEnvironment);

PostgresServer& server() {
  return *PostgresServer::shared();
}

void sql(const std::string& text) {
  auto r = server().exec(text);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
}

// The first cell of a query's first row ("" when none).
std::string query(const std::string& text) {
  const std::string info = "host=" + server().host() + " port=" + std::to_string(server().port()) +
                           " dbname=" + server().database() + " user=" + server().user() +
                           " password=" + server().password();
  PGconn* conn = PQconnectdb(info.c_str());
  std::string out;
  if (PQstatus(conn) == CONNECTION_OK) {
    PGresult* res = PQexec(conn, text.c_str());
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0)) {
      out = PQgetvalue(res, 0, 0);
    }
    PQclear(res);
  }
  PQfinish(conn);
  return out;
}

Lsn slot_flush(const std::string& slot) {
  const std::string text = query(
      "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
  auto lsn = parse_lsn(text);
  return lsn.ok() ? *lsn : 0;
}

KeyValue base_config(const std::string& name) {
  KeyValue c;
  c.put("database.hostname", server().host());
  c.put("database.port", std::to_string(server().port()));
  c.put("database.user", server().user());
  c.put("database.password", server().password());
  c.put("database.dbname", server().database());
  c.put("topic.prefix", "srv");
  c.put("slot.name", name);
  c.put("publication.name", name + "_pub");
  c.put("publication.autocreate.mode", "filtered");
  c.put("schema.include.list", name);
  c.put("poll.interval.ms", "50");
  c.put("status.update.interval.ms", "100");
  c.put("slot.retry.delay.ms", "200");
  c.put("slot.max.retries", "50");
  c.put("connect.backoff.max.ms", "1000");
  c.put("slot.drop.on.stop", "true");  // the test server has 32 slots for every test
  return c;
}

// One task run with its fake worker context.
struct TaskRun {
  explicit TaskRun(const KeyValue& config, std::optional<RecordOffset> offset = std::nullopt) {
    ctx.config = config;
    if (offset) {
      ctx.reader.offsets[RecordPartition{{"server", Value(std::string("srv"))}}] = *offset;
    }
    task.init(ctx);
    task.start(config);
  }
  ~TaskRun() { task.stop(); }

  // Polls until n data records (tombstones included, heartbeats not) arrived.
  std::vector<ConnectRecord> poll_n(std::size_t n, int seconds = 60) {
    std::vector<ConnectRecord> out;
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    while (out.size() < n && Clock::now() < deadline) {
      for (auto& r : task.poll()) out.push_back(std::move(r));
    }
    EXPECT_EQ(out.size(), n);
    return out;
  }
  void ack(const std::vector<ConnectRecord>& records) {
    for (const auto& r : records) task.commit(r, RecordMetadata{});
  }

  testing::FakeSourceContext ctx;
  PostgresCdcTask task;
};

const Struct& value_of(const ConnectRecord& r) {
  return r.value.as_struct();
}
std::string op_of(const ConnectRecord& r) {
  return value_of(r).get_string("op");
}
std::int64_t id_after(const ConnectRecord& r) {
  return value_of(r).get_struct("after").get("id").as_int32();
}

bool wait_for(const std::function<bool()>& cond, int seconds = 30) {
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// --- the wire format ---------------------------------------------------------------------------

TEST(PgOutput, MalformedMessagesAreErrorsNotCrashes) {
  PgOutputMessage m;
  EXPECT_FALSE(decode_pgoutput("", m).ok());
  EXPECT_FALSE(decode_pgoutput("Z", m).ok());
  EXPECT_FALSE(decode_pgoutput(std::string("B\0\0", 3), m).ok());
  EXPECT_FALSE(decode_pgoutput(std::string("I\0\0\0\1N\0\5", 9), m).ok());
  const std::string insert("I\0\0\0\x01N\0\x01t\0\0\0\x02hi", 16);
  ASSERT_TRUE(decode_pgoutput(insert, m).ok());
  EXPECT_EQ(m.insert.relation, 1U);
  ASSERT_EQ(m.insert.new_tuple.size(), 1U);
  EXPECT_EQ(m.insert.new_tuple[0].text, "hi");
  EXPECT_FALSE(decode_pgoutput(insert.substr(0, 14), m).ok());
  EXPECT_FALSE(decode_copy_message("w123").ok());
  EXPECT_EQ(format_lsn(0x16B374D848ULL), "16/B374D848");
  EXPECT_EQ(*parse_lsn("16/B374D848"), 0x16B374D848ULL);
  EXPECT_FALSE(parse_lsn("xyz").ok());
  EXPECT_EQ(encode_status_update(1, 2, 3, 0, false).size(), 34U);
}

TEST(PgTypes, TextForms) {
  EXPECT_EQ(*parse_pg_date("1970-01-02"), 1);
  EXPECT_EQ(*parse_pg_time("01:02:03.5"), 3'723'500'000LL);
  EXPECT_EQ(*parse_pg_timestamp("1970-01-01 00:00:01.000001"), 1'000'001LL);
  EXPECT_EQ(*parse_pg_timestamptz("1970-01-01 01:00:00+01"), 0);
  EXPECT_EQ(*parse_pg_timetz("10:00:00.25+02"), "08:00:00.25Z");
  EXPECT_EQ(*parse_pg_interval("P1DT2H"), 93'600'000'000LL);
  EXPECT_EQ(*parse_pg_interval("PT-1.5S"), -1'500'000LL);
  EXPECT_EQ(*parse_pg_interval("P1M"), 2'629'800'000'000LL);  // 30.4375 days
  EXPECT_EQ(*parse_pg_bytea("\\x00ff"), (Bytes{0x00, 0xff}));
  EXPECT_FALSE(parse_pg_date("2024-13").ok());
  EXPECT_FALSE(parse_pg_bytea("\\x0").ok());
  PgTypeInfo numeric{oid::kNumeric};
  auto conv = ColumnConverter::make(numeric, -1, true, TypeModes{});
  ASSERT_TRUE(conv.ok());
  EXPECT_TRUE(conv->convert("NaN")->is_null());
  EXPECT_EQ(conv->convert("-1.25")->as_struct().get("scale").as_int32(), 2);
  TypeModes as_double;
  as_double.decimal = DecimalMode::kDouble;
  auto dbl = ColumnConverter::make(numeric, -1, true, as_double);
  EXPECT_TRUE(std::isnan(dbl->convert("NaN")->as_float64()));
}

TEST(PostgresCdcConfigTest, PluginOtherThanPgoutputIsRefusedClearly) {
  PostgresCdcConnector connector;
  KeyValue c = base_config("cfg");
  c.put("plugin.name", "decoderbufs");
  try {
    connector.validate(c);
    FAIL() << "decoderbufs accepted";
  } catch (const ConnectException& e) {
    EXPECT_NE(std::string(e.what()).find("pgoutput"), std::string::npos) << e.what();
  }
  c.put("plugin.name", "pgoutput");
  EXPECT_NO_THROW(connector.validate(c));
  EXPECT_EQ(connector.task_configs(4).size(), 1U);
}

TEST(PostgresCdcConfigTest, SnapshotLockingModes) {
  PostgresCdcConnector connector;
  KeyValue c = base_config("cfg");
  for (const char* mode : {"shared", "none", "NONE"}) {
    c.put("snapshot.locking.mode", mode);
    EXPECT_NO_THROW(connector.validate(c)) << mode;
  }
  for (const char* mode : {"custom", "exclusive", "minimal"}) {
    c.put("snapshot.locking.mode", mode);
    try {
      connector.validate(c);
      ADD_FAILURE() << mode << " accepted";
    } catch (const ConnectException& e) {
      EXPECT_NE(std::string(e.what()).find("shared"), std::string::npos) << e.what();
      if (std::string(mode) == "custom") {
        EXPECT_NE(std::string(e.what()).find("SnapshotLock"), std::string::npos) << e.what();
      }
    }
  }
}

// --- snapshot and streaming over every column type --------------------------------------------

TEST(PostgresCdc, SnapshotThenStreamOverEveryType) {
  sql("DROP SCHEMA IF EXISTS types CASCADE; CREATE SCHEMA types;"
      "CREATE TYPE types.mood AS ENUM ('sad', 'ok', 'happy');"
      "CREATE TABLE types.t (id int PRIMARY KEY, si smallint, bi bigint NOT NULL DEFAULT 0,"
      " num numeric(10,2), vnum numeric, f4 real, f8 double precision, b boolean, txt text,"
      " vc varchar(20), ch char(3), ba bytea, d date, tm time, tm3 time(3), ttz timetz,"
      " ts timestamp, ts3 timestamp(3), tstz timestamptz, iv interval, u uuid, j json, jb jsonb,"
      " m types.mood, ia int[], ta text[], bit1 bit(1))");
  sql("INSERT INTO types.t VALUES (1, -2, 9000000000, 12.30, 3.14159, 1.5, 2.25, true, 'hello',"
      " 'vc', 'ab', '\\x0102ff', '2024-01-02', '03:04:05.123456', '03:04:05.123',"
      " '10:00:00+02', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123',"
      " '2024-01-02 03:04:05.5+01', '1 day 2 hours', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
      " '{\"a\": 1}', '{\"b\": 2}', 'happy', '{1,2,NULL}', '{\"x y\",z}', B'1')");
  sql("INSERT INTO types.t (id) VALUES (2)");
  sql("ALTER TABLE types.t REPLICA IDENTITY FULL");

  TaskRun run(base_config("types"));
  auto snap = run.poll_n(2);
  ASSERT_EQ(snap.size(), 2U);
  EXPECT_EQ(op_of(snap[0]), "r");
  EXPECT_EQ(snap[0].topic(), "srv_types_t");
  EXPECT_EQ(snap[0].value_schema->name(), "srv.types.t.Envelope");
  ASSERT_NE(snap[0].key_schema, nullptr);
  EXPECT_EQ(snap[0].key_schema->name(), "srv.types.t.Key");
  EXPECT_EQ(snap[0].key.as_struct().get("id").as_int32(), 1);
  const Struct& source = value_of(snap[0]).get_struct("source");
  EXPECT_EQ(source.get_string("connector"), "postgresql");
  EXPECT_EQ(source.get_string("name"), "srv");
  EXPECT_EQ(source.get_string("db"), server().database());
  EXPECT_EQ(source.get_string("schema"), "types");
  EXPECT_EQ(source.get_string("table"), "t");
  EXPECT_EQ(source.get_string("snapshot"), "first");
  EXPECT_FALSE(source.get("lsn").is_null());
  EXPECT_FALSE(source.get("txId").is_null());
  EXPECT_EQ(value_of(snap[1]).get_struct("source").get_string("snapshot"), "last");
  EXPECT_EQ(snap[1].position.offset.find("last_snapshot_record")->as_bool(), true);

  const Struct& a = value_of(snap[0]).get_struct("after");
  const auto& s = *a.schema();
  auto type_name = [&](const char* f) { return s.field(f)->schema->name(); };
  EXPECT_EQ(a.get("si").as_int16(), -2);
  EXPECT_EQ(a.get("bi").as_int64(), 9000000000LL);
  EXPECT_FALSE(s.field("bi")->schema->optional());
  EXPECT_TRUE(s.field("si")->schema->optional());
  EXPECT_EQ(type_name("num"), "org.apache.kafka.connect.data.Decimal");
  EXPECT_EQ(a.get("num").as_decimal().to_string(), "12.30");
  EXPECT_EQ(type_name("vnum"), "io.debezium.data.VariableScaleDecimal");
  EXPECT_EQ(a.get("vnum").as_struct().get("scale").as_int32(), 5);
  EXPECT_FLOAT_EQ(a.get("f4").as_float32(), 1.5F);
  EXPECT_DOUBLE_EQ(a.get("f8").as_float64(), 2.25);
  EXPECT_EQ(a.get("b").as_bool(), true);
  EXPECT_EQ(a.get("txt").as_string(), "hello");
  EXPECT_EQ(a.get("vc").as_string(), "vc");
  EXPECT_EQ(a.get("ch").as_string(), "ab ");
  EXPECT_EQ(a.get("ba").as_bytes(), (Bytes{1, 2, 0xff}));
  EXPECT_EQ(type_name("d"), "io.debezium.time.Date");
  EXPECT_EQ(a.get("d").as_int32(), 19724);
  EXPECT_EQ(type_name("tm"), "io.debezium.time.MicroTime");
  EXPECT_EQ(a.get("tm").as_int64(), 11'045'123'456LL);
  EXPECT_EQ(type_name("tm3"), "io.debezium.time.Time");
  EXPECT_EQ(a.get("tm3").as_int32(), 11'045'123);
  EXPECT_EQ(type_name("ttz"), "io.debezium.time.ZonedTime");
  EXPECT_EQ(a.get("ttz").as_string(), "08:00:00Z");
  EXPECT_EQ(type_name("ts"), "io.debezium.time.MicroTimestamp");
  EXPECT_EQ(a.get("ts").as_int64(), 1'704'164'645'123'456LL);
  EXPECT_EQ(type_name("ts3"), "io.debezium.time.Timestamp");
  EXPECT_EQ(a.get("ts3").as_int64(), 1'704'164'645'123LL);
  EXPECT_EQ(type_name("tstz"), "io.debezium.time.ZonedTimestamp");
  EXPECT_EQ(a.get("tstz").as_string(), "2024-01-02T02:04:05.5Z");
  EXPECT_EQ(type_name("iv"), "io.debezium.time.MicroDuration");
  EXPECT_EQ(a.get("iv").as_int64(), 93'600'000'000LL);
  EXPECT_EQ(type_name("u"), "io.debezium.data.Uuid");
  EXPECT_EQ(a.get("u").as_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(type_name("j"), "io.debezium.data.Json");
  EXPECT_EQ(a.get("j").as_string(), "{\"a\": 1}");
  EXPECT_EQ(a.get("jb").as_string(), "{\"b\": 2}");
  EXPECT_EQ(type_name("m"), "io.debezium.data.Enum");
  EXPECT_EQ(*s.field("m")->schema->parameter("allowed"), "sad,ok,happy");
  EXPECT_EQ(a.get("m").as_string(), "happy");
  ASSERT_EQ(a.get("ia").as_array().size(), 3U);
  EXPECT_EQ(a.get("ia").as_array()[1].as_int32(), 2);
  EXPECT_TRUE(a.get("ia").as_array()[2].is_null());
  EXPECT_EQ(a.get("ta").as_array()[0].as_string(), "x y");
  EXPECT_EQ(a.get("bit1").as_bool(), true);
  const Struct& nulls = value_of(snap[1]).get_struct("after");
  EXPECT_TRUE(nulls.get("txt").is_null());
  EXPECT_EQ(nulls.get("bi").as_int64(), 0);

  // Streaming: the same values through pgoutput decode to the same row.
  sql("INSERT INTO types.t SELECT 3, si, bi, num, vnum, f4, f8, b, txt, vc, ch, ba, d, tm, tm3,"
      " ttz, ts, ts3, tstz, iv, u, j, jb, m, ia, ta, bit1 FROM types.t WHERE id = 1");
  sql("UPDATE types.t SET txt = 'changed', num = -0.5 WHERE id = 3");
  sql("DELETE FROM types.t WHERE id = 3");
  auto stream = run.poll_n(4);
  ASSERT_EQ(stream.size(), 4U);
  EXPECT_EQ(op_of(stream[0]), "c");
  Struct expected = value_of(snap[0]).get_struct("after");
  expected.put("id", std::int32_t{3});
  EXPECT_EQ(value_of(stream[0]).get_struct("after"), expected);
  EXPECT_TRUE(value_of(stream[0]).get("before").is_null());
  const Struct& cs = value_of(stream[0]).get_struct("source");
  EXPECT_EQ(cs.get_string("snapshot"), "false");
  EXPECT_GE(cs.get("lsn").as_int64(), source.get("lsn").as_int64());
  EXPECT_GT(cs.get("txId").as_int64(), 0);
  const std::string sequence = cs.get_string("sequence");
  EXPECT_EQ(sequence.substr(sequence.size() - 2 - std::to_string(cs.get("lsn").as_int64()).size()),
            std::to_string(cs.get("lsn").as_int64()) + "\"]")
      << sequence;
  EXPECT_EQ(sequence.rfind("[\"", 0), 0U) << sequence;
  EXPECT_GT(cs.get("ts_ms").as_int64(), 0);
  EXPECT_EQ(stream[0].position.offset.find("lsn_commit")->kind(), Value::Kind::kInt64);

  EXPECT_EQ(op_of(stream[1]), "u");
  EXPECT_EQ(value_of(stream[1]).get_struct("before"), expected);  // REPLICA IDENTITY FULL
  EXPECT_EQ(value_of(stream[1]).get_struct("after").get("txt").as_string(), "changed");
  EXPECT_EQ(value_of(stream[1]).get_struct("after").get("num").as_decimal().to_string(), "-0.50");
  EXPECT_EQ(op_of(stream[2]), "d");
  EXPECT_TRUE(value_of(stream[2]).get("after").is_null());
  EXPECT_EQ(value_of(stream[2]).get_struct("before").get("id").as_int32(), 3);
  EXPECT_EQ(stream[2].key.as_struct().get("id").as_int32(), 3);
  EXPECT_TRUE(stream[3].value.is_null());  // the tombstone
  EXPECT_EQ(stream[3].key.as_struct().get("id").as_int32(), 3);
}

TEST(PostgresCdc, DefaultReplicaIdentityKeyChangeAndAlterTableMidStream) {
  sql("DROP SCHEMA IF EXISTS alt CASCADE; CREATE SCHEMA alt;"
      "CREATE TABLE alt.t (id int PRIMARY KEY, name text NOT NULL)");
  KeyValue c = base_config("alt");
  c.put("snapshot.mode", "no_data");
  TaskRun run(c);
  // The slot exists once the task streams; give it a moment by waiting for it.
  ASSERT_TRUE(wait_for([] { return slot_flush("alt") != 0; }));
  sql("INSERT INTO alt.t VALUES (1, 'one')");
  sql("UPDATE alt.t SET name = 'uno' WHERE id = 1");
  sql("UPDATE alt.t SET id = 10 WHERE id = 1");
  sql("DELETE FROM alt.t WHERE id = 10");
  auto recs = run.poll_n(7);
  ASSERT_EQ(recs.size(), 7U);
  EXPECT_EQ(op_of(recs[0]), "c");
  EXPECT_EQ(op_of(recs[1]), "u");
  EXPECT_TRUE(value_of(recs[1]).get("before").is_null());  // DEFAULT identity, key unchanged
  // A key change: delete of the old key, its tombstone, create of the new one.
  EXPECT_EQ(op_of(recs[2]), "d");
  EXPECT_EQ(recs[2].key.as_struct().get("id").as_int32(), 1);
  EXPECT_TRUE(recs[3].value.is_null());
  EXPECT_EQ(op_of(recs[4]), "c");
  EXPECT_EQ(id_after(recs[4]), 10);
  EXPECT_EQ(op_of(recs[5]), "d");
  const Struct& before = value_of(recs[5]).get_struct("before");
  EXPECT_EQ(before.get("id").as_int32(), 10);  // the key only; NOT NULL columns get Debezium's
  EXPECT_EQ(before.get_string("name"), "");    // zero value

  sql("ALTER TABLE alt.t ADD COLUMN extra int DEFAULT 7");
  sql("INSERT INTO alt.t VALUES (2, 'two', 8)");
  auto more = run.poll_n(1);
  ASSERT_EQ(more.size(), 1U);
  const Struct& after = value_of(more[0]).get_struct("after");
  ASSERT_NE(after.schema()->field("extra"), nullptr);
  EXPECT_EQ(after.get("extra").as_int32(), 8);
  EXPECT_EQ(after.get_string("name"), "two");
  EXPECT_EQ(after.schema()->name(), "srv.alt.t.Value");
}

TEST(PostgresCdc, MessageKeyColumnsKeySnapshotAndStreamedEvents) {
  sql("DROP SCHEMA IF EXISTS mkc CASCADE; CREATE SCHEMA mkc;"
      "CREATE TABLE mkc.nokey (line text, tag text NOT NULL);"
      "CREATE TABLE mkc.withpk (id int PRIMARY KEY, email text NOT NULL);"
      "INSERT INTO mkc.nokey VALUES ('l1', 'a'); INSERT INTO mkc.withpk VALUES (1, 'one@x')");
  KeyValue c = base_config("mkc");
  c.put("message.key.columns", "mkc.nokey:tag;mkc.withpk:email");
  TaskRun run(c);
  auto snap = run.poll_n(2);
  ASSERT_EQ(snap.size(), 2U);
  ASSERT_TRUE(wait_for([] { return slot_flush("mkc") != 0; }));
  sql("INSERT INTO mkc.nokey VALUES ('l2', 'b')");
  sql("DELETE FROM mkc.withpk WHERE id = 1");
  auto streamed = run.poll_n(3);  // the insert, the delete and its tombstone
  ASSERT_EQ(streamed.size(), 3U);

  for (const auto* r : {&snap[0], &snap[1], &streamed[0], &streamed[1], &streamed[2]}) {
    ASSERT_NE(r->key_schema, nullptr) << r->topic();
    ASSERT_EQ(r->key_schema->fields().size(), 1U) << r->topic();
    EXPECT_EQ(r->key_schema->fields()[0].name, r->topic().ends_with("nokey") ? "tag" : "email");
  }
  const auto key_text = [](const ConnectRecord& r, const char* field) {
    const Value& v = r.key.as_struct().get(field);
    return v.is_null() ? std::string("null") : v.as_string();
  };
  std::set<std::string> snapshot_keys = {
      key_text(snap[0], snap[0].topic().ends_with("nokey") ? "tag" : "email"),
      key_text(snap[1], snap[1].topic().ends_with("nokey") ? "tag" : "email")};
  EXPECT_EQ(snapshot_keys, (std::set<std::string>{"a", "one@x"}));
  EXPECT_EQ(key_text(streamed[0], "tag"), "b");
  // REPLICA IDENTITY DEFAULT: the delete's old image holds the primary key alone, so the chosen
  // column is null in its key (an optional field), and the record still converts.
  EXPECT_EQ(op_of(streamed[1]), "d");
  EXPECT_EQ(key_text(streamed[1], "email"), "null");
  EXPECT_TRUE(streamed[2].value.is_null());
}

TEST(PostgresCdc, WritesDuringTheSnapshotAreNeitherMissedNorRepeated) {
  sql("DROP SCHEMA IF EXISTS gap CASCADE; CREATE SCHEMA gap;"
      "CREATE TABLE gap.t (id int PRIMARY KEY, v text);"
      "INSERT INTO gap.t SELECT g, 'x' FROM generate_series(1, 20000) g");
  KeyValue c = base_config("gap");
  c.put("max.queue.size", "512");  // the snapshot waits on the queue while rows are written
  TaskRun run(c);
  std::thread writer([] {
    for (int i = 20001; i <= 20500; ++i) {
      (void)server().exec("INSERT INTO gap.t VALUES (" + std::to_string(i) + ", 'y')");
    }
    (void)server().exec("UPDATE gap.t SET v = 'z' WHERE id <= 100");
  });
  std::map<std::int64_t, std::string> last_op;
  std::map<std::int64_t, int> seen;
  std::vector<ConnectRecord> all;
  const auto deadline = Clock::now() + std::chrono::seconds(120);
  std::size_t updates = 0;
  while (Clock::now() < deadline && (seen.size() < 20500 || updates < 100)) {
    for (auto& r : run.task.poll()) {
      if (r.value.is_null()) continue;
      const auto id = id_after(r);
      const std::string op = op_of(r);
      if (op == "u") {
        ++updates;
        continue;
      }
      ++seen[id];
      last_op[id] = op;
    }
  }
  writer.join();
  EXPECT_EQ(seen.size(), 20500U);
  EXPECT_EQ(updates, 100U);
  int repeated = 0;
  for (const auto& [id, n] : seen) repeated += n > 1 ? 1 : 0;
  EXPECT_EQ(repeated, 0);
  EXPECT_EQ(last_op[1], "r");
  EXPECT_EQ(last_op[20500], "c");
}

// snapshot.locking.mode on the real server, seen from a second session while the snapshot waits
// for poll() in the middle of the first table: shared locks every captured table ACCESS SHARE
// before reading any, so DDL on a table not read yet waits (here: fails on lock_timeout) until
// the snapshot ends; none takes no lock of its own, only the table being read is locked by its
// read, and the DDL goes through. Both snapshots deliver every row.
TEST(PostgresCdc, SnapshotLockingModeSharedLocksEveryCapturedTableAndNoneDoesNot) {
  for (const std::string mode : {"shared", "none"}) {
    SCOPED_TRACE(mode);
    const std::string name = "lk_" + mode;
    sql("DROP SCHEMA IF EXISTS " + name + " CASCADE; CREATE SCHEMA " + name + "; CREATE TABLE " +
        name + ".a (id int PRIMARY KEY, v text); CREATE TABLE " + name +
        ".b (id int PRIMARY KEY); INSERT INTO " + name +
        ".a SELECT g, 'x' FROM generate_series(1, 2000) g; INSERT INTO " + name +
        ".b VALUES (100000)");
    KeyValue c = base_config(name);
    c.put("snapshot.locking.mode", mode);
    c.put("max.queue.size", "1");  // one batch of 256: the reader waits after 512 rows of a
    TaskRun run(c);
    // ACCESS SHARE locks the connector's sessions hold on a table.
    auto locks = [&](const std::string& table) {
      return query(
          "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid WHERE "
          "s.application_name = 'rmqc-cdc-" +
          name + "' AND l.relation = '" + name + "." + table +
          "'::regclass AND l.mode = 'AccessShareLock' AND l.granted");
    };
    ASSERT_TRUE(wait_for([&] { return locks("a") == "1"; }));  // reading a, waiting for poll()
    const auto alter =
        server().exec("SET lock_timeout = '200ms'; ALTER TABLE " + name + ".b ADD COLUMN c int");
    if (mode == "shared") {
      EXPECT_EQ(locks("b"), "1");
      ASSERT_FALSE(alter.ok()) << "DDL went through while the snapshot held b";
      EXPECT_NE(alter.error().message().find("lock timeout"), std::string::npos)
          << alter.error().to_string();
    } else {
      EXPECT_EQ(locks("b"), "0");
      EXPECT_TRUE(alter.ok()) << alter.error().to_string();
    }
    auto recs = run.poll_n(2001);
    ASSERT_EQ(recs.size(), 2001U);
    EXPECT_EQ(id_after(recs.back()), 100000);
    EXPECT_EQ(op_of(recs.back()), "r");
    // The snapshot's transaction ended: no lock is left, the DDL goes through.
    EXPECT_TRUE(wait_for([&] { return locks("a") == "0" && locks("b") == "0"; }));
    if (mode == "shared") sql("ALTER TABLE " + name + ".b ADD COLUMN c int");
  }
}

// --- positions ---------------------------------------------------------------------------------

TEST(PostgresCdc, SlotMovesOnlyAfterCommitAndRestartResumesWithoutLossOrOverlap) {
  sql("DROP SCHEMA IF EXISTS pos CASCADE; CREATE SCHEMA pos;"
      "CREATE TABLE pos.t (id int PRIMARY KEY, v text)");
  KeyValue c = base_config("pos");
  c.put("slot.drop.on.stop", "false");  // the restart needs the slot
  std::optional<RecordOffset> stored;
  Lsn flushed_before = 0;
  {
    TaskRun run(c);
    ASSERT_TRUE(wait_for([] { return slot_flush("pos") != 0; }));
    // Three transactions of three rows.
    for (int t = 0; t < 3; ++t) {
      sql("BEGIN; INSERT INTO pos.t VALUES (" + std::to_string(t * 3 + 1) + ", 'a'), (" +
          std::to_string(t * 3 + 2) + ", 'b'), (" + std::to_string(t * 3 + 3) + ", 'c'); COMMIT");
    }
    auto recs = run.poll_n(9);
    ASSERT_EQ(recs.size(), 9U);
    for (int i = 0; i < 9; ++i) EXPECT_EQ(id_after(recs[static_cast<std::size_t>(i)]), i + 1);
    auto lsn_commit = [&](std::size_t i) {
      return static_cast<Lsn>(recs[i].position.offset.find("lsn_commit")->as_int64());
    };
    // Nothing acknowledged: a few status updates later the slot is still before the first
    // transaction.
    for (int i = 0; i < 5; ++i) (void)run.task.poll();
    flushed_before = slot_flush("pos");
    EXPECT_LT(flushed_before, lsn_commit(0));
    // The first transaction and one row of the second are acknowledged...
    run.ack({recs.begin(), recs.begin() + 4});
    for (int i = 0; i < 5; ++i) (void)run.task.poll();
    EXPECT_LT(slot_flush("pos"), lsn_commit(0));  // acknowledged, positions not yet stored
    // ... then their positions are stored: the slot passes the first transaction only.
    run.task.commit();
    stored = recs[3].position.offset;
    ASSERT_TRUE(wait_for([&] { return slot_flush("pos") > lsn_commit(0); }));
    EXPECT_LT(slot_flush("pos"), lsn_commit(3));
    EXPECT_EQ(slot_flush("pos"), run.task.confirmed_flush_lsn());
  }
  sql("INSERT INTO pos.t VALUES (10, 'd')");
  // A new task from the stored position: rows 5..10 once each, nothing before.
  KeyValue last = c;
  last.put("slot.drop.on.stop", "true");
  TaskRun again(last, stored);
  auto recs = again.poll_n(6);
  std::vector<std::int64_t> ids;
  for (const auto& r : recs) ids.push_back(id_after(r));
  EXPECT_EQ(ids, (std::vector<std::int64_t>{5, 6, 7, 8, 9, 10}));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(again.task.poll().empty());
}

TEST(PostgresCdc, RestartBetweenADeleteAndItsTombstoneStillSendsTheTombstone) {
  sql("DROP SCHEMA IF EXISTS tomb CASCADE; CREATE SCHEMA tomb;"
      "CREATE TABLE tomb.t (id int PRIMARY KEY)");
  KeyValue c = base_config("tomb");
  c.put("snapshot.mode", "no_data");
  c.put("slot.drop.on.stop", "false");  // the restart needs the slot
  std::optional<RecordOffset> stored;
  {
    TaskRun run(c);
    ASSERT_TRUE(wait_for([] { return slot_flush("tomb") != 0; }));
    sql("INSERT INTO tomb.t VALUES (1)");
    sql("DELETE FROM tomb.t WHERE id = 1");
    auto recs = run.poll_n(3);
    ASSERT_EQ(recs.size(), 3U);
    ASSERT_EQ(op_of(recs[1]), "d");
    ASSERT_TRUE(recs[2].value.is_null());
    EXPECT_FALSE(recs[1].position == recs[2].position);
    stored = recs[1].position.offset;  // the delete is stored, its tombstone is not
  }
  KeyValue last = c;
  last.put("slot.drop.on.stop", "true");
  TaskRun again(last, stored);
  auto recs = again.poll_n(1);
  ASSERT_EQ(recs.size(), 1U);
  EXPECT_TRUE(recs[0].value.is_null());
  EXPECT_EQ(recs[0].key.as_struct().get("id").as_int32(), 1);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(again.task.poll().empty());
}

TEST(PostgresCdc, DatabaseRestartMidStreamResumesFromTheSlot) {
  sql("DROP SCHEMA IF EXISTS rst CASCADE; CREATE SCHEMA rst;"
      "CREATE TABLE rst.t (id int PRIMARY KEY)");
  TaskRun run(base_config("rst"));
  ASSERT_TRUE(wait_for([] { return slot_flush("rst") != 0; }));
  sql("INSERT INTO rst.t SELECT generate_series(1, 100)");
  auto first = run.poll_n(100);
  ASSERT_TRUE(server().restart().ok());
  sql("INSERT INTO rst.t SELECT generate_series(101, 200)");
  auto second = run.poll_n(100);
  std::set<std::int64_t> ids;
  for (const auto& r : first) ids.insert(id_after(r));
  for (const auto& r : second) ids.insert(id_after(r));
  EXPECT_EQ(ids.size(), 200U);
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), 200);
}

// --- faults --------------------------------------------------------------------------------------

void expect_failure(TaskRun& run, const std::string& needle) {
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline) {
    try {
      (void)run.task.poll();
    } catch (const ConnectException& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      return;
    }
  }
  ADD_FAILURE() << "no failure mentioning '" << needle << "'";
}

TEST(PostgresCdc, FiltersTruncateAndSkippedOperations) {
  sql("DROP SCHEMA IF EXISTS flt CASCADE; CREATE SCHEMA flt;"
      "CREATE TABLE flt.a (id int PRIMARY KEY, secret text, shown text);"
      "CREATE TABLE flt.b (id int PRIMARY KEY)");
  KeyValue c = base_config("flt");
  c.put("snapshot.mode", "no_data");
  c.put("table.include.list", "flt\\.a");
  c.put("column.exclude.list", "flt\\.a\\.secret");
  c.put("skipped.operations", "none");
  c.put("tombstones.on.delete", "false");
  TaskRun run(c);
  ASSERT_TRUE(wait_for([] { return slot_flush("flt") != 0; }));
  sql("INSERT INTO flt.b VALUES (1); INSERT INTO flt.a VALUES (1, 'pw', 'hello')");
  sql("DELETE FROM flt.a");
  sql("TRUNCATE flt.a");
  auto recs = run.poll_n(3);
  ASSERT_EQ(recs.size(), 3U);
  EXPECT_EQ(op_of(recs[0]), "c");
  const Struct& after = value_of(recs[0]).get_struct("after");
  EXPECT_EQ(after.schema()->field("secret"), nullptr);
  EXPECT_EQ(after.get_string("shown"), "hello");
  EXPECT_EQ(op_of(recs[1]), "d");  // no tombstone (tombstones.on.delete=false)
  EXPECT_EQ(op_of(recs[2]), "t");
  EXPECT_TRUE(value_of(recs[2]).get("before").is_null());
  EXPECT_TRUE(value_of(recs[2]).get("after").is_null());
  EXPECT_TRUE(recs[2].key.is_null());  // a truncate concerns no row: no key, as Debezium's
  EXPECT_EQ(recs[2].key_schema, nullptr);
  EXPECT_EQ(recs[2].topic(), "srv_flt_a");
  EXPECT_EQ(value_of(recs[2]).get_struct("source").get_string("table"), "a");
  EXPECT_GT(value_of(recs[2]).get_struct("source").get_int64("lsn"), 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(run.task.poll().empty());  // nothing of flt.b
}

TEST(PostgresCdc, LostSlotFailsUnderInitialAndSnapshotsAgainUnderWhenNeeded) {
  sql("DROP SCHEMA IF EXISTS lost CASCADE; CREATE SCHEMA lost;"
      "CREATE TABLE lost.t (id int PRIMARY KEY); INSERT INTO lost.t VALUES (1)");
  // A committed streaming position whose slot is gone.
  const RecordOffset gone{{"lsn", Value(std::int64_t{100})},
                          {"lsn_proc", Value(std::int64_t{100})},
                          {"lsn_commit", Value(std::int64_t{100})},
                          {"event_seq", Value(std::int64_t{4})}};
  {
    TaskRun run(base_config("lost"), gone);
    expect_failure(run, "no longer exists");
  }
  KeyValue c = base_config("lost");
  c.put("snapshot.mode", "when_needed");
  TaskRun run(c, gone);
  auto recs = run.poll_n(1);
  ASSERT_EQ(recs.size(), 1U);
  EXPECT_EQ(op_of(recs[0]), "r");
  sql("INSERT INTO lost.t VALUES (2)");
  auto more = run.poll_n(1);
  ASSERT_EQ(more.size(), 1U);
  EXPECT_EQ(id_after(more[0]), 2);
}

TEST(PostgresCdc, MissingPublicationWithAutocreateDisabledFailsClearly) {
  sql("DROP SCHEMA IF EXISTS nopub CASCADE; CREATE SCHEMA nopub");
  KeyValue c = base_config("nopub");
  c.put("publication.autocreate.mode", "disabled");
  TaskRun run(c);
  expect_failure(run, "does not exist");
}

TEST(PostgresCdc, InitialOnlySnapshotsAndLeavesNoSlot) {
  sql("DROP SCHEMA IF EXISTS once CASCADE; CREATE SCHEMA once;"
      "CREATE TABLE once.t (id int PRIMARY KEY); INSERT INTO once.t VALUES (1), (2)");
  KeyValue c = base_config("once");
  c.put("snapshot.mode", "initial_only");
  TaskRun run(c);
  auto recs = run.poll_n(2);
  ASSERT_EQ(recs.size(), 2U);
  EXPECT_EQ(op_of(recs[0]), "r");
  EXPECT_TRUE(wait_for([] {
    return query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'once'") == "0";
  }));
  sql("INSERT INTO once.t VALUES (3)");
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(run.task.poll().empty());
}

TEST(PostgresCdc, MissingReplicationPrivilegeFailsWithWhatToChange) {
  sql("DROP ROLE IF EXISTS cdc_norepl; CREATE ROLE cdc_norepl LOGIN PASSWORD 'pw'");
  KeyValue c = base_config("norepl");
  c.put("database.user", "cdc_norepl");
  c.put("database.password", "pw");
  TaskRun run(c);
  expect_failure(run, "WITH REPLICATION");
}

TEST(PostgresCdc, SlotInUseFailsClearly) {
  sql("DROP SCHEMA IF EXISTS busy CASCADE; CREATE SCHEMA busy; CREATE TABLE busy.t (id int)");
  TaskRun first(base_config("busy"));
  ASSERT_TRUE(wait_for([] {
    return query("SELECT active FROM pg_replication_slots WHERE slot_name = 'busy'") == "t";
  }));
  KeyValue c = base_config("busy");
  c.put("slot.max.retries", "0");
  c.put("slot.drop.on.stop", "false");  // the slot is the other task's
  TaskRun second(c);
  expect_failure(second, "in use");
}

TEST(PostgresCdc, WalLevelReplicaFailsWithWhatToChange) {
  PostgresServer::Options options;
  options.wal_level = "replica";
  auto other = PostgresServer::start(options);
  ASSERT_TRUE(other.ok()) << other.error().to_string();
  KeyValue c = base_config("wal");
  c.put("database.port", std::to_string((*other)->port()));
  TaskRun run(c);
  expect_failure(run, "wal_level = logical");
}

TEST(PostgresCdc, WakeupEndsAWaitingPollAndHeartbeatsFlow) {
  sql("DROP SCHEMA IF EXISTS hb CASCADE; CREATE SCHEMA hb; CREATE TABLE hb.t (id int PRIMARY KEY)");
  sql("INSERT INTO hb.t VALUES (1)");
  KeyValue c = base_config("hb");
  c.put("heartbeat.interval.ms", "100");
  c.put("skipped.operations", "u");
  TaskRun run(c);
  auto snap = run.poll_n(1);
  sql("UPDATE hb.t SET id = id");  // skipped
  sql("INSERT INTO hb.t VALUES (2)");
  std::vector<ConnectRecord> data;
  int heartbeats = 0;
  ASSERT_TRUE(wait_for([&] {
    for (auto& r : run.task.poll()) {
      if (r.topic() == "__debezium-heartbeat_srv") {
        ++heartbeats;
      } else {
        data.push_back(std::move(r));
      }
    }
    return !data.empty() && heartbeats > 0;
  }));
  ASSERT_EQ(data.size(), 1U);
  EXPECT_EQ(op_of(data[0]), "c");

  KeyValue slow = c;
  slow.put("poll.interval.ms", "600000");
  slow.put("heartbeat.interval.ms", "0");
  slow.put("slot.name", "hb_idle");
  TaskRun idle(slow);
  (void)idle.poll_n(2);
  std::thread waker([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    idle.task.wakeup();
  });
  EXPECT_TRUE(idle.task.poll().empty());
  waker.join();
}

// Debezium sends heartbeats from the start: a no_data connector on a database where nothing
// changes has no record to take a position from, so its heartbeats carry where the stream
// started (the slot's position), and a restart from one loses nothing.
TEST(PostgresCdc, HeartbeatsFlowBeforeTheFirstRecordAndARestartFromOneLosesNothing) {
  sql("DROP SCHEMA IF EXISTS hbq CASCADE; CREATE SCHEMA hbq;"
      "CREATE TABLE hbq.t (id int PRIMARY KEY); INSERT INTO hbq.t VALUES (1)");
  KeyValue c = base_config("hbq");
  c.put("snapshot.mode", "no_data");
  c.put("heartbeat.interval.ms", "100");
  c.put("slot.drop.on.stop", "false");  // the restart needs the slot
  std::optional<RecordOffset> stored;
  {
    TaskRun run(c);
    std::vector<ConnectRecord> beats;
    ASSERT_TRUE(wait_for([&] {
      for (auto& r : run.task.poll()) {
        EXPECT_EQ(r.topic(), "__debezium-heartbeat_srv");
        beats.push_back(std::move(r));
      }
      return beats.size() >= 2;
    }));
    const ConnectRecord& beat = beats.back();
    EXPECT_EQ(beat.key.as_struct().get_string("serverName"), "srv");
    EXPECT_GT(beat.value.as_struct().get("ts_ms").as_int64(), 0);
    EXPECT_EQ(beat.position.partition, (RecordPartition{{"server", Value(std::string("srv"))}}));
    const Value* lsn = beat.position.offset.find("lsn_commit");
    ASSERT_NE(lsn, nullptr);
    ASSERT_EQ(lsn->kind(), Value::Kind::kInt64);
    // The slot's position (or past it, where the server said nothing of ours came before).
    EXPECT_GE(static_cast<Lsn>(lsn->as_int64()), slot_flush("hbq"));
    EXPECT_GT(lsn->as_int64(), 0);
    EXPECT_EQ(beat.position.offset.find("snapshot"), nullptr);  // nothing left to snapshot
    // The worker acknowledges and stores the heartbeats: the task moves on.
    run.ack(beats);
    run.task.commit();
    stored = beat.position.offset;
    // A change while the task runs, read but never acknowledged...
    sql("INSERT INTO hbq.t VALUES (2)");
    std::vector<ConnectRecord> data;
    ASSERT_TRUE(wait_for([&] {
      for (auto& r : run.task.poll()) {
        if (r.topic() != "__debezium-heartbeat_srv") data.push_back(std::move(r));
      }
      return !data.empty();
    }));
    ASSERT_EQ(data.size(), 1U);
    EXPECT_EQ(id_after(data[0]), 2);
  }
  // ... and one while it is stopped: a task from the stored heartbeat's position gets both,
  // nothing before them (the snapshot is not taken again) and nothing twice.
  sql("INSERT INTO hbq.t VALUES (3)");
  KeyValue last = c;
  last.put("slot.drop.on.stop", "true");
  TaskRun again(last, stored);
  std::vector<std::int64_t> ids;
  ASSERT_TRUE(wait_for([&] {
    for (auto& r : again.task.poll()) {
      if (r.topic() != "__debezium-heartbeat_srv") ids.push_back(id_after(r));
    }
    return ids.size() >= 2;
  }));
  for (int i = 0; i < 3; ++i) {
    for (auto& r : again.task.poll()) {
      if (r.topic() != "__debezium-heartbeat_srv") ids.push_back(id_after(r));
    }
  }
  EXPECT_EQ(ids, (std::vector<std::int64_t>{2, 3}));
}

// --- undecodable values (errors.*) -------------------------------------------------------------

std::string body_of(const ConnectRecord& r) {
  const Bytes& b = r.value.as_bytes();
  return std::string(b.begin(), b.end());
}

// A one-dimensional array converter refuses a two-dimensional value, which an int[] column
// holds without complaint: a real value pgoutput sends that the connector cannot decode.
TEST(PostgresCdc, UndecodableValuesGoToTheErrorReporterAndStreamingGoesOn) {
  sql("DROP SCHEMA IF EXISTS undec CASCADE; CREATE SCHEMA undec;"
      "CREATE TABLE undec.t (id int PRIMARY KEY, m int[]);"
      "INSERT INTO undec.t VALUES (1, '{1,2}'), (2, '{{1,2},{3,4}}'), (3, '{3}')");
  KeyValue c = base_config("undec");
  cdc_test::RecordingReporter reporter;
  TaskRun run(c);
  run.ctx.reporter = &reporter;  // errors.tolerance=all
  auto snap = run.poll_n(2);
  ASSERT_EQ(snap.size(), 2U);
  EXPECT_EQ(id_after(snap[0]), 1);
  EXPECT_EQ(id_after(snap[1]), 3);
  ASSERT_EQ(reporter.reported.size(), 1U);
  {
    const auto& [record, error] = reporter.reported[0];
    EXPECT_NE(error.find("undec.t.m (integer[])"), std::string::npos) << error;
    EXPECT_NE(error.find("in the snapshot at LSN"), std::string::npos) << error;
    EXPECT_NE(error.find("{{1,2},{3,4}}"), std::string::npos) << error;
    EXPECT_EQ(record.topic(), "srv_undec_t");
    EXPECT_EQ(body_of(record),
              R"({"op":"r","before":null,"after":{"id":"2","m":"{{1,2},{3,4}}"}})");
  }
  // The last snapshot record is the good row 3: the snapshot counts as done.
  EXPECT_EQ(snap[1].position.offset.find("last_snapshot_record")->as_bool(), true);

  // Streaming: a bad insert and a bad update between good changes, in one transaction.
  sql("BEGIN; INSERT INTO undec.t VALUES (4, '{{5}}'); INSERT INTO undec.t VALUES (5, '{5}');"
      "UPDATE undec.t SET m = '{{6},{7}}' WHERE id = 1; DELETE FROM undec.t WHERE id = 3; COMMIT");
  auto stream = run.poll_n(3);  // insert 5, delete 3 and its tombstone
  ASSERT_EQ(stream.size(), 3U);
  EXPECT_EQ(id_after(stream[0]), 5);
  EXPECT_EQ(op_of(stream[1]), "d");
  ASSERT_EQ(reporter.reported.size(), 3U);
  const auto& [bad_insert, insert_error] = reporter.reported[1];
  EXPECT_NE(insert_error.find("undecodable value of undec.t.m (integer[])"), std::string::npos)
      << insert_error;
  EXPECT_NE(insert_error.find(" at LSN "), std::string::npos) << insert_error;
  EXPECT_EQ(body_of(bad_insert), R"({"op":"c","before":null,"after":{"id":"4","m":"{{5}}"}})");
  const auto& [bad_update, update_error] = reporter.reported[2];
  EXPECT_NE(update_error.find("{{6},{7}}"), std::string::npos) << update_error;
  EXPECT_EQ(body_of(bad_update), R"({"op":"u","before":null,"after":{"id":"1","m":"{{6},{7}}"}})");
  // Each has its place in the stream: after the record before it, before the one after it.
  auto seq = [](const ConnectRecord& r) { return r.position.offset.find("event_seq")->as_int64(); };
  EXPECT_LT(seq(bad_insert), seq(stream[0]));
  EXPECT_LT(seq(stream[0]), seq(bad_update));
  EXPECT_LT(seq(bad_update), seq(stream[1]));

  // The slot moves past them once the records around them are acknowledged and committed.
  const auto commit_lsn =
      static_cast<Lsn>(stream[2].position.offset.find("lsn_commit")->as_int64());
  run.ack(stream);
  run.task.commit();
  EXPECT_TRUE(wait_for([&] {
    (void)run.task.poll();
    return slot_flush("undec") > commit_lsn;
  }));
}

TEST(PostgresCdc, UndecodableValuesFailTheTaskUnderToleranceNone) {
  sql("DROP SCHEMA IF EXISTS undec_none CASCADE; CREATE SCHEMA undec_none;"
      "CREATE TABLE undec_none.t (id int PRIMARY KEY, m int[]);"
      "INSERT INTO undec_none.t VALUES (1, '{1}'), (2, '[0:1]={8,9}')");
  auto failure = [](TaskRun& run, std::vector<ConnectRecord>* before) -> std::string {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      try {
        for (auto& r : run.task.poll()) before->push_back(std::move(r));
      } catch (const ConnectException& e) {
        return e.what();
      }
    }
    return "";
  };
  {
    // The snapshot: the good row first, then the failure naming table, column, type and LSN.
    TaskRun run(base_config("undec_none"));
    std::vector<ConnectRecord> before;
    const std::string message = failure(run, &before);
    ASSERT_EQ(before.size(), 1U);
    EXPECT_EQ(id_after(before[0]), 1);
    EXPECT_NE(message.find("PostgreSQL CDC: undecodable value of undec_none.t.m (integer[])"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("[0:1]={8,9}"), std::string::npos) << message;
    EXPECT_NE(message.find("at LSN"), std::string::npos) << message;
    EXPECT_NE(message.find("errors.tolerance=all"), std::string::npos) << message;
  }
  {
    // Streaming.
    KeyValue c = base_config("undec_none");
    c.put("snapshot.mode", "no_data");
    TaskRun run(c);
    ASSERT_TRUE(wait_for([] { return slot_flush("undec_none") != 0; }));
    sql("INSERT INTO undec_none.t VALUES (3, '{3}'), (4, '{{4}}')");
    std::vector<ConnectRecord> before;
    const std::string message = failure(run, &before);
    ASSERT_EQ(before.size(), 1U);
    EXPECT_EQ(id_after(before[0]), 3);
    EXPECT_NE(message.find("undec_none.t.m (integer[])"), std::string::npos) << message;
    EXPECT_NE(message.find(" at LSN "), std::string::npos) << message;
    EXPECT_NE(message.find("(transaction "), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace rmqc::connectors::cdc::postgres
