// PostgresDialect against a private PostgreSQL 15 (tests/testing/postgres_server.h).

#include "jdbc/postgres/postgres_dialect.h"

#include "jdbc/common/values.h"
#include "jdbc/postgres/postgres_values.h"
#include "jdbc/tests/testing/postgres_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc {
inline void PrintTo(const Value& v, std::ostream* os) {
  *os << v.to_string();
}
}  // namespace rmqc

namespace rmqc::connectors::jdbc {
namespace {

using testing::PostgresServer;

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new testing::PostgresEnvironment);

PostgresServer& server() {
  return *PostgresServer::shared();
}

std::unique_ptr<Connection> connect_or_die(const std::string& tz = "UTC") {
  PostgresDialect dialect;
  auto conn = dialect.connect(server().connection_config(tz));
  EXPECT_TRUE(conn.ok()) << conn.error().to_string();
  return conn.ok() ? std::move(conn).value() : nullptr;
}

std::vector<std::vector<Value>> read_all(Connection& conn, const std::string& sql,
                                         const std::vector<SqlParam>& params = {},
                                         std::vector<ColumnDef>* columns = nullptr) {
  std::vector<std::vector<Value>> rows;
  auto cursor = conn.query(sql, params);
  EXPECT_TRUE(cursor.ok()) << sql << ": " << cursor.error().to_string();
  if (!cursor.ok()) return rows;
  if (columns) *columns = (*cursor)->columns();
  std::vector<Value> row;
  while (true) {
    auto more = (*cursor)->next(row);
    EXPECT_TRUE(more.ok()) << more.error().to_string();
    if (!more.ok() || !*more) break;
    rows.push_back(row);
  }
  return rows;
}

void exec_or_die(Connection& conn, const std::string& sql) {
  auto r = conn.execute(sql);
  ASSERT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
}

Decimal dec(std::string_view text) {
  Decimal d;
  EXPECT_TRUE(Decimal::parse(text, d)) << text;
  return d;
}

std::int64_t ts_millis(std::string_view text, std::string_view zone = "UTC") {
  auto tz = TimeZone::load(zone);
  EXPECT_TRUE(tz.ok());
  auto ms = parse_timestamp(text, *tz);
  EXPECT_TRUE(ms.ok()) << text;
  return ms.ok() ? *ms : 0;
}

int unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(PostgresDialect, ConnectsAndQueries) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  std::vector<ColumnDef> columns;
  auto rows = read_all(*conn, "SELECT 1::int4 AS one, 'x'::text AS two", {}, &columns);
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(columns.size(), 2u);
  EXPECT_EQ(columns[0].name, "one");
  EXPECT_EQ(columns[0].kind, ColumnKind::kInt32);
  EXPECT_EQ(columns[1].kind, ColumnKind::kString);
  EXPECT_EQ(rows[0][0], Value(std::int32_t{1}));
  EXPECT_EQ(rows[0][1], Value("x"));
}

