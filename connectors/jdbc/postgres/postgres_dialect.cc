#include "jdbc/postgres/postgres_dialect.h"

#include "rmqc/api/logging.h"

#include "jdbc/common/values.h"
#include "jdbc/postgres/postgres_values.h"

#include <sys/eventfd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <libpq-fe.h>
#include <map>
#include <optional>
#include <poll.h>
#include <set>
#include <string>
#include <unistd.h>
#include <utility>

namespace rmqc::connectors::jdbc {
namespace {

using postgres::decode_text;
using postgres::encode_text;
namespace oid = postgres::oid;

const Logger& pg_log() {
  static const Logger log("jdbc-postgres");
  return log;
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  std::size_t start = 0;
  while (start < s.size() && (s[start] == ' ' || s[start] == '\n')) ++start;
  return s.substr(start);
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// The error of a failed statement: SQLSTATE decides the code and whether a retry may succeed.
Error classify(std::string_view sqlstate, std::string message, bool connection_bad) {
  const std::string state(sqlstate);
  if (!state.empty()) message = "SQLSTATE " + state + ": " + message;
  if (state.empty() || connection_bad || starts_with(state, "08")) {
    // No SQLSTATE: libpq's own failure (server gone, socket error).
    return Error::retriable(ErrorCode::kUnavailable, "connection lost: " + message);
  }
  if (state == "40001" || state == "40P01") {
    return Error::retriable(ErrorCode::kUnavailable, message);  // serialization, deadlock
  }
  if (starts_with(state, "57P")) {  // admin/crash shutdown, cannot connect now
    return Error::retriable(ErrorCode::kUnavailable, message);
  }
  if (state == "57014") return Error::retriable(ErrorCode::kTimeout, message);
  if (state == "55P03") return Error::retriable(ErrorCode::kTimeout, message);  // lock timeout
  if (starts_with(state, "53")) return Error::retriable(ErrorCode::kResourceExhausted, message);
  if (starts_with(state, "28") || state == "42501") {
    return Error(ErrorCode::kPermissionDenied, message);
  }
  if (state == "42P01" || state == "3D000" || state == "3F000" || state == "42883") {
    return Error(ErrorCode::kNotFound, message);
  }
  if (state == "23505") return Error(ErrorCode::kAlreadyExists, message);
  if (starts_with(state, "22")) return Error(ErrorCode::kSchemaMismatch, message);
  if (starts_with(state, "23")) return Error(ErrorCode::kInvalidArgument, message);
  if (starts_with(state, "42")) return Error(ErrorCode::kInvalidArgument, message);
  if (starts_with(state, "XX")) return Error(ErrorCode::kInternal, message);
  return Error(ErrorCode::kInvalidArgument, message);
}

// A connect failure has no SQLSTATE in libpq: the server's message tells the cause.
Error classify_connect_failure(const ConnectionConfig& config, std::string message) {
  const std::string where = "connecting to " + config.host + ":" + std::to_string(config.port) +
                            "/" + config.database + " as '" + config.user + "': ";
  if (contains(message, "authentication failed") || contains(message, "no pg_hba.conf entry") ||
      contains(message, "password authentication") || contains(message, "no password supplied") ||
      contains(message, "SCRAM") ||
      (contains(message, "role \"") && contains(message, "does not exist"))) {
    return Error(ErrorCode::kPermissionDenied, where + "authentication failed: " + message);
  }
  if (contains(message, "database \"") && contains(message, "does not exist")) {
    return Error(ErrorCode::kNotFound, where + message);
  }
  if (contains(message, "permission denied")) {
    return Error(ErrorCode::kPermissionDenied, where + message);
  }
  if (contains(message, "invalid") && contains(message, "option")) {
    return Error(ErrorCode::kInvalidConfig, where + message);
  }
  if (contains(message, "could not translate host name")) {
    // DNS may come back; a typo will keep failing, and the retries say so.
    return Error::retriable(ErrorCode::kUnavailable, where + message);
  }
  return Error::retriable(ErrorCode::kUnavailable, where + message);
}

class PgCursor;

// One libpq connection, shared by the Connection and its open cursor.
struct Session {
  PGconn* conn = nullptr;
  PGcancel* cancel_handle = nullptr;
  int wake_fd = -1;
  TimeZone tz;
  std::atomic<bool> cancel_requested{false};
  bool cancel_sent = false;  // for the statement in flight
  PgCursor* active_cursor = nullptr;

  ~Session() {
    if (cancel_handle) PQfreeCancel(cancel_handle);
    if (conn) PQfinish(conn);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void send_cancel() {
    char errbuf[256];
    if (!PQcancel(cancel_handle, errbuf, sizeof(errbuf))) {
      pg_log().warn("cancel request failed: ", errbuf);
    }
  }

  // Waits until PQgetResult will not block, reading input as it comes; sends the server a
  // cancel request once when cancel() was called meanwhile.
  void await_result() {
    while (PQisBusy(conn)) {
      if (cancel_requested.load(std::memory_order_acquire) && !cancel_sent) {
        cancel_sent = true;
        send_cancel();
      }
      pollfd fds[2] = {{PQsocket(conn), POLLIN, 0}, {wake_fd, POLLIN, 0}};
      int n = ::poll(fds, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents & POLLIN) {
        std::uint64_t v = 0;
        [[maybe_unused]] auto r = ::read(wake_fd, &v, sizeof(v));
      }
      if (fds[0].revents != 0) {
        if (!PQconsumeInput(conn)) return;  // connection lost: PQgetResult reports it
      }
    }
  }

  PGresult* next_result() {
    await_result();
    return PQgetResult(conn);
  }

  // True once when a cancel() is pending: the statement about to start is not run.
  bool take_cancel() { return cancel_requested.exchange(false, std::memory_order_acq_rel); }

  // Ends a statement: a cancel request that came too late for it is spent.
  void statement_done() {
    if (cancel_sent) cancel_requested.store(false, std::memory_order_release);
    cancel_sent = false;
  }

  Error error_of(const PGresult* res, std::string_view what) {
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string message;
    if (res) {
      const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
      message = primary ? primary : trim(PQresultErrorMessage(res));
      const char* detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
      if (detail) message += std::string(" (") + detail + ")";
    }
    if (message.empty()) message = trim(PQerrorMessage(conn));
    const bool cancelled = state && std::string_view(state) == "57014" && cancel_sent;
    if (cancelled) {
      cancel_requested.store(false, std::memory_order_release);
      return Error(ErrorCode::kCancelled, std::string(what) + ": cancelled: " + message);
    }
    Error e = classify(state ? state : "", message, PQstatus(conn) == CONNECTION_BAD);
    e.with_context(what);
    return e;
  }

  Error cancelled_error(std::string_view what) {
    return Error(ErrorCode::kCancelled, std::string(what) + ": cancelled");
  }

  void finish_active_cursor();
};

// Parameters in libpq's arrays: text form except bytea (binary).
struct ParamBuffers {
  std::vector<std::string> text;
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;

  Result<void> fill(const std::vector<SqlParam>& params, const TimeZone& tz) {
    const std::size_t n = params.size();
    text.assign(n, std::string());
    types.assign(n, 0);
    values.assign(n, nullptr);
    lengths.assign(n, 0);
    formats.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      const SqlParam& p = params[i];
      types[i] = postgres::param_type_oid(p.kind);
      if (p.value.is_null()) continue;
      if (p.kind == ColumnKind::kBytes) {
        if (const auto* b = p.value.get_if<Bytes>()) {
          text[i].assign(reinterpret_cast<const char*>(b->data()), b->size());
        } else if (const auto* s = p.value.get_if<std::string>()) {
          text[i] = *s;
        } else {
          return Error(ErrorCode::kSchemaMismatch,
                       "parameter " + std::to_string(i + 1) + ": cannot write a " +
                           std::string(kind_name(p.value.kind())) + " value as bytes");
        }
        formats[i] = 1;
      } else {
        auto r =
            encode_text(p.kind, p.value, tz, text[i], p.element_kind ? &*p.element_kind : nullptr);
        if (!r.ok()) {
          Error e = std::move(r).error();
          e.with_context("parameter " + std::to_string(i + 1));
          return e;
        }
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (params[i].value.is_null()) continue;
      values[i] = text[i].data();
      lengths[i] = static_cast<int>(text[i].size());
    }
    return ok_result();
  }
};

class PgCursor final : public RowCursor {
 public:
  PgCursor(std::shared_ptr<Session> session, std::vector<ColumnDef> columns, ResultPtr first)
      : session_(std::move(session)), columns_(std::move(columns)), pending_(std::move(first)) {
    session_->active_cursor = this;
  }
  ~PgCursor() override {
    if (!done_) abort();
  }

  const std::vector<ColumnDef>& columns() const override { return columns_; }

  Result<bool> next(std::vector<Value>& row) override {
    if (done_) return false;
    if (session_->cancel_requested.load(std::memory_order_acquire)) {
      session_->cancel_sent = true;
      abort();
      session_->cancel_requested.store(false, std::memory_order_release);
      return session_->cancelled_error("query");
    }
    ResultPtr res = pending_ ? std::move(pending_) : ResultPtr(session_->next_result());
    if (!res) {
      finish();
      return false;
    }
    const ExecStatusType status = PQresultStatus(res.get());
    if (status == PGRES_SINGLE_TUPLE) {
      const int n = static_cast<int>(columns_.size());
      row.resize(columns_.size());
      for (int c = 0; c < n; ++c) {
        Value& out = row[static_cast<std::size_t>(c)];
        if (PQgetisnull(res.get(), 0, c)) {
          out = Value();
          continue;
        }
        std::string_view text(PQgetvalue(res.get(), 0, c),
                              static_cast<std::size_t>(PQgetlength(res.get(), 0, c)));
        auto r = decode_text(columns_[static_cast<std::size_t>(c)], text, session_->tz, out);
        if (!r.ok()) {
          res.reset();
          abort();
          return std::move(r).error();
        }
      }
      return true;
    }
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      res.reset();
      drain();
      return false;
    }
    Error e = session_->error_of(res.get(), "query");
    res.reset();
    drain();
    return e;
  }

  // Stops the statement (the server is asked to cancel it) and discards what is left.
  void abort() {
    if (done_) return;
    pending_.reset();
    // Rows may still be coming: the server stops sending them (ignored when it has finished).
    if (PQstatus(session_->conn) == CONNECTION_OK) session_->send_cancel();
    drain();
  }

 private:
  void drain() {
    while (PGresult* r = session_->next_result()) PQclear(r);
    finish();
  }
  void finish() {
    done_ = true;
    pending_.reset();
    if (session_->active_cursor == this) session_->active_cursor = nullptr;
    session_->statement_done();
  }

  std::shared_ptr<Session> session_;
  std::vector<ColumnDef> columns_;
  ResultPtr pending_;
  bool done_ = false;
};

void Session::finish_active_cursor() {
  if (active_cursor) active_cursor->abort();
  active_cursor = nullptr;
}

const char* const kDescribeSql = R"SQL(
SELECT a.attname,
       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
       a.attnotnull OR (t.typtype = 'd' AND t.typnotnull),
       format_type(a.atttypid, a.atttypmod),
       EXISTS (SELECT 1 FROM pg_index i
               WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)),
       a.attidentity IN ('a', 'd') OR COALESCE(pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%', false)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relname = $2
  AND (CASE WHEN $1 = '' THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1 END)
  AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
)SQL";

class PgConnection final : public Connection {
 public:
  explicit PgConnection(std::shared_ptr<Session> session) : session_(std::move(session)) {}

