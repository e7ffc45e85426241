// Every mapped type, read by JdbcSourceTask from one database and written by JdbcSinkTask (with
// auto.create) into another: MariaDB -> PostgreSQL and SQLite, PostgreSQL -> MariaDB and
// SQLite. The tasks run in-process (no worker, no broker: the converters have tests of their
// own); what is compared is the value read back from the target against the record the source
// produced, and a few values against what the source table holds literally.
#include "rmqc/api/struct.h"

#include "jdbc/common/connection_url.h"
#include "jdbc/common/dialect_registry.h"
#include "jdbc/mysql/mysql_dialect.h"
#include "jdbc/postgres/postgres_dialect.h"
#include "jdbc/sink/jdbc_sink_task.h"
#include "jdbc/source/jdbc_source_connector.h"
#include "jdbc/sqlite/sqlite_dialect.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace rmqc::connectors::jdbc {
namespace {

std::shared_ptr<const DialectRegistry> dialects() {
  auto r = std::make_shared<DialectRegistry>();
  register_sqlite_dialect(*r);
  register_postgres_dialect(*r);
  register_mysql_dialect(*r);
  return r;
}

struct Endpoint {
  std::string name;
  KeyValue connection;  // connection.url / user / password
};

Endpoint mariadb() {
  std::string error;
  auto* db = testing::MariaDbServer::shared(&error);
  EXPECT_NE(db, nullptr) << error;
  if (db == nullptr) return {};
  return {"mariadb", KeyValue{{"connection.url", db->url(true)},
                              {"connection.user", db->user()},
                              {"connection.password", db->password()}}};
}

Endpoint postgres() {
  std::string error;
  auto* db = testing::PostgresServer::shared(&error);
  EXPECT_NE(db, nullptr) << error;
  if (db == nullptr) return {};
  return {"postgres", KeyValue{{"connection.url", db->url()},
                               {"connection.user", db->user()},
                               {"connection.password", db->password()}}};
}

Endpoint sqlite(const rmqc::testing::ScratchDir& dir) {
  return {"sqlite", KeyValue{{"connection.url", "jdbc:sqlite:" + dir.file("target.db")}}};
}

std::unique_ptr<Connection> open(const Endpoint& e) {
  auto parsed = parse_connection_url(e.connection.get_string("connection.url"));
  EXPECT_TRUE(parsed.ok());
  if (!parsed.ok()) return nullptr;
  auto registry = dialects();
  const Dialect* dialect = registry->find_by_scheme(parsed->scheme);
  EXPECT_NE(dialect, nullptr) << parsed->scheme;
  if (dialect == nullptr) return nullptr;
  ConnectionConfig config = parsed->config;
  if (e.connection.contains("connection.user")) {
    config.user = e.connection.get_string("connection.user");
    config.password = e.connection.get_string("connection.password");
  }
  auto conn = dialect->connect(config);
  EXPECT_TRUE(conn.ok()) << conn.error().to_string();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

void exec(Connection& c, const std::string& sql) {
  auto r = c.execute(sql);
  ASSERT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
}

std::vector<std::vector<Value>> read_all(Connection& c, const std::string& sql,
                                         std::vector<std::string>* names = nullptr) {
  std::vector<std::vector<Value>> out;
  auto cursor = c.query(sql, {});
  EXPECT_TRUE(cursor.ok()) << sql << ": " << cursor.error().to_string();
  if (!cursor.ok()) return out;
  if (names) {
    for (const auto& col : (*cursor)->columns()) names->push_back(col.name);
  }
  std::vector<Value> row;
  while (true) {
    auto more = (*cursor)->next(row);
    EXPECT_TRUE(more.ok()) << more.error().to_string();
    if (!more.ok() || !*more) break;
    out.push_back(row);
  }
  return out;
}

// Reads the whole source table with a bulk JdbcSourceTask.
std::vector<ConnectRecord> read_with_source(const Endpoint& from, const std::string& table,
                                            std::size_t rows) {
  JdbcSourceTask task(dialects());
  rmqc::testing::FakeSourceContext context;
  KeyValue config = from.connection;
  config.put("mode", "bulk");
  config.put("table.whitelist", table);
  config.put("topic.prefix", "rt-");
  config.put("batch.max.rows", "1000");
  config.put("poll.interval.ms", "100");
  context.config = config;
  task.init(context);
  task.start(config);
  std::vector<ConnectRecord> out;
  for (int polls = 0; out.size() < rows && polls < 100; ++polls) {
    for (auto& r : task.poll()) out.push_back(std::move(r));
  }
  task.stop();
  EXPECT_EQ(out.size(), rows) << "rows read from " << from.name;
  out.resize(std::min(out.size(), rows));
  return out;
}

void write_with_sink(const Endpoint& to, const std::string& table,
                     std::vector<ConnectRecord> records) {
  JdbcSinkTask task(dialects());
  rmqc::testing::FakeSinkContext context;
  KeyValue config = to.connection;
  config.put("insert.mode", "upsert");
  config.put("pk.mode", "record_value");
  config.put("pk.fields", "id");
  config.put("auto.create", "true");
  config.put("table.name.format", table);
  context.config = config;
  task.init(context);
  task.start(config);
  task.put(records);
  task.flush({});
  task.stop();
}

std::string plain_decimal(std::string text) {
  if (text.find('.') == std::string::npos) return text;
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text == "-0" ? "0" : text;
}

// The same value as the source record's, allowing for the target's representation: integers
// widen, a float column may come back as double, and a Decimal may come back as exact digits
// (an unconstrained PostgreSQL NUMERIC) or at another scale.
::testing::AssertionResult same_value(const Value& source, const Value& target) {
  if (source.is_null() || target.is_null()) {
    if (source.is_null() && target.is_null()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << source.to_string() << " vs " << target.to_string();
  }
  std::int64_t a = 0;
  std::int64_t b = 0;
  if (source.to_int64(a) && target.to_int64(b)) {
    if (a == b) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << a << " vs " << b;
  }
  if (const auto* sb = source.get_if<bool>()) {
    if ((target.to_int64(b) && b == (*sb ? 1 : 0)) || target == source) {
      return ::testing::AssertionSuccess();
    }
  }
  auto as_double = [](const Value& v, double& out) {
    if (const auto* f = v.get_if<float>()) return (out = *f), true;
    if (const auto* d = v.get_if<double>()) return (out = *d), true;
    return false;
  };
  double x = 0;
  double y = 0;
  if (as_double(source, x) && as_double(target, y)) {
    if (x == y || std::fabs(x - y) <= std::fabs(x) * 1e-6) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << x << " vs " << y;
  }
  auto decimal_text = [](const Value& v, std::string& out) {
    if (const auto* d = v.get_if<Decimal>()) return (out = plain_decimal(d->to_string())), true;
    if (const auto* s = v.get_if<std::string>()) return (out = plain_decimal(*s)), true;
    return false;
  };
  std::string da;
  std::string db;
  if (source.get_if<Decimal>() && decimal_text(source, da) && decimal_text(target, db)) {
    if (da == db) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << da << " vs " << db;
  }
  if (source == target) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << source.to_string() << " vs " << target.to_string();
}

void expect_round_trip(Connection& target, const std::string& table,
                       const std::vector<ConnectRecord>& records) {
  std::vector<std::string> names;
  auto rows = read_all(target, "SELECT * FROM " + table + " ORDER BY id", &names);
  ASSERT_EQ(rows.size(), records.size());
  std::map<std::string, std::size_t> column;
  for (std::size_t i = 0; i < names.size(); ++i) column[names[i]] = i;
  for (std::size_t r = 0; r < records.size(); ++r) {
    const Struct& s = records[r].value.as_struct();
    for (const Field& f : s.schema()->fields()) {
      auto it = column.find(f.name);
      ASSERT_NE(it, column.end()) << "column " << f.name << " missing in " << table;
      EXPECT_TRUE(same_value(s.get(f), rows[r][it->second]))
          << table << " row " << r << " column " << f.name;
    }
  }
}

// --- MariaDB as the source -------------------------------------------------------------------

const char* const kMariaDbTable = R"SQL(CREATE TABLE types_src (
  id INT PRIMARY KEY, i8 TINYINT, i16 SMALLINT, i32 INT, i64 BIGINT, u32 INT UNSIGNED,
  f64 DOUBLE, dec1 DECIMAL(20,6), flag BOOLEAN, s VARCHAR(100), txt TEXT, bin BLOB, d DATE,
  t TIME(3), dt DATETIME(3), ts TIMESTAMP(3) NULL, j JSON))SQL";

const char* const kMariaDbRows = R"SQL(INSERT INTO types_src VALUES
  (1, -128, -32768, -2147483648, -9223372036854775808, 4294967295, -1.5e300,
   '-99999999999999.999999', TRUE, 'héllo 😀 ''q'' "dq"', 'line1\nline2\\tab\t',
   X'00FF5C0A', '1969-12-31', '23:59:59.999', '2024-02-29 13:45:01.123',
   '2038-01-19 03:14:07.999', '{"a": [1, 2], "b": null}'),
  (2, 127, 32767, 2147483647, 9223372036854775807, 0, 0.1, '0.000001', FALSE, '', '',
   X'', '2024-02-29', '00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:01', '[]'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL))SQL";