TEST(PostgresDialect, BadPasswordIsNotRetriable) {
  PostgresDialect dialect;
  ConnectionConfig config = server().connection_config();
  config.password = "wrong";
  auto conn = dialect.connect(config);
  ASSERT_FALSE(conn.ok());
  EXPECT_FALSE(conn.error().is_retriable()) << conn.error().to_string();
  EXPECT_EQ(conn.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(conn.error().message().find("authentication"), std::string::npos)
      << conn.error().message();
}

TEST(PostgresDialect, UnknownUserAndDatabaseAreNotRetriable) {
  PostgresDialect dialect;
  ConnectionConfig config = server().connection_config();
  config.user = "nobody";
  auto conn = dialect.connect(config);
  ASSERT_FALSE(conn.ok());
  EXPECT_FALSE(conn.error().is_retriable()) << conn.error().to_string();

  config = server().connection_config();
  config.database = "no_such_db";
  conn = dialect.connect(config);
  ASSERT_FALSE(conn.ok());
  EXPECT_FALSE(conn.error().is_retriable()) << conn.error().to_string();
  EXPECT_EQ(conn.error().code(), ErrorCode::kNotFound) << conn.error().to_string();
}

TEST(PostgresDialect, UnreachableServerIsRetriable) {
  PostgresDialect dialect;
  ConnectionConfig config = server().connection_config();
  config.port = unused_port();
  auto conn = dialect.connect(config);
  ASSERT_FALSE(conn.ok());
  EXPECT_TRUE(conn.error().is_retriable()) << conn.error().to_string();
  EXPECT_EQ(conn.error().code(), ErrorCode::kUnavailable);
}

TEST(PostgresDialect, SqlSpelling) {
  PostgresDialect dialect;
  EXPECT_EQ(dialect.quote_identifier("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(dialect.placeholder(0), "$1");
  std::vector<ColumnDef> cols(3);
  cols[0].name = "id";
  cols[1].name = "Name";
  cols[2].name = "v";
  TableId t{"", "s", "t"};
  EXPECT_EQ(dialect.insert_sql(t, cols, {"id"}, InsertMode::kInsert, 2, true),
            "INSERT INTO \"s\".\"t\" (\"id\", \"Name\", \"v\") VALUES ($1, $2, $3), ($4, $5, $6)");
  EXPECT_EQ(dialect.insert_sql(t, cols, {"id"}, InsertMode::kUpsert, 1, false),
            "INSERT INTO s.t (id, Name, v) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET "
            "Name = EXCLUDED.Name, v = EXCLUDED.v");
  EXPECT_EQ(dialect.insert_sql(t, {cols[0]}, {"id"}, InsertMode::kUpsert, 1, false),
            "INSERT INTO s.t (id) VALUES ($1) ON CONFLICT (id) DO NOTHING");
  ColumnDef c;
  c.kind = ColumnKind::kDecimal;
  c.precision = 38;
  c.scale = 10;
  EXPECT_EQ(dialect.sql_type(c), "NUMERIC(38,10)");
  c.kind = ColumnKind::kArray;
  c.element_kind = ColumnKind::kInt32;
  EXPECT_EQ(dialect.sql_type(c), "INT[]");
  c.kind = ColumnKind::kTimestamp;
  c.with_time_zone = true;
  EXPECT_EQ(dialect.sql_type(c), "TIMESTAMPTZ");
  EXPECT_EQ(dialect.max_parameters(), 65535);
}

const char* const kTypesTable = R"SQL(
DROP TABLE IF EXISTS types_rt;
CREATE TABLE types_rt (
  id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, n numeric(38,10), f4 real,
  f8 double precision, b boolean, t text, vc varchar(20), by bytea, d date, tm time(3),
  ts timestamp(3), tstz timestamptz(3), j json, jb jsonb, u uuid, ai int4[], at text[],
  nu numeric, ts_arr timestamptz[]))SQL";

// Rows of every type: extremes, awkward text, and a row of NULLs.
std::vector<std::vector<Value>> typed_rows() {
  const std::string awkward = "h\xC3\xA9llo \xE2\x9C\x93 'q' \"dq\" \ttab\nnl\r\\back\\\\slash \\N";
  std::vector<std::vector<Value>> rows;
  rows.push_back({
      Value(std::int32_t{1}),
      Value(std::numeric_limits<std::int16_t>::min()),
      Value(std::numeric_limits<std::int32_t>::min()),
      Value(std::numeric_limits<std::int64_t>::min()),
      Value(dec("1234567890123456789012345678.0123456789")),
      Value(3.4028235e38f),
      Value(1.7976931348623157e308),
      Value(true),
      Value(awkward),
      Value("varchar"),
      Value(Bytes{0, 1, 0, 255, '\\', '\t'}),
      Value(std::int32_t{-1}),
      Value(std::int32_t{45296789}),
      Value(ts_millis("2024-02-29 13:45:01.123")),
      Value(ts_millis("1999-12-31 23:59:59.999")),
      Value("{\"a\": [1, 2], \"s\": \"\\t\"}"),
      Value("{\"a\": [1, 2], \"b\": null}"),
      Value("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
      Value(ValueList{Value(std::int32_t{1}), Value(), Value(std::int32_t{-3})}),
      Value(ValueList{Value("a,b"), Value(), Value("q\"uote"), Value("back\\slash"), Value("NULL"),
                      Value(""), Value(" sp ")}),
      Value("123.4500"),
      Value(ValueList{Value(ts_millis("2024-01-01 00:00:00")), Value()}),
  });
  rows.push_back({
      Value(std::int32_t{2}),
      Value(std::numeric_limits<std::int16_t>::max()),
      Value(std::numeric_limits<std::int32_t>::max()),
      Value(std::numeric_limits<std::int64_t>::max()),
      Value(dec("-0.0000000001")),
      Value(-1.5f),
      Value(0.1),
      Value(false),
      Value(""),
      Value(std::string(20, 'z')),
      Value(Bytes{}),
      Value(std::int32_t{19782}),
      Value(std::int32_t{0}),
      Value(ts_millis("1970-01-01 00:00:00")),
      Value(ts_millis("2038-01-19 03:14:08.001")),
      Value("[]"),
      Value("{}"),
      Value("00000000-0000-0000-0000-000000000000"),
      Value(ValueList{}),
      Value(ValueList{Value("x")}),
      Value("-1e-20"),
      Value(ValueList{}),
  });
  std::vector<Value> nulls(rows[0].size());
  nulls[0] = Value(std::int32_t{3});
  rows.push_back(nulls);
  return rows;
}

std::vector<SqlParam> params_of(const std::vector<ColumnDef>& columns,
                                const std::vector<Value>& row) {
  std::vector<SqlParam> params;
  for (std::size_t i = 0; i < row.size(); ++i) {
    params.push_back({columns[i].kind, row[i], std::nullopt});
    if (columns[i].kind == ColumnKind::kArray) params.back().element_kind = columns[i].element_kind;
  }
  return params;
}

void expect_rows_equal(const std::vector<std::vector<Value>>& got,
                       const std::vector<std::vector<Value>>& want,
                       const std::vector<ColumnDef>& columns) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t r = 0; r < want.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size());
    for (std::size_t c = 0; c < want[r].size(); ++c) {
      Value expected = want[r][c];
      if (columns[c].name == "nu" && expected.get_if<std::string>() &&
          expected.as_string() == "-1e-20") {
        expected = Value("-0.00000000000000000001");  // numeric prints plain digits
      }
      EXPECT_EQ(got[r][c], expected) << "row " << r << " column " << columns[c].name;
    }
  }
}

