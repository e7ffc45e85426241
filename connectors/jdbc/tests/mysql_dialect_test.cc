// The MySQL/MariaDB dialect against a private MariaDB server (tests/testing/mariadb_server.h).

#include "jdbc/mysql/mysql_dialect.h"

#include "jdbc/common/values.h"
#include "jdbc/tests/testing/mariadb_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <limits>
#include <thread>

namespace rmqc::connectors::jdbc {
namespace {

using testing::MariaDbServer;

[[maybe_unused]] ::testing::Environment* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new testing::MariaDbEnvironment);

MariaDbServer& server() {
  return *MariaDbServer::shared();
}

const Dialect& dialect() {
  static const std::shared_ptr<const Dialect> d = make_mysql_dialect();
  return *d;
}

std::unique_ptr<Connection> connect_or_die(const ConnectionConfig& config) {
  auto c = dialect().connect(config);
  if (!c.ok()) {
    ADD_FAILURE() << "connect: " << c.error().to_string();
    return nullptr;
  }
  return std::move(c).value();
}

std::unique_ptr<Connection> connect_default(const std::string& zone = "UTC") {
  return connect_or_die(server().connection_config(zone));
}

void exec_or_die(Connection& c, const std::string& sql, const std::vector<SqlParam>& params = {}) {
  auto r = c.execute(sql, params);
  ASSERT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
}

std::vector<std::vector<Value>> read_all(Connection& c, const std::string& sql,
                                         const std::vector<SqlParam>& params = {},
                                         std::vector<ColumnDef>* columns = nullptr) {
  std::vector<std::vector<Value>> out;
  auto cursor = c.query(sql, params);
  if (!cursor.ok()) {
    ADD_FAILURE() << sql << ": " << cursor.error().to_string();
    return out;
  }
  if (columns != nullptr) *columns = (*cursor)->columns();
  std::vector<Value> row;
  while (true) {
    auto more = (*cursor)->next(row);
    if (!more.ok()) {
      ADD_FAILURE() << sql << ": " << more.error().to_string();
      break;
    }
    if (!*more) break;
    out.push_back(row);
  }
  return out;
}

Decimal dec(std::string_view text, int scale) {
  auto d = parse_decimal(text, scale);
  EXPECT_TRUE(d.ok()) << text;
  return d.ok() ? *d : Decimal{};
}

std::int32_t days(std::string_view text) {
  return *parse_date(text);
}

std::int64_t utc_millis(std::string_view text) {
  return *parse_timestamp(text, TimeZone());
}

SqlParam p(ColumnKind kind, Value v) {
  return SqlParam{kind, std::move(v)};
}

// ---------------------------------------------------------------------------------------------

TEST(MySqlDialect, NamesAndSchemes) {
  EXPECT_EQ(dialect().name(), "MySqlDatabaseDialect");
  auto schemes = dialect().url_schemes();
  EXPECT_NE(std::find(schemes.begin(), schemes.end(), "mysql"), schemes.end());
  EXPECT_NE(std::find(schemes.begin(), schemes.end(), "mariadb"), schemes.end());
  DialectRegistry registry;
  register_mysql_dialect(registry);
  EXPECT_NE(registry.find_by_scheme("mariadb"), nullptr);
  EXPECT_NE(registry.find_by_name("MySqlDatabaseDialect"), nullptr);
}

TEST(MySqlDialect, SqlText) {
  EXPECT_EQ(dialect().quote_identifier("a`b"), "`a``b`");
  EXPECT_EQ(dialect().placeholder(3), "?");
  EXPECT_EQ(dialect().max_parameters(), 65535);
  std::vector<ColumnDef> cols(3);
  cols[0].name = "id";
  cols[1].name = "a";
  cols[2].name = "b";
  const TableId t{"db", "", "t"};
  EXPECT_EQ(dialect().insert_sql(t, cols, {"id"}, InsertMode::kInsert, 2, true),
            "INSERT INTO `db`.`t` (`id`, `a`, `b`) VALUES (?, ?, ?), (?, ?, ?)");
  EXPECT_EQ(dialect().insert_sql(t, cols, {"id"}, InsertMode::kUpsert, 1, false),
            "INSERT INTO db.t (id, a, b) VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE a = VALUES(a), "
            "b = VALUES(b)");
  ColumnDef d;
  d.kind = ColumnKind::kDecimal;
  d.scale = 4;
  EXPECT_EQ(dialect().sql_type(d), "DECIMAL(65,4)");
  d.kind = ColumnKind::kString;
  d.primary_key = true;
  EXPECT_EQ(dialect().sql_type(d), "VARCHAR(255)");
}

TEST(MariaDbServerTest, RowBinlogAndReplicationGrants) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  auto rows = read_all(*c, "SELECT @@log_bin, @@binlog_format, @@server_id");
  ASSERT_EQ(rows.size(), 1u);
  std::int64_t log_bin = 0;
  ASSERT_TRUE(rows[0][0].to_int64(log_bin));
  EXPECT_EQ(log_bin, 1);
  EXPECT_EQ(rows[0][1], Value("ROW"));
  rows = read_all(*c, "SHOW GRANTS");
  ASSERT_FALSE(rows.empty());
  EXPECT_NE(rows[0][0].as_string().find("ALL PRIVILEGES"), std::string::npos)
      << rows[0][0].as_string();
  EXPECT_FALSE(read_all(*c, "SHOW BINARY LOGS").empty());
}

