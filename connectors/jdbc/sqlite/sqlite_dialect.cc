#include "jdbc/sqlite/sqlite_dialect.h"

#include "jdbc/common/values.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <sqlite3.h>
#include <unordered_map>

namespace rmqc::connectors::jdbc {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

// An error of db for what was done; BUSY/LOCKED, I/O and a full disk are retriable.
Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  const std::string message =
      std::string(what) + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error::retriable(ErrorCode::kUnavailable, message);
    case SQLITE_INTERRUPT:
      return Error::retriable(ErrorCode::kCancelled, message);
    case SQLITE_IOERR:
      return Error::retriable(ErrorCode::kIoError, message);
    case SQLITE_FULL:
      return Error::retriable(ErrorCode::kResourceExhausted, message);
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
      return Error(ErrorCode::kInvalidArgument, message);
    case SQLITE_AUTH:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return Error(ErrorCode::kPermissionDenied, message);
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
      return Error(ErrorCode::kNotFound, message);
    default:
      break;
  }
  if (message.find("no such table") != std::string::npos) {
    return Error(ErrorCode::kNotFound, message);
  }
  return Error(ErrorCode::kInvalidArgument, message);
}

// Timestamps are written as "YYYY-MM-DD HH:MM:SS.mmm" (exactly three fraction digits), so text
// comparisons agree with timestamp_compare_expression().
std::string timestamp_text(std::int64_t millis, const TimeZone& tz) {
  std::string text = format_timestamp(millis, tz);
  auto dot = text.find('.');
  if (dot == std::string::npos) {
    text += ".000";
  } else {
    std::size_t digits = text.size() - dot - 1;
    if (digits < 3) text.append(3 - digits, '0');
    if (digits > 3) text.resize(dot + 4);
  }
  return text;
}

std::string decimal_text(const Value& v) {
  if (const auto* d = v.get_if<Decimal>()) return d->to_string();
  if (const auto* s = v.get_if<std::string>()) return *s;
  return v.to_string();
}

void append_json(const Value& v, std::string& out) {
  if (v.is_null()) {
    out += "null";
  } else if (const auto* s = v.get_if<std::string>()) {
    out += '"';
    for (char c : *s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (static_cast<unsigned char>(c) < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
        out += buf;
      } else {
        out += c;
      }
    }
    out += '"';
  } else if (const auto* list = v.get_if<ValueList>()) {
    out += '[';
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (i > 0) out += ',';
      append_json((*list)[i], out);
    }
    out += ']';
  } else if (const auto* d = v.get_if<Decimal>()) {
    out += d->to_string();
  } else {
    out += v.to_string();
  }
}

Error bad_param(int index, const SqlParam& p) {
  return Error(ErrorCode::kSchemaMismatch, "parameter " + std::to_string(index + 1) + ": a " +
                                               std::string(kind_name(p.value.kind())) +
                                               " value cannot be sent as " +
                                               std::string(column_kind_name(p.kind)));
}