class PostgresTypes : public ::testing::TestWithParam<bool> {};

TEST_P(PostgresTypes, EveryTypeRoundTrips) {
  const bool use_copy = GetParam();
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  exec_or_die(*conn, kTypesTable);
  PostgresDialect dialect;
  auto columns = conn->describe_table({"", "public", "types_rt"});
  ASSERT_TRUE(columns.ok()) << columns.error().to_string();
  ASSERT_EQ(columns->size(), 22u);
  const auto rows = typed_rows();
  if (use_copy) {
    std::vector<std::vector<SqlParam>> params;
    for (const auto& row : rows) params.push_back(params_of(*columns, row));
    auto n = conn->bulk_insert({"", "public", "types_rt"}, *columns, params);
    ASSERT_TRUE(n.ok()) << n.error().to_string();
    EXPECT_EQ(*n, 3);
  } else {
    const std::string sql = dialect.insert_sql({"", "public", "types_rt"}, *columns, {"id"},
                                               InsertMode::kInsert, 3, true);
    std::vector<SqlParam> params;
    // The timestamptz[] column's elements are int64 epoch milliseconds: the parameter's
    // element_kind says to send them as timestamps.
    for (const auto& row : rows) {
      for (auto& p : params_of(*columns, row)) params.push_back(p);
    }
    auto n = conn->execute(sql, params);
    ASSERT_TRUE(n.ok()) << n.error().to_string();
    EXPECT_EQ(*n, 3);
  }
  std::vector<ColumnDef> read_columns;
  auto got = read_all(*conn, "SELECT * FROM types_rt ORDER BY id", {}, &read_columns);
  ASSERT_EQ(read_columns.size(), 22u);
  EXPECT_EQ(read_columns[4].kind, ColumnKind::kDecimal);
  EXPECT_EQ(read_columns[4].scale, 10);
  EXPECT_EQ(read_columns[4].precision, 38);
  EXPECT_EQ(read_columns[18].kind, ColumnKind::kArray);
  EXPECT_EQ(read_columns[18].element_kind, ColumnKind::kInt32);
  EXPECT_EQ(read_columns[20].kind, ColumnKind::kString);  // unconstrained numeric
  EXPECT_TRUE(read_columns[14].with_time_zone);
  expect_rows_equal(got, rows, read_columns);

  // Values as PostgreSQL itself sees them (not only our own round trip).
  auto text = read_all(*conn,
                       "SELECT n::text, ts::text, tstz::text, d::text, tm::text, by::text, "
                       "ai::text, f8::text FROM types_rt WHERE id = 1");
  ASSERT_EQ(text.size(), 1u);
  EXPECT_EQ(text[0][0], Value("1234567890123456789012345678.0123456789"));
  EXPECT_EQ(text[0][1], Value("2024-02-29 13:45:01.123"));
  EXPECT_EQ(text[0][2], Value("1999-12-31 23:59:59.999+00"));
  EXPECT_EQ(text[0][3], Value("1969-12-31"));
  EXPECT_EQ(text[0][4], Value("12:34:56.789"));
  EXPECT_EQ(text[0][5], Value("\\x000100ff5c09"));
  EXPECT_EQ(text[0][6], Value("{1,NULL,-3}"));
  EXPECT_EQ(text[0][7], Value("1.7976931348623157e+308"));
}