TEST(MySqlConnect, GoodCredentials) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  auto rows = read_all(*c, "SELECT 1 + ?, @@session.time_zone, DATABASE()",
                       {p(ColumnKind::kInt64, Value(std::int64_t{41}))});
  ASSERT_EQ(rows.size(), 1u);
  std::int64_t sum = 0;
  EXPECT_TRUE(rows[0][0].to_int64(sum)) << rows[0][0].to_string();
  EXPECT_EQ(sum, 42);
  EXPECT_EQ(rows[0][1], Value("+00:00"));
  EXPECT_EQ(rows[0][2], Value(server().database()));
}

TEST(MySqlConnect, BadCredentialsAreNotRetriable) {
  auto config = server().connection_config();
  config.password = "wrong";
  auto c = dialect().connect(config);
  ASSERT_FALSE(c.ok());
  EXPECT_FALSE(c.error().is_retriable());
  EXPECT_EQ(c.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(c.error().message().find("Access denied"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("1045"), std::string::npos) << c.error().message();
  EXPECT_EQ(c.error().message().find("wrong"), std::string::npos) << "password in the message";
}

TEST(MySqlConnect, UnknownDatabaseIsNotRetriable) {
  auto config = server().connection_config();
  config.database = "no_such_db";
  auto c = dialect().connect(config);
  ASSERT_FALSE(c.ok());
  EXPECT_FALSE(c.error().is_retriable());
}

TEST(MySqlConnect, UnreachablePortIsRetriable) {
  auto config = server().connection_config();
  config.port = 1;  // nothing listens there
  auto c = dialect().connect(config);
  ASSERT_FALSE(c.ok());
  EXPECT_TRUE(c.error().is_retriable()) << c.error().to_string();
  EXPECT_EQ(c.error().code(), ErrorCode::kUnavailable);
}

TEST(MySqlConnect, UrlProperties) {
  auto config = server().connection_config();
  config.properties = {{"useSSL", "false"},
                       {"characterEncoding", "UTF-8"},
                       {"connectTimeout", "5000"},
                       {"someJavaOnlyThing", "x"}};
  auto c = connect_or_die(config);
  ASSERT_NE(c, nullptr);
  auto rows = read_all(*c, "SELECT @@character_set_client, @@sql_mode");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value("utf8mb4"));
  EXPECT_NE(rows[0][1].as_string().find("STRICT_ALL_TABLES"), std::string::npos);
}

// ---------------------------------------------------------------------------------------------

const char* kTypesTable =
    "CREATE TABLE types_rt (id INT NOT NULL PRIMARY KEY, b BOOLEAN, ti TINYINT, tiu TINYINT "
    "UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED, i INT, "
    "iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED, d DECIMAL(38,10), f FLOAT, db DOUBLE, vc "
    "VARCHAR(200), tx TEXT, bl BLOB, vb VARBINARY(20), dt DATE, tm TIME(3), dtm DATETIME(3), ts "
    "TIMESTAMP(3) NULL, js JSON, bit1 BIT(1), bit9 BIT(9), yr YEAR, en ENUM('a','b'), ch "
    "CHAR(10), u UUID)";

struct Expect {
  const char* name;
  ColumnKind kind;
};

const std::vector<Expect> kTypesColumns = {
    {"id", ColumnKind::kInt32},      {"b", ColumnKind::kBoolean},    {"ti", ColumnKind::kInt8},
    {"tiu", ColumnKind::kInt16},     {"si", ColumnKind::kInt16},     {"siu", ColumnKind::kInt32},
    {"mi", ColumnKind::kInt32},      {"miu", ColumnKind::kInt32},    {"i", ColumnKind::kInt32},
    {"iu", ColumnKind::kInt64},      {"bi", ColumnKind::kInt64},     {"biu", ColumnKind::kDecimal},
    {"d", ColumnKind::kDecimal},     {"f", ColumnKind::kFloat32},    {"db", ColumnKind::kFloat64},
    {"vc", ColumnKind::kString},     {"tx", ColumnKind::kString},    {"bl", ColumnKind::kBytes},
    {"vb", ColumnKind::kBytes},      {"dt", ColumnKind::kDate},      {"tm", ColumnKind::kTime},
    {"dtm", ColumnKind::kTimestamp}, {"ts", ColumnKind::kTimestamp}, {"js", ColumnKind::kJson},
    {"bit1", ColumnKind::kBoolean},  {"bit9", ColumnKind::kBytes},   {"yr", ColumnKind::kInt16},
    {"en", ColumnKind::kString},     {"ch", ColumnKind::kString},    {"u", ColumnKind::kUuid},
};

std::vector<Value> max_row() {
  const std::string text =
      "h\xC3\xA9llo \xE2\x98\x83 \xF0\x9F\x98\x80 'single' \"double\" back\\slash\nnew\tline "
      "\\' '' ?";
  return {
      Value(std::int32_t{1}),
      Value(true),
      Value(std::int8_t{127}),
      Value(std::int16_t{255}),
      Value(std::int16_t{32767}),
      Value(std::int32_t{65535}),
      Value(std::int32_t{8388607}),
      Value(std::int32_t{16777215}),
      Value(std::numeric_limits<std::int32_t>::max()),
      Value(std::int64_t{4294967295}),
      Value(std::numeric_limits<std::int64_t>::max()),
      Value(dec("18446744073709551615", 0)),
      Value(dec("1234567890123456789012345678.0123456789", 10)),
      Value(1.5f),
      Value(1.7976931348623157e308),
      Value(text),
      Value(std::string(10000, 'x') + text),
      Value(Bytes{0, 1, 0, 255, '\'', '\\', 0}),
      Value(Bytes{0}),
      Value(days("2024-02-29")),
      Value(std::int32_t{13 * 3600000 + 45 * 60000 + 1123}),
      Value(utc_millis("9999-12-31 23:59:59.999")),
      Value(utc_millis("2038-01-19 03:14:07.999")),
      Value("{\"a\": [1, 2, {\"b\": null}], \"s\": \"\xF0\x9F\x98\x80\"}"),
      Value(true),
      Value(Bytes{0x01, 0xFF}),
      Value(std::int16_t{2155}),
      Value("b"),
      Value("abc"),
      Value("123e4567-e89b-12d3-a456-426614174000"),
  };
}

std::vector<Value> min_row() {
  return {
      Value(std::int32_t{2}),
      Value(false),
      Value(std::int8_t{-128}),
      Value(std::int16_t{0}),
      Value(std::int16_t{-32768}),
      Value(std::int32_t{0}),
      Value(std::int32_t{-8388608}),
      Value(std::int32_t{0}),
      Value(std::numeric_limits<std::int32_t>::min()),
      Value(std::int64_t{0}),
      Value(std::numeric_limits<std::int64_t>::min()),
      Value(dec("0", 0)),
      Value(dec("-9999999999999999999999999999.9999999999", 10)),
      Value(-2.25e10f),
      Value(-2.5e-300),
      Value(""),
      Value(""),
      Value(Bytes{}),
      Value(Bytes{}),
      Value(days("1000-01-01")),
      Value(std::int32_t{0}),
      Value(utc_millis("1000-01-01 00:00:00")),
      Value(utc_millis("1970-01-01 00:00:01")),
      Value("[]"),
      Value(false),
      Value(Bytes{0x00, 0x00}),
      Value(std::int16_t{1901}),
      Value("a"),
      Value(""),
      Value("00000000-0000-0000-0000-000000000000"),
  };
}

std::vector<ColumnDef> column_defs(const std::vector<Expect>& expect) {
  std::vector<ColumnDef> out;
  for (const auto& e : expect) {
    ColumnDef c;
    c.name = e.name;
    c.kind = e.kind;
    out.push_back(c);
  }
  return out;
}

std::vector<SqlParam> params_of(const std::vector<Value>& row) {
  std::vector<SqlParam> out;
  for (std::size_t i = 0; i < row.size(); ++i) out.push_back({kTypesColumns[i].kind, row[i]});
  return out;
}

void expect_row(const std::vector<Value>& got, const std::vector<Value>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const char* name = kTypesColumns[i].name;
    if (want[i].kind() == Value::Kind::kDecimal && got[i].kind() == Value::Kind::kDecimal) {
      EXPECT_EQ(got[i].as_decimal().to_string(), want[i].as_decimal().to_string()) << name;
      EXPECT_EQ(got[i].as_decimal().scale, want[i].as_decimal().scale) << name;
    } else {
      EXPECT_EQ(got[i], want[i]) << name << ": got " << got[i].to_string() << " want "
                                 << want[i].to_string();
    }
  }
}