Result<void> bind(sqlite3* db, sqlite3_stmt* stmt, int index, const SqlParam& p,
                  const TimeZone& tz) {
  const int i = index + 1;
  int rc = SQLITE_OK;
  const Value& v = p.value;
  if (v.is_null()) {
    rc = sqlite3_bind_null(stmt, i);
  } else {
    switch (p.kind) {
      case ColumnKind::kBoolean:
      case ColumnKind::kInt8:
      case ColumnKind::kInt16:
      case ColumnKind::kInt32:
      case ColumnKind::kInt64: {
        std::int64_t n = 0;
        if (const bool* b = v.get_if<bool>()) {
          n = *b ? 1 : 0;
        } else if (!v.to_int64(n)) {
          return bad_param(index, p);
        }
        rc = sqlite3_bind_int64(stmt, i, n);
        break;
      }
      case ColumnKind::kFloat32:
      case ColumnKind::kFloat64: {
        double d = 0;
        std::int64_t n = 0;
        if (const double* x = v.get_if<double>()) {
          d = *x;
        } else if (const float* f = v.get_if<float>()) {
          d = *f;
        } else if (v.to_int64(n)) {
          d = static_cast<double>(n);
        } else {
          return bad_param(index, p);
        }
        rc = sqlite3_bind_double(stmt, i, d);
        break;
      }
      case ColumnKind::kDecimal: {
        std::string text = decimal_text(v);
        rc = sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()),
                               SQLITE_TRANSIENT);
        break;
      }
      case ColumnKind::kString:
      case ColumnKind::kJson:
      case ColumnKind::kUuid: {
        if (const auto* s = v.get_if<std::string>()) {
          rc = sqlite3_bind_text(stmt, i, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
        } else {
          std::string text = v.to_string();
          rc = sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()),
                                 SQLITE_TRANSIENT);
        }
        break;
      }
      case ColumnKind::kBytes: {
        if (const auto* b = v.get_if<Bytes>()) {
          // An empty vector's data() may be null, which sqlite3_bind_blob takes for NULL.
          rc = b->empty() ? sqlite3_bind_zeroblob(stmt, i, 0)
                          : sqlite3_bind_blob(stmt, i, b->data(), static_cast<int>(b->size()),
                                              SQLITE_STATIC);
        } else if (const auto* s = v.get_if<std::string>()) {
          rc = sqlite3_bind_blob(stmt, i, s->data(), static_cast<int>(s->size()), SQLITE_STATIC);
        } else {
          return bad_param(index, p);
        }
        break;
      }
      case ColumnKind::kDate:
      case ColumnKind::kTime:
      case ColumnKind::kTimestamp: {
        std::int64_t n = 0;
        std::string text;
        if (const auto* s = v.get_if<std::string>()) {
          text = *s;
        } else if (!v.to_int64(n)) {
          return bad_param(index, p);
        } else if (p.kind == ColumnKind::kDate) {
          text = format_date(static_cast<std::int32_t>(n));
        } else if (p.kind == ColumnKind::kTime) {
          text = format_time(static_cast<std::int32_t>(n));
        } else {
          text = timestamp_text(n, tz);
        }
        rc = sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()),
                               SQLITE_TRANSIENT);
        break;
      }
      case ColumnKind::kArray: {
        std::string text;
        append_json(v, text);
        rc = sqlite3_bind_text(stmt, i, text.data(), static_cast<int>(text.size()),
                               SQLITE_TRANSIENT);
        break;
      }
    }
  }
  if (rc != SQLITE_OK) return sqlite_error(db, rc, "binding parameter " + std::to_string(i));
  return {};
}

Result<void> bind_all(sqlite3* db, sqlite3_stmt* stmt, const std::vector<SqlParam>& params,
                      const TimeZone& tz) {
  const int expected = sqlite3_bind_parameter_count(stmt);
  if (expected != static_cast<int>(params.size())) {
    return Error(ErrorCode::kInvalidArgument,
                 "statement has " + std::to_string(expected) + " placeholders but " +
                     std::to_string(params.size()) + " parameters were given");
  }
  for (std::size_t i = 0; i < params.size(); ++i) {
    RMQC_RETURN_IF_ERROR(bind(db, stmt, static_cast<int>(i), params[i], tz));
  }
  return {};
}

std::string_view column_text(sqlite3_stmt* stmt, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
  return p == nullptr
             ? std::string_view{}
             : std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
}

Error bad_value(const ColumnDef& c, std::string_view text, const Error& why) {
  return Error(ErrorCode::kSchemaMismatch, "column '" + c.name + "' (" + c.native_type +
                                               "): cannot read '" + std::string(text) +
                                               "': " + why.message());
}