class CrossDbRoundTrip : public ::testing::Test {};

TEST_F(CrossDbRoundTrip, MariaDbToPostgresAndSqlite) {
  rmqc::testing::ScratchDir dir;
  Endpoint from = mariadb();
  ASSERT_FALSE(from.name.empty());
  auto source = open(from);
  ASSERT_NE(source, nullptr);
  exec(*source, "DROP TABLE IF EXISTS types_src");
  exec(*source, kMariaDbTable);
  exec(*source, kMariaDbRows);
  auto records = read_with_source(from, "rmqc_test.types_src", 3);
  ASSERT_EQ(records.size(), 3u);
  // The source read what the table holds (the dialect tests check every value; a few here).
  const Struct& first = records[0].value.as_struct();
  EXPECT_EQ(first.get("dec1").as_decimal().to_string(), "-99999999999999.999999");
  EXPECT_EQ(first.get("u32"), Value(std::int64_t{4294967295}));
  EXPECT_EQ(first.get("s"), Value("h\xC3\xA9llo \xF0\x9F\x98\x80 'q' \"dq\""));

  for (const Endpoint& to : {postgres(), sqlite(dir)}) {
    ASSERT_FALSE(to.name.empty());
    SCOPED_TRACE("mariadb -> " + to.name);
    auto target = open(to);
    ASSERT_NE(target, nullptr);
    exec(*target, "DROP TABLE IF EXISTS rt_from_mariadb");
    std::vector<ConnectRecord> copy = records;
    write_with_sink(to, "rt_from_mariadb", std::move(copy));
    expect_round_trip(*target, "rt_from_mariadb", records);
  }
}