TEST(MySqlTypes, EveryTypeRoundTrips) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS types_rt");
  exec_or_die(*c, kTypesTable);
  const auto columns = column_defs(kTypesColumns);
  const TableId table{"", "", "types_rt"};

  // Two rows in one multi-row INSERT, a row of NULLs in another.
  std::vector<SqlParam> params = params_of(max_row());
  for (auto& q : params_of(min_row())) params.push_back(q);
  exec_or_die(*c, dialect().insert_sql(table, columns, {"id"}, InsertMode::kInsert, 2, true),
              params);
  std::vector<SqlParam> nulls;
  nulls.push_back({ColumnKind::kInt32, Value(std::int32_t{3})});
  for (std::size_t i = 1; i < columns.size(); ++i) nulls.push_back({columns[i].kind, Value()});
  exec_or_die(*c, dialect().insert_sql(table, columns, {"id"}, InsertMode::kInsert, 1, true),
              nulls);

  std::vector<ColumnDef> got_columns;
  auto rows = read_all(*c, "SELECT * FROM types_rt ORDER BY id", {}, &got_columns);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(got_columns.size(), kTypesColumns.size());
  for (std::size_t i = 0; i < kTypesColumns.size(); ++i) {
    EXPECT_EQ(got_columns[i].name, kTypesColumns[i].name);
    EXPECT_EQ(got_columns[i].kind, kTypesColumns[i].kind)
        << kTypesColumns[i].name << " is " << column_kind_name(got_columns[i].kind) << " ("
        << got_columns[i].native_type << ")";
  }
  EXPECT_TRUE(got_columns[0].primary_key);
  EXPECT_FALSE(got_columns[0].nullable);
  EXPECT_TRUE(got_columns[1].nullable);
  EXPECT_EQ(got_columns[12].precision, 38);
  EXPECT_EQ(got_columns[12].scale, 10);
  EXPECT_FALSE(got_columns[21].with_time_zone);
  EXPECT_TRUE(got_columns[22].with_time_zone);
  EXPECT_EQ(got_columns[21].precision, 3);

  expect_row(rows[0], max_row());
  expect_row(rows[1], min_row());
  EXPECT_EQ(rows[2][0], Value(std::int32_t{3}));
  for (std::size_t i = 1; i < rows[2].size(); ++i) {
    EXPECT_TRUE(rows[2][i].is_null()) << kTypesColumns[i].name << " " << rows[2][i].to_string();
  }

  // describe_table agrees with the result metadata.
  auto described = c->describe_table(table);
  ASSERT_TRUE(described.ok()) << described.error().to_string();
  ASSERT_EQ(described->size(), kTypesColumns.size());
  for (std::size_t i = 0; i < kTypesColumns.size(); ++i) {
    EXPECT_EQ((*described)[i].kind, kTypesColumns[i].kind)
        << kTypesColumns[i].name << " described as " << (*described)[i].native_type;
  }
  EXPECT_EQ((*described)[12].precision, 38);
  EXPECT_EQ((*described)[12].scale, 10);
  EXPECT_TRUE((*described)[22].with_time_zone);
  EXPECT_FALSE((*described)[21].with_time_zone);
}

