#include "rmqc/api/logical.h"

#include "jdbc/common/connection_url.h"
#include "jdbc/common/dialect_registry.h"
#include "jdbc/common/schema_mapping.h"

#include <gtest/gtest.h>

// Designated initializers name only the ColumnDef fields a test cares about.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace rmqc::connectors::jdbc {
namespace {

TEST(ConnectionUrl, MysqlWithPortDatabaseAndParams) {
  auto p = parse_connection_url(
      "jdbc:mysql://db.example:3307/shop?useSSL=false&user=u1&password=s3cret");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->scheme, "mysql");
  EXPECT_EQ(p->config.host, "db.example");
  EXPECT_EQ(p->config.port, 3307);
  EXPECT_EQ(p->config.database, "shop");
  EXPECT_EQ(p->config.user, "u1");
  EXPECT_EQ(p->config.password, "s3cret");
  ASSERT_EQ(p->config.properties.size(), 1u);
  EXPECT_EQ(p->config.properties[0].first, "useSSL");
  EXPECT_EQ(p->config.url.find("s3cret"), std::string::npos);
}

TEST(ConnectionUrl, MysqlWithoutDatabaseUsesDefaultPort) {
  auto p = parse_connection_url("jdbc:mysql://10.0.0.1");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->config.port, 3306);
  EXPECT_EQ(p->config.database, "");
  auto q = parse_connection_url("jdbc:mysql://10.0.0.1:3306");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->config.host, "10.0.0.1");
}

TEST(ConnectionUrl, MariadbUserInfoAndIpv6) {
  auto p = parse_connection_url("jdbc:mariadb://bob:pw%40x@[::1]:3310/db");
  ASSERT_TRUE(p.ok()) << p.error().message();
  EXPECT_EQ(p->scheme, "mariadb");
  EXPECT_EQ(p->config.host, "::1");
  EXPECT_EQ(p->config.port, 3310);
  EXPECT_EQ(p->config.user, "bob");
  EXPECT_EQ(p->config.password, "pw@x");
  EXPECT_EQ(p->config.url.find("pw%40x"), std::string::npos);
}

TEST(ConnectionUrl, Postgresql) {
  auto p = parse_connection_url("jdbc:postgresql://pg:5433/app?sslmode=disable");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->scheme, "postgresql");
  EXPECT_EQ(p->config.port, 5433);
  EXPECT_EQ(p->config.database, "app");
  auto d = parse_connection_url("jdbc:postgresql://pg/app");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->config.port, 5432);
  auto short_form = parse_connection_url("jdbc:postgresql:app");
  ASSERT_TRUE(short_form.ok());
  EXPECT_EQ(short_form->config.host, "localhost");
  EXPECT_EQ(short_form->config.database, "app");
}

TEST(ConnectionUrl, Sqlite) {
  auto p = parse_connection_url("jdbc:sqlite:/tmp/x.db");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->scheme, "sqlite");
  EXPECT_EQ(p->config.database, "/tmp/x.db");
  auto m = parse_connection_url("jdbc:sqlite::memory:");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->config.database, ":memory:");
  auto q = parse_connection_url("jdbc:sqlite:rel.db?busy_timeout=100");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->config.database, "rel.db");
  ASSERT_EQ(q->config.properties.size(), 1u);
  EXPECT_EQ(q->config.properties[0].second, "100");
}

TEST(ConnectionUrl, Errors) {
  for (const char* bad :
       {"", "mysql://h:1", "jdbc:", "jdbc:mysql://h:notaport/db", "jdbc:mysql://h:70000",
        "jdbc:mysql://a,b/db", "jdbc:sqlite:", "jdbc:mysql:h", "jdbc:mysql://h:/db",
        "jdbc:mysql://[::1/db", "jdbc:mysql://h/db?x=%zz"}) {
    auto p = parse_connection_url(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.error().code(), ErrorCode::kInvalidConfig) << bad;
    }
  }
  auto p = parse_connection_url("jdbc:mysql://h:bad/db?password=topsecret");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message().find("topsecret"), std::string::npos) << p.error().message();
}

TEST(ConnectionUrl, Redaction) {
  EXPECT_EQ(redact_url("jdbc:mysql://u:pw@h/db?password=x&a=1"),
            "jdbc:mysql://u:***@h/db?password=***&a=1");
  EXPECT_EQ(redact_url("jdbc:sqlite:/a.db"), "jdbc:sqlite:/a.db");
}

