#pragma once

// PostgreSQL over libpq: connection.url jdbc:postgresql://host[:port]/database[?params].
// Rows stream in libpq's single-row mode (bounded memory for any result size); the sink's bulk
// path is COPY ... FROM STDIN in text format. The session runs with TimeZone UTC, so TIMESTAMPTZ
// values are exact instants; TIMESTAMP (without zone) is read and written in db.timezone.

#include "jdbc/common/dialect.h"
#include "jdbc/common/dialect_registry.h"

#include <string>
#include <string_view>
#include <vector>

namespace rmqc::connectors::jdbc {

class PostgresDialect final : public Dialect {
 public:
  std::string_view name() const override { return "PostgreSqlDatabaseDialect"; }
  std::vector<std::string_view> url_schemes() const override { return {"postgresql"}; }

  Result<std::unique_ptr<Connection>> connect(const ConnectionConfig& config) const override;

  std::string quote_identifier(std::string_view identifier) const override;
  std::string placeholder(int index) const override;
  std::string sql_type(const ColumnDef& column) const override;
  std::string current_timestamp_sql() const override;
  // date_trunc to milliseconds: timestamp columns keep microseconds, offsets keep milliseconds.
  std::string timestamp_compare_expression(const std::string& column_sql) const override;
  int max_parameters() const override { return 65535; }

  // The ColumnDef of a PostgreSQL type oid and type modifier (as PQftype/PQfmod or
  // pg_attribute report them). Unknown types (enums, ranges, user types) read as kString.
  static ColumnDef column_from_type(std::string name, unsigned int type_oid, int type_modifier);
};

void register_postgres_dialect(DialectRegistry& registry);

}  // namespace rmqc::connectors::jdbc