TEST(MySqlTypes, FloatExtremesKeepTheServersDigits) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS floats");
  exec_or_die(*c, "CREATE TABLE floats (f FLOAT, d DOUBLE)");
  exec_or_die(*c, "INSERT INTO floats VALUES (?, ?)",
              {p(ColumnKind::kFloat32, Value(std::numeric_limits<float>::max())),
               p(ColumnKind::kFloat64, Value(std::numeric_limits<double>::denorm_min()))});
  auto rows = read_all(*c, "SELECT f, d FROM floats");
  ASSERT_EQ(rows.size(), 1u);
  // The text protocol carries FLOAT with 6 significant digits.
  EXPECT_NEAR(rows[0][0].as_float32() / std::numeric_limits<float>::max(), 1.0, 1e-5);
  EXPECT_EQ(rows[0][1].as_float64(), std::numeric_limits<double>::denorm_min());
  auto nan = c->execute("INSERT INTO floats VALUES (?, NULL)",
                        {p(ColumnKind::kFloat32, Value(std::nanf("")))});
  ASSERT_FALSE(nan.ok());
  EXPECT_FALSE(nan.error().is_retriable());
}

TEST(MySqlTypes, DateTimeUsesDbTimezoneTimestampIsAnInstant) {
  auto utc = connect_default("UTC");
  auto shanghai = connect_default("Asia/Shanghai");
  ASSERT_NE(utc, nullptr);
  ASSERT_NE(shanghai, nullptr);
  exec_or_die(*utc, "DROP TABLE IF EXISTS zones");
  exec_or_die(*utc,
              "CREATE TABLE zones (id INT PRIMARY KEY, dtm DATETIME(3), ts TIMESTAMP(3) NULL)");
  const std::int64_t instant = utc_millis("2024-06-01 12:00:00.250");
  exec_or_die(
      *shanghai, "INSERT INTO zones VALUES (1, ?, ?)",
      {p(ColumnKind::kTimestamp, Value(instant)), p(ColumnKind::kTimestamp, Value(instant))});
  exec_or_die(
      *utc, "INSERT INTO zones VALUES (2, ?, ?)",
      {p(ColumnKind::kTimestamp, Value(instant)), p(ColumnKind::kTimestamp, Value(instant))});

  // Through the Shanghai connection both read back as written.
  auto rows = read_all(*shanghai, "SELECT dtm, ts FROM zones WHERE id = 1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value(instant));
  EXPECT_EQ(rows[0][1], Value(instant));
  // The DATETIME holds Shanghai's wall clock; the TIMESTAMP the instant.
  rows = read_all(*utc, "SELECT CAST(dtm AS CHAR), dtm, ts FROM zones WHERE id = 1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value("2024-06-01 20:00:00.250"));
  EXPECT_EQ(rows[0][1], Value(instant + 8 * 3600 * 1000));
  EXPECT_EQ(rows[0][2], Value(instant));
  // A UTC-written DATETIME read in Shanghai is 8 hours earlier; the TIMESTAMP is the same.
  rows = read_all(*shanghai, "SELECT dtm, ts FROM zones WHERE id = 2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value(instant - 8 * 3600 * 1000));
  EXPECT_EQ(rows[0][1], Value(instant));
  // A timestamp parameter compares with the TIMESTAMP column in both sessions.
  for (Connection* c : {utc.get(), shanghai.get()}) {
    rows = read_all(*c, "SELECT id FROM zones WHERE ts = ? ORDER BY id",
                    {p(ColumnKind::kTimestamp, Value(instant))});
    EXPECT_EQ(rows.size(), 2u);
  }
  // The database's clock comes back as an instant, whatever the zone.
  for (Connection* c : {utc.get(), shanghai.get()}) {
    std::vector<ColumnDef> cols;
    rows = read_all(*c, dialect().current_timestamp_sql(), {}, &cols);
    ASSERT_EQ(rows.size(), 1u);
    ASSERT_EQ(cols.size(), 1u);
    EXPECT_EQ(cols[0].kind, ColumnKind::kTimestamp);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    EXPECT_LT(std::llabs(rows[0][0].as_int64() - now), 3600 * 1000);
  }
}

TEST(MySqlTypes, ZeroDatesAsTheUrlSays) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS zero_dates");
  exec_or_die(*c, "CREATE TABLE zero_dates (d DATE)");
  ASSERT_TRUE(server()
                  .exec("SET SESSION sql_mode = ''; INSERT INTO " + server().database() +
                        ".zero_dates VALUES ('0000-00-00')")
                  .ok());
  auto cursor = c->query("SELECT d FROM zero_dates", {});
  ASSERT_TRUE(cursor.ok());
  std::vector<Value> row;
  auto r = (*cursor)->next(row);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("zeroDateTimeBehavior"), std::string::npos);

  auto config = server().connection_config();
  config.properties = {{"zeroDateTimeBehavior", "convertToNull"}};
  auto lenient = connect_or_die(config);
  ASSERT_NE(lenient, nullptr);
  auto rows = read_all(*lenient, "SELECT d FROM zero_dates");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0][0].is_null());
}

