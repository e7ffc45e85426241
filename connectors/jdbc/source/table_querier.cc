#include "jdbc/source/table_querier.h"

#include "rmqc/api/struct.h"

#include "jdbc/source/jdbc_source_connector.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <limits>

namespace rmqc::connectors::jdbc {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

int find_column(const std::vector<ColumnDef>& columns, std::string_view name) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return static_cast<int>(i);
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (iequals(columns[i].name, name)) return static_cast<int>(i);
  }
  return -1;
}

bool same_columns(const std::vector<ColumnDef>& a, const std::vector<ColumnDef>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].name != b[i].name || a[i].kind != b[i].kind || a[i].scale != b[i].scale) return false;
  }
  return true;
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<SourceMode> parse_source_mode(std::string_view text) {
  std::string t(text);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "bulk") return SourceMode::kBulk;
  if (t == "incrementing") return SourceMode::kIncrementing;
  if (t == "timestamp") return SourceMode::kTimestamp;
  if (t == "timestamp+incrementing") return SourceMode::kTimestampIncrementing;
  return Error(ErrorCode::kInvalidConfig,
               "mode '" + std::string(text) +
                   "' is not one of bulk, incrementing, timestamp, timestamp+incrementing");
}

TableQuerier::TableQuerier(const Dialect& dialect, TableId table, QuerierOptions options)
    : dialect_(dialect), table_(std::move(table)), options_(std::move(options)) {
  partition_ = RecordPartition{
      {std::string(kTablePartitionField), Value(table_->to_string() + options_.offset_suffix)}};
}

TableQuerier::TableQuerier(const Dialect& dialect, std::string query, QuerierOptions options)
    : dialect_(dialect), query_(std::move(query)), options_(std::move(options)) {
  partition_ =
      RecordPartition{{std::string(kQueryPartitionField), Value(query_ + options_.offset_suffix)}};
}

TableQuerier::~TableQuerier() = default;

std::string TableQuerier::name() const {
  return table_ ? table_->to_string() : "query";
}

void TableQuerier::restore(const RecordOffset& offset) {
  std::int64_t n = 0;
  if (const Value* v = offset.find(kIncrementingOffsetField); v && v->to_int64(n)) {
    last_incrementing_ = n;
  }
  if (const Value* v = offset.find(kTimestampOffsetField); v && v->to_int64(n)) {
    last_timestamp_ = n;
  }
}

std::string TableQuerier::from_clause() const {
  if (table_) return " FROM " + dialect_.table_name(*table_, options_.quote);
  return " FROM (" + query_ + ") rmqc_query";
}

