#include "jdbc/common/dialect.h"

#include <tuple>

namespace rmqc::connectors::jdbc {

std::string_view column_kind_name(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kBoolean:
      return "BOOLEAN";
    case ColumnKind::kInt8:
      return "INT8";
    case ColumnKind::kInt16:
      return "INT16";
    case ColumnKind::kInt32:
      return "INT32";
    case ColumnKind::kInt64:
      return "INT64";
    case ColumnKind::kFloat32:
      return "FLOAT32";
    case ColumnKind::kFloat64:
      return "FLOAT64";
    case ColumnKind::kDecimal:
      return "DECIMAL";
    case ColumnKind::kString:
      return "STRING";
    case ColumnKind::kBytes:
      return "BYTES";
    case ColumnKind::kDate:
      return "DATE";
    case ColumnKind::kTime:
      return "TIME";
    case ColumnKind::kTimestamp:
      return "TIMESTAMP";
    case ColumnKind::kJson:
      return "JSON";
    case ColumnKind::kUuid:
      return "UUID";
    case ColumnKind::kArray:
      return "ARRAY";
  }
  return "UNKNOWN";
}

std::string TableId::to_string() const {
  std::string out;
  for (const std::string* part : {&catalog, &schema, &table}) {
    if (part->empty()) continue;
    if (!out.empty()) out += '.';
    out += *part;
  }
  return out;
}

bool TableId::operator<(const TableId& o) const {
  return std::tie(catalog, schema, table) < std::tie(o.catalog, o.schema, o.table);
}

std::string Dialect::table_name(const TableId& table, bool quote) const {
  std::string out;
  for (const std::string* part : {&table.catalog, &table.schema, &table.table}) {
    if (part->empty()) continue;
    if (!out.empty()) out += '.';
    out += quote ? quote_identifier(*part) : *part;
  }
  return out;
}

namespace {

std::string ident(const Dialect& d, std::string_view name, bool quote) {
  return quote ? d.quote_identifier(name) : std::string(name);
}

}  // namespace

std::string Dialect::multi_row_insert_sql(const TableId& table,
                                          const std::vector<ColumnDef>& columns, int rows_count,
                                          bool quote) const {
  std::string sql = "INSERT INTO " + table_name(table, quote) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += ident(*this, columns[i].name, quote);
  }
  sql += ") VALUES ";
  const int rows = rows_count > 0 ? rows_count : 1;
  sql.reserve(sql.size() + static_cast<std::size_t>(rows) * (columns.size() * 6 + 4));
  int index = 0;
  for (int r = 0; r < rows; ++r) {
    sql += r > 0 ? ", (" : "(";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += placeholder(index++);
    }
    sql += ')';
  }
  return sql;
}

std::string Dialect::insert_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                const std::vector<std::string>& key_columns, InsertMode mode,
                                int rows_count, bool quote) const {
  if (mode == InsertMode::kUpdate) return update_sql(table, columns, key_columns, quote);
  std::string sql = multi_row_insert_sql(table, columns, rows_count, quote);
  if (mode == InsertMode::kUpsert && !key_columns.empty()) {
    sql += on_conflict_sql(columns, key_columns, quote);
  }
  return sql;
}

std::string Dialect::on_conflict_sql(const std::vector<ColumnDef>& columns,
                                     const std::vector<std::string>& key_columns,
                                     bool quote) const {
  std::string sql = " ON CONFLICT (";
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += ident(*this, key_columns[i], quote);
  }
  sql += ") DO ";
  std::string sets;
  for (const auto& c : columns) {
    bool is_key = false;
    for (const auto& k : key_columns) is_key = is_key || k == c.name;
    if (is_key) continue;
    if (!sets.empty()) sets += ", ";
    sets += ident(*this, c.name, quote) + " = EXCLUDED." + ident(*this, c.name, quote);
  }
  sql += sets.empty() ? "NOTHING" : "UPDATE SET " + sets;
  return sql;
}

std::string Dialect::update_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                const std::vector<std::string>& key_columns, bool quote) const {
  std::string sql = "UPDATE " + table_name(table, quote) + " SET ";
  int index = 0;
  bool first = true;
  for (const auto& c : columns) {
    bool is_key = false;
    for (const auto& k : key_columns) is_key = is_key || k == c.name;
    if (is_key) continue;
    if (!first) sql += ", ";
    first = false;
    sql += ident(*this, c.name, quote) + " = " + placeholder(index++);
  }
  sql += " WHERE ";
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    if (i > 0) sql += " AND ";
    sql += ident(*this, key_columns[i], quote) + " = " + placeholder(index++);
  }
  return sql;
}

std::string Dialect::delete_sql(const TableId& table, const std::vector<ColumnDef>& key_columns,
                                bool quote) const {
  std::string sql = "DELETE FROM " + table_name(table, quote) + " WHERE ";
  for (std::size_t i = 0; i < key_columns.size(); ++i) {
    if (i > 0) sql += " AND ";
    sql += ident(*this, key_columns[i].name, quote) + " = " + placeholder(static_cast<int>(i));
  }
  return sql;
}

std::string Dialect::create_table_sql(const TableId& table, const std::vector<ColumnDef>& columns,
                                      const std::vector<std::string>& key_columns,
                                      bool quote) const {
  std::string sql = "CREATE TABLE " + table_name(table, quote) + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) sql += ", ";
    const auto& c = columns[i];
    sql += ident(*this, c.name, quote) + " " + sql_type(c);
    bool is_key = false;
    for (const auto& k : key_columns) is_key = is_key || k == c.name;
    if (!c.nullable || is_key) sql += " NOT NULL";
  }
  if (!key_columns.empty()) {
    sql += ", PRIMARY KEY(";
    for (std::size_t i = 0; i < key_columns.size(); ++i) {
      if (i > 0) sql += ", ";
      sql += ident(*this, key_columns[i], quote);
    }
    sql += ")";
  }
  sql += ")";
  return sql;
}

std::vector<std::string> Dialect::add_columns_sql(const TableId& table,
                                                  const std::vector<ColumnDef>& columns,
                                                  bool quote) const {
  std::vector<std::string> out;
  out.reserve(columns.size());
  for (const auto& c : columns) {
    // Added columns are nullable: existing rows have no value for them.
    out.push_back("ALTER TABLE " + table_name(table, quote) + " ADD " +
                  ident(*this, c.name, quote) + " " + sql_type(c));
  }
  return out;
}

}  // namespace rmqc::connectors::jdbc
