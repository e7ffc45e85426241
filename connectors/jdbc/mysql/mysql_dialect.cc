#include "jdbc/mysql/mysql_dialect.h"

#include "jdbc/mysql/mysql_connection.h"

#include <algorithm>
#include <string>

namespace rmqc::connectors::jdbc {
namespace {

class MySqlDialect final : public Dialect {
 public:
  std::string_view name() const override { return "MySqlDatabaseDialect"; }
  std::vector<std::string_view> url_schemes() const override { return {"mysql", "mariadb"}; }

  Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config) const override {
    return mysql::connect(config);
  }

  std::string quote_identifier(std::string_view identifier) const override {
    std::string out;
    out.reserve(identifier.size() + 2);
    out.push_back('`');
    for (char c : identifier) {
      if (c == '`') out.push_back('`');
      out.push_back(c);
    }
    out.push_back('`');
    return out;
  }

  std::string placeholder(int index) const override {
    (void)index;
    return "?";
  }

  std::string insert_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                         const std::vector<std::string>& key_columns, InsertMode mode,
                         int rows_count, bool quote) const override {
    if (mode == InsertMode::kUpdate) return update_sql(table, columns, key_columns, quote);
    auto ident = [&](const std::string& n) { return quote ? quote_identifier(n) : n; };
    std::string sql = multi_row_insert_sql(table, columns, rows_count, quote);
    if (mode == InsertMode::kUpsert) {
      // VALUES(c) works on MariaDB and (deprecated but working) on MySQL 8.
      sql += " ON DUPLICATE KEY UPDATE ";
      bool first = true;
      for (const auto& c : columns) {
        bool is_key = false;
        for (const auto& k : key_columns) is_key = is_key || k == c.name;
        if (is_key) continue;
        if (!first) sql += ", ";
        first = false;
        sql += ident(c.name) + " = VALUES(" + ident(c.name) + ")";
      }
      if (first) {
        // Only key columns: an existing row stays as it is.
        const std::string& k = key_columns.empty() ? columns.front().name : key_columns.front();
        sql += ident(k) + " = " + ident(k);
      }
    }
    return sql;
  }

  std::string sql_type(const ColumnDef& column) const override {
    switch (column.kind) {
      case ColumnKind::kBoolean:
        return "TINYINT(1)";
      case ColumnKind::kInt8:
        return "TINYINT";
      case ColumnKind::kInt16:
        return "SMALLINT";
      case ColumnKind::kInt32:
        return "INT";
      case ColumnKind::kInt64:
        return "BIGINT";
      case ColumnKind::kFloat32:
        return "FLOAT";
      case ColumnKind::kFloat64:
        return "DOUBLE";
      case ColumnKind::kDecimal: {
        int scale = std::clamp(column.scale, 0, 30);
        int precision = column.precision > 0 ? column.precision : 65;
        precision = std::clamp(precision, std::max(scale, 1), 65);
        return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
      }
      case ColumnKind::kString:
        if (column.primary_key) {
          const int n = column.precision > 0 ? std::min(column.precision, 255) : 255;
          return "VARCHAR(" + std::to_string(n) + ")";
        }
        if (column.precision > 0 && column.precision <= 16383) {
          return "VARCHAR(" + std::to_string(column.precision) + ")";
        }
        return "LONGTEXT";
      case ColumnKind::kBytes:
        if (column.primary_key) {
          const int n = column.precision > 0 ? std::min(column.precision, 255) : 255;
          return "VARBINARY(" + std::to_string(n) + ")";
        }
        if (column.precision > 0 && column.precision <= 65535 / 2) {
          return "VARBINARY(" + std::to_string(column.precision) + ")";
        }
        return "LONGBLOB";
      case ColumnKind::kDate:
        return "DATE";
      case ColumnKind::kTime:
        return "TIME(3)";
      case ColumnKind::kTimestamp:
        return column.with_time_zone ? "TIMESTAMP(3)" : "DATETIME(3)";
      case ColumnKind::kJson:
        return "JSON";
      case ColumnKind::kUuid:
        return "CHAR(36)";
      case ColumnKind::kArray:
        return "JSON";
    }
    return "LONGTEXT";
  }

  std::string current_timestamp_sql() const override { return "SELECT CURRENT_TIMESTAMP(3)"; }

  int max_parameters() const override { return 65535; }

  // DATETIME(6)/TIMESTAMP(6) keep microseconds that a kTimestamp value (milliseconds) drops:
  // truncate them the same way (CAST would round on MySQL), so a row whose offset was just
  // taken is not "later" than it and read again. A no-op for fractional digits <= 3, but the
  // expression keeps the server from using an index on the column.
  std::string timestamp_compare_expression(const std::string& column_sql) const override {
    return "(" + column_sql + " - INTERVAL MICROSECOND(" + column_sql + ") % 1000 MICROSECOND)";
  }
};

}  // namespace

std::shared_ptr<const Dialect> make_mysql_dialect() {
  return std::make_shared<MySqlDialect>();
}

void register_mysql_dialect(DialectRegistry& registry) {
  registry.add(make_mysql_dialect());
}

}  // namespace rmqc::connectors::jdbc