Result<void> TableQuerier::resolve_columns(const std::vector<ColumnDef>& columns) {
  const SourceMode mode = options_.mode;
  const std::string what = table_ ? "table " + table_->to_string() : "the query";
  incrementing_index_ = -1;
  timestamp_indexes_.clear();
  if (mode == SourceMode::kIncrementing || mode == SourceMode::kTimestampIncrementing) {
    if (options_.incrementing_column.empty()) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (columns[i].auto_increment) incrementing_index_ = static_cast<int>(i);
      }
      if (incrementing_index_ < 0) {
        return Error(ErrorCode::kInvalidConfig,
                     what + " has no auto-increment column; set incrementing.column.name");
      }
    } else {
      incrementing_index_ = find_column(columns, options_.incrementing_column);
      if (incrementing_index_ < 0) {
        return Error(ErrorCode::kInvalidConfig, "incrementing.column.name '" +
                                                    options_.incrementing_column +
                                                    "' is not a column of " + what);
      }
    }
    const ColumnDef& c = columns[static_cast<std::size_t>(incrementing_index_)];
    const bool integral = c.kind == ColumnKind::kInt8 || c.kind == ColumnKind::kInt16 ||
                          c.kind == ColumnKind::kInt32 || c.kind == ColumnKind::kInt64 ||
                          (c.kind == ColumnKind::kDecimal && c.scale == 0);
    if (!integral) {
      return Error(ErrorCode::kInvalidConfig, "incrementing column '" + c.name + "' of " + what +
                                                  " is " + c.native_type +
                                                  ", not an integer column");
    }
    if (options_.validate_non_null && table_ && c.nullable) {
      return Error(ErrorCode::kInvalidConfig,
                   "incrementing column '" + c.name + "' of " + what +
                       " is nullable; declare it NOT NULL or set validate.non.null=false");
    }
  }
  if (mode == SourceMode::kTimestamp || mode == SourceMode::kTimestampIncrementing) {
    for (const auto& name : options_.timestamp_columns) {
      int index = find_column(columns, name);
      if (index < 0) {
        return Error(ErrorCode::kInvalidConfig,
                     "timestamp.column.name '" + name + "' is not a column of " + what);
      }
      const ColumnDef& c = columns[static_cast<std::size_t>(index)];
      if (c.kind != ColumnKind::kTimestamp && c.kind != ColumnKind::kDate) {
        return Error(ErrorCode::kInvalidConfig, "timestamp column '" + c.name + "' of " + what +
                                                    " is " + c.native_type +
                                                    ", not a date-time column");
      }
      if (options_.validate_non_null && table_ && c.nullable) {
        return Error(ErrorCode::kInvalidConfig,
                     "timestamp column '" + c.name + "' of " + what +
                         " is nullable; declare it NOT NULL or set validate.non.null=false");
      }
      timestamp_kind_ = c.kind;
      timestamp_indexes_.push_back(index);
    }
  }
  columns_ = columns;
  const std::string schema_name = table_ ? table_->table : std::string("query");
  mapping_ = map_row(schema_name, columns_, options_.numeric_mapping);
  key_indexes_.clear();
  key_schema_.reset();
  if (table_) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (columns_[i].primary_key) key_indexes_.push_back(static_cast<int>(i));
    }
    if (key_indexes_.size() == 1) {
      key_schema_ = mapping_.schema->fields()[static_cast<std::size_t>(key_indexes_[0])].schema;
    } else if (key_indexes_.size() > 1) {
      auto b = SchemaBuilder::struct_().name(schema_name + ".Key");
      for (int i : key_indexes_) {
        const Field& f = mapping_.schema->fields()[static_cast<std::size_t>(i)];
        b.field(f.name, f.schema);
      }
      key_schema_ = b.build();
    }
  }
  return {};
}

void TableQuerier::build_sql() {
  auto ident = [&](std::string_view n) {
    return options_.quote ? dialect_.quote_identifier(n) : std::string(n);
  };
  std::string select = "SELECT ";
  if (table_) {
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      if (i > 0) select += ", ";
      select += ident(columns_[i].name);
    }
  } else {
    select += "*";
  }
  select += from_clause();
  const std::string suffix = options_.query_suffix.empty() ? "" : " " + options_.query_suffix;
  const std::string limit = " LIMIT " + std::to_string(options_.batch_max_rows);
  std::string inc;
  if (incrementing_index_ >= 0) {
    inc = ident(columns_[static_cast<std::size_t>(incrementing_index_)].name);
  }
  std::string ts;
  if (!timestamp_indexes_.empty()) {
    std::vector<std::string> parts;
    for (int i : timestamp_indexes_) {
      parts.push_back(
          dialect_.timestamp_compare_expression(ident(columns_[static_cast<std::size_t>(i)].name)));
    }
    if (parts.size() == 1) {
      ts = parts[0];
    } else {
      ts = "COALESCE(";
      for (std::size_t i = 0; i < parts.size(); ++i) ts += (i > 0 ? ", " : "") + parts[i];
      ts += ")";
    }
  }
  const auto p = [&](int i) { return dialect_.placeholder(i); };
  switch (options_.mode) {
    case SourceMode::kBulk:
      select_sql_ = table_ ? select + suffix : query_ + suffix;
      break;
    case SourceMode::kIncrementing:
      first_page_sql_ = select + " ORDER BY " + inc + " ASC" + limit + suffix;
      next_page_sql_ =
          select + " WHERE " + inc + " > " + p(0) + " ORDER BY " + inc + " ASC" + limit + suffix;
      break;
    case SourceMode::kTimestamp:
      first_page_sql_ =
          select + " WHERE " + ts + " < " + p(0) + " ORDER BY " + ts + " ASC" + limit + suffix;
      next_page_sql_ = select + " WHERE " + ts + " > " + p(0) + " AND " + ts + " < " + p(1) +
                       " ORDER BY " + ts + " ASC" + limit + suffix;
      timestamp_group_sql_ = select + " WHERE " + ts + " = " + p(0) + suffix;
      break;
    case SourceMode::kTimestampIncrementing:
      first_page_sql_ = select + " WHERE " + ts + " < " + p(0) + " ORDER BY " + ts + " ASC, " +
                        inc + " ASC" + limit + suffix;
      next_page_sql_ = select + " WHERE (" + ts + " > " + p(0) + " OR (" + ts + " = " + p(1) +
                       " AND " + inc + " > " + p(2) + ")) AND " + ts + " < " + p(3) + " ORDER BY " +
                       ts + " ASC, " + inc + " ASC" + limit + suffix;
      break;
  }
}