TEST(MySqlTypes, TinyInt1IsBitCanBeTurnedOff) {
  auto config = server().connection_config();
  config.properties = {{"tinyInt1isBit", "false"}};
  auto c = connect_or_die(config);
  ASSERT_NE(c, nullptr);
  std::vector<ColumnDef> cols;
  exec_or_die(*c, "DROP TABLE IF EXISTS tiny1");
  exec_or_die(*c, "CREATE TABLE tiny1 (t TINYINT(1))");
  exec_or_die(*c, "INSERT INTO tiny1 VALUES (5)");
  auto rows = read_all(*c, "SELECT t FROM tiny1", {}, &cols);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(cols[0].kind, ColumnKind::kInt8);
  EXPECT_EQ(rows[0][0], Value(std::int8_t{5}));
}

// ---------------------------------------------------------------------------------------------

TEST(MySqlWrite, UpsertTwiceKeepsOneRowWithTheLatestValues) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS upserts");
  exec_or_die(*c, "CREATE TABLE upserts (id BIGINT PRIMARY KEY, name VARCHAR(50), n INT)");
  std::vector<ColumnDef> cols(3);
  cols[0].name = "id";
  cols[0].kind = ColumnKind::kInt64;
  cols[1].name = "name";
  cols[1].kind = ColumnKind::kString;
  cols[2].name = "n";
  cols[2].kind = ColumnKind::kInt32;
  const std::string sql = dialect().insert_sql(TableId{server().database(), "", "upserts"}, cols,
                                               {"id"}, InsertMode::kUpsert, 1, true);
  exec_or_die(*c, sql,
              {p(ColumnKind::kInt64, Value(std::int64_t{7})), p(ColumnKind::kString, Value("a")),
               p(ColumnKind::kInt32, Value(std::int32_t{1}))});
  exec_or_die(*c, sql,
              {p(ColumnKind::kInt64, Value(std::int64_t{7})), p(ColumnKind::kString, Value("b")),
               p(ColumnKind::kInt32, Value(std::int32_t{2}))});
  auto rows = read_all(*c, "SELECT id, name, n FROM upserts");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], Value("b"));
  EXPECT_EQ(rows[0][2], Value(std::int32_t{2}));

  // Update and delete (the dialect's default SQL) by key.
  auto updated =
      c->execute(dialect().update_sql(TableId{"", "", "upserts"}, cols, {"id"}, true),
                 {p(ColumnKind::kString, Value("c")), p(ColumnKind::kInt32, Value(std::int32_t{3})),
                  p(ColumnKind::kInt64, Value(std::int64_t{7}))});
  ASSERT_TRUE(updated.ok()) << updated.error().to_string();
  EXPECT_EQ(*updated, 1);
  auto missing =
      c->execute(dialect().update_sql(TableId{"", "", "upserts"}, cols, {"id"}, true),
                 {p(ColumnKind::kString, Value("c")), p(ColumnKind::kInt32, Value(std::int32_t{3})),
                  p(ColumnKind::kInt64, Value(std::int64_t{8}))});
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, 0);
  auto deleted = c->execute(dialect().delete_sql(TableId{"", "", "upserts"}, {cols[0]}, true),
                            {p(ColumnKind::kInt64, Value(std::int64_t{7}))});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
}

TEST(MySqlWrite, ConstraintAndValueErrorsAreNotRetriable) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS strict_t");
  exec_or_die(*c, "CREATE TABLE strict_t (id INT PRIMARY KEY, t TINYINT NOT NULL, s VARCHAR(3))");
  exec_or_die(*c, "INSERT INTO strict_t VALUES (1, 1, 'a')");
  struct Case {
    std::string sql;
    const char* number;
  };
  for (const Case& k : {Case{"INSERT INTO strict_t VALUES (1, 1, 'a')", "1062"},
                        Case{"INSERT INTO strict_t VALUES (2, NULL, 'a')", "1048"},
                        Case{"INSERT INTO strict_t VALUES (3, 300, 'a')", "1264"},
                        Case{"INSERT INTO strict_t VALUES (4, 1, 'abcd')", "1406"},
                        Case{"INSERT INTO strict_t VALUES (5, 'x', 'a')", "1366"},
                        Case{"SELECT * FROM no_such_table", "1146"}}) {
    auto r = c->execute(k.sql);
    ASSERT_FALSE(r.ok()) << k.sql;
    EXPECT_FALSE(r.error().is_retriable()) << r.error().to_string();
    EXPECT_NE(r.error().message().find(k.number), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("SQLSTATE"), std::string::npos) << r.error().message();
  }
  auto missing = c->query("SELECT * FROM no_such_table", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST(MySqlWrite, StatementLargerThanMaxAllowedPacketIsNotRetriable) {
  // A connection reads the limit when it connects.
  ASSERT_TRUE(server().exec("SET GLOBAL max_allowed_packet = 1048576").ok());
  auto c = connect_default();
  ASSERT_TRUE(server().exec("SET GLOBAL max_allowed_packet = 268435456").ok());
  ASSERT_NE(c, nullptr);
  auto r =
      c->execute("SELECT LENGTH(?)", {p(ColumnKind::kString, Value(std::string(1048576, 'x')))});
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(r.error().is_retriable());
  EXPECT_NE(r.error().message().find("max_allowed_packet"), std::string::npos);
  EXPECT_EQ(read_all(*c, "SELECT 1").size(), 1u);
}

TEST(MySqlWrite, Transactions) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS tx");
  exec_or_die(*c, "CREATE TABLE tx (id INT PRIMARY KEY)");
  ASSERT_TRUE(c->begin().ok());
  exec_or_die(*c, "INSERT INTO tx VALUES (1)");
  ASSERT_TRUE(c->rollback().ok());
  EXPECT_TRUE(read_all(*c, "SELECT id FROM tx").empty());
  ASSERT_TRUE(c->begin().ok());
  exec_or_die(*c, "INSERT INTO tx VALUES (2)");
  ASSERT_TRUE(c->commit().ok());
  auto other = connect_default();
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(read_all(*other, "SELECT id FROM tx").size(), 1u);
  // Autocommit outside a transaction.
  exec_or_die(*c, "INSERT INTO tx VALUES (3)");
  EXPECT_EQ(read_all(*other, "SELECT id FROM tx").size(), 2u);
}