INSTANTIATE_TEST_SUITE_P(InsertAndCopy, PostgresTypes, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Copy" : "Insert"; });

TEST(PostgresDialect, ZoneLessTimestampsUseDbTimezone) {
  auto shanghai = connect_or_die("Asia/Shanghai");
  auto utc = connect_or_die("UTC");
  ASSERT_NE(shanghai, nullptr);
  ASSERT_NE(utc, nullptr);
  exec_or_die(*utc,
              "DROP TABLE IF EXISTS tz_rt; CREATE TABLE tz_rt (id int, ts timestamp(3), "
              "tstz timestamptz(3))");
  const std::int64_t instant = ts_millis("2024-06-01 00:30:00.250");  // UTC
  auto n = shanghai->execute(
      "INSERT INTO tz_rt VALUES (1, $1, $2)",
      {{ColumnKind::kTimestamp, Value(instant)}, {ColumnKind::kTimestamp, Value(instant)}});
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  // COPY writes the same way.
  std::vector<ColumnDef> cols(3);
  cols[0].name = "id";
  cols[0].kind = ColumnKind::kInt32;
  cols[1].name = "ts";
  cols[1].kind = ColumnKind::kTimestamp;
  cols[2].name = "tstz";
  cols[2].kind = ColumnKind::kTimestamp;
  auto copied = shanghai->bulk_insert({"", "", "tz_rt"}, cols,
                                      {{{ColumnKind::kInt32, Value(std::int32_t{2})},
                                        {ColumnKind::kTimestamp, Value(instant)},
                                        {ColumnKind::kTimestamp, Value(instant)}}});
  ASSERT_TRUE(copied.ok()) << copied.error().to_string();

  auto text = read_all(*utc, "SELECT ts::text, tstz::text FROM tz_rt ORDER BY id");
  ASSERT_EQ(text.size(), 2u);
  for (const auto& row : text) {
    EXPECT_EQ(row[0], Value("2024-06-01 08:30:00.25"));  // wall time in Shanghai
    EXPECT_EQ(row[1], Value("2024-06-01 00:30:00.25+00"));
  }
  auto via_shanghai = read_all(*shanghai, "SELECT ts, tstz FROM tz_rt ORDER BY id");
  ASSERT_EQ(via_shanghai.size(), 2u);
  EXPECT_EQ(via_shanghai[0][0], Value(instant));
  EXPECT_EQ(via_shanghai[0][1], Value(instant));
  auto via_utc = read_all(*utc, "SELECT ts, tstz FROM tz_rt ORDER BY id");
  ASSERT_EQ(via_utc.size(), 2u);
  EXPECT_EQ(via_utc[0][0], Value(instant + 8 * 3600 * 1000));
  EXPECT_EQ(via_utc[0][1], Value(instant));

  // A zone-less timestamp as a query parameter is compared in db.timezone too.
  auto found = read_all(*shanghai, "SELECT id FROM tz_rt WHERE ts = $1 ORDER BY id",
                        {{ColumnKind::kTimestamp, Value(instant)}});
  EXPECT_EQ(found.size(), 2u);
}

TEST(PostgresDialect, Upsert) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  exec_or_die(*conn,
              "DROP TABLE IF EXISTS up; CREATE TABLE up (k1 int, k2 text, v text, n int, "
              "PRIMARY KEY (k1, k2))");
  PostgresDialect dialect;
  auto columns = conn->describe_table({"", "public", "up"});
  ASSERT_TRUE(columns.ok());
  const std::string sql = dialect.insert_sql({"", "public", "up"}, *columns, {"k1", "k2"},
                                             InsertMode::kUpsert, 2, true);
  auto row = [](int k1, const char* k2, const char* v, int n) {
    return std::vector<SqlParam>{{ColumnKind::kInt32, Value(std::int32_t{k1})},
                                 {ColumnKind::kString, Value(k2)},
                                 {ColumnKind::kString, Value(v)},
                                 {ColumnKind::kInt32, Value(std::int32_t{n})}};
  };
  auto both = [&](std::vector<SqlParam> a, std::vector<SqlParam> b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  ASSERT_TRUE(conn->execute(sql, both(row(1, "a", "one", 1), row(2, "b", "two", 2))).ok());
  auto r = conn->execute(sql, both(row(1, "a", "uno", 10), row(3, "c", "three", 3)));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  auto got = read_all(*conn, "SELECT k1, v, n FROM up ORDER BY k1");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0][1], Value("uno"));
  EXPECT_EQ(got[0][2], Value(std::int32_t{10}));
  EXPECT_EQ(got[1][1], Value("two"));
  EXPECT_EQ(got[2][1], Value("three"));

  // Only key columns: DO NOTHING, no error on the duplicate.
  std::vector<ColumnDef> keys(columns->begin(), columns->begin() + 2);
  const std::string keys_sql =
      dialect.insert_sql({"", "public", "up"}, keys, {"k1", "k2"}, InsertMode::kUpsert, 1, true);
  auto k = conn->execute(
      keys_sql, {{ColumnKind::kInt32, Value(std::int32_t{1})}, {ColumnKind::kString, Value("a")}});
  ASSERT_TRUE(k.ok()) << k.error().to_string();
  EXPECT_EQ(*k, 0);

  // A plain insert of a duplicate is a constraint error: not retriable.
  const std::string insert =
      dialect.insert_sql({"", "public", "up"}, *columns, {}, InsertMode::kInsert, 1, true);
  auto dup = conn->execute(insert, row(1, "a", "dup", 0));
  ASSERT_FALSE(dup.ok());
  EXPECT_FALSE(dup.error().is_retriable());
  EXPECT_NE(dup.error().message().find("23505"), std::string::npos) << dup.error().message();
}