Result<void> TableQuerier::prepare(Connection& connection) {
  if (table_) {
    auto described = connection.describe_table(*table_);
    if (!described.ok()) return std::move(described).error();
    RMQC_RETURN_IF_ERROR(resolve_columns(*described));
  } else {
    // The query's columns, from a cursor over no rows.
    auto cursor = connection.query("SELECT * FROM (" + query_ + ") rmqc_query WHERE 1 = 0", {});
    if (!cursor.ok()) return std::move(cursor).error();
    RMQC_RETURN_IF_ERROR(resolve_columns((*cursor)->columns()));
  }
  build_sql();
  const bool timestamped = options_.mode == SourceMode::kTimestamp ||
                           options_.mode == SourceMode::kTimestampIncrementing;
  if (timestamped && options_.timestamp_initial && !last_timestamp_) {
    // timestamp.initial: rows with a later timestamp only (unless an offset was committed);
    // -1 means the database's current time.
    std::int64_t initial = *options_.timestamp_initial;
    if (initial == -1) {
      RMQC_ASSIGN_OR_RETURN(initial, db_now(connection));
    }
    last_timestamp_ = initial;
    if (options_.mode == SourceMode::kTimestampIncrementing) {
      last_incrementing_ = std::numeric_limits<std::int64_t>::max();
    }
  }
  prepared_ = true;
  return {};
}

void TableQuerier::reset() {
  bulk_cursor_.reset();
}

Result<void> TableQuerier::read_keys(Row& row) const {
  if (incrementing_index_ >= 0) {
    const Value& v = row.values[static_cast<std::size_t>(incrementing_index_)];
    if (const auto* d = v.get_if<Decimal>()) {
      if (!d->to_int64(row.incrementing)) {
        return Error(ErrorCode::kSchemaMismatch, "incrementing value " + d->to_string() + " of " +
                                                     name() + " overflows 64 bits");
      }
    } else if (!v.to_int64(row.incrementing)) {
      return Error(ErrorCode::kSchemaMismatch, "incrementing column of " + name() +
                                                   " is NULL in a row (" + v.to_string() +
                                                   "); it must be set in every row");
    }
  }
  if (!timestamp_indexes_.empty()) {
    bool found = false;
    for (int i : timestamp_indexes_) {
      const Value& v = row.values[static_cast<std::size_t>(i)];
      if (v.is_null()) continue;
      std::int64_t n = 0;
      v.to_int64(n);
      row.timestamp = timestamp_kind_ == ColumnKind::kDate ? n * 86'400'000 : n;
      found = true;
      break;
    }
    if (!found) {
      return Error(ErrorCode::kSchemaMismatch,
                   "every timestamp column of a row of " + name() + " is NULL");
    }
  }
  return {};
}