class FakeDialect : public Dialect {
 public:
  FakeDialect(std::string name, std::vector<std::string_view> schemes)
      : name_(std::move(name)), schemes_(std::move(schemes)) {}
  std::string_view name() const override { return name_; }
  std::vector<std::string_view> url_schemes() const override { return schemes_; }
  Result<std::unique_ptr<Connection>> connect(const ConnectionConfig&) const override {
    return Error(ErrorCode::kUnavailable, "no");
  }
  std::string quote_identifier(std::string_view id) const override {
    return "`" + std::string(id) + "`";
  }
  std::string placeholder(int) const override { return "?"; }
  std::string insert_sql(const TableId&, const std::vector<ColumnDef>&,
                         const std::vector<std::string>&, InsertMode, int, bool) const override {
    return {};
  }
  std::string sql_type(const ColumnDef&) const override { return "T"; }
  std::string current_timestamp_sql() const override { return "SELECT NOW()"; }

 private:
  std::string name_;
  std::vector<std::string_view> schemes_;
};

TEST(DialectRegistry, FindsByJavaNameShortNameAndScheme) {
  DialectRegistry r;
  r.add(std::make_shared<FakeDialect>("MySqlDatabaseDialect",
                                      std::vector<std::string_view>{"mysql", "mariadb"}));
  r.add(std::make_shared<FakeDialect>("PostgreSqlDatabaseDialect",
                                      std::vector<std::string_view>{"postgresql"}));
  EXPECT_EQ(r.find_by_name("mysqldatabasedialect")->name(), "MySqlDatabaseDialect");
  EXPECT_EQ(r.find_by_name("MySQL")->name(), "MySqlDatabaseDialect");
  EXPECT_EQ(r.find_by_name("postgres")->name(), "PostgreSqlDatabaseDialect");
  EXPECT_EQ(r.find_by_scheme("MariaDB")->name(), "MySqlDatabaseDialect");
  EXPECT_EQ(r.find_by_name("oracle"), nullptr);
  EXPECT_EQ(r.find_by_scheme("sqlite"), nullptr);
  auto forced = r.resolve("mysql", "PostgreSqlDatabaseDialect");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ((*forced)->name(), "PostgreSqlDatabaseDialect");
  auto unknown = r.resolve("oracle", "");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message().find("MySqlDatabaseDialect"), std::string::npos);
  // Adding a dialect of the same name replaces it.
  r.add(std::make_shared<FakeDialect>("MySqlDatabaseDialect", std::vector<std::string_view>{"x"}));
  EXPECT_EQ(r.dialects().size(), 2u);
  EXPECT_EQ(r.find_by_scheme("mysql"), nullptr);
}

TEST(Dialect, DefaultStatements) {
  FakeDialect d("D", {});
  TableId t{"db", "", "t"};
  EXPECT_EQ(t.to_string(), "db.t");
  EXPECT_EQ(d.table_name(t, true), "`db`.`t`");
  EXPECT_EQ(d.table_name(t, false), "db.t");
  std::vector<ColumnDef> cols{{.name = "id"}, {.name = "v"}};
  EXPECT_EQ(d.update_sql(t, cols, {"id"}, false), "UPDATE db.t SET v = ? WHERE id = ?");
  EXPECT_EQ(d.delete_sql(t, {cols[0]}, true), "DELETE FROM `db`.`t` WHERE `id` = ?");
  EXPECT_EQ(d.create_table_sql(t, cols, {"id"}, false),
            "CREATE TABLE db.t (id T NOT NULL, v T, PRIMARY KEY(id))");
  auto add = d.add_columns_sql(t, {cols[1]}, false);
  ASSERT_EQ(add.size(), 1u);
  EXPECT_EQ(add[0], "ALTER TABLE db.t ADD v T");
  EXPECT_EQ(column_kind_name(ColumnKind::kTimestamp), "TIMESTAMP");
}

