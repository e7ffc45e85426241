#pragma once

// SQLite over libsqlite3: connection.url jdbc:sqlite:PATH (or jdbc:sqlite::memory:).
// Dates, times and timestamps are stored as ISO text, DECIMAL as text (no precision lost).

#include "jdbc/common/dialect.h"
#include "jdbc/common/dialect_registry.h"

namespace rmqc::connectors::jdbc {

class SqliteDialect final : public Dialect {
 public:
  std::string_view name() const override { return "SqliteDatabaseDialect"; }
  std::vector<std::string_view> url_schemes() const override { return {"sqlite"}; }

  Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config) const override;

  std::string quote_identifier(std::string_view identifier) const override;
  std::string placeholder(int index) const override;
  std::string sql_type(const ColumnDef& column) const override;
  std::string current_timestamp_sql() const override;
  int max_parameters() const override { return 32766; }
  std::string timestamp_compare_expression(const std::string& column_sql) const override;

  // The ColumnDef of a declared column type ("DECIMAL(10,2)", "VARCHAR(20)", "DATETIME").
  static ColumnDef column_from_declared_type(std::string name, std::string_view declared);
};

void register_sqlite_dialect(DialectRegistry& registry);

}  // namespace rmqc::connectors::jdbc