constexpr std::int64_t kMillisPerDay = 86'400'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Result<Value> read_value(sqlite3_stmt* stmt, int i, const ColumnDef& c, const TimeZone& tz) {
  const int type = sqlite3_column_type(stmt, i);
  if (type == SQLITE_NULL) return Value{};
  switch (c.kind) {
    case ColumnKind::kBoolean: {
      if (type == SQLITE_TEXT) {
        std::string t = upper(column_text(stmt, i));
        if (t == "TRUE" || t == "T" || t == "1" || t == "YES" || t == "Y") return Value(true);
        if (t == "FALSE" || t == "F" || t == "0" || t == "NO" || t == "N") return Value(false);
        return bad_value(c, t, Error(ErrorCode::kParseError, "not a boolean"));
      }
      return Value(sqlite3_column_int64(stmt, i) != 0);
    }
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
    case ColumnKind::kInt32:
    case ColumnKind::kInt64: {
      std::int64_t n = 0;
      if (type == SQLITE_INTEGER) {
        n = sqlite3_column_int64(stmt, i);
      } else if (type == SQLITE_FLOAT) {
        double d = sqlite3_column_double(stmt, i);
        if (d != std::trunc(d) || std::abs(d) > 9.2e18) {
          return bad_value(c, std::to_string(d), Error(ErrorCode::kParseError, "not an integer"));
        }
        n = static_cast<std::int64_t>(d);
      } else {
        auto parsed = parse_int64(column_text(stmt, i));
        if (!parsed.ok()) return bad_value(c, column_text(stmt, i), parsed.error());
        n = *parsed;
      }
      auto out_of_range = [&] {
        return bad_value(c, std::to_string(n),
                         Error(ErrorCode::kSchemaMismatch, "out of the column type's range"));
      };
      switch (c.kind) {
        case ColumnKind::kInt8:
          if (n < INT8_MIN || n > INT8_MAX) return out_of_range();
          return Value(static_cast<std::int8_t>(n));
        case ColumnKind::kInt16:
          if (n < INT16_MIN || n > INT16_MAX) return out_of_range();
          return Value(static_cast<std::int16_t>(n));
        case ColumnKind::kInt32:
          if (n < INT32_MIN || n > INT32_MAX) return out_of_range();
          return Value(static_cast<std::int32_t>(n));
        default:
          return Value(n);
      }
    }
    case ColumnKind::kFloat32:
    case ColumnKind::kFloat64: {
      double d = 0;
      if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
        d = sqlite3_column_double(stmt, i);
      } else {
        auto parsed = parse_double(column_text(stmt, i));
        if (!parsed.ok()) return bad_value(c, column_text(stmt, i), parsed.error());
        d = *parsed;
      }
      if (c.kind == ColumnKind::kFloat32) return Value(static_cast<float>(d));
      return Value(d);
    }
    case ColumnKind::kDecimal: {
      std::string text;
      if (type == SQLITE_INTEGER) {
        text = std::to_string(sqlite3_column_int64(stmt, i));
      } else if (type == SQLITE_FLOAT) {
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%.*f", std::clamp(c.scale, 0, 30),
                      sqlite3_column_double(stmt, i));
        text = buf;
      } else {
        text = std::string(column_text(stmt, i));
      }
      auto d = parse_decimal(text, c.scale);
      if (!d.ok()) return bad_value(c, text, d.error());
      return Value(std::move(d).value());
    }
    case ColumnKind::kString:
    case ColumnKind::kJson:
    case ColumnKind::kUuid:
    case ColumnKind::kArray:
      if (type == SQLITE_FLOAT) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%.17g", sqlite3_column_double(stmt, i));
        return Value(std::string(buf));
      }
      if (type == SQLITE_BLOB) {
        const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
        return Value(std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
      }
      return Value(std::string(column_text(stmt, i)));
    case ColumnKind::kBytes: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, i));
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
      return Value(p == nullptr ? Bytes{} : Bytes(p, p + n));
    }
    case ColumnKind::kDate:
    case ColumnKind::kTime:
    case ColumnKind::kTimestamp: {
      std::int64_t millis = 0;
      if (type == SQLITE_INTEGER) {
        millis = sqlite3_column_int64(stmt, i);  // epoch milliseconds, as sqlite-jdbc stores
      } else if (type == SQLITE_FLOAT) {
        // A Julian day number.
        millis = static_cast<std::int64_t>(
            std::llround((sqlite3_column_double(stmt, i) - 2440587.5) * 86400000.0));
      } else {
        std::string_view text = column_text(stmt, i);
        if (c.kind == ColumnKind::kDate) {
          auto d = parse_date(text.substr(0, std::min<std::size_t>(text.size(), 10)));
          if (!d.ok()) return bad_value(c, text, d.error());
          return Value(*d);
        }
        if (c.kind == ColumnKind::kTime) {
          // "13:45:01" or a whole date-time whose time part is wanted.
          std::string_view t = text;
          if (t.size() > 10 && (t[10] == ' ' || t[10] == 'T') && t[4] == '-') t = t.substr(11);
          auto ms = parse_time(t);
          if (!ms.ok()) return bad_value(c, text, ms.error());
          return Value(*ms);
        }
        auto ts = parse_timestamp(text, tz);
        if (!ts.ok()) return bad_value(c, text, ts.error());
        return Value(*ts);
      }
      if (c.kind == ColumnKind::kDate) {
        return Value(static_cast<std::int32_t>(floor_div(millis, kMillisPerDay)));
      }
      if (c.kind == ColumnKind::kTime) {
        return Value(
            static_cast<std::int32_t>(millis - floor_div(millis, kMillisPerDay) * kMillisPerDay));
      }
      return Value(millis);
    }
  }
  return Value{};
}