TEST(PostgresDialect, ListAndDescribeTables) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  exec_or_die(*conn, R"SQL(
DROP SCHEMA IF EXISTS meta_s CASCADE;
CREATE SCHEMA meta_s;
CREATE TABLE meta_s.orders (id bigserial, region varchar(12) NOT NULL, amount numeric(12,2),
                            note text, PRIMARY KEY (region, id));
CREATE TABLE meta_s.items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tags text[]);
CREATE VIEW meta_s.big_orders AS SELECT * FROM meta_s.orders WHERE amount > 100;)SQL");

  auto tables = conn->list_tables({"", "meta\\_s", {}});
  ASSERT_TRUE(tables.ok()) << tables.error().to_string();
  EXPECT_EQ(*tables, (std::vector<TableId>{{"", "meta_s", "items"}, {"", "meta_s", "orders"}}));
  auto views = conn->list_tables({"", "meta%", {"VIEW"}});
  ASSERT_TRUE(views.ok());
  EXPECT_EQ(*views, (std::vector<TableId>{{"", "meta_s", "big_orders"}}));
  auto all = conn->list_tables({"", "", {"TABLE", "VIEW"}});
  ASSERT_TRUE(all.ok());
  bool saw_view = false;
  for (const auto& t : *all) {
    EXPECT_NE(t.schema, "pg_catalog");
    EXPECT_NE(t.schema, "information_schema");
    saw_view = saw_view || (t.schema == "meta_s" && t.table == "big_orders");
  }
  EXPECT_TRUE(saw_view);
  auto other_db = conn->list_tables({"not_this_db", "", {}});
  ASSERT_TRUE(other_db.ok());
  EXPECT_TRUE(other_db->empty());

  auto cols = conn->describe_table({"", "meta_s", "orders"});
  ASSERT_TRUE(cols.ok()) << cols.error().to_string();
  ASSERT_EQ(cols->size(), 4u);
  EXPECT_EQ((*cols)[0].name, "id");
  EXPECT_EQ((*cols)[0].kind, ColumnKind::kInt64);
  EXPECT_TRUE((*cols)[0].primary_key);
  EXPECT_TRUE((*cols)[0].auto_increment);
  EXPECT_FALSE((*cols)[0].nullable);
  EXPECT_EQ((*cols)[1].kind, ColumnKind::kString);
  EXPECT_EQ((*cols)[1].precision, 12);
  EXPECT_TRUE((*cols)[1].primary_key);
  EXPECT_FALSE((*cols)[1].nullable);
  EXPECT_EQ((*cols)[2].kind, ColumnKind::kDecimal);
  EXPECT_EQ((*cols)[2].precision, 12);
  EXPECT_EQ((*cols)[2].scale, 2);
  EXPECT_EQ((*cols)[2].native_type, "numeric(12,2)");
  EXPECT_FALSE((*cols)[2].primary_key);
  EXPECT_TRUE((*cols)[3].nullable);

  auto items = conn->describe_table({"", "meta_s", "items"});
  ASSERT_TRUE(items.ok());
  EXPECT_TRUE((*items)[0].auto_increment);
  EXPECT_EQ((*items)[1].kind, ColumnKind::kArray);
  EXPECT_EQ((*items)[1].element_kind, ColumnKind::kString);

  // Without a schema: the table the search path finds.
  exec_or_die(*conn, "DROP TABLE IF EXISTS meta_public; CREATE TABLE meta_public (a int, b text)");
  auto visible = conn->describe_table({"", "", "meta_public"});
  ASSERT_TRUE(visible.ok()) << visible.error().to_string();
  EXPECT_EQ(visible->size(), 2u);
  EXPECT_FALSE(conn->describe_table({"", "", "items"}).ok());  // meta_s is not on the path

  auto missing = conn->describe_table({"", "meta_s", "nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(missing.error().is_retriable());
}

TEST(PostgresDialect, StatementErrorsAreClassified) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  auto missing = conn->execute("INSERT INTO no_such_table VALUES (1)");
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(missing.error().is_retriable());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("42P01"), std::string::npos);
  EXPECT_NE(missing.error().message().find("no_such_table"), std::string::npos);

  auto bad = conn->query("SELECT $1::int", {{ColumnKind::kString, Value("abc")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.error().is_retriable());
  EXPECT_NE(bad.error().message().find("22P02"), std::string::npos) << bad.error().message();

  // A failed statement aborts the transaction; its COMMIT is an error, not a silent rollback.
  ASSERT_TRUE(conn->begin().ok());
  exec_or_die(*conn, "CREATE TEMP TABLE tx_t (id int)");
  EXPECT_FALSE(conn->execute("SELECT 1/0").ok());
  EXPECT_FALSE(conn->commit().ok());
  auto after = read_all(*conn, "SELECT 1");
  EXPECT_EQ(after.size(), 1u);

  // Committed work is visible to another session; rolled back work is not.
  exec_or_die(*conn, "DROP TABLE IF EXISTS tx_v; CREATE TABLE tx_v (id int)");
  ASSERT_TRUE(conn->begin().ok());
  exec_or_die(*conn, "INSERT INTO tx_v VALUES (1)");
  ASSERT_TRUE(conn->commit().ok());
  ASSERT_TRUE(conn->begin().ok());
  exec_or_die(*conn, "INSERT INTO tx_v VALUES (2)");
  ASSERT_TRUE(conn->rollback().ok());
  auto other = connect_or_die();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(read_all(*other, "SELECT id FROM tx_v").size(), 1u);
}

TEST(PostgresDialect, DeadlockIsRetriable) {
  auto a = connect_or_die();
  auto b = connect_or_die();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  exec_or_die(*a,
              "DROP TABLE IF EXISTS dl; CREATE TABLE dl (id int PRIMARY KEY, v int); "
              "INSERT INTO dl VALUES (1, 0), (2, 0)");
  ASSERT_TRUE(a->begin().ok());
  ASSERT_TRUE(b->begin().ok());
  exec_or_die(*a, "UPDATE dl SET v = 1 WHERE id = 1");
  exec_or_die(*b, "UPDATE dl SET v = 1 WHERE id = 2");
  Result<std::int64_t> ra = std::int64_t{0};
  std::thread t([&] { ra = a->execute("UPDATE dl SET v = 2 WHERE id = 2"); });
  // Let a block on b's row lock before b closes the cycle (else b only waits).
  auto probe = connect_or_die();
  ASSERT_NE(probe, nullptr);
  for (int i = 0; i < 1000; ++i) {
    auto waiting = read_all(*probe,
                            "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = "
                            "'Lock' AND datname = current_database()");
    if (!waiting.empty() && waiting[0][0] == Value(std::int32_t{1})) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto rb = b->execute("UPDATE dl SET v = 2 WHERE id = 1");
  if (rb.ok()) {
    // a was chosen as the victim: b got its lock once a's transaction was aborted.
    t.join();
    ASSERT_FALSE(ra.ok());
    EXPECT_TRUE(ra.error().is_retriable()) << ra.error().to_string();
    EXPECT_NE(ra.error().message().find("40P01"), std::string::npos);
    ASSERT_TRUE(b->commit().ok());
    (void)a->rollback();
  } else {
    EXPECT_TRUE(rb.error().is_retriable()) << rb.error().to_string();
    EXPECT_NE(rb.error().message().find("40P01"), std::string::npos);
    (void)b->rollback();
    t.join();
    EXPECT_TRUE(ra.ok());
    ASSERT_TRUE(a->commit().ok());
  }
}

TEST(PostgresDialect, CopyTenThousandRows) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  exec_or_die(*conn,
              "DROP TABLE IF EXISTS copy_t; CREATE TABLE copy_t (id bigint PRIMARY KEY, name "
              "text, amount numeric(12,2), at timestamptz, payload bytea)");
  auto columns = conn->describe_table({"", "public", "copy_t"});
  ASSERT_TRUE(columns.ok());
  std::vector<std::vector<SqlParam>> rows;
  for (int i = 0; i < 10000; ++i) {
    rows.push_back({{ColumnKind::kInt64, Value(std::int64_t{i})},
                    {ColumnKind::kString, Value("name\t" + std::to_string(i) + "\n\\")},
                    {ColumnKind::kDecimal, Value(Decimal::from_unscaled(i * 101, 2))},
                    {ColumnKind::kTimestamp, Value(std::int64_t{1700000000000} + i)},
                    {ColumnKind::kBytes, i % 7 == 0 ? Value() : Value(Bytes{0, 0x5c, 0x0a})}});
  }
  const auto start = std::chrono::steady_clock::now();
  auto n = conn->bulk_insert({"", "public", "copy_t"}, *columns, rows);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(n.ok()) << n.error().to_string();
  EXPECT_EQ(*n, 10000);
  std::printf("[ info ] COPY of 10000 rows: %.0f rows/s\n", 10000 / secs);
  auto sums = read_all(*conn,
                       "SELECT count(*), sum(amount), count(payload), "
                       "sum(extract(epoch from at) * 1000)::bigint FROM copy_t");
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_EQ(sums[0][0], Value(std::int64_t{10000}));
  EXPECT_EQ(sums[0][1], Value("50494950.00"));  // sum() of numeric(12,2) is unconstrained numeric
  EXPECT_EQ(sums[0][2], Value(std::int64_t{10000 - 1429}));
  EXPECT_EQ(sums[0][3], Value(std::int64_t{1700000000000} * 10000 + 49995000));
  auto one = read_all(*conn, "SELECT name, payload FROM copy_t WHERE id = 8");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0][0], Value("name\t8\n\\"));
  EXPECT_EQ(one[0][1], Value(Bytes{0, 0x5c, 0x0a}));

  // A bad row fails the whole COPY with a non-retriable error and the connection stays usable.
  auto bad = conn->bulk_insert({"", "public", "copy_t"}, *columns,
                               {{{ColumnKind::kInt64, Value(std::int64_t{1})},
                                 {ColumnKind::kString, Value("dup")},
                                 {ColumnKind::kDecimal, Value()},
                                 {ColumnKind::kTimestamp, Value()},
                                 {ColumnKind::kBytes, Value()}}});
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.error().is_retriable());
  EXPECT_EQ(read_all(*conn, "SELECT 1").size(), 1u);
}