// --- PostgreSQL as the source ----------------------------------------------------------------

const char* const kPostgresTable = R"SQL(CREATE TABLE types_src (
  id INT PRIMARY KEY, i16 SMALLINT, i32 INT, i64 BIGINT, f32 REAL, f64 DOUBLE PRECISION,
  dec1 NUMERIC(20,6), flag BOOLEAN, s VARCHAR(100), txt TEXT, bin BYTEA, d DATE, t TIME(3),
  ts TIMESTAMP(3), tstz TIMESTAMPTZ(3), j JSONB, u UUID))SQL";

const char* const kPostgresRows = R"SQL(INSERT INTO types_src VALUES
  (1, -32768, -2147483648, -9223372036854775808, 1.5, -1.5e300, -99999999999999.999999, TRUE,
   E'h\u00e9llo \U0001F600 ''q'' "dq"', E'line1\nline2\\tab\t', '\x00ff5c0a', '1969-12-31',
   '23:59:59.999', '2024-02-29 13:45:01.123', '2038-01-19 03:14:07.999+00',
   '{"a": [1, 2], "b": null}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  (2, 32767, 2147483647, 9223372036854775807, -0.25, 0.1, 0.000001, FALSE, '', '', '',
   '2024-02-29', '00:00:00', '1970-01-01 00:00:00', '1970-01-01 00:00:01+00', '[]',
   '00000000-0000-0000-0000-000000000000'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL))SQL";

TEST_F(CrossDbRoundTrip, PostgresToMariaDbAndSqlite) {
  rmqc::testing::ScratchDir dir;
  Endpoint from = postgres();
  ASSERT_FALSE(from.name.empty());
  auto source = open(from);
  ASSERT_NE(source, nullptr);
  exec(*source, "DROP TABLE IF EXISTS types_src");
  exec(*source, kPostgresTable);
  exec(*source, kPostgresRows);
  auto records = read_with_source(from, "public.types_src", 3);
  ASSERT_EQ(records.size(), 3u);
  const Struct& first = records[0].value.as_struct();
  EXPECT_EQ(first.get("dec1").as_decimal().to_string(), "-99999999999999.999999");
  EXPECT_EQ(first.get("u"), Value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
  EXPECT_EQ(first.get("s"), Value("h\xC3\xA9llo \xF0\x9F\x98\x80 'q' \"dq\""));

  for (const Endpoint& to : {mariadb(), sqlite(dir)}) {
    ASSERT_FALSE(to.name.empty());
    SCOPED_TRACE("postgres -> " + to.name);
    auto target = open(to);
    ASSERT_NE(target, nullptr);
    exec(*target, "DROP TABLE IF EXISTS rt_from_postgres");
    std::vector<ConnectRecord> copy = records;
    write_with_sink(to, "rt_from_postgres", std::move(copy));
    expect_round_trip(*target, "rt_from_postgres", records);
  }
}

}  // namespace
}  // namespace rmqc::connectors::jdbc