  Result<std::unique_ptr<RowCursor>> query(const std::string& sql,
                                           const std::vector<SqlParam>& params) override {
    RMQC_RETURN_IF_ERROR(send(sql, params, "query"));
    PGconn* conn = session_->conn;
    if (!PQsetSingleRowMode(conn)) {
      pg_log().warn("single-row mode refused; the whole result is buffered");
    }
    ResultPtr first(session_->next_result());
    if (!first) {
      session_->statement_done();
      return Error(ErrorCode::kInternal, "query: no result");
    }
    const ExecStatusType status = PQresultStatus(first.get());
    if (status != PGRES_SINGLE_TUPLE && status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      Error e = session_->error_of(first.get(), "query");
      first.reset();
      while (PGresult* r = session_->next_result()) PQclear(r);
      session_->statement_done();
      return e;
    }
    std::vector<ColumnDef> columns;
    const int n = PQnfields(first.get());
    columns.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      columns.push_back(PostgresDialect::column_from_type(
          PQfname(first.get(), i), PQftype(first.get(), i), PQfmod(first.get(), i)));
    }
    return std::unique_ptr<RowCursor>(
        std::make_unique<PgCursor>(session_, std::move(columns), std::move(first)));
  }

  Result<std::int64_t> execute(const std::string& sql,
                               const std::vector<SqlParam>& params) override {
    RMQC_ASSIGN_OR_RETURN(ResultPtr res, run(sql, params, "execute"));
    const char* tuples = PQcmdTuples(res.get());
    return tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : std::int64_t{0};
  }