long rss_kb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr std::int64_t kStreamRows = 200000;  // an instrumented debug build is ~30x slower
#else
constexpr std::int64_t kStreamRows = 1000000;
#endif

TEST(PostgresDialect, StreamsALargeResult) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  [[maybe_unused]] const long rss_before = rss_kb();
  const auto start = std::chrono::steady_clock::now();
  auto cursor = conn->query(
      "SELECT g::bigint AS id, 'name-' || g AS name, (g % 1000)::numeric(10,2) AS amount, "
      "TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 second' AS at, repeat('x', 120) AS pad, "
      "g % 2 = 0 AS even FROM generate_series(1, $1) g",
      {{ColumnKind::kInt64, Value(kStreamRows)}});
  ASSERT_TRUE(cursor.ok()) << cursor.error().to_string();
  std::vector<Value> row;
  std::int64_t count = 0;
  std::int64_t sum = 0;
  [[maybe_unused]] long rss_peak = 0;
  while (true) {
    auto more = (*cursor)->next(row);
    ASSERT_TRUE(more.ok()) << more.error().to_string();
    if (!*more) break;
    ++count;
    sum += row[0].as_int64();
    if (count % 100000 == 0) rss_peak = std::max(rss_peak, rss_kb());
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(count, kStreamRows);
  EXPECT_EQ(sum, kStreamRows * (kStreamRows + 1) / 2);
  std::printf("[ info ] streamed %lld rows in %.2f s: %.0f rows/s\n", static_cast<long long>(count),
              secs, count / secs);
#if !defined(__SANITIZE_ADDRESS__)
  // The whole result buffered would be ~250 MB; streaming keeps a few rows.
  EXPECT_LT(rss_peak - rss_before, 64 * 1024) << "RSS grew by " << (rss_peak - rss_before) << " kB";
#endif

  // A cursor dropped half-way leaves the connection usable.
  auto partial = conn->query("SELECT g FROM generate_series(1, 5000000) g", {});
  ASSERT_TRUE(partial.ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(*(*partial)->next(row));
  partial->reset();
  auto again = read_all(*conn, "SELECT 42::int");
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0][0], Value(std::int32_t{42}));
}

