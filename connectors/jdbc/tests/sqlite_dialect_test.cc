#include "jdbc/sqlite/sqlite_dialect.h"

#include "jdbc/common/connection_config.h"

#include <gtest/gtest.h>

// Designated initializers name only the ColumnDef fields a test cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace rmqc::connectors::jdbc {
namespace {

class SqliteDialectTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rmqc-sqlite-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ConnectionConfig config;
    config.database = dir_ + "/t.db";
    auto c = dialect_.connect(config);
    ASSERT_TRUE(c.ok()) << c.error().message();
    conn_ = std::move(c).value();
  }
  void TearDown() override {
    conn_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::vector<std::vector<Value>> all(const std::string& sql) {
    std::vector<std::vector<Value>> rows;
    auto cursor = conn_->query(sql, {});
    EXPECT_TRUE(cursor.ok()) << (cursor.ok() ? "" : cursor.error().message());
    if (!cursor.ok()) return rows;
    std::vector<Value> row;
    while (true) {
      auto more = (*cursor)->next(row);
      EXPECT_TRUE(more.ok()) << (more.ok() ? "" : more.error().message());
      if (!more.ok() || !*more) break;
      rows.push_back(row);
    }
    return rows;
  }

  SqliteDialect dialect_;
  std::string dir_;
  std::unique_ptr<Connection> conn_;
};

TEST_F(SqliteDialectTest, DeclaredTypes) {
  auto k = [](std::string_view t) { return SqliteDialect::column_from_declared_type("c", t); };
  EXPECT_EQ(k("INTEGER").kind, ColumnKind::kInt64);
  EXPECT_EQ(k("int").kind, ColumnKind::kInt32);
  EXPECT_EQ(k("INT UNSIGNED").kind, ColumnKind::kInt64);
  EXPECT_EQ(k("TINYINT").kind, ColumnKind::kInt8);
  EXPECT_EQ(k("SMALLINT").kind, ColumnKind::kInt16);
  EXPECT_EQ(k("BIGINT").kind, ColumnKind::kInt64);
  EXPECT_EQ(k("REAL").kind, ColumnKind::kFloat64);
  EXPECT_EQ(k("DOUBLE").kind, ColumnKind::kFloat64);
  EXPECT_EQ(k("FLOAT4").kind, ColumnKind::kFloat32);
  auto d = k("DECIMAL(10, 2)");
  EXPECT_EQ(d.kind, ColumnKind::kDecimal);
  EXPECT_EQ(d.precision, 10);
  EXPECT_EQ(d.scale, 2);
  EXPECT_EQ(k("BOOLEAN").kind, ColumnKind::kBoolean);
  EXPECT_EQ(k("VARCHAR(20)").kind, ColumnKind::kString);
  EXPECT_EQ(k("VARCHAR(20)").precision, 20);
  EXPECT_EQ(k("TEXT").kind, ColumnKind::kString);
  EXPECT_EQ(k("BLOB").kind, ColumnKind::kBytes);
  EXPECT_EQ(k("DATE").kind, ColumnKind::kDate);
  EXPECT_EQ(k("TIME").kind, ColumnKind::kTime);
  EXPECT_EQ(k("DATETIME").kind, ColumnKind::kTimestamp);
  EXPECT_EQ(k("TIMESTAMP").kind, ColumnKind::kTimestamp);
  EXPECT_EQ(k("JSON").kind, ColumnKind::kJson);
  EXPECT_EQ(k("UUID").kind, ColumnKind::kUuid);
  EXPECT_EQ(k("").kind, ColumnKind::kString);
  // Every kind's sql_type reads back as the same kind.
  for (ColumnKind kind :
       {ColumnKind::kBoolean, ColumnKind::kInt8, ColumnKind::kInt16, ColumnKind::kInt32,
        ColumnKind::kInt64, ColumnKind::kFloat32, ColumnKind::kFloat64, ColumnKind::kDecimal,
        ColumnKind::kString, ColumnKind::kBytes, ColumnKind::kDate, ColumnKind::kTime,
        ColumnKind::kTimestamp, ColumnKind::kJson, ColumnKind::kUuid}) {
    ColumnDef c{.name = "c", .kind = kind, .precision = 12, .scale = 3};
    EXPECT_EQ(k(dialect_.sql_type(c)).kind, kind) << column_kind_name(kind);
  }
}