// The column of a result without a declared type (an expression): by the first row's value.
ColumnDef column_from_storage(std::string name, int type) {
  ColumnDef c;
  c.name = std::move(name);
  switch (type) {
    case SQLITE_INTEGER:
      c.kind = ColumnKind::kInt64;
      c.native_type = "INTEGER";
      break;
    case SQLITE_FLOAT:
      c.kind = ColumnKind::kFloat64;
      c.native_type = "REAL";
      break;
    case SQLITE_BLOB:
      c.kind = ColumnKind::kBytes;
      c.native_type = "BLOB";
      break;
    default:
      c.kind = ColumnKind::kString;
      c.native_type = "TEXT";
      break;
  }
  return c;
}

class SqliteCursor final : public RowCursor {
 public:
  SqliteCursor(sqlite3* db, sqlite3_stmt* stmt, const TimeZone& tz, int first_rc)
      : db_(db), stmt_(stmt), tz_(tz), pending_rc_(first_rc) {
    const int n = sqlite3_column_count(stmt);
    columns_.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const char* name = sqlite3_column_name(stmt, i);
      const char* decl = sqlite3_column_decltype(stmt, i);
      if (decl != nullptr && *decl != '\0') {
        columns_.push_back(SqliteDialect::column_from_declared_type(name, decl));
      } else {
        columns_.push_back(column_from_storage(
            name, first_rc == SQLITE_ROW ? sqlite3_column_type(stmt, i) : SQLITE_TEXT));
      }
    }
  }
  ~SqliteCursor() override { sqlite3_finalize(stmt_); }

  const std::vector<ColumnDef>& columns() const override { return columns_; }

  Result<bool> next(std::vector<Value>& row) override {
    int rc = SQLITE_OK;
    if (pending_rc_ != 0) {
      rc = pending_rc_;
      pending_rc_ = 0;
    } else if (done_) {
      return false;
    } else {
      rc = sqlite3_step(stmt_);
    }
    if (rc == SQLITE_DONE) {
      done_ = true;
      return false;
    }
    if (rc != SQLITE_ROW) return sqlite_error(db_, rc, "reading rows");
    row.resize(columns_.size());
    for (std::size_t i = 0; i < columns_.size(); ++i) {
      auto v = read_value(stmt_, static_cast<int>(i), columns_[i], tz_);
      if (!v.ok()) return std::move(v).error();
      row[i] = std::move(v).value();
    }
    return true;
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const TimeZone& tz_;
  int pending_rc_;
  bool done_ = false;
  std::vector<ColumnDef> columns_;
};

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, TimeZone tz) : db_(db), tz_(std::move(tz)) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    std::lock_guard lock(mutex_);
    sqlite3_close_v2(db_);
    db_ = nullptr;
  }

  Result<std::unique_ptr<RowCursor>> query(const std::string& sql,
                                           const std::vector<SqlParam>& params) override {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "preparing " + sql);
    if (auto bound = bind_all(db_, stmt, params, tz_); !bound.ok()) {
      sqlite3_finalize(stmt);
      return std::move(bound).error();
    }
    rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      Error e = sqlite_error(db_, rc, "running " + sql);
      sqlite3_finalize(stmt);
      return e;
    }
    return std::unique_ptr<RowCursor>(std::make_unique<SqliteCursor>(db_, stmt, tz_, rc));
  }

  Result<std::int64_t> execute(const std::string& sql,
                               const std::vector<SqlParam>& params) override {
    sqlite3_stmt* stmt = nullptr;
    if (auto it = cache_.find(sql); it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
      if (rc != SQLITE_OK) return sqlite_error(db_, rc, "preparing " + sql);
      if (stmt == nullptr) return std::int64_t{0};  // only a comment or blanks
      if (cache_.size() >= 64) {
        for (auto& [s, cached] : cache_) sqlite3_finalize(cached);
        cache_.clear();
      }
      cache_.emplace(sql, stmt);
    }
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    RMQC_RETURN_IF_ERROR(bind_all(db_, stmt, params, tz_));
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE) return sqlite_error(db_, rc, "running " + sql);
    return static_cast<std::int64_t>(sqlite3_changes64(db_));
  }

  Result<void> begin() override { return exec("BEGIN"); }
  Result<void> commit() override { return exec("COMMIT"); }
  Result<void> rollback() override {
    if (sqlite3_get_autocommit(db_) != 0) return {};  // nothing open (SQLite rolled back)
    return exec("ROLLBACK");
  }

  Result<std::vector<TableId>> list_tables(const TableFilter& filter) override {
    std::vector<std::string> types;
    for (const auto& t : filter.table_types) types.push_back(upper(trim(t)));
    if (types.empty()) types.push_back("TABLE");
    auto wanted = [&](std::string_view type) {
      return std::find(types.begin(), types.end(), upper(type)) != types.end();
    };
    auto cursor = query(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT "
        "LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
        {});
    if (!cursor.ok()) return std::move(cursor).error();
    std::vector<TableId> out;
    std::vector<Value> row;
    for (;;) {
      auto more = (*cursor)->next(row);
      if (!more.ok()) return std::move(more).error();
      if (!*more) break;
      if (!wanted(row[1].as_string())) continue;
      out.push_back(TableId{"", "", row[0].as_string()});
    }
    return out;
  }

  Result<std::vector<ColumnDef>> describe_table(const TableId& table) override {
    std::string sql = "PRAGMA ";
    if (!table.schema.empty()) sql += quote(table.schema) + ".";
    sql += "table_info(" + quote(table.table) + ")";
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, "describing " + table.to_string());
    std::vector<ColumnDef> columns;
    int pk_count = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::string name(column_text(stmt, 1));
      std::string declared(column_text(stmt, 2));
      ColumnDef c = SqliteDialect::column_from_declared_type(std::move(name), declared);
      c.nullable = sqlite3_column_int(stmt, 3) == 0;
      c.primary_key = sqlite3_column_int(stmt, 5) > 0;
      if (c.primary_key) ++pk_count;
      columns.push_back(std::move(c));
    }
    Error error = rc == SQLITE_DONE ? Error(ErrorCode::kOk, "")
                                    : sqlite_error(db_, rc, "describing " + table.to_string());
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return error;
    if (columns.empty()) {
      return Error(ErrorCode::kNotFound, "table " + table.to_string() + " does not exist");
    }
    for (auto& c : columns) {
      // INTEGER PRIMARY KEY is the rowid: never NULL, assigned when not given.
      if (c.primary_key && pk_count == 1 && upper(trim(c.native_type)) == "INTEGER") {
        c.auto_increment = true;
        c.nullable = false;
      }
    }
    return columns;
  }

  void cancel() override {
    std::lock_guard lock(mutex_);
    if (db_ != nullptr) sqlite3_interrupt(db_);
  }

 private:
  static std::string quote(std::string_view id) {
    std::string out = "\"";
    for (char c : id) {
      if (c == '"') out += '"';
      out += c;
    }
    return out + "\"";
  }

  Result<void> exec(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      std::string text = message != nullptr ? message : sqlite3_errstr(rc);
      sqlite3_free(message);
      Error e = sqlite_error(nullptr, rc, std::string(sql));
      return Error(e.code(), std::string(sql) + ": " + text, e.is_retriable());
    }
    return {};
  }

  std::mutex mutex_;  // db_ against cancel() while closing
  sqlite3* db_;
  TimeZone tz_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