TEST(PostgresDialect, CancelStopsARunningStatement) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  Result<std::int64_t> result = std::int64_t{0};
  std::thread t([&] { result = conn->execute("SELECT pg_sleep(30)"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  conn->cancel();
  t.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kCancelled) << result.error().to_string();

  // The connection serves the next statement.
  auto rows = read_all(*conn, "SELECT 7::int");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value(std::int32_t{7}));

  // And a query() waiting for its first row is cancelled the same way.
  Result<std::unique_ptr<RowCursor>> cursor = Error(ErrorCode::kInternal, "not run");
  std::thread q([&] { cursor = conn->query("SELECT pg_sleep(30)", {}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  conn->cancel();
  q.join();
  ASSERT_FALSE(cursor.ok());
  EXPECT_EQ(cursor.error().code(), ErrorCode::kCancelled) << cursor.error().to_string();
  EXPECT_EQ(read_all(*conn, "SELECT 1").size(), 1u);
}

// Last: restarts the shared server.
TEST(PostgresDialect, ServerRestartFailsTheOldConnectionRetriably) {
  auto conn = connect_or_die();
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(read_all(*conn, "SELECT 1").size(), 1u);
  auto restarted = server().restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().to_string();
  auto r = conn->execute("SELECT 1");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().is_retriable()) << r.error().to_string();
  auto q = conn->query("SELECT 1", {});
  ASSERT_FALSE(q.ok());
  EXPECT_TRUE(q.error().is_retriable()) << q.error().to_string();
  auto fresh = connect_or_die();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(read_all(*fresh, "SELECT 1").size(), 1u);
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