Result<std::int64_t> TableQuerier::db_now(Connection& connection) {
  auto cursor = connection.query(dialect_.current_timestamp_sql(), {});
  if (!cursor.ok()) return std::move(cursor).error();
  std::vector<Value> row;
  auto more = (*cursor)->next(row);
  if (!more.ok()) return std::move(more).error();
  std::int64_t now = 0;
  if (!*more || row.empty() || !row[0].to_int64(now)) {
    return Error(ErrorCode::kInternal, "the database's current time query returned no time");
  }
  // Read to the end: a cursor dropped early makes the dialect stop the statement (PostgreSQL
  // sends a cancel request over a new connection), which costs more than the query.
  std::vector<Value> rest;
  while (true) {
    auto again = (*cursor)->next(rest);
    if (!again.ok() || !*again) break;
  }
  return now;
}

Result<void> TableQuerier::emit(std::vector<Value>&& values, RecordOffset offset,
                                std::vector<ConnectRecord>& out, std::int64_t now_ms) {
  if (mapping_.needs_conversion) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (auto r = convert_value(values[i], mapping_.conversions[i]); !r.ok()) {
        Error e = std::move(r).error();
        e.with_context(name() + " column '" + columns_[i].name + "'");
        return e;
      }
    }
  }
  Value key;
  if (key_indexes_.size() == 1) {
    key = values[static_cast<std::size_t>(key_indexes_[0])];
  } else if (key_indexes_.size() > 1) {
    Struct k(key_schema_);
    k.values().clear();
    for (int i : key_indexes_) k.values().push_back(values[static_cast<std::size_t>(i)]);
    key = Value(std::move(k));
  }
  Struct s(mapping_.schema);
  s.values() = std::move(values);
  ConnectRecord& r = out.emplace_back(partition_, std::move(offset), now_ms, key_schema_,
                                      std::move(key), mapping_.schema, Value(std::move(s)));
  r.set_topic(options_.topic);
  return {};
}

Result<void> TableQuerier::fetch(Connection& connection, const std::string& sql,
                                 const std::vector<SqlParam>& params, std::vector<Row>& rows,
                                 std::size_t limit) {
  auto cursor = connection.query(sql, params);
  if (!cursor.ok()) return std::move(cursor).error();
  if (!table_ && !same_columns((*cursor)->columns(), columns_)) {
    RMQC_RETURN_IF_ERROR(resolve_columns((*cursor)->columns()));
  }
  while (rows.size() < limit) {
    Row row;
    auto more = (*cursor)->next(row.values);
    if (!more.ok()) return std::move(more).error();
    if (!*more) break;
    RMQC_RETURN_IF_ERROR(read_keys(row));
    rows.push_back(std::move(row));
  }
  return {};
}

Result<bool> TableQuerier::poll(Connection& connection, std::vector<ConnectRecord>& out) {
  if (!prepared_) RMQC_RETURN_IF_ERROR(prepare(connection));
  if (options_.mode == SourceMode::kBulk) return poll_bulk(connection, out);
  return poll_paged(connection, out);
}

Result<bool> TableQuerier::poll_bulk(Connection& connection, std::vector<ConnectRecord>& out) {
  if (!bulk_cursor_) {
    auto cursor = connection.query(select_sql_, {});
    if (!cursor.ok()) return std::move(cursor).error();
    bulk_cursor_ = std::move(cursor).value();
    if (!table_ && !same_columns(bulk_cursor_->columns(), columns_)) {
      RMQC_RETURN_IF_ERROR(resolve_columns(bulk_cursor_->columns()));
    }
  }
  const std::int64_t now_ms = wall_clock_ms();
  const auto limit = static_cast<std::size_t>(options_.batch_max_rows);
  out.reserve(out.size() + limit);
  for (std::size_t n = 0; n < limit; ++n) {
    auto more = bulk_cursor_->next(row_buffer_);
    if (!more.ok()) {
      bulk_cursor_.reset();
      return std::move(more).error();
    }
    if (!*more) {
      bulk_cursor_.reset();
      return false;
    }
    RMQC_RETURN_IF_ERROR(emit(std::move(row_buffer_), RecordOffset{}, out, now_ms));
    row_buffer_ = std::vector<Value>();
  }
  return true;
}