  Result<void> begin() override {
    RMQC_ASSIGN_OR_RETURN(ResultPtr res, run("BEGIN", {}, "begin"));
    return ok_result();
  }

  Result<void> commit() override {
    RMQC_ASSIGN_OR_RETURN(ResultPtr res, run("COMMIT", {}, "commit"));
    // COMMIT of a transaction aborted by an earlier error succeeds as a ROLLBACK.
    if (std::string_view(PQcmdStatus(res.get())) == "ROLLBACK") {
      return Error(ErrorCode::kInvalidArgument,
                   "commit: the transaction was rolled back after an earlier error");
    }
    return ok_result();
  }

  Result<void> rollback() override {
    session_->finish_active_cursor();
    RMQC_ASSIGN_OR_RETURN(ResultPtr res, run("ROLLBACK", {}, "rollback", /*cancellable=*/false));
    return ok_result();
  }

  Result<std::vector<TableId>> list_tables(const TableFilter& filter) override {
    std::set<std::string> kinds;
    if (filter.table_types.empty()) kinds = {"r", "p"};
    for (const std::string& type : filter.table_types) {
      std::string t;
      for (char c : type)
        t.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
      if (t == "TABLE" || t == "BASE TABLE") {
        kinds.insert("r");
        kinds.insert("p");
      } else if (t == "PARTITIONED TABLE") {
        kinds.insert("p");
      } else if (t == "VIEW") {
        kinds.insert("v");
      } else if (t == "MATERIALIZED VIEW") {
        kinds.insert("m");
      } else if (t == "FOREIGN TABLE") {
        kinds.insert("f");
      } else {
        pg_log().warn("table type '", type, "' is not known to PostgreSQL; ignored");
      }
    }
    std::string kind_list;
    for (const std::string& k : kinds) kind_list += (kind_list.empty() ? "" : ",") + k;
    const std::string sql = R"SQL(
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind::text = ANY (string_to_array($1, ','))
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
  AND ($2 = '' OR n.nspname LIKE $2)
  AND ($3 = '' OR current_database() LIKE $3)
ORDER BY 1, 2)SQL";
    RMQC_ASSIGN_OR_RETURN(ResultPtr res, run(sql,
                                             {{ColumnKind::kString, Value(kind_list)},
                                              {ColumnKind::kString, Value(filter.schema_pattern)},
                                              {ColumnKind::kString, Value(filter.catalog_pattern)}},
                                             "list tables"));
    std::vector<TableId> out;
    const int rows = PQntuples(res.get());
    out.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      out.push_back(TableId{"", PQgetvalue(res.get(), r, 0), PQgetvalue(res.get(), r, 1)});
    }
    return out;
  }

  Result<std::vector<ColumnDef>> describe_table(const TableId& table) override {
    RMQC_ASSIGN_OR_RETURN(ResultPtr res, run(kDescribeSql,
                                             {{ColumnKind::kString, Value(table.schema)},
                                              {ColumnKind::kString, Value(table.table)}},
                                             "describe table " + table.to_string()));
    const int rows = PQntuples(res.get());
    if (rows == 0) {
      return Error(ErrorCode::kNotFound, "table " + table.to_string() + " does not exist");
    }
    std::vector<ColumnDef> out;
    out.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      auto field = [&](int c) { return std::string_view(PQgetvalue(res.get(), r, c)); };
      ColumnDef col = PostgresDialect::column_from_type(
          std::string(field(0)),
          static_cast<unsigned>(std::strtoul(PQgetvalue(res.get(), r, 1), nullptr, 10)),
          std::atoi(PQgetvalue(res.get(), r, 2)));
      col.nullable = field(3) != "t";
      col.native_type = std::string(field(4));
      col.primary_key = field(5) == "t";
      col.auto_increment = field(6) == "t";
      out.push_back(std::move(col));
    }
    return out;
  }

  Result<std::int64_t> bulk_insert(const TableId& table, const std::vector<ColumnDef>& columns,
                                   const std::vector<std::vector<SqlParam>>& rows) override {
    if (rows.empty()) return std::int64_t{0};
    PostgresDialect dialect;
    std::string sql = "COPY " + dialect.table_name(table, true) + " (";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) sql += ", ";
      sql += dialect.quote_identifier(columns[i].name);
    }
    sql += ") FROM STDIN";
    const std::string what = "copy into " + table.to_string();
    RMQC_RETURN_IF_ERROR(send(sql, {}, what));
    PGconn* conn = session_->conn;
    ResultPtr res(session_->next_result());
    if (!res || PQresultStatus(res.get()) != PGRES_COPY_IN) {
      Error e = res ? session_->error_of(res.get(), what)
                    : Error(ErrorCode::kInternal, what + ": no result");
      res.reset();
      while (PGresult* r = session_->next_result()) PQclear(r);
      session_->statement_done();
      return e;
    }
    res.reset();

    constexpr std::size_t kChunk = 1 << 20;
    std::string buf;
    buf.reserve(kChunk + 64 * 1024);
    std::string text;
    std::optional<Error> failure;
    auto flush = [&]() -> bool {
      if (buf.empty()) return true;
      if (PQputCopyData(conn, buf.data(), static_cast<int>(buf.size())) != 1) return false;
      buf.clear();
      return true;
    };
    for (std::size_t r = 0; r < rows.size() && !failure; ++r) {
      const auto& row = rows[r];
      if (row.size() != columns.size()) {
        failure = Error(ErrorCode::kInvalidArgument,
                        what + ": row " + std::to_string(r) + " has " + std::to_string(row.size()) +
                            " values for " + std::to_string(columns.size()) + " columns");
        break;
      }
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c) buf.push_back('\t');
        const SqlParam& p = row[c];
        if (p.value.is_null()) {
          buf += "\\N";
          continue;
        }
        text.clear();
        auto enc = encode_text(p.kind, p.value, session_->tz, text, &columns[c].element_kind);
        if (!enc.ok()) {
          Error e = std::move(enc).error();
          e.with_context(what + ": row " + std::to_string(r) + " column '" + columns[c].name + "'");
          failure = std::move(e);
          break;
        }
        postgres::append_copy_escaped(text, buf);
      }
      buf.push_back('\n');
      if (buf.size() >= kChunk && !flush()) break;
      if (session_->cancel_requested.load(std::memory_order_acquire)) {
        session_->cancel_requested.store(false, std::memory_order_release);
        failure = session_->cancelled_error(what);
      }
    }
    if (!failure) flush();
    PQputCopyEnd(conn, failure ? failure->message().c_str() : nullptr);
    std::int64_t count = 0;
    std::optional<Error> server_error;
    while (PGresult* r = session_->next_result()) {
      ResultPtr holder(r);
      if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        const char* tuples = PQcmdTuples(r);
        if (tuples && *tuples) count = std::strtoll(tuples, nullptr, 10);
      } else if (!server_error) {
        server_error = session_->error_of(r, what);
      }
    }
    session_->statement_done();
    if (failure) return std::move(*failure);
    if (server_error) return std::move(*server_error);
    if (PQstatus(conn) == CONNECTION_BAD) {
      return Error::retriable(ErrorCode::kUnavailable,
                              what + ": connection lost: " + trim(PQerrorMessage(conn)));
    }
    return count;
  }

  void cancel() override {
    session_->cancel_requested.store(true, std::memory_order_release);
    std::uint64_t one = 1;
    [[maybe_unused]] auto r = ::write(session_->wake_fd, &one, sizeof(one));
  }

 private:
  // Sends a statement; the caller collects its results.
  Result<void> send(const std::string& sql, const std::vector<SqlParam>& params,
                    std::string_view what, bool cancellable = true) {
    session_->finish_active_cursor();
    if (cancellable && session_->take_cancel()) return session_->cancelled_error(what);
    session_->cancel_sent = false;
    PGconn* conn = session_->conn;
    if (PQstatus(conn) == CONNECTION_BAD) {
      return Error::retriable(ErrorCode::kUnavailable, std::string(what) + ": connection lost: " +
                                                           trim(PQerrorMessage(conn)));
    }
    int ok = 0;
    if (params.empty()) {
      ok = PQsendQuery(conn, sql.c_str());
    } else {
      RMQC_RETURN_IF_ERROR(params_.fill(params, session_->tz));
      ok = PQsendQueryParams(conn, sql.c_str(), static_cast<int>(params.size()),
                             params_.types.data(), params_.values.data(), params_.lengths.data(),
                             params_.formats.data(), 0);
    }
    if (!ok) {
      Error e = classify("", trim(PQerrorMessage(conn)), PQstatus(conn) == CONNECTION_BAD);
      e.with_context(what);
      return e;
    }
    return ok_result();
  }

  // Runs a statement to its end; the last result, or the first error.
  Result<ResultPtr> run(const std::string& sql, const std::vector<SqlParam>& params,
                        std::string_view what, bool cancellable = true) {
    RMQC_RETURN_IF_ERROR(send(sql, params, what, cancellable));
    ResultPtr last;
    std::optional<Error> error;
    while (PGresult* r = session_->next_result()) {
      ResultPtr res(r);
      const ExecStatusType status = PQresultStatus(r);
      if (status == PGRES_COPY_IN) {
        PQputCopyEnd(session_->conn, "COPY FROM STDIN is not supported by execute()");
      } else if (status == PGRES_COPY_OUT) {
        char* data = nullptr;
        while (PQgetCopyData(session_->conn, &data, 0) > 0) PQfreemem(data);
      } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK &&
                 status != PGRES_EMPTY_QUERY) {
        if (!error) error = session_->error_of(r, what);
      } else {
        last = std::move(res);
      }
    }
    session_->statement_done();
    if (error) return std::move(*error);
    if (!last) {
      if (PQstatus(session_->conn) == CONNECTION_BAD) {
        return Error::retriable(ErrorCode::kUnavailable, std::string(what) + ": connection lost: " +
                                                             trim(PQerrorMessage(session_->conn)));
      }
      return Error(ErrorCode::kInternal, std::string(what) + ": no result");
    }
    return last;
  }

  std::shared_ptr<Session> session_;
  ParamBuffers params_;
};