ColumnDef SqliteDialect::column_from_declared_type(std::string name, std::string_view declared) {
  ColumnDef c;
  c.name = std::move(name);
  c.native_type = trim(declared);
  std::string type = upper(c.native_type);
  // "DECIMAL(10, 2)" -> base "DECIMAL", args 10 and 2.
  std::string base = type;
  int args[2] = {0, 0};
  int nargs = 0;
  if (auto open = type.find('('); open != std::string::npos) {
    base = trim(std::string_view(type).substr(0, open));
    const char* p = type.c_str() + open + 1;
    while (nargs < 2 && *p != '\0' && *p != ')') {
      char* end = nullptr;
      long v = std::strtol(p, &end, 10);
      if (end == p) break;
      args[nargs++] = static_cast<int>(v);
      p = end;
      while (*p == ' ' || *p == ',') ++p;
    }
    if (auto close = type.find(')', open); close != std::string::npos) {
      std::string rest = trim(std::string_view(type).substr(close + 1));
      if (!rest.empty()) base += " " + rest;
    }
  }
  bool is_unsigned = false;
  if (auto u = base.find(" UNSIGNED"); u != std::string::npos) {
    is_unsigned = true;
    base.erase(u, 9);
  }
  if (base.starts_with("UNSIGNED ")) {
    is_unsigned = true;
    base.erase(0, 9);
  }
  base = trim(base);

  auto set = [&](ColumnKind k) { c.kind = k; };
  if (base == "BOOLEAN" || base == "BOOL") {
    set(ColumnKind::kBoolean);
  } else if (base == "TINYINT" || base == "INT1") {
    set(is_unsigned ? ColumnKind::kInt16 : ColumnKind::kInt8);
  } else if (base == "SMALLINT" || base == "INT2") {
    set(is_unsigned ? ColumnKind::kInt32 : ColumnKind::kInt16);
  } else if (base == "INT" || base == "MEDIUMINT" || base == "INT4") {
    set(is_unsigned ? ColumnKind::kInt64 : ColumnKind::kInt32);
  } else if (base == "INTEGER" || base == "BIGINT" || base == "INT8" || base == "BIG INT") {
    set(ColumnKind::kInt64);
  } else if (base == "FLOAT4") {
    set(ColumnKind::kFloat32);
  } else if (base == "REAL" || base == "FLOAT" || base == "DOUBLE" || base == "DOUBLE PRECISION" ||
             base == "FLOAT8") {
    set(ColumnKind::kFloat64);
  } else if (base == "DECIMAL_TEXT") {
    // What auto.create declares for a Decimal: TEXT affinity, so SQLite keeps every digit
    // (NUMERIC affinity would turn more than 15 significant digits into an inexact REAL).
    set(ColumnKind::kDecimal);
    c.precision = args[0];
    c.scale = nargs > 1 ? args[1] : 0;
  } else if (base == "NUMERIC" || base == "DECIMAL" || base == "NUMBER") {
    if (nargs == 0) {
      set(ColumnKind::kFloat64);  // no declared scale: SQLite keeps it as REAL or INTEGER
    } else {
      set(ColumnKind::kDecimal);
      c.precision = args[0];
      c.scale = nargs > 1 ? args[1] : 0;
    }
  } else if (base == "DATE") {
    set(ColumnKind::kDate);
  } else if (base == "TIME") {
    set(ColumnKind::kTime);
    c.precision = args[0];
  } else if (base == "DATETIME" || base == "TIMESTAMP") {
    set(ColumnKind::kTimestamp);
    c.precision = args[0];
  } else if (base == "TIMESTAMPTZ" || base == "TIMESTAMP WITH TIME ZONE") {
    set(ColumnKind::kTimestamp);
    c.with_time_zone = true;
  } else if (base == "JSON" || base == "JSONB") {
    set(ColumnKind::kJson);
  } else if (base == "UUID") {
    set(ColumnKind::kUuid);
  } else if (base == "BLOB" || base == "BYTEA" || base == "BINARY" || base == "VARBINARY" ||
             base == "LONGBLOB" || base == "MEDIUMBLOB" || base == "TINYBLOB") {
    set(ColumnKind::kBytes);
    c.precision = args[0];
  } else if (base.find("CHAR") != std::string::npos || base.find("TEXT") != std::string::npos ||
             base.find("CLOB") != std::string::npos) {
    set(ColumnKind::kString);
    c.precision = args[0];
  } else if (base.find("INT") != std::string::npos) {
    set(ColumnKind::kInt64);  // SQLite's INTEGER affinity
  } else if (base.find("REAL") != std::string::npos || base.find("FLOA") != std::string::npos ||
             base.find("DOUB") != std::string::npos) {
    set(ColumnKind::kFloat64);
  } else if (base.find("BLOB") != std::string::npos) {
    set(ColumnKind::kBytes);
  } else {
    set(ColumnKind::kString);  // no type, or one SQLite stores as it comes: read as text
  }
  return c;
}