Result<bool> TableQuerier::poll_paged(Connection& connection, std::vector<ConnectRecord>& out) {
  const auto limit = static_cast<std::size_t>(options_.batch_max_rows);
  const SourceMode mode = options_.mode;
  std::vector<SqlParam> params;
  std::optional<std::int64_t> upper;
  if (mode != SourceMode::kIncrementing) {
    RMQC_ASSIGN_OR_RETURN(std::int64_t now, db_now(connection));
    upper = now - options_.timestamp_delay_ms;
  }
  const std::string* sql = &first_page_sql_;
  switch (mode) {
    case SourceMode::kIncrementing:
      if (last_incrementing_) {
        sql = &next_page_sql_;
        params.push_back({ColumnKind::kInt64, Value(*last_incrementing_)});
      }
      break;
    case SourceMode::kTimestamp:
      if (last_timestamp_) {
        sql = &next_page_sql_;
        params.push_back({ColumnKind::kTimestamp, Value(*last_timestamp_)});
      }
      params.push_back({ColumnKind::kTimestamp, Value(*upper)});
      break;
    case SourceMode::kTimestampIncrementing:
      if (last_timestamp_) {
        sql = &next_page_sql_;
        params.push_back({ColumnKind::kTimestamp, Value(*last_timestamp_)});
        params.push_back({ColumnKind::kTimestamp, Value(*last_timestamp_)});
        params.push_back({ColumnKind::kInt64, Value(last_incrementing_.value_or(
                                                  std::numeric_limits<std::int64_t>::min()))});
      }
      params.push_back({ColumnKind::kTimestamp, Value(*upper)});
      break;
    case SourceMode::kBulk:
      break;
  }
  std::vector<Row> rows;
  rows.reserve(limit);
  RMQC_RETURN_IF_ERROR(fetch(connection, *sql, params, rows, limit));
  const bool full = rows.size() == limit;
  const std::int64_t now_ms = wall_clock_ms();
  out.reserve(out.size() + rows.size());

  if (mode == SourceMode::kIncrementing || mode == SourceMode::kTimestampIncrementing) {
    for (auto& row : rows) {
      RecordOffset offset;
      if (mode == SourceMode::kIncrementing) {
        offset = RecordOffset{{std::string(kIncrementingOffsetField), Value(row.incrementing)}};
      } else {
        offset = RecordOffset{{std::string(kTimestampOffsetField), Value(row.timestamp)},
                              {std::string(kIncrementingOffsetField), Value(row.incrementing)}};
        last_timestamp_ = row.timestamp;
      }
      last_incrementing_ = row.incrementing;
      RMQC_RETURN_IF_ERROR(emit(std::move(row.values), std::move(offset), out, now_ms));
    }
    return full;
  }

  // timestamp mode: a page may end inside a group of rows sharing one timestamp; only whole
  // groups are emitted, and a record's offset is the last timestamp whose group is complete, so
  // neither the next page nor a restart ever skips a row of an equal timestamp.
  if (full && !rows.empty()) {
    const std::int64_t last = rows.back().timestamp;
    if (rows.front().timestamp == last) {
      rows.clear();  // one group fills the page: read the whole group
      RMQC_RETURN_IF_ERROR(fetch(connection, timestamp_group_sql_,
                                 {{ColumnKind::kTimestamp, Value(last)}}, rows,
                                 std::numeric_limits<std::size_t>::max()));
    } else {
      while (!rows.empty() && rows.back().timestamp == last) rows.pop_back();
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const bool group_ends = i + 1 == rows.size() || rows[i + 1].timestamp != rows[i].timestamp;
    if (group_ends) last_timestamp_ = rows[i].timestamp;
    RecordOffset offset;
    if (last_timestamp_) {
      offset = RecordOffset{{std::string(kTimestampOffsetField), Value(*last_timestamp_)}};
    }
    RMQC_RETURN_IF_ERROR(emit(std::move(rows[i].values), std::move(offset), out, now_ms));
  }
  return full;
}

}  // namespace rmqc::connectors::jdbc