namespace rmqc::connectors::jdbc {
namespace {

// timestamp+incrementing against the real servers: rows with equal timestamps (also with
// sub-millisecond digits the offsets do not keep), an update that moves a row's timestamp, and
// a task restarted from its committed offsets in between: every change once, none twice.
class ServerTimestampMode : public ::testing::TestWithParam<std::string> {};

std::vector<std::int64_t> ids_of(const std::vector<ConnectRecord>& records) {
  std::vector<std::int64_t> out;
  for (const auto& r : records) {
    std::int64_t id = -1;
    r.value.as_struct().get("id").to_int64(id);
    out.push_back(id);
  }
  return out;
}

TEST_P(ServerTimestampMode, EqualTimestampsUpdatesAndARestart) {
  const bool pg = GetParam() == "postgres";
  Endpoint db = pg ? postgres() : mariadb();
  ASSERT_FALSE(db.name.empty());
  auto conn = open(db);
  ASSERT_NE(conn, nullptr);
  exec(*conn, "DROP TABLE IF EXISTS ts_mode");
  exec(*conn, pg ? "CREATE TABLE ts_mode (id INT PRIMARY KEY, v TEXT, "
                   "updated TIMESTAMP(6) NOT NULL)"
                 : "CREATE TABLE ts_mode (id INT PRIMARY KEY, v TEXT, "
                   "updated DATETIME(6) NOT NULL)");
  exec(*conn,
       "INSERT INTO ts_mode VALUES (1, 'a', '2024-01-01 00:00:00.000100'), "
       "(2, 'b', '2024-01-01 00:00:00.000200'), (3, 'c', '2024-01-01 00:00:00.000300'), "
       "(4, 'd', '2024-01-01 00:00:01'), (5, 'e', '2024-01-01 00:00:02')");
  KeyValue config = db.connection;
  config.put("mode", "timestamp+incrementing");
  config.put("timestamp.column.name", "updated");
  config.put("incrementing.column.name", "id");
  config.put("table.whitelist", pg ? "public.ts_mode" : "rmqc_test.ts_mode");
  config.put("topic.prefix", "ts-");
  config.put("batch.max.rows", "2");  // pages end inside the group of equal milliseconds
  config.put("poll.interval.ms", "1");

  rmqc::testing::FakeSourceContext context;
  context.config = config;
  auto poll_all = [&](int polls) {
    JdbcSourceTask task(dialects());
    task.init(context);
    task.start(config);
    std::vector<ConnectRecord> out;
    for (int i = 0; i < polls; ++i) {
      for (auto& r : task.poll()) {
        // Committed as the worker would after the broker acknowledged the record.
        context.reader.offsets[r.position.partition] = r.position.offset;
        out.push_back(std::move(r));
      }
    }
    task.stop();
    return out;
  };

  // Up to row 3 (a restart point inside the rows of one millisecond), then the rest.
  auto first = poll_all(2);
  ASSERT_GE(first.size(), 2u);
  auto rest = poll_all(20);
  auto all = ids_of(first);
  for (auto id : ids_of(rest)) all.push_back(id);
  EXPECT_EQ(all, (std::vector<std::int64_t>{1, 2, 3, 4, 5}))
      << "first poll(s) read " << first.size();

  // An update moves row 2 after everything else; a new row comes with it.
  exec(*conn, "UPDATE ts_mode SET v = 'b2', updated = '2024-01-01 00:00:03' WHERE id = 2");
  exec(*conn, "INSERT INTO ts_mode VALUES (6, 'f', '2024-01-01 00:00:03')");
  auto changes = poll_all(10);
  EXPECT_EQ(ids_of(changes), (std::vector<std::int64_t>{2, 6}));
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes[0].value.as_struct().get("v"), Value("b2"));
  EXPECT_TRUE(poll_all(5).empty()) << "nothing new, nothing again";
}

INSTANTIATE_TEST_SUITE_P(Servers, ServerTimestampMode, ::testing::Values("postgres", "mariadb"));

}  // namespace
}  // namespace rmqc::connectors::jdbc