Result<std::unique_ptr<Connection>> SqliteDialect::connect(const ConnectionConfig& config) const {
  auto tz = TimeZone::load(config.time_zone.empty() ? "UTC" : config.time_zone);
  if (!tz.ok()) return std::move(tz).error();
  sqlite3* db = nullptr;
  const std::string& path = config.database;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db, rc, "opening SQLite database '" + path + "'");
    sqlite3_close_v2(db);
    return e;
  }
  sqlite3_extended_result_codes(db, 0);
  int busy_ms = 5000;
  std::vector<std::string> pragmas;
  for (const auto& [key, value] : config.properties) {
    const std::string k = upper(key);
    if (k == "BUSY_TIMEOUT" || k == "BUSYTIMEOUT") {
      busy_ms = std::atoi(value.c_str());
    } else if (k == "JOURNAL_MODE" || k == "SYNCHRONOUS" || k == "FOREIGN_KEYS") {
      bool safe = !value.empty() && std::all_of(value.begin(), value.end(), [](char ch) {
        return std::isalnum(static_cast<unsigned char>(ch)) != 0;
      });
      if (safe) pragmas.push_back("PRAGMA " + key + " = " + value);
    }
  }
  sqlite3_busy_timeout(db, busy_ms);
  for (const auto& p : pragmas) {
    rc = sqlite3_exec(db, p.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      Error e = sqlite_error(db, rc, p);
      sqlite3_close_v2(db);
      return e;
    }
  }
  return std::unique_ptr<Connection>(std::make_unique<SqliteConnection>(db, std::move(tz).value()));
}