// Keywords libpq accepts, and JDBC driver properties with a libpq equivalent.
std::optional<std::pair<std::string, std::string>> libpq_property(
    const std::string& key, const std::string& value, const std::set<std::string>& known) {
  if (known.count(key)) return std::make_pair(key, value);
  if (key == "ApplicationName") return std::make_pair(std::string("application_name"), value);
  if (key == "connectTimeout" || key == "loginTimeout") {
    return std::make_pair(std::string("connect_timeout"), value);
  }
  if (key == "ssl") {
    return std::make_pair(std::string("sslmode"),
                          std::string(value == "true" ? "require" : "disable"));
  }
  if (key == "currentSchema") {
    return std::make_pair(std::string("options"), "-c search_path=" + value);
  }
  if (key == "sslrootcert" || key == "sslcert" || key == "sslkey")
    return std::make_pair(key, value);
  return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<Connection>> PostgresDialect::connect(const ConnectionConfig& config) const {
  RMQC_ASSIGN_OR_RETURN(TimeZone tz, TimeZone::load(config.time_zone));
  if (config.database.empty()) {
    return Error(
        ErrorCode::kInvalidConfig,
        "connection.url " + config.url + " names no database (jdbc:postgresql://host:port/db)");
  }

  std::set<std::string> known;
  if (PQconninfoOption* defaults = PQconndefaults()) {
    for (PQconninfoOption* o = defaults; o->keyword; ++o) known.insert(o->keyword);
    PQconninfoFree(defaults);
  }
  std::map<std::string, std::string> params;
  params["connect_timeout"] = "10";
  params["application_name"] = "rmq-connect";
  for (const auto& [key, value] : config.properties) {
    if (key == "user" || key == "password" || key == "host" || key == "port" || key == "dbname") {
      continue;  // from the URL and connection.* keys
    }
    auto mapped = libpq_property(key, value, known);
    if (!mapped) {
      pg_log().debug("connection property '", key, "' has no libpq equivalent; ignored");
      continue;
    }
    params[mapped->first] = mapped->second;
  }
  params["host"] = config.host.empty() ? "localhost" : config.host;
  if (config.port > 0) params["port"] = std::to_string(config.port);
  params["dbname"] = config.database;
  if (!config.user.empty()) params["user"] = config.user;
  params["password"] = config.password;
  params["client_encoding"] = "UTF8";

  std::vector<const char*> keys;
  std::vector<const char*> values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  auto session = std::make_shared<Session>();
  session->tz = std::move(tz);
  session->conn = PQconnectdbParams(keys.data(), values.data(), 0);
  if (!session->conn) {
    return Error::retriable(ErrorCode::kResourceExhausted, "libpq could not allocate a connection");
  }
  if (PQstatus(session->conn) != CONNECTION_OK) {
    return classify_connect_failure(config, trim(PQerrorMessage(session->conn)));
  }
  PQsetNoticeProcessor(
      session->conn,
      [](void*, const char* message) { pg_log().debug("server notice: ", trim(message)); },
      nullptr);
  session->cancel_handle = PQgetCancel(session->conn);
  session->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (!session->cancel_handle || session->wake_fd < 0) {
    return Error(ErrorCode::kInternal, "could not set up statement cancellation");
  }
  ResultPtr res(PQexec(session->conn,
                       "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; "
                       "SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'; "
                       "SET extra_float_digits = 3"));
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    return session->error_of(res.get(), "session setup");
  }
  pg_log().debug("connected to ", config.host, ":", config.port, "/", config.database, " (server ",
                 PQserverVersion(session->conn), ")");
  return std::unique_ptr<Connection>(std::make_unique<PgConnection>(std::move(session)));
}