TEST_F(SqliteDialectTest, EveryTypeRoundTripsWithNulls) {
  std::vector<ColumnDef> cols{
      {.name = "id", .kind = ColumnKind::kInt64},
      {.name = "b", .kind = ColumnKind::kBoolean},
      {.name = "i8", .kind = ColumnKind::kInt8},
      {.name = "i16", .kind = ColumnKind::kInt16},
      {.name = "i32", .kind = ColumnKind::kInt32},
      {.name = "f32", .kind = ColumnKind::kFloat32},
      {.name = "f64", .kind = ColumnKind::kFloat64},
      {.name = "dec", .kind = ColumnKind::kDecimal, .precision = 12, .scale = 3},
      {.name = "s", .kind = ColumnKind::kString},
      {.name = "by", .kind = ColumnKind::kBytes},
      {.name = "d", .kind = ColumnKind::kDate},
      {.name = "t", .kind = ColumnKind::kTime},
      {.name = "ts", .kind = ColumnKind::kTimestamp},
      {.name = "j", .kind = ColumnKind::kJson},
      {.name = "u", .kind = ColumnKind::kUuid},
  };
  TableId table{"", "", "all_types"};
  ASSERT_TRUE(conn_->execute(dialect_.create_table_sql(table, cols, {"id"}, true)).ok());
  std::vector<Value> values{
      Value(std::int64_t{1}),
      Value(true),
      Value(std::int8_t{-8}),
      Value(std::int16_t{-1600}),
      Value(std::int32_t{-320000}),
      Value(1.5f),
      Value(-2.25),
      Value(Decimal::from_unscaled(-1234567, 3)),
      Value("héllo"),
      Value(Bytes{0, 1, 2, 255}),
      Value(std::int32_t{19782}),
      Value(std::int32_t{45296789}),
      Value(std::int64_t{1709214301123}),
      Value(R"({"a":1})"),
      Value("123e4567-e89b-12d3-a456-426614174000"),
  };
  std::vector<SqlParam> params;
  std::vector<SqlParam> nulls;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    params.push_back({cols[i].kind, values[i]});
    nulls.push_back({cols[i].kind, i == 0 ? Value(std::int64_t{2}) : Value{}});
  }
  const std::string insert = dialect_.insert_sql(table, cols, {"id"}, InsertMode::kInsert, 1, true);
  auto n = conn_->execute(insert, params);
  ASSERT_TRUE(n.ok()) << n.error().message();
  EXPECT_EQ(*n, 1);
  ASSERT_TRUE(conn_->execute(insert, nulls).ok());

  auto described = conn_->describe_table(table);
  ASSERT_TRUE(described.ok());
  ASSERT_EQ(described->size(), cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    EXPECT_EQ((*described)[i].kind, cols[i].kind) << cols[i].name;
  }
  EXPECT_TRUE((*described)[0].primary_key);
  EXPECT_FALSE((*described)[0].nullable);
  EXPECT_TRUE((*described)[1].nullable);

  auto rows = all("SELECT * FROM all_types ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  for (std::size_t i = 0; i < cols.size(); ++i) {
    EXPECT_EQ(rows[0][i], values[i]) << cols[i].name << ": " << rows[0][i].to_string();
    if (i > 0) {
      EXPECT_TRUE(rows[1][i].is_null()) << cols[i].name;
    }
  }
}