TEST(SchemaMapping, ColumnsToSchema) {
  std::vector<ColumnDef> cols{
      {.name = "id", .kind = ColumnKind::kInt64, .nullable = false, .primary_key = true},
      {.name = "price", .kind = ColumnKind::kDecimal, .precision = 10, .scale = 2},
      {.name = "born", .kind = ColumnKind::kDate},
      {.name = "at", .kind = ColumnKind::kTimestamp},
      {.name = "t", .kind = ColumnKind::kTime},
      {.name = "doc", .kind = ColumnKind::kJson},
      {.name = "tags", .kind = ColumnKind::kArray, .element_kind = ColumnKind::kInt32},
  };
  auto m = map_row("emp", cols, NumericMapping::kNone);
  ASSERT_EQ(m.schema->fields().size(), cols.size());
  EXPECT_EQ(m.schema->name(), "emp");
  EXPECT_FALSE(m.schema->fields()[0].schema->optional());
  EXPECT_EQ(m.schema->fields()[0].schema->type(), FieldType::kInt64);
  const Schema& price = *m.schema->fields()[1].schema;
  EXPECT_TRUE(price.optional());
  EXPECT_EQ(logical::logical_type_of(price), logical::LogicalType::kDecimal);
  EXPECT_EQ(logical::decimal_scale(price), 2);
  EXPECT_EQ(logical::logical_type_of(*m.schema->fields()[2].schema), logical::LogicalType::kDate);
  EXPECT_EQ(logical::logical_type_of(*m.schema->fields()[3].schema),
            logical::LogicalType::kTimestamp);
  EXPECT_EQ(logical::logical_type_of(*m.schema->fields()[4].schema), logical::LogicalType::kTime);
  EXPECT_EQ(m.schema->fields()[5].schema->type(), FieldType::kString);
  EXPECT_EQ(m.schema->fields()[6].schema->type(), FieldType::kArray);
  EXPECT_EQ(m.schema->fields()[6].schema->value_schema()->type(), FieldType::kInt32);
  EXPECT_FALSE(m.needs_conversion);

  // Back for the sink.
  for (std::size_t i = 0; i < cols.size(); ++i) {
    auto c = column_from_schema(cols[i].name, *m.schema->fields()[i].schema);
    ASSERT_TRUE(c.ok()) << cols[i].name;
    // JSON travels as a STRING and comes back as one.
    EXPECT_EQ(c->kind, cols[i].kind == ColumnKind::kJson ? ColumnKind::kString : cols[i].kind)
        << cols[i].name;
    EXPECT_EQ(c->nullable, cols[i].nullable) << cols[i].name;
  }
  auto price_col = column_from_schema("p", price);
  EXPECT_EQ(price_col->scale, 2);
  EXPECT_EQ(price_col->precision, 10);
  EXPECT_FALSE(
      column_from_schema("m", *SchemaBuilder::map(schemas::string(), schemas::string()).build())
          .ok());
}

TEST(SchemaMapping, NumericMapping) {
  ColumnDef small{.name = "a", .kind = ColumnKind::kDecimal, .precision = 4, .scale = 0};
  ColumnDef big{.name = "b", .kind = ColumnKind::kDecimal, .precision = 18, .scale = 0};
  ColumnDef frac{.name = "c", .kind = ColumnKind::kDecimal, .precision = 10, .scale = 2};
  ColumnDef huge{.name = "d", .kind = ColumnKind::kDecimal, .precision = 30, .scale = 0};
  EXPECT_EQ(map_column(small, NumericMapping::kBestFit).schema->type(), FieldType::kInt16);
  EXPECT_EQ(map_column(big, NumericMapping::kBestFit).schema->type(), FieldType::kInt64);
  EXPECT_EQ(map_column(frac, NumericMapping::kBestFit).schema->type(), FieldType::kFloat64);
  EXPECT_EQ(logical::logical_type_of(*map_column(frac, NumericMapping::kPrecisionOnly).schema),
            logical::LogicalType::kDecimal);
  EXPECT_EQ(logical::logical_type_of(*map_column(huge, NumericMapping::kBestFit).schema),
            logical::LogicalType::kDecimal);
  EXPECT_EQ(logical::logical_type_of(*map_column(small, NumericMapping::kNone).schema),
            logical::LogicalType::kDecimal);

  Value v(Decimal::from_unscaled(1234, 0));
  ASSERT_TRUE(convert_value(v, map_column(small, NumericMapping::kBestFit).conversion).ok());
  EXPECT_EQ(v, Value(std::int16_t{1234}));
  Value f(Decimal::from_unscaled(-1250, 2));
  ASSERT_TRUE(convert_value(f, ValueConversion::kDecimalToFloat64).ok());
  EXPECT_EQ(f, Value(-12.5));
  Value over(Decimal::from_unscaled(300, 0));
  EXPECT_FALSE(convert_value(over, ValueConversion::kDecimalToInt8).ok());

  EXPECT_EQ(*parse_numeric_mapping("BEST_FIT"), NumericMapping::kBestFit);
  EXPECT_EQ(*parse_numeric_mapping("none", true), NumericMapping::kPrecisionOnly);
  EXPECT_FALSE(parse_numeric_mapping("weird").ok());
}

}  // namespace
}  // namespace rmqc::connectors::jdbc