TEST(MySqlWrite, PlaceholdersInsideQuotesAndCommentsAreText) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  auto rows = read_all(*c, "SELECT '?', \"it''s \\\" ?\", ? AS `x?` /* ? */ # ?\n-- ?\n",
                       {p(ColumnKind::kString, Value("v'?"))});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value("?"));
  EXPECT_EQ(rows[0][1], Value("it''s \" ?"));
  EXPECT_EQ(rows[0][2], Value("v'?"));
  auto few = c->query("SELECT ?, ?", {p(ColumnKind::kString, Value("v"))});
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.error().code(), ErrorCode::kInvalidArgument);
}

TEST(MySqlWrite, CreateTableFromSqlTypes) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  std::vector<ColumnDef> cols;
  auto add = [&](const char* name, ColumnKind kind, int precision = 0, int scale = 0,
                 bool tz = false) {
    ColumnDef d;
    d.name = name;
    d.kind = kind;
    d.precision = precision;
    d.scale = scale;
    d.with_time_zone = tz;
    cols.push_back(d);
  };
  add("k", ColumnKind::kString);
  cols.back().primary_key = true;
  add("b", ColumnKind::kBoolean);
  add("i8", ColumnKind::kInt8);
  add("i16", ColumnKind::kInt16);
  add("i32", ColumnKind::kInt32);
  add("i64", ColumnKind::kInt64);
  add("f", ColumnKind::kFloat32);
  add("d", ColumnKind::kFloat64);
  add("n", ColumnKind::kDecimal, 20, 4);
  add("n2", ColumnKind::kDecimal, 0, 2);
  add("s", ColumnKind::kString);
  add("by", ColumnKind::kBytes);
  add("dt", ColumnKind::kDate);
  add("tm", ColumnKind::kTime);
  add("ts", ColumnKind::kTimestamp);
  add("tz", ColumnKind::kTimestamp, 0, 0, true);
  add("js", ColumnKind::kJson);
  const TableId table{"", "", "auto_created"};
  exec_or_die(*c, "DROP TABLE IF EXISTS auto_created");
  exec_or_die(*c, dialect().create_table_sql(table, cols, {"k"}, true));
  auto described = c->describe_table(table);
  ASSERT_TRUE(described.ok()) << described.error().to_string();
  ASSERT_EQ(described->size(), cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    EXPECT_EQ((*described)[i].kind, cols[i].kind)
        << cols[i].name << ": " << (*described)[i].native_type;
  }
  EXPECT_TRUE((*described)[0].primary_key);
  EXPECT_EQ((*described)[8].precision, 20);
  EXPECT_EQ((*described)[8].scale, 4);
  EXPECT_EQ((*described)[9].precision, 65);
  EXPECT_TRUE((*described)[15].with_time_zone);
  EXPECT_TRUE((*described)[15].nullable);

  ColumnDef extra;
  extra.name = "added";
  extra.kind = ColumnKind::kInt64;
  for (const auto& sql : dialect().add_columns_sql(table, {extra}, true)) exec_or_die(*c, sql);
  described = c->describe_table(table);
  ASSERT_TRUE(described.ok());
  EXPECT_EQ(described->back().name, "added");
}

TEST(MySqlRead, MicrosecondsTruncateToTheMillisecondBothWays) {
  auto c = connect_default("Asia/Shanghai");
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS micros");
  exec_or_die(*c, "CREATE TABLE micros (id INT PRIMARY KEY, dt DATETIME(6), ts TIMESTAMP(6) NULL)");
  exec_or_die(*c,
              "INSERT INTO micros VALUES (1, '2024-01-01 10:00:00.123456', '2024-01-01 "
              "10:00:00.123456'), (2, '2024-01-01 10:00:00.123999', '2024-01-01 10:00:00.123999'), "
              "(3, '2024-01-01 10:00:00.124000', '2024-01-01 10:00:00.124000')");
  auto zone = TimeZone::load("Asia/Shanghai");
  ASSERT_TRUE(zone.ok());
  const std::int64_t at_123 = *parse_timestamp("2024-01-01 10:00:00.123", *zone);
  auto rows = read_all(*c, "SELECT dt, ts FROM micros WHERE id = 2");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], Value(at_123));
  EXPECT_EQ(rows[0][1], Value(at_123));
  for (const char* column : {"dt", "ts"}) {
    const std::string expr = dialect().timestamp_compare_expression(column);
    rows = read_all(*c, "SELECT id FROM micros WHERE " + expr + " > ? ORDER BY " + expr + ", id",
                    {p(ColumnKind::kTimestamp, Value(at_123))});
    ASSERT_EQ(rows.size(), 1u) << column;
    EXPECT_EQ(rows[0][0], Value(std::int32_t{3}));
    rows = read_all(*c, "SELECT id FROM micros WHERE " + expr + " = ?",
                    {p(ColumnKind::kTimestamp, Value(at_123))});
    EXPECT_EQ(rows.size(), 2u) << column;
  }
}