std::string SqliteDialect::quote_identifier(std::string_view identifier) const {
  std::string out = "\"";
  for (char c : identifier) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string SqliteDialect::placeholder(int /*index*/) const {
  return "?";
}

std::string SqliteDialect::sql_type(const ColumnDef& column) const {
  switch (column.kind) {
    case ColumnKind::kBoolean:
      return "BOOLEAN";
    case ColumnKind::kInt8:
      return "TINYINT";
    case ColumnKind::kInt16:
      return "SMALLINT";
    case ColumnKind::kInt32:
      return "INT";
    case ColumnKind::kInt64:
      return "BIGINT";
    case ColumnKind::kFloat32:
      return "FLOAT4";
    case ColumnKind::kFloat64:
      return "DOUBLE";
    case ColumnKind::kDecimal:
      return "DECIMAL_TEXT(" + std::to_string(column.precision > 0 ? column.precision : 38) + "," +
             std::to_string(column.scale) + ")";
    case ColumnKind::kString:
      return column.precision > 0 ? "VARCHAR(" + std::to_string(column.precision) + ")" : "TEXT";
    case ColumnKind::kBytes:
      return "BLOB";
    case ColumnKind::kDate:
      return "DATE";
    case ColumnKind::kTime:
      return "TIME";
    case ColumnKind::kTimestamp:
      return "DATETIME";
    case ColumnKind::kJson:
      return "JSON";
    case ColumnKind::kUuid:
      return "UUID";
    case ColumnKind::kArray:
      return "JSON";  // SQLite has no arrays: a JSON array as text
  }
  return "TEXT";
}

std::string SqliteDialect::current_timestamp_sql() const {
  // Epoch milliseconds of the database's clock (an INTEGER column).
  return "SELECT CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)";
}

std::string SqliteDialect::timestamp_compare_expression(const std::string& c) const {
  // Stored text ("YYYY-MM-DD HH:MM:SS[.f...]", 'T' allowed) to exactly three fraction digits,
  // as parameters are bound; integers are epoch milliseconds (sqlite-jdbc's storage).
  return "(CASE typeof(" + c + ") WHEN 'integer' THEN strftime('%Y-%m-%d %H:%M:%S', " + c +
         " / 1000, 'unixepoch') || printf('.%03d', " + c + " % 1000) ELSE substr(replace(" + c +
         ", 'T', ' ') || (CASE WHEN instr(" + c +
         ", '.') > 0 THEN '000' ELSE '.000' END), 1, "
         "23) END)";
}

void register_sqlite_dialect(DialectRegistry& registry) {
  registry.add(std::make_shared<SqliteDialect>());
}

}  // namespace rmqc::connectors::jdbc