TEST_F(SqliteDialectTest, UpsertUpdateDelete) {
  std::vector<ColumnDef> cols{{.name = "id", .kind = ColumnKind::kInt64},
                              {.name = "name", .kind = ColumnKind::kString}};
  TableId t{"", "", "people"};
  ASSERT_TRUE(conn_->execute(dialect_.create_table_sql(t, cols, {"id"}, true)).ok());
  const std::string upsert = dialect_.insert_sql(t, cols, {"id"}, InsertMode::kUpsert, 2, true);
  auto p = [](std::int64_t id, const char* name) {
    return std::vector<SqlParam>{{ColumnKind::kInt64, Value(id)},
                                 {ColumnKind::kString, Value(name)}};
  };
  auto two = p(1, "a");
  auto more = p(2, "b");
  two.insert(two.end(), more.begin(), more.end());
  ASSERT_TRUE(conn_->execute(upsert, two).ok());
  auto again = p(1, "a2");
  auto more2 = p(3, "c");
  again.insert(again.end(), more2.begin(), more2.end());
  ASSERT_TRUE(conn_->execute(upsert, again).ok());
  auto rows = all("SELECT id, name FROM people ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][1], Value("a2"));

  auto updated = conn_->execute(
      dialect_.update_sql(t, cols, {"id"}, true),
      {{ColumnKind::kString, Value("bb")}, {ColumnKind::kInt64, Value(std::int64_t{2})}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(*updated, 1);
  auto deleted = conn_->execute(dialect_.delete_sql(t, {cols[0]}, true),
                                {{ColumnKind::kInt64, Value(std::int64_t{3})}});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1);
  rows = all("SELECT id, name FROM people ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], Value("bb"));

  // A constraint violation is not retriable.
  auto dup =
      conn_->execute(dialect_.insert_sql(t, cols, {"id"}, InsertMode::kInsert, 1, true), p(1, "x"));
  ASSERT_FALSE(dup.ok());
  EXPECT_FALSE(dup.error().is_retriable());
}

TEST_F(SqliteDialectTest, ListTablesAndMissingTable) {
  ASSERT_TRUE(conn_->execute("CREATE TABLE b (x INT)").ok());
  ASSERT_TRUE(conn_->execute("CREATE TABLE a (x INT)").ok());
  ASSERT_TRUE(conn_->execute("CREATE VIEW v AS SELECT x FROM a").ok());
  auto tables = conn_->list_tables({});
  ASSERT_TRUE(tables.ok());
  ASSERT_EQ(tables->size(), 2u);
  EXPECT_EQ((*tables)[0].table, "a");
  EXPECT_EQ((*tables)[1].table, "b");
  auto views = conn_->list_tables({.table_types = {"VIEW"}});
  ASSERT_EQ(views->size(), 1u);
  EXPECT_EQ((*views)[0].table, "v");
  auto missing = conn_->describe_table({"", "", "nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
}

TEST_F(SqliteDialectTest, TimestampTextFormsCompareAsParameters) {
  ASSERT_TRUE(conn_->execute("CREATE TABLE e (ts DATETIME)").ok());
  ASSERT_TRUE(conn_
                  ->execute("INSERT INTO e VALUES ('2024-01-01 10:00:00'), "
                            "('2024-01-01T10:00:00.5'), ('2024-01-01 10:00:00.250')")
                  .ok());
  const std::string expr = dialect_.timestamp_compare_expression("ts");
  auto ms = [](int frac) { return Value(std::int64_t{1704103200000} + frac); };
  auto count = [&](const char* op, const Value& v) {
    auto c = conn_->query("SELECT count(*) FROM e WHERE " + expr + " " + op + " ?",
                          {{ColumnKind::kTimestamp, v}});
    EXPECT_TRUE(c.ok());
    std::vector<Value> row;
    EXPECT_TRUE((*c)->next(row).ok());
    return row[0];
  };
  EXPECT_EQ(count("=", ms(0)), Value(std::int64_t{1}));
  EXPECT_EQ(count("=", ms(500)), Value(std::int64_t{1}));
  EXPECT_EQ(count(">", ms(0)), Value(std::int64_t{2}));
  EXPECT_EQ(count("<", ms(500)), Value(std::int64_t{2}));
  auto rows = all("SELECT ts FROM e");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0], ms(0));
  EXPECT_EQ(rows[1][0], ms(500));
  EXPECT_EQ(rows[2][0], ms(250));
}

TEST_F(SqliteDialectTest, CurrentTimestampAndCancel) {
  auto c = conn_->query(dialect_.current_timestamp_sql(), {});
  ASSERT_TRUE(c.ok());
  std::vector<Value> row;
  ASSERT_TRUE(*(*c)->next(row));
  std::int64_t now = 0;
  ASSERT_TRUE(row[0].to_int64(now));
  EXPECT_GT(now, std::int64_t{1700000000000});

  // A long query interrupted from another thread fails with a retriable kCancelled.
  std::atomic<bool> done{false};
  std::thread canceller([&] {
    while (!done.load()) {
      conn_->cancel();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  auto slow = conn_->query(
      "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r", {});
  done = true;
  canceller.join();
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code(), ErrorCode::kCancelled);
  EXPECT_TRUE(slow.error().is_retriable());
}

TEST_F(SqliteDialectTest, RegisteredAndConnectsThroughSettings) {
  DialectRegistry registry;
  register_sqlite_dialect(registry);
  EXPECT_NE(registry.find_by_name("SqliteDatabaseDialect"), nullptr);
  EXPECT_NE(registry.find_by_name("sqlite"), nullptr);
  KeyValue config{{"connection.url", "jdbc:sqlite:" + dir_ + "/s.db"},
                  {"connection.attempts", "2"},
                  {"connection.backoff.ms", "1"}};
  auto s = connection_settings(config, registry);
  ASSERT_TRUE(s.ok()) << s.error().message();
  auto c = connect_with_retries(*s, nullptr, Logger("test"));
  ASSERT_TRUE(c.ok());
  // A file in a directory that does not exist: not retriable, reported at once.
  KeyValue bad{{"connection.url", "jdbc:sqlite:" + dir_ + "/missing/dir/x.db"}};
  auto sb = connection_settings(bad, registry);
  ASSERT_TRUE(sb.ok());
  auto failed = connect_with_retries(*sb, nullptr, Logger("test"));
  ASSERT_FALSE(failed.ok());
  EXPECT_FALSE(failed.error().is_retriable());
  EXPECT_NE(failed.error().message().find("missing/dir"), std::string::npos);
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