std::string PostgresDialect::quote_identifier(std::string_view identifier) const {
  std::string out;
  out.reserve(identifier.size() + 2);
  out.push_back('"');
  for (char c : identifier) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string PostgresDialect::placeholder(int index) const {
  return "$" + std::to_string(index + 1);
}

std::string PostgresDialect::sql_type(const ColumnDef& column) const {
  switch (column.kind) {
    case ColumnKind::kBoolean:
      return "BOOLEAN";
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
      return "SMALLINT";
    case ColumnKind::kInt32:
      return "INT";
    case ColumnKind::kInt64:
      return "BIGINT";
    case ColumnKind::kFloat32:
      return "REAL";
    case ColumnKind::kFloat64:
      return "DOUBLE PRECISION";
    case ColumnKind::kDecimal:
      if (column.precision > 0 && column.precision <= 1000) {
        return "NUMERIC(" + std::to_string(column.precision) + "," + std::to_string(column.scale) +
               ")";
      }
      return "NUMERIC";
    case ColumnKind::kString:
      return "TEXT";
    case ColumnKind::kBytes:
      return "BYTEA";
    case ColumnKind::kDate:
      return "DATE";
    case ColumnKind::kTime:
      return "TIME";
    case ColumnKind::kTimestamp:
      return column.with_time_zone ? "TIMESTAMPTZ" : "TIMESTAMP";
    case ColumnKind::kJson:
      return "JSONB";
    case ColumnKind::kUuid:
      return "UUID";
    case ColumnKind::kArray: {
      ColumnDef element = column;
      element.kind =
          column.element_kind == ColumnKind::kArray ? ColumnKind::kString : column.element_kind;
      return sql_type(element) + "[]";
    }
  }
  return "TEXT";
}

std::string PostgresDialect::timestamp_compare_expression(const std::string& column_sql) const {
  // Without it a row at 00:00:00.000100 stays "after" its own offset (00:00:00.000) and is read
  // again on every poll.
  return "date_trunc('milliseconds', " + column_sql + ")";
}

std::string PostgresDialect::current_timestamp_sql() const {
  return "SELECT CURRENT_TIMESTAMP";
}

namespace {

struct ScalarType {
  unsigned oid;
  unsigned array_oid;
  ColumnKind kind;
  const char* name;
};

constexpr ScalarType kScalarTypes[] = {
    {oid::kBool, 1000, ColumnKind::kBoolean, "boolean"},
    {oid::kBytea, 1001, ColumnKind::kBytes, "bytea"},
    {oid::kChar, 1002, ColumnKind::kString, "\"char\""},
    {oid::kName, 1003, ColumnKind::kString, "name"},
    {oid::kInt8, 1016, ColumnKind::kInt64, "bigint"},
    {oid::kInt2, 1005, ColumnKind::kInt16, "smallint"},
    {oid::kInt4, 1007, ColumnKind::kInt32, "integer"},
    {oid::kText, 1009, ColumnKind::kString, "text"},
    {oid::kOid, 1028, ColumnKind::kInt64, "oid"},
    {oid::kJson, 199, ColumnKind::kJson, "json"},
    {142, 143, ColumnKind::kString, "xml"},
    {oid::kFloat4, 1021, ColumnKind::kFloat32, "real"},
    {oid::kFloat8, 1022, ColumnKind::kFloat64, "double precision"},
    {oid::kBpchar, 1014, ColumnKind::kString, "character"},
    {oid::kVarchar, 1015, ColumnKind::kString, "character varying"},
    {oid::kDate, 1182, ColumnKind::kDate, "date"},
    {oid::kTime, 1183, ColumnKind::kTime, "time without time zone"},
    {oid::kTimestamp, 1115, ColumnKind::kTimestamp, "timestamp without time zone"},
    {oid::kTimestamptz, 1185, ColumnKind::kTimestamp, "timestamp with time zone"},
    {1186, 1187, ColumnKind::kString, "interval"},
    {1266, 1270, ColumnKind::kString, "time with time zone"},
    {oid::kNumeric, 1231, ColumnKind::kDecimal, "numeric"},
    {oid::kUuid, 2951, ColumnKind::kUuid, "uuid"},
    {oid::kJsonb, 3807, ColumnKind::kJson, "jsonb"},
    {869, 1041, ColumnKind::kString, "inet"},
    {650, 651, ColumnKind::kString, "cidr"},
    {829, 1040, ColumnKind::kString, "macaddr"},
    {790, 791, ColumnKind::kString, "money"},
    {1560, 1561, ColumnKind::kString, "bit"},
    {1562, 1563, ColumnKind::kString, "bit varying"},
};

// Fills kind, precision and scale of a scalar type; false when the oid is not a known scalar.
bool scalar_def(unsigned type_oid, int typmod, ColumnDef& col) {
  for (const ScalarType& t : kScalarTypes) {
    if (t.oid != type_oid) continue;
    col.kind = t.kind;
    col.native_type = t.name;
    switch (type_oid) {
      case oid::kNumeric:
        if (typmod < 4) {
          // Unconstrained NUMERIC has no fixed scale: read as its exact text.
          col.kind = ColumnKind::kString;
        } else {
          const int mod = typmod - 4;
          col.precision = (mod >> 16) & 0xffff;
          const int scale = ((mod & 0x7ff) ^ 1024) - 1024;  // 11-bit signed (PostgreSQL 15)
          col.scale = scale < 0 ? 0 : scale;
        }
        break;
      case oid::kBpchar:
      case oid::kVarchar:
        col.precision = typmod > 4 ? typmod - 4 : 0;
        break;
      case oid::kTime:
      case oid::kTimestamp:
      case oid::kTimestamptz:
        col.precision = typmod >= 0 ? typmod : 6;
        col.with_time_zone = type_oid == oid::kTimestamptz;
        break;
      default:
        break;
    }
    return true;
  }
  return false;
}

}  // namespace

ColumnDef PostgresDialect::column_from_type(std::string name, unsigned int type_oid,
                                            int type_modifier) {
  ColumnDef col;
  col.name = std::move(name);
  if (scalar_def(type_oid, type_modifier, col)) return col;
  for (const ScalarType& t : kScalarTypes) {
    if (t.array_oid != type_oid) continue;
    ColumnDef element;
    scalar_def(t.oid, type_modifier, element);
    col.kind = ColumnKind::kArray;
    col.element_kind = element.kind;
    col.precision = element.precision;
    col.scale = element.scale;
    col.with_time_zone = element.with_time_zone;
    col.native_type = element.native_type + "[]";
    return col;
  }
  col.kind = ColumnKind::kString;
  col.native_type = "oid " + std::to_string(type_oid);
  return col;
}

void register_postgres_dialect(DialectRegistry& registry) {
  registry.add(std::make_shared<PostgresDialect>());
}

}  // namespace rmqc::connectors::jdbc