// ---------------------------------------------------------------------------------------------

TEST(MySqlCatalog, ListTablesWithAndWithoutDatabase) {
  ASSERT_TRUE(server()
                  .exec("CREATE DATABASE IF NOT EXISTS other_db; CREATE TABLE IF NOT EXISTS "
                        "other_db.elsewhere (id INT); CREATE OR REPLACE VIEW " +
                        server().database() + ".a_view AS SELECT 1 AS x")
                  .ok());
  auto with_db = connect_default();
  ASSERT_NE(with_db, nullptr);
  exec_or_die(*with_db, "CREATE TABLE IF NOT EXISTS listed (id INT)");
  auto tables = with_db->list_tables({});
  ASSERT_TRUE(tables.ok()) << tables.error().to_string();
  const TableId listed{server().database(), "", "listed"};
  const TableId elsewhere{"other_db", "", "elsewhere"};
  const TableId view{server().database(), "", "a_view"};
  auto has = [](const std::vector<TableId>& v, const TableId& t) {
    return std::find(v.begin(), v.end(), t) != v.end();
  };
  EXPECT_TRUE(has(*tables, listed));
  EXPECT_FALSE(has(*tables, elsewhere));
  EXPECT_FALSE(has(*tables, view));
  EXPECT_EQ(listed.to_string(), server().database() + ".listed");

  auto no_db = connect_or_die(server().connection_config("UTC", false));
  ASSERT_NE(no_db, nullptr);
  tables = no_db->list_tables({});
  ASSERT_TRUE(tables.ok());
  EXPECT_TRUE(has(*tables, listed));
  EXPECT_TRUE(has(*tables, elsewhere));
  for (const auto& t : *tables) {
    EXPECT_NE(t.catalog, "mysql");
    EXPECT_NE(t.catalog, "information_schema");
  }
  TableFilter filter;
  filter.catalog_pattern = "other%";
  filter.table_types = {"TABLE", "VIEW"};
  tables = no_db->list_tables(filter);
  ASSERT_TRUE(tables.ok());
  EXPECT_TRUE(has(*tables, elsewhere));
  EXPECT_FALSE(has(*tables, listed));
  filter.catalog_pattern = "";
  filter.table_types = {"VIEW"};
  tables = with_db->list_tables(filter);
  ASSERT_TRUE(tables.ok());
  EXPECT_TRUE(has(*tables, view));
  EXPECT_FALSE(has(*tables, listed));

  // Without a database, a table is described by db.table only.
  auto described = no_db->describe_table(elsewhere);
  ASSERT_TRUE(described.ok()) << described.error().to_string();
  EXPECT_EQ(described->size(), 1u);
  auto bare = no_db->describe_table(TableId{"", "", "listed"});
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.error().code(), ErrorCode::kNotFound);
}

TEST(MySqlCatalog, DescribeTable) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS described");
  exec_or_die(*c,
              "CREATE TABLE described (a INT UNSIGNED NOT NULL AUTO_INCREMENT, b VARCHAR(40) NOT "
              "NULL, c BIGINT UNSIGNED, d DECIMAL(10,3), `we``ird` TEXT, PRIMARY KEY (a, b))");
  auto cols = c->describe_table(TableId{"", "", "described"});
  ASSERT_TRUE(cols.ok()) << cols.error().to_string();
  ASSERT_EQ(cols->size(), 5u);
  const auto& v = *cols;
  EXPECT_EQ(v[0].name, "a");
  EXPECT_EQ(v[0].kind, ColumnKind::kInt64);
  EXPECT_TRUE(v[0].primary_key);
  EXPECT_TRUE(v[0].auto_increment);
  EXPECT_FALSE(v[0].nullable);
  EXPECT_EQ(v[1].kind, ColumnKind::kString);
  EXPECT_EQ(v[1].precision, 40);
  EXPECT_TRUE(v[1].primary_key);
  EXPECT_EQ(v[2].kind, ColumnKind::kDecimal);
  EXPECT_EQ(v[2].scale, 0);
  EXPECT_FALSE(v[2].primary_key);
  EXPECT_TRUE(v[2].nullable);
  EXPECT_EQ(v[3].kind, ColumnKind::kDecimal);
  EXPECT_EQ(v[3].precision, 10);
  EXPECT_EQ(v[3].scale, 3);
  EXPECT_EQ(v[4].name, "we`ird");
  auto same = c->describe_table(TableId{server().database(), "", "described"});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->size(), 5u);
  auto missing = c->describe_table(TableId{"", "", "nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_FALSE(missing.error().is_retriable());
}

// ---------------------------------------------------------------------------------------------

TEST(MySqlRead, StreamsALargeResult) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  exec_or_die(*c, "DROP TABLE IF EXISTS big");
  exec_or_die(*c,
              "CREATE TABLE big (id BIGINT PRIMARY KEY, name VARCHAR(64), body VARCHAR(200), "
              "amount DECIMAL(12,2), created DATETIME(3), flag BOOLEAN)");
  // RMQC_JDBC_MYSQL_STREAM_ROWS=1000000 measures a bigger read.
  const char* rows_env = std::getenv("RMQC_JDBC_MYSQL_STREAM_ROWS");
  const int kRows = rows_env != nullptr ? std::atoi(rows_env) : 200000;
  exec_or_die(*c,
              "INSERT INTO big SELECT seq, CONCAT('name-', seq), REPEAT('x', 120), seq / 7, "
              "'2024-01-01 00:00:00' + INTERVAL seq SECOND, seq % 2 FROM seq_1_to_" +
                  std::to_string(kRows));
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  auto cursor = c->query("SELECT id, name, body, amount, created, flag FROM big", {});
  ASSERT_TRUE(cursor.ok()) << cursor.error().to_string();
  std::vector<Value> row;
  std::int64_t count = 0;
  std::int64_t sum = 0;
  while (true) {
    auto more = (*cursor)->next(row);
    ASSERT_TRUE(more.ok()) << more.error().to_string();
    if (!*more) break;
    ++count;
    sum += row[0].as_int64();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(count, kRows);
  EXPECT_EQ(sum, std::int64_t{kRows} * (kRows + 1) / 2);
  std::cout << "[ read rate ] " << count << " rows in " << seconds
            << " s = " << static_cast<std::int64_t>(count / seconds) << " rows/s; client CPU "
            << static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC << " s\n";

  // A cursor dropped half-way leaves the connection usable.
  {
    auto partial = c->query("SELECT id FROM big", {});
    ASSERT_TRUE(partial.ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*partial)->next(row).ok());
  }
  EXPECT_EQ(read_all(*c, "SELECT COUNT(*) FROM big")[0][0], Value(std::int64_t{kRows}));
  // A statement run while a cursor is open closes it.
  auto open = c->query("SELECT id FROM big", {});
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE((*open)->next(row).ok());
  EXPECT_EQ(read_all(*c, "SELECT 1").size(), 1u);
  EXPECT_FALSE((*open)->next(row).ok());
}

TEST(MySqlRead, CancelStopsARunningStatement) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  std::optional<Error> error;
  bool finished_without_error = false;
  std::thread runner([&] {
    auto cursor = c->query("SELECT SLEEP(30)", {});
    if (!cursor.ok()) {
      error = cursor.error();
      return;
    }
    std::vector<Value> row;
    while (true) {
      auto more = (*cursor)->next(row);
      if (!more.ok()) {
        error = more.error();
        return;
      }
      if (!*more) break;
    }
    finished_without_error = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c->cancel();
  runner.join();
  ASSERT_FALSE(finished_without_error);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code(), ErrorCode::kCancelled) << error->to_string();
  // The connection itself is still good.
  EXPECT_EQ(read_all(*c, "SELECT 1").size(), 1u);
}

TEST(MySqlRead, CancelOfAnExecute) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  std::optional<Result<std::int64_t>> result;
  std::thread runner([&] { result = c->execute("DO SLEEP(30)"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  c->cancel();
  runner.join();
  ASSERT_TRUE(result.has_value());
  ASSERT_FALSE(result->ok());
  EXPECT_EQ(result->error().code(), ErrorCode::kCancelled) << result->error().to_string();
}

TEST(MySqlRead, CancelWithNothingRunningCancelsTheNextStatementOnly) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  c->cancel();
  auto r = c->execute("DO 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  EXPECT_TRUE(c->execute("DO 1").ok());
}

TEST(MySqlRead, CursorOutlivesItsConnection) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  auto cursor = c->query("SELECT seq FROM seq_1_to_1000", {});
  ASSERT_TRUE(cursor.ok());
  std::unique_ptr<RowCursor> rows = std::move(cursor).value();
  c.reset();
  std::vector<Value> row;
  int count = 0;
  while (true) {
    auto more = rows->next(row);
    ASSERT_TRUE(more.ok()) << more.error().to_string();
    if (!*more) break;
    ++count;
  }
  EXPECT_EQ(count, 1000);
}

// Last: restarts the shared server.
TEST(MySqlZRestart, OldConnectionFailsRetriablyNewOneWorks) {
  auto c = connect_default();
  ASSERT_NE(c, nullptr);
  ASSERT_EQ(read_all(*c, "SELECT 1").size(), 1u);
  ASSERT_TRUE(server().stop().ok());
  auto down = dialect().connect(server().connection_config());
  ASSERT_FALSE(down.ok());
  EXPECT_TRUE(down.error().is_retriable()) << down.error().to_string();
  auto restarted = server().restart();
  ASSERT_TRUE(restarted.ok()) << restarted.error().to_string();
  auto r = c->query("SELECT 1", {});
  Result<bool> next = true;
  std::vector<Value> row;
  if (r.ok()) next = (*r)->next(row);
  const Error& e = r.ok() ? next.error() : r.error();
  ASSERT_FALSE(r.ok() && next.ok());
  EXPECT_TRUE(e.is_retriable()) << e.to_string();
  EXPECT_EQ(e.code(), ErrorCode::kUnavailable);
  auto fresh = connect_default();
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(read_all(*fresh, "SELECT 1").size(), 1u);
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
