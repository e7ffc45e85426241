#include "cdc/postgres/pg_reader.h"

#include "rmqc/api/logging.h"
#include "rmqc/api/struct.h"

#include "cdc/common/envelope.h"
#include "cdc/common/incremental_snapshot.h"
#include "cdc/common/reader_thread.h"
#include "cdc/postgres/pg_types.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <exception>
#include <libpq-fe.h>
#include <map>
#include <poll.h>
#include <pthread.h>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace rmqc::connectors::cdc::postgres {
namespace {

const Logger& log() {
  static const Logger logger("postgres-cdc");
  return logger;
}

using Clock = std::chrono::steady_clock;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Debezium's placeholder for an unchanged TOASTed value it cannot see.
constexpr std::string_view kUnavailableValue = "__debezium_unavailable_value";

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;
struct ResDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResPtr = std::unique_ptr<PGresult, ResDeleter>;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string quote_ident(std::string_view id) {
  std::string out = "\"";
  for (char c : id) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}
std::string quote_literal(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

// A query's failure: fatal when the server refused it for good (privileges, missing objects,
// configuration), retriable when the connection broke or the object is busy.
Error query_error(PGconn* conn, PGresult* res, std::string_view what) {
  std::string message = trim(res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
  if (message.empty()) message = trim(PQerrorMessage(conn));
  const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  std::string text = std::string(what) + ": " + message;
  const bool broken = PQstatus(conn) != CONNECTION_OK || sqlstate.empty() ||
                      sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0 ||
                      sqlstate == "55006" || sqlstate == "40001" || sqlstate == "40P01";
  if (broken) return Error::retriable(ErrorCode::kUnavailable, text);
  return Error::fatal(ErrorCode::kInvalidConfig, text + " (SQLSTATE " + sqlstate + ")");
}

Result<ResPtr> exec(PGconn* conn, const std::string& sql, std::string_view what) {
  ResPtr res(PQexec(conn, sql.c_str()));
  const auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return query_error(conn, res.get(), what);
  return res;
}

Result<ResPtr> exec_params(PGconn* conn, const std::string& sql,
                           const std::vector<std::string>& params, std::string_view what) {
  std::vector<const char*> values;
  for (const auto& p : params) values.push_back(p.c_str());
  ResPtr res(PQexecParams(conn, sql.c_str(), static_cast<int>(values.size()), nullptr,
                          values.data(), nullptr, nullptr, 0));
  const auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return query_error(conn, res.get(), what);
  return res;
}

std::string cell(PGresult* res, int row, int col) {
  return PQgetisnull(res, row, col) ? std::string() : std::string(PQgetvalue(res, row, col));
}

std::int64_t offset_int(const RecordOffset& offset, std::string_view field, std::int64_t dflt) {
  const Value* v = offset.find(field);
  if (!v || v->is_null()) return dflt;
  switch (v->kind()) {
    case Value::Kind::kInt64:
      return v->as_int64();
    case Value::Kind::kInt32:
      return v->as_int32();
    case Value::Kind::kString:
      try {
        return std::stoll(v->as_string());
      } catch (...) {
        return dflt;
      }
    default:
      return dflt;
  }
}
bool offset_bool(const RecordOffset& offset, std::string_view field) {
  const Value* v = offset.find(field);
  if (!v || v->is_null()) return false;
  if (v->kind() == Value::Kind::kBoolean) return v->as_bool();
  if (v->kind() == Value::Kind::kString) return v->as_string() == "true";
  return false;
}

// A streamed event's offset, built in key order (no copies out of an initializer list).
RecordOffset stream_offset(std::int64_t lsn, std::int64_t lsn_commit, std::int64_t seq,
                           std::uint32_t xid, std::int64_t ts_usec) {
  RecordOffset::Map m;
  m.reserve(6);
  m.emplace_hint(m.end(), kEventSeqField, Value(seq));
  m.emplace_hint(m.end(), kLsnField, Value(lsn));
  m.emplace_hint(m.end(), kLsnCommitField, Value(lsn_commit));
  m.emplace_hint(m.end(), kLsnProcField, Value(lsn));
  m.emplace_hint(m.end(), kTsUsecField, Value(ts_usec));
  m.emplace_hint(m.end(), kTxIdField, Value(static_cast<std::int64_t>(xid)));
  return RecordOffset(std::move(m));
}

// One table as captured: its Debezium schemas and how relation columns map onto them.
struct CapturedTable {
  TableRef ref;
  bool captured = false;
  std::shared_ptr<TableSchema> schema;
  std::vector<int> slot_of;  // relation/select column i -> row slot, -1 = not captured
  std::vector<ColumnConverter> converters;  // per row slot
  std::vector<std::string> names;           // relation columns
  std::vector<std::string> type_names;      // per relation column (format_type), for errors
};

struct ColumnDesc {
  std::string name;
  std::uint32_t type_oid = 0;
  std::int32_t typmod = -1;
  bool replica_key = false;
};

}  // namespace

// --- one connected session ----------------------------------------------------------------------

class PgChangeReader::Session final : public SnapshotSource {
 public:
  explicit Session(PgChangeReader& owner) : o_(owner), cfg_(owner.config_) {}

  Result<void> run();
  // Hands over what the session read (also after it failed: those events count as emitted).
  void finish() { flush_batch(); }

 private:
  Result<void> connect();
  Result<void> check_server();
  Result<std::vector<TableRef>> captured_tables();
  Result<void> ensure_publication(const std::vector<TableRef>& tables);
  Result<void> snapshot(const std::string& snapshot_name, Lsn consistent_point,
                        const std::vector<TableRef>& tables);
  Result<void> stream(Lsn start_lsn);
  Result<void> handle_xlog(const XLogData& x);
  Result<void> send_status(bool reply_requested);

  Result<std::shared_ptr<const PgTypeInfo>> type_info(std::uint32_t oid, int depth = 0);
  Result<CapturedTable> build_table(const TableRef& ref, const std::vector<ColumnDesc>& cols);
  Result<std::vector<ColumnDesc>> catalog_columns(const TableRef& ref);

  Result<std::optional<Struct>> tuple_row(const CapturedTable& t, const Tuple& tuple,
                                          bool key_only);
  bool push(PgQueueItem item);
  bool flush_batch();
  Result<void> emit(const CapturedTable& t, Op op, std::optional<Struct> before,
                    std::optional<Struct> after, Lsn lsn, int sub);
  // A change with a value the converters refuse (error from tuple_row): an undecodable record
  // at the change's position, its body the raw row as text columns, for errors.* (the task's
  // poll()). Any other error is returned.
  Result<void> undecodable_change(const CapturedTable& t, Op op, const Tuple* before,
                                  const Tuple* after, const Error& error, Lsn lsn);

  // Incremental snapshots: a signal row from the stream, and the SnapshotSource side (chunks
  // and watermarks through conn_).
  Result<void> handle_signal(const Tuple& tuple, Lsn lsn);
  // The incremental snapshot's notifications (notification.enabled.channels=sink), in order.
  void push_notifications() {
    for (auto& n : o_.incremental_.take_notifications()) {
      n.position.partition = o_.partition_;
      if (!push(PgQueueItem{std::move(n), 0})) return;
    }
  }
  Result<const CapturedTable*> chunk_table(const TableRef& ref);
  Result<std::vector<std::string>> key_columns(const TableRef& table) override;
  Result<std::optional<KeyText>> max_key(const TableRef& table,
                                         const std::vector<std::string>& keys,
                                         const std::string& condition) override;
  Result<std::vector<ChunkRow>> read_chunk(const TableRef& table,
                                           const std::vector<std::string>& keys,
                                           const std::string& condition,
                                           const std::optional<KeyText>& after, const KeyText& max,
                                           std::size_t limit) override;
  Result<void> write_signal(const std::string& id, std::string_view type,
                            const std::string& data) override;
  std::map<std::string, CapturedTable> chunk_tables_;

  PgChangeReader& o_;
  const PostgresCdcConfig& cfg_;
  ConnPtr conn_;
  ConnPtr repl_;
  std::map<std::uint32_t, std::shared_ptr<const PgTypeInfo>> types_;
  std::map<std::uint32_t, CapturedTable> relations_;

  // Stream state.
  Lsn received_ = 0;
  Lsn last_marker_ = 0;
  Lsn last_commit_lsn_ = 0;
  Clock::time_point next_status_ = Clock::now();
  bool in_txn_ = false;
  bool streaming_ = false;
  int burst_ = 0;
  Clock::time_point last_reply_request_{};
  BeginMessage txn_;
  std::int64_t msg_index_ = 0;
  PgOutputMessage msg_;
  PgQueueBatch batch_;
};

Result<void> PgChangeReader::Session::connect() {
  conn_.reset(PQconnectdb(cfg_.conninfo(false).c_str()));
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    const std::string m = trim(PQerrorMessage(conn_.get()));
    const std::string text = "connecting to PostgreSQL " + cfg_.common.hostname + ":" +
                             std::to_string(cfg_.common.port) + "/" + cfg_.dbname + ": " + m;
    if (m.find("password authentication failed") != std::string::npos ||
        m.find("does not exist") != std::string::npos ||
        m.find("no pg_hba.conf entry") != std::string::npos) {
      return Error::fatal(ErrorCode::kPermissionDenied, text);
    }
    return Error::retriable(ErrorCode::kUnavailable, text);
  }
  return ok_result();
}

Result<void> PgChangeReader::Session::check_server() {
  RMQC_ASSIGN_OR_RETURN(ResPtr wal, exec(conn_.get(), "SHOW wal_level", "reading wal_level"));
  const std::string level = cell(wal.get(), 0, 0);
  if (level != "logical") {
    return Error::fatal(ErrorCode::kInvalidConfig,
                        "the server runs with wal_level=" + level +
                            ": logical decoding needs wal_level = logical in postgresql.conf "
                            "(and a server restart), plus max_replication_slots and "
                            "max_wal_senders of at least 1");
  }
  RMQC_ASSIGN_OR_RETURN(ResPtr role,
                        exec(conn_.get(),
                             "SELECT rolsuper OR rolreplication, current_user FROM pg_roles WHERE "
                             "rolname = current_user",
                             "reading the user's privileges"));
  if (PQntuples(role.get()) == 1 && cell(role.get(), 0, 0) != "t") {
    const std::string user = cell(role.get(), 0, 1);
    return Error::fatal(ErrorCode::kPermissionDenied,
                        "user '" + user +
                            "' may not use logical replication: grant it with ALTER ROLE " +
                            quote_ident(user) +
                            " WITH REPLICATION (and allow it a replication connection in "
                            "pg_hba.conf)");
  }
  return ok_result();
}

Result<std::vector<TableRef>> PgChangeReader::Session::captured_tables() {
  RMQC_ASSIGN_OR_RETURN(
      ResPtr res,
      exec(conn_.get(),
           "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = "
           "c.relnamespace WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname "
           "NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE "
           "'pg_temp%' ORDER BY 1, 2",
           "listing tables"));
  std::vector<TableRef> out;
  for (int i = 0; i < PQntuples(res.get()); ++i) {
    TableRef ref{cell(res.get(), i, 0), cell(res.get(), i, 1)};
    if (cfg_.common.filter.table_captured(ref) && !o_.incremental_.is_signal_table(ref)) {
      out.push_back(std::move(ref));
    }
  }
  return out;
}

Result<void> PgChangeReader::Session::ensure_publication(const std::vector<TableRef>& captured) {
  // The signal table's inserts must reach the stream too.
  std::vector<TableRef> tables = captured;
  if (cfg_.incremental.signal_table) tables.push_back(*cfg_.incremental.signal_table);
  RMQC_ASSIGN_OR_RETURN(
      ResPtr res,
      exec_params(conn_.get(), "SELECT puballtables FROM pg_publication WHERE pubname = $1",
                  {cfg_.publication_name}, "reading the publication"));
  const bool exists = PQntuples(res.get()) == 1;
  std::string list;
  for (const auto& t : tables) {
    if (!list.empty()) list += ", ";
    list += quote_ident(t.ns) + "." + quote_ident(t.table);
  }
  const std::string pub = quote_ident(cfg_.publication_name);
  switch (cfg_.publication_autocreate) {
    case PublicationAutocreate::kDisabled:
      if (!exists) {
        return Error::fatal(ErrorCode::kNotFound,
                            "publication '" + cfg_.publication_name +
                                "' does not exist and publication.autocreate.mode is disabled: "
                                "create it (CREATE PUBLICATION " +
                                pub + " FOR TABLE ...) or set publication.autocreate.mode");
      }
      return ok_result();
    case PublicationAutocreate::kAllTables:
      if (!exists) {
        log().info("creating publication ", cfg_.publication_name, " FOR ALL TABLES");
        RMQC_ASSIGN_OR_RETURN(ResPtr r,
                              exec(conn_.get(), "CREATE PUBLICATION " + pub + " FOR ALL TABLES",
                                   "creating the publication (needs superuser)"));
      }
      return ok_result();
    case PublicationAutocreate::kFiltered: {
      if (!exists) {
        log().info("creating publication ", cfg_.publication_name, " for ", tables.size(),
                   " tables");
        RMQC_ASSIGN_OR_RETURN(
            ResPtr r, exec(conn_.get(),
                           "CREATE PUBLICATION " + pub + (list.empty() ? "" : " FOR TABLE " + list),
                           "creating the publication"));
      } else if (!list.empty()) {
        RMQC_ASSIGN_OR_RETURN(ResPtr r,
                              exec(conn_.get(), "ALTER PUBLICATION " + pub + " SET TABLE " + list,
                                   "updating the publication's tables"));
      }
      return ok_result();
    }
  }
  return ok_result();
}

Result<std::shared_ptr<const PgTypeInfo>> PgChangeReader::Session::type_info(std::uint32_t oid,
                                                                             int depth) {
  if (auto it = types_.find(oid); it != types_.end()) return it->second;
  auto info = std::make_shared<PgTypeInfo>();
  info->oid = oid;
  if (!is_builtin_scalar(oid) && depth < 4) {
    RMQC_ASSIGN_OR_RETURN(
        ResPtr res,
        exec_params(conn_.get(),
                    "SELECT t.typtype, t.typcategory, t.typelem, t.typbasetype, t.typtypmod, "
                    "array_to_string(array(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid "
                    "= t.oid ORDER BY e.enumsortorder), ',') FROM pg_type t WHERE t.oid = $1",
                    {std::to_string(oid)}, "reading a column type"));
    if (PQntuples(res.get()) == 1) {
      info->typtype = cell(res.get(), 0, 0).empty() ? 'b' : cell(res.get(), 0, 0)[0];
      info->category = cell(res.get(), 0, 1).empty() ? 'U' : cell(res.get(), 0, 1)[0];
      const auto elem = static_cast<std::uint32_t>(std::stoul(cell(res.get(), 0, 2)));
      const auto base = static_cast<std::uint32_t>(std::stoul(cell(res.get(), 0, 3)));
      info->base_typmod = std::stoi(cell(res.get(), 0, 4));
      info->enum_labels = cell(res.get(), 0, 5);
      if (info->category == 'A' && elem != 0) {
        RMQC_ASSIGN_OR_RETURN(info->element, type_info(elem, depth + 1));
      }
      if (info->typtype == 'd' && base != 0) {
        RMQC_ASSIGN_OR_RETURN(info->base, type_info(base, depth + 1));
      }
    }
  }
  types_[oid] = info;
  return std::shared_ptr<const PgTypeInfo>(info);
}

Result<std::vector<ColumnDesc>> PgChangeReader::Session::catalog_columns(const TableRef& ref) {
  RMQC_ASSIGN_OR_RETURN(
      ResPtr res,
      exec_params(conn_.get(),
                  "SELECT a.attname, a.atttypid, a.atttypmod FROM pg_attribute a JOIN pg_class c "
                  "ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                  "n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped "
                  "AND a.attgenerated = '' ORDER BY a.attnum",
                  {ref.ns, ref.table}, "reading the columns of " + ref.qualified()));
  std::vector<ColumnDesc> cols;
  for (int i = 0; i < PQntuples(res.get()); ++i) {
    ColumnDesc c;
    c.name = cell(res.get(), i, 0);
    c.type_oid = static_cast<std::uint32_t>(std::stoul(cell(res.get(), i, 1)));
    c.typmod = std::stoi(cell(res.get(), i, 2));
    cols.push_back(std::move(c));
  }
  return cols;
}

Result<CapturedTable> PgChangeReader::Session::build_table(const TableRef& ref,
                                                           const std::vector<ColumnDesc>& cols) {
  CapturedTable t;
  t.ref = ref;
  t.captured = cfg_.common.filter.table_captured(ref) && !o_.incremental_.is_signal_table(ref);
  if (!t.captured) return t;
  // Nullability and the primary key from the catalog (relation messages carry neither).
  RMQC_ASSIGN_OR_RETURN(
      ResPtr res,
      exec_params(conn_.get(),
                  "SELECT a.attname, a.attnotnull, COALESCE(array_position(i.indkey::int2[], "
                  "a.attnum) - array_lower(i.indkey::int2[], 1) + 1, 0), "
                  "format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN "
                  "pg_class c ON c.oid = a.attrelid JOIN "
                  "pg_namespace n ON n.oid = c.relnamespace LEFT JOIN pg_index i ON i.indrelid = "
                  "c.oid AND i.indisprimary WHERE n.nspname = $1 AND c.relname = $2 AND "
                  "a.attnum > 0 AND NOT a.attisdropped",
                  {ref.ns, ref.table}, "reading the keys of " + ref.qualified()));
  std::map<std::string, std::pair<bool, int>> meta;
  std::map<std::string, std::string> type_names;
  for (int i = 0; i < PQntuples(res.get()); ++i) {
    meta[cell(res.get(), i, 0)] = {cell(res.get(), i, 1) == "t", std::stoi(cell(res.get(), i, 2))};
    type_names[cell(res.get(), i, 0)] = cell(res.get(), i, 3);
  }
  std::vector<ColumnSchema> columns;
  std::vector<std::pair<int, std::string>> pk;
  std::vector<std::string> replica_keys;
  bool all_replica_keys = !cols.empty();
  for (const auto& c : cols) {
    t.names.push_back(c.name);
    const auto type_name = type_names.find(c.name);
    t.type_names.push_back(type_name != type_names.end() ? type_name->second
                                                         : "type " + std::to_string(c.type_oid));
    if (!cfg_.common.filter.column_captured(ref, c.name)) {
      t.slot_of.push_back(-1);
      continue;
    }
    const auto m = meta.find(c.name);
    const bool not_null = m != meta.end() && m->second.first;
    if (m != meta.end() && m->second.second > 0) pk.emplace_back(m->second.second, c.name);
    if (c.replica_key) {
      replica_keys.push_back(c.name);
    } else {
      all_replica_keys = false;
    }
    RMQC_ASSIGN_OR_RETURN(auto info, type_info(c.type_oid));
    auto conv = ColumnConverter::make(*info, c.typmod, !not_null, cfg_.common.types);
    if (!conv.ok()) {
      return Error::fatal(ErrorCode::kUnsupported,
                          ref.qualified() + "." + c.name + ": " + conv.error().message());
    }
    t.slot_of.push_back(static_cast<int>(columns.size()));
    columns.push_back(ColumnSchema{c.name, conv->schema()});
    t.converters.push_back(std::move(conv).value());
  }
  std::sort(pk.begin(), pk.end());
  std::vector<std::string> keys;
  for (auto& [pos, name] : pk) keys.push_back(name);
  if (keys.empty() && !all_replica_keys) keys = replica_keys;  // REPLICA IDENTITY USING INDEX
  auto message_keys = cfg_.common.message_key_columns.key_columns(ref, columns);
  try {
    t.schema = std::make_shared<TableSchema>(cfg_.common.prefix, ref, std::move(columns), keys,
                                             postgres_source_schema(), message_keys);
  } catch (const std::exception& e) {
    return Error::fatal(ErrorCode::kSchemaMismatch, ref.qualified() + ": " + e.what());
  }
  return t;
}

bool PgChangeReader::Session::push(PgQueueItem item) {
  if (o_.stopping_.load()) return false;
  batch_.push_back(std::move(item));
  return batch_.size() < kQueueBatch || flush_batch();
}

bool PgChangeReader::Session::flush_batch() {
  if (batch_.empty()) return true;
  // Never block inside the queue: while it is full keep answering the server.
  const std::size_t capacity = std::max<std::size_t>(
      1, (static_cast<std::size_t>(std::max(1, cfg_.common.max_queue_size)) + kQueueBatch - 1) /
             kQueueBatch);
  while (o_.queue_.size() >= capacity) {
    if (o_.stopping_.load() || o_.queue_.closed()) return false;
    if (repl_ && PQisBusy(repl_.get()) == 0 && Clock::now() >= next_status_) {
      (void)send_status(false);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const bool pushed = o_.queue_.push(std::move(batch_));
  batch_.clear();
  batch_.reserve(kQueueBatch);
  return pushed;
}

Result<std::optional<Struct>> PgChangeReader::Session::tuple_row(const CapturedTable& t,
                                                                 const Tuple& tuple,
                                                                 bool key_only) {
  (void)key_only;
  if (tuple.size() != t.slot_of.size()) {
    return Error::fatal(ErrorCode::kProtocolError, "a change of " + t.ref.qualified() + " has " +
                                                       std::to_string(tuple.size()) +
                                                       " columns, its relation " +
                                                       std::to_string(t.slot_of.size()));
  }
  Struct row = t.schema->new_row();
  auto& slots = row.values();
  for (std::size_t i = 0; i < tuple.size(); ++i) {
    const int slot = t.slot_of[i];
    if (slot < 0) continue;
    const auto& v = tuple[i];
    switch (v.kind) {
      case TupleValue::Kind::kNull:
        break;
      case TupleValue::Kind::kUnchangedToast:
        if (t.converters[static_cast<std::size_t>(slot)].schema()->type() == FieldType::kString) {
          slots[static_cast<std::size_t>(slot)] = Value(std::string(kUnavailableValue));
        }
        break;
      case TupleValue::Kind::kText: {
        auto value = t.converters[static_cast<std::size_t>(slot)].convert(v.text);
        if (!value.ok()) {
          return Error::fatal(ErrorCode::kParseError,
                              "undecodable value of " + t.ref.qualified() + "." + t.names[i] +
                                  " (" + t.type_names[i] + "): " + value.error().message());
        }
        slots[static_cast<std::size_t>(slot)] = std::move(value).value();
        break;
      }
    }
  }
  return std::optional<Struct>(std::move(row));
}

Result<void> PgChangeReader::Session::emit(const CapturedTable& t, Op op,
                                           std::optional<Struct> before,
                                           std::optional<Struct> after, Lsn lsn, int sub) {
  const std::int64_t seq = msg_index_ * 4 + sub;
  const auto lsn_commit = static_cast<std::int64_t>(txn_.final_lsn);
  // What the reader already emitted (in an earlier session, or before the committed offset): a
  // replayed change at or before it is skipped.
  auto emitted = [&](std::int64_t s) {
    return lsn_commit < o_.emitted_commit_ ||
           (lsn_commit == o_.emitted_commit_ && s <= o_.emitted_seq_);
  };
  // A delete's tombstone has its own position (seq + 1): a restart between the two still sends
  // the tombstone.
  const bool tombstone = op == Op::kDelete && cfg_.common.tombstones_on_delete;
  const bool delete_emitted = emitted(seq);
  if (delete_emitted && !(tombstone && !emitted(seq + 1))) return ok_result();
  o_.emitted_commit_ = lsn_commit;
  o_.emitted_seq_ = tombstone ? seq + 1 : seq;
  if (cfg_.common.op_skipped(op)) return ok_result();
  SourceInfo src;
  src.connector = "postgresql";
  src.name = cfg_.common.prefix;
  const std::int64_t commit_us = pg_to_unix_micros(txn_.commit_time);
  src.ts_ms = commit_us / 1000;
  src.db = cfg_.dbname;
  src.schema = t.ref.ns;
  src.table = t.ref.table;
  src.tx_id = static_cast<std::int64_t>(txn_.xid);
  src.lsn = static_cast<std::int64_t>(lsn);
  // Debezium's ["<last commit LSN>","<this LSN>"].
  char last_text[24];
  char this_text[24];
  const char* last_end =
      std::to_chars(last_text, last_text + sizeof(last_text), last_commit_lsn_).ptr;
  const char* this_end = std::to_chars(this_text, this_text + sizeof(this_text), lsn).ptr;
  std::string sequence;
  sequence.reserve(48);
  sequence.append("[\"").append(last_text, static_cast<std::size_t>(last_end - last_text));
  sequence.append("\",\"").append(this_text, static_cast<std::size_t>(this_end - this_text));
  sequence.append("\"]");
  src.sequence = std::move(sequence);
  ChangeEvent ev;
  ev.op = op;
  ev.before = std::move(before);
  ev.after = std::move(after);
  ev.source = std::move(src);
  ev.ts_ms = now_ms();
  RecordOffset offset =
      stream_offset(static_cast<std::int64_t>(lsn), lsn_commit, seq, txn_.xid, commit_us);
  ConnectRecord record = change_record(*t.schema, std::move(ev), o_.partition_, std::move(offset));
  if (tombstone) {
    ConnectRecord tomb = tombstone_for(record);
    tomb.position.offset =
        stream_offset(static_cast<std::int64_t>(lsn), lsn_commit, seq + 1, txn_.xid, commit_us);
    o_.incremental_.observe(record);
    o_.incremental_.observe(tomb);
    if (!delete_emitted && !push(PgQueueItem{std::move(record), 0})) return ok_result();
    push(PgQueueItem{std::move(tomb), 0});
    return ok_result();
  }
  o_.incremental_.observe(record);
  push(PgQueueItem{std::move(record), 0});
  return ok_result();
}

Result<void> PgChangeReader::Session::undecodable_change(const CapturedTable& t, Op op,
                                                         const Tuple* before, const Tuple* after,
                                                         const Error& error, Lsn lsn) {
  if (error.code() != ErrorCode::kParseError) return error;
  // Placed like emit()'s event (sub 0), so a replay after a restart is skipped the same way.
  const std::int64_t seq = msg_index_ * 4;
  const auto lsn_commit = static_cast<std::int64_t>(txn_.final_lsn);
  if (lsn_commit < o_.emitted_commit_ ||
      (lsn_commit == o_.emitted_commit_ && seq <= o_.emitted_seq_)) {
    return ok_result();
  }
  o_.emitted_commit_ = lsn_commit;
  o_.emitted_seq_ = seq;
  auto columns = [&](const Tuple* tuple) {
    std::vector<RawColumn> out;
    if (tuple == nullptr) return out;
    for (std::size_t i = 0; i < tuple->size() && i < t.names.size(); ++i) {
      if (t.slot_of[i] < 0) continue;
      const auto& v = (*tuple)[i];
      std::optional<std::string_view> text;
      if (v.kind == TupleValue::Kind::kText) text = v.text;
      if (v.kind == TupleValue::Kind::kUnchangedToast) text = kUnavailableValue;
      out.push_back(RawColumn{t.names[i], text});
    }
    return out;
  };
  const auto before_columns = columns(before);
  const auto after_columns = columns(after);
  const std::string raw =
      raw_row_json(op, before ? &before_columns : nullptr, after ? &after_columns : nullptr);
  const std::string message = error.message() + " at LSN " + format_lsn(lsn) + " (transaction " +
                              std::to_string(txn_.xid) + ")";
  log().warn(message);
  RecordOffset offset = stream_offset(static_cast<std::int64_t>(lsn), lsn_commit, seq, txn_.xid,
                                      pg_to_unix_micros(txn_.commit_time));
  push(PgQueueItem{
      undecodable_record(o_.partition_, std::move(offset), t.schema->topic(), raw, message), 0});
  return ok_result();
}

// --- incremental snapshots (cdc/common/incremental_snapshot.h) --------------------------------

Result<void> PgChangeReader::Session::handle_signal(const Tuple& tuple, Lsn lsn) {
  // A signal has a place in the stream like a change: one already handled (before a reconnect
  // or the committed offset) is not run again.
  const std::int64_t seq = msg_index_ * 4;
  const auto lsn_commit = static_cast<std::int64_t>(txn_.final_lsn);
  if (lsn_commit < o_.emitted_commit_ ||
      (lsn_commit == o_.emitted_commit_ && seq <= o_.emitted_seq_)) {
    return ok_result();
  }
  o_.emitted_commit_ = lsn_commit;
  o_.emitted_seq_ = seq;
  auto text = [&](std::size_t i) {
    return i < tuple.size() && tuple[i].kind == TupleValue::Kind::kText ? tuple[i].text
                                                                        : std::string();
  };
  auto signal = parse_signal(text(0), text(1), text(2));
  if (!signal.ok()) {
    log().error("ignoring a signal: ", signal.error().message());
    return ok_result();
  }
  const RecordOffset position(RecordOffset::Map{
      {std::string(kLsnField), Value(static_cast<std::int64_t>(lsn))},
      {std::string(kLsnProcField), Value(static_cast<std::int64_t>(lsn))},
      {std::string(kLsnCommitField), Value(lsn_commit)},
      {std::string(kEventSeqField), Value(seq)},
      {std::string(kTxIdField), Value(static_cast<std::int64_t>(txn_.xid))},
      {std::string(kTsUsecField), Value(pg_to_unix_micros(txn_.commit_time))},
  });
  RMQC_ASSIGN_OR_RETURN(auto reads, o_.incremental_.on_signal(*this, signal.value(), position));
  for (auto& r : reads) {
    if (!push(PgQueueItem{std::move(r), 0})) return ok_result();
  }
  RMQC_RETURN_IF_ERROR(o_.incremental_.after_emit(*this));
  push_notifications();
  return ok_result();
}

Result<const CapturedTable*> PgChangeReader::Session::chunk_table(const TableRef& ref) {
  if (auto it = chunk_tables_.find(ref.qualified()); it != chunk_tables_.end()) {
    return &it->second;
  }
  RMQC_ASSIGN_OR_RETURN(auto cols, catalog_columns(ref));
  if (cols.empty()) {
    return Error::fatal(ErrorCode::kNotFound, "table " + ref.qualified() + " does not exist");
  }
  RMQC_ASSIGN_OR_RETURN(CapturedTable t, build_table(ref, cols));
  if (!t.captured) {
    return Error::fatal(ErrorCode::kInvalidConfig,
                        "table " + ref.qualified() + " is not captured (see table.include.list)");
  }
  return &chunk_tables_.insert_or_assign(ref.qualified(), std::move(t)).first->second;
}

Result<std::vector<std::string>> PgChangeReader::Session::key_columns(const TableRef& table) {
  chunk_tables_.erase(table.qualified());  // the table may have changed since it was last read
  RMQC_ASSIGN_OR_RETURN(const CapturedTable* t, chunk_table(table));
  std::vector<std::string> out;
  for (int p : t->schema->primary_key_positions()) {
    out.push_back(t->schema->columns()[static_cast<std::size_t>(p)].name);
  }
  return out;  // empty: no primary key (or column filters leave it out)
}

namespace {
SqlQuoting pg_quoting() {
  return SqlQuoting{[](std::string_view id) { return quote_ident(id); },
                    [](std::size_t, std::string_view v) { return quote_literal(v); }};
}
}  // namespace

Result<std::optional<KeyText>> PgChangeReader::Session::max_key(
    const TableRef& table, const std::vector<std::string>& keys, const std::string& condition) {
  RMQC_ASSIGN_OR_RETURN(ResPtr res,
                        exec(conn_.get(), max_key_sql(pg_quoting(), table, keys, condition),
                             "reading the largest key of " + table.qualified()));
  if (PQntuples(res.get()) == 0) return std::optional<KeyText>();
  KeyText key;
  for (int c = 0; c < PQnfields(res.get()); ++c) key.push_back(cell(res.get(), 0, c));
  return std::optional<KeyText>(std::move(key));
}

Result<std::vector<ChunkRow>> PgChangeReader::Session::read_chunk(
    const TableRef& table, const std::vector<std::string>& keys, const std::string& condition,
    const std::optional<KeyText>& after, const KeyText& max, std::size_t limit) {
  chunk_tables_.erase(table.qualified());  // each chunk with the table's current columns
  RMQC_ASSIGN_OR_RETURN(const CapturedTable* t, chunk_table(table));
  // Slots follow the select list (the captured columns in order).
  std::string select;
  for (std::size_t i = 0; i < t->names.size(); ++i) {
    if (t->slot_of[i] < 0) continue;
    select += (select.empty() ? "" : ", ") + quote_ident(t->names[i]);
  }
  RMQC_ASSIGN_OR_RETURN(
      ResPtr res,
      exec(conn_.get(), chunk_sql(pg_quoting(), select, table, keys, condition, after, max, limit),
           "incremental snapshot of " + table.qualified()));
  const std::int64_t read_at = now_ms();
  // The chunk key's slots (the primary key's, or a surrogate key's).
  std::vector<int> key_slots;
  for (const auto& k : keys) {
    const auto& columns = t->schema->columns();
    const auto it = std::find_if(columns.begin(), columns.end(),
                                 [&](const ColumnSchema& c) { return c.name == k; });
    if (it == columns.end()) {
      return Error::fatal(ErrorCode::kInvalidConfig, "incremental snapshot of " +
                                                         table.qualified() + ": key column " + k +
                                                         " is not a captured column");
    }
    key_slots.push_back(static_cast<int>(it - columns.begin()));
  }
  std::vector<ChunkRow> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res.get())));
  const int columns = PQnfields(res.get());
  for (int r = 0; r < PQntuples(res.get()); ++r) {
    Struct row = t->schema->new_row();
    auto& slots = row.values();
    for (int c = 0; c < columns && static_cast<std::size_t>(c) < t->converters.size(); ++c) {
      if (PQgetisnull(res.get(), r, c)) continue;
      auto v = t->converters[static_cast<std::size_t>(c)].convert(std::string_view(
          PQgetvalue(res.get(), r, c), static_cast<std::size_t>(PQgetlength(res.get(), r, c))));
      if (!v.ok()) {
        return Error::fatal(ErrorCode::kParseError, "undecodable value in " + table.qualified() +
                                                        ": " + v.error().message());
      }
      slots[static_cast<std::size_t>(c)] = std::move(v).value();
    }
    ChunkRow chunk_row;
    for (int p : key_slots) chunk_row.key.push_back(cell(res.get(), r, p));
    SourceInfo src;
    src.connector = "postgresql";
    src.name = cfg_.common.prefix;
    src.ts_ms = read_at;
    src.snapshot = "incremental";
    src.db = cfg_.dbname;
    src.schema = table.ns;
    src.table = table.table;
    src.lsn = static_cast<std::int64_t>(received_);
    ChangeEvent ev;
    ev.op = Op::kRead;
    ev.after = std::move(row);
    ev.source = std::move(src);
    ev.ts_ms = read_at;
    chunk_row.record = change_record(*t->schema, std::move(ev), o_.partition_, RecordOffset{});
    out.push_back(std::move(chunk_row));
  }
  return out;
}

Result<void> PgChangeReader::Session::write_signal(const std::string& id, std::string_view type,
                                                   const std::string& data) {
  const TableRef& s = *cfg_.incremental.signal_table;
  // Flushed at commit even on a server with synchronous_commit=off: logical decoding sends only
  // flushed WAL, so an asynchronous watermark would reach the stream a wal_writer_delay late.
  RMQC_ASSIGN_OR_RETURN(ResPtr sync, exec(conn_.get(), "SET synchronous_commit = on",
                                          "writing a watermark into " + s.qualified()));
  RMQC_ASSIGN_OR_RETURN(ResPtr res, exec_params(conn_.get(),
                                                "INSERT INTO " + quote_ident(s.ns) + "." +
                                                    quote_ident(s.table) + " VALUES ($1, $2, $3)",
                                                {id, std::string(type), data},
                                                "writing a watermark into " + s.qualified()));
  return ok_result();
}

Result<void> PgChangeReader::Session::snapshot(const std::string& snapshot_name,
                                               Lsn consistent_point,
                                               const std::vector<TableRef>& tables) {
  log().info("snapshot of ", tables.size(), " tables at ", format_lsn(consistent_point));
  // The new slot starts at the snapshot: the committed stream position no longer applies.
  o_.emitted_commit_ = -1;
  o_.emitted_seq_ = -1;
  RMQC_ASSIGN_OR_RETURN(
      ResPtr b, exec(conn_.get(), "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY",
                     "starting the snapshot transaction"));
  RMQC_ASSIGN_OR_RETURN(
      ResPtr s, exec(conn_.get(), "SET TRANSACTION SNAPSHOT " + quote_literal(snapshot_name),
                     "importing the slot's snapshot"));
  if (cfg_.common.snapshot_locking_mode == "shared") {
    for (const auto& t : tables) {
      RMQC_ASSIGN_OR_RETURN(ResPtr l, exec(conn_.get(),
                                           "LOCK TABLE " + quote_ident(t.ns) + "." +
                                               quote_ident(t.table) + " IN ACCESS SHARE MODE",
                                           "locking " + t.qualified()));
    }
  }
  RMQC_ASSIGN_OR_RETURN(ResPtr x,
                        exec(conn_.get(), "SELECT txid_snapshot_xmin(txid_current_snapshot())",
                             "reading the snapshot's transaction"));
  const std::int64_t tx_id = std::stoll(cell(x.get(), 0, 0));
  const std::int64_t ts_us = now_us();

  // The record before the current one is pushed when the next arrives, so the last one can be
  // marked last (the snapshot is complete once it is committed).
  std::optional<ConnectRecord> held;
  std::int64_t count = 0;
  auto make_offset = [&](bool last) {
    return RecordOffset(RecordOffset::Map{
        {std::string(kLsnField), Value(static_cast<std::int64_t>(consistent_point))},
        {std::string(kTxIdField), Value(tx_id)},
        {std::string(kTsUsecField), Value(ts_us)},
        {std::string(kSnapshotField), Value(true)},
        {std::string(kLastSnapshotRecordField), Value(last)},
    });
  };
  for (const auto& ref : tables) {
    RMQC_ASSIGN_OR_RETURN(auto cols, catalog_columns(ref));
    RMQC_ASSIGN_OR_RETURN(CapturedTable t, build_table(ref, cols));
    std::string sql = "SELECT ";
    bool any = false;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (t.slot_of[i] < 0) continue;
      sql += (any ? ", " : "") + quote_ident(cols[i].name);
      any = true;
    }
    if (!any) continue;
    sql += " FROM " + quote_ident(ref.ns) + "." + quote_ident(ref.table);
    // A cursor read in pages: one result per page, not one per row.
    RMQC_ASSIGN_OR_RETURN(ResPtr cursor,
                          exec(conn_.get(), "DECLARE rmqc_snapshot NO SCROLL CURSOR FOR " + sql,
                               "snapshot of " + ref.qualified()));
    // Pages are fetched one ahead: the server reads and renders the next page while this
    // thread converts the current one.
    const std::string what = "snapshot of " + ref.qualified();
    auto send_fetch = [&]() -> Result<void> {
      if (PQsendQuery(conn_.get(), "FETCH FORWARD 4096 FROM rmqc_snapshot") == 0) {
        return query_error(conn_.get(), nullptr, what);
      }
      return ok_result();
    };
    RMQC_RETURN_IF_ERROR(send_fetch());
    bool more = true;
    while (more) {
      ResPtr res(PQgetResult(conn_.get()));
      while (PGresult* extra = PQgetResult(conn_.get())) PQclear(extra);  // until the end
      const auto st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
      if (st != PGRES_TUPLES_OK) return query_error(conn_.get(), res.get(), what);
      const int rows = PQntuples(res.get());
      if (rows == 0) break;
      more = rows == 4096;  // a short page is the last one
      if (more) RMQC_RETURN_IF_ERROR(send_fetch());
      for (int r = 0; r < rows; ++r) {
        if (o_.stopping_.load()) return ok_result();
        Struct row = t.schema->new_row();
        auto& slots = row.values();
        int col = 0;
        std::optional<std::string> failure;
        for (std::size_t i = 0; i < cols.size(); ++i) {
          const int slot = t.slot_of[i];
          if (slot < 0) continue;
          if (!PQgetisnull(res.get(), r, col)) {
            auto v = t.converters[static_cast<std::size_t>(slot)].convert(
                std::string_view(PQgetvalue(res.get(), r, col),
                                 static_cast<std::size_t>(PQgetlength(res.get(), r, col))));
            if (!v.ok()) {
              failure = "undecodable value of " + ref.qualified() + "." + cols[i].name + " (" +
                        t.type_names[i] + "): " + v.error().message() + " in the snapshot at LSN " +
                        format_lsn(consistent_point);
              break;
            }
            slots[static_cast<std::size_t>(slot)] = std::move(v).value();
          }
          ++col;
        }
        if (held) {
          if (!push(PgQueueItem{std::move(*held), 0})) return ok_result();
          held.reset();
        }
        if (failure) {
          // The row goes to errors.* (the task's poll()) as its text columns, in its place.
          std::vector<RawColumn> raw;
          for (int c = 0; c < PQnfields(res.get()); ++c) {
            std::optional<std::string_view> text;
            if (!PQgetisnull(res.get(), r, c)) {
              text = std::string_view(PQgetvalue(res.get(), r, c),
                                      static_cast<std::size_t>(PQgetlength(res.get(), r, c)));
            }
            raw.push_back(RawColumn{PQfname(res.get(), c), text});
          }
          log().warn(*failure);
          held = undecodable_record(o_.partition_, make_offset(false), t.schema->topic(),
                                    raw_row_json(Op::kRead, nullptr, &raw), std::move(*failure));
          continue;
        }
        SourceInfo src;
        src.connector = "postgresql";
        src.name = cfg_.common.prefix;
        src.ts_ms = ts_us / 1000;
        src.snapshot = count == 0 ? "first" : "true";
        src.db = cfg_.dbname;
        src.schema = ref.ns;
        src.table = ref.table;
        src.tx_id = tx_id;
        src.lsn = static_cast<std::int64_t>(consistent_point);
        ChangeEvent ev;
        ev.op = Op::kRead;
        ev.after = std::move(row);
        ev.source = std::move(src);
        ev.ts_ms = now_ms();
        held = change_record(*t.schema, std::move(ev), o_.partition_, make_offset(false));
        ++count;
      }
    }
    RMQC_ASSIGN_OR_RETURN(
        ResPtr closed, exec(conn_.get(), "CLOSE rmqc_snapshot", "snapshot of " + ref.qualified()));
    if (o_.stopping_.load()) return ok_result();
  }
  RMQC_ASSIGN_OR_RETURN(ResPtr c, exec(conn_.get(), "COMMIT", "ending the snapshot"));
  if (held) {
    // The last record: snapshot "last" and last_snapshot_record = true (an undecodable row
    // has no envelope, only the position).
    if (undecodable_error(*held) == nullptr) {
      auto& envelope = held->value.as_struct();
      auto& source = envelope.values()[2].as_struct();
      if (const auto* f = source.schema()->field("snapshot")) {
        source.values()[f->index] = Value(std::string("last"));
      }
    }
    held->position.offset = make_offset(true);
    push(PgQueueItem{std::move(*held), 0});
  }
  flush_batch();
  log().info("snapshot done: ", count, " rows");
  return ok_result();
}

Result<void> PgChangeReader::Session::send_status(bool reply_requested) {
  if (!repl_ || !streaming_) return ok_result();  // status updates exist in COPY mode only
  const Lsn flush = o_.confirmed_.load();
  o_.confirm_pending_.store(false);
  const std::string msg =
      encode_status_update(std::max(received_, flush), flush, flush, now_us(), reply_requested);
  if (PQputCopyData(repl_.get(), msg.data(), static_cast<int>(msg.size())) != 1 ||
      PQflush(repl_.get()) < 0) {
    return Error::retriable(ErrorCode::kUnavailable,
                            "sending a status update: " + trim(PQerrorMessage(repl_.get())));
  }
  next_status_ = Clock::now() + std::chrono::milliseconds(cfg_.status_update_interval_ms);
  return ok_result();
}

Result<void> PgChangeReader::Session::handle_xlog(const XLogData& x) {
  received_ = std::max(received_, std::max(x.data_start, x.wal_end));
  auto decoded = decode_pgoutput(x.payload, msg_);
  if (!decoded.ok()) {
    return Error::fatal(ErrorCode::kParseError,
                        decoded.error().message() + " at " + format_lsn(x.data_start));
  }
  using K = PgOutputMessage::Kind;
  switch (msg_.kind) {
    case K::kBegin:
      in_txn_ = true;
      txn_ = msg_.begin;
      msg_index_ = 0;
      return ok_result();
    case K::kCommit:
      in_txn_ = false;
      last_commit_lsn_ = msg_.commit.commit_lsn;
      last_marker_ = std::max(last_marker_, msg_.commit.end_lsn);
      push(PgQueueItem{std::nullopt, msg_.commit.end_lsn});
      return ok_result();
    case K::kOrigin:
    case K::kMessage:
      return ok_result();
    case K::kType:
      types_.erase(msg_.type.oid);
      return ok_result();
    case K::kRelation: {
      const auto& rel = msg_.relation;
      std::vector<ColumnDesc> cols;
      for (const auto& c : rel.columns) {
        cols.push_back(ColumnDesc{c.name, c.type_oid, c.type_modifier, c.key});
      }
      RMQC_ASSIGN_OR_RETURN(CapturedTable t, build_table(TableRef{rel.ns, rel.name}, cols));
      relations_[rel.oid] = std::move(t);
      return ok_result();
    }
    default:
      break;
  }
  ++msg_index_;
  auto table_of = [&](std::uint32_t oid) -> Result<const CapturedTable*> {
    auto it = relations_.find(oid);
    if (it == relations_.end()) {
      return Error::fatal(ErrorCode::kProtocolError, "a change of relation " + std::to_string(oid) +
                                                         " came before its relation message at " +
                                                         format_lsn(x.data_start));
    }
    return &it->second;
  };
  const Lsn lsn = x.data_start;
  switch (msg_.kind) {
    case K::kInsert: {
      RMQC_ASSIGN_OR_RETURN(const CapturedTable* t, table_of(msg_.insert.relation));
      if (o_.incremental_.is_signal_table(t->ref)) return handle_signal(msg_.insert.new_tuple, lsn);
      if (!t->captured) return ok_result();
      auto after = tuple_row(*t, msg_.insert.new_tuple, false);
      if (!after.ok()) {
        return undecodable_change(*t, Op::kCreate, nullptr, &msg_.insert.new_tuple, after.error(),
                                  lsn);
      }
      return emit(*t, Op::kCreate, std::nullopt, std::move(after).value(), lsn, 0);
    }
    case K::kUpdate: {
      RMQC_ASSIGN_OR_RETURN(const CapturedTable* t, table_of(msg_.update.relation));
      if (!t->captured) return ok_result();
      const Tuple* old_tuple = msg_.update.old_kind != 0 ? &msg_.update.old_tuple : nullptr;
      auto decoded_after = tuple_row(*t, msg_.update.new_tuple, false);
      if (!decoded_after.ok()) {
        return undecodable_change(*t, Op::kUpdate, old_tuple, &msg_.update.new_tuple,
                                  decoded_after.error(), lsn);
      }
      std::optional<Struct> after = std::move(decoded_after).value();
      std::optional<Struct> before;
      if (old_tuple != nullptr) {
        auto decoded_before = tuple_row(*t, *old_tuple, true);
        if (!decoded_before.ok()) {
          return undecodable_change(*t, Op::kUpdate, old_tuple, &msg_.update.new_tuple,
                                    decoded_before.error(), lsn);
        }
        before = std::move(decoded_before).value();
      }
      if (before && t->schema->key_schema() &&
          !(t->schema->key_of(*before) == t->schema->key_of(*after))) {
        // The key changed: Debezium's delete (+ tombstone) of the old key, create of the new.
        RMQC_RETURN_IF_ERROR(emit(*t, Op::kDelete, std::move(before), std::nullopt, lsn, 0));
        return emit(*t, Op::kCreate, std::nullopt, std::move(after), lsn, 2);
      }
      return emit(*t, Op::kUpdate, std::move(before), std::move(after), lsn, 0);
    }
    case K::kDelete: {
      RMQC_ASSIGN_OR_RETURN(const CapturedTable* t, table_of(msg_.del.relation));
      if (!t->captured) return ok_result();
      auto before = tuple_row(*t, msg_.del.old_tuple, msg_.del.old_kind == 'K');
      if (!before.ok()) {
        return undecodable_change(*t, Op::kDelete, &msg_.del.old_tuple, nullptr, before.error(),
                                  lsn);
      }
      return emit(*t, Op::kDelete, std::move(before).value(), std::nullopt, lsn, 0);
    }
    case K::kTruncate: {
      int sub = 0;
      for (std::uint32_t oid : msg_.truncate.relations) {
        RMQC_ASSIGN_OR_RETURN(const CapturedTable* t, table_of(oid));
        if (t->captured) {
          RMQC_RETURN_IF_ERROR(emit(*t, Op::kTruncate, std::nullopt, std::nullopt, lsn, sub));
        }
        ++sub;
        if (sub == 4) {  // more tables than sub-slots: the rest share the last one
          sub = 3;
        }
      }
      return ok_result();
    }
    default:
      return ok_result();
  }
}

Result<void> PgChangeReader::Session::stream(Lsn start_lsn) {
  const std::string start = "START_REPLICATION SLOT " + quote_ident(cfg_.slot_name) +
                            " LOGICAL 0/0 (proto_version '1', publication_names " +
                            quote_literal(quote_ident(cfg_.publication_name)) + ")";
  ResPtr res(PQexec(repl_.get(), start.c_str()));
  if (PQresultStatus(res.get()) != PGRES_COPY_BOTH) {
    return query_error(repl_.get(), res.get(), "starting replication from slot " + cfg_.slot_name);
  }
  res.reset();
  streaming_ = true;
  if (o_.stream_start_.load() == 0) o_.stream_start_.store(start_lsn);
  chunk_tables_.clear();
  RMQC_RETURN_IF_ERROR(o_.incremental_.on_stream_start(*this));
  push_notifications();
  log().info("streaming from slot ", cfg_.slot_name, " (publication ", cfg_.publication_name, ")");
  const int fd = PQsocket(repl_.get());
  bool read_ahead = false;  // the last read did not wait
  while (!o_.stopping_.load()) {
    if (o_.confirm_pending_.load() || Clock::now() >= next_status_) {
      RMQC_RETURN_IF_ERROR(send_status(false));
    }
    char* buf = nullptr;
    const int n = PQgetCopyData(repl_.get(), &buf, 1);
    if (n > 0) {
      read_ahead = false;
      std::string_view data(buf, static_cast<std::size_t>(n));
      auto msg = decode_copy_message(data);
      Result<void> handled = ok_result();
      if (!msg.ok()) {
        handled = Error::fatal(ErrorCode::kProtocolError, msg.error().message());
      } else if (msg->kind == CopyMessage::Kind::kXLogData) {
        handled = handle_xlog(msg->xlog);
      } else {
        received_ = std::max(received_, msg->keepalive.wal_end);
        if (!in_txn_ && msg->keepalive.wal_end > last_marker_) {
          // Nothing of ours is in flight before this point: the slot may move here too.
          last_marker_ = msg->keepalive.wal_end;
          push(PgQueueItem{std::nullopt, last_marker_});
        }
        if (msg->keepalive.reply_requested) {
          // A server shutting down asks again and again until the flush position reaches the
          // end of WAL, which it never does while events are unacknowledged: step aside (and
          // reconnect once it is back) instead of holding its shutdown until
          // wal_sender_timeout.
          const auto now = Clock::now();
          burst_ = now - last_reply_request_ < std::chrono::milliseconds(250) ? burst_ + 1 : 0;
          last_reply_request_ = now;
          if (burst_ >= 5) {
            PQfreemem(buf);
            return Error::retriable(ErrorCode::kUnavailable,
                                    "the server is shutting down and waits for a flush position "
                                    "past unacknowledged events; disconnecting");
          }
        }
        if (msg->keepalive.reply_requested) handled = send_status(false);
      }
      PQfreemem(buf);
      RMQC_RETURN_IF_ERROR(handled);
      continue;
    }
    if (n == 0) {
      // Nothing more buffered: hand over what ended a transaction (a transaction's changes come
      // together at its commit, so the rest of a half-read one follows at once).
      if (!batch_.empty() && !batch_.back().record) flush_batch();
      // Under a backlog more has usually arrived meanwhile: read it before waiting for it (one
      // recv instead of poll + recv per buffer of messages).
      if (!read_ahead) {
        read_ahead = true;
      } else {
        pollfd p{fd, POLLIN, 0};
        ::poll(&p, 1, 100);
        read_ahead = false;
      }
      if (PQconsumeInput(repl_.get()) == 0) {
        return Error::retriable(ErrorCode::kUnavailable,
                                "replication connection: " + trim(PQerrorMessage(repl_.get())));
      }
      continue;
    }
    if (n == -1) {
      ResPtr end(PQgetResult(repl_.get()));
      return Error::retriable(ErrorCode::kUnavailable,
                              "the server ended the replication stream" +
                                  (end ? ": " + trim(PQresultErrorMessage(end.get())) : ""));
    }
    return Error::retriable(ErrorCode::kUnavailable,
                            "replication connection: " + trim(PQerrorMessage(repl_.get())));
  }
  // Stopping: report the final flush position and end the stream.
  (void)send_status(false);
  PQputCopyEnd(repl_.get(), nullptr);
  PQflush(repl_.get());
  return ok_result();
}

Result<void> PgChangeReader::Session::run() {
  RMQC_RETURN_IF_ERROR(connect());
  RMQC_RETURN_IF_ERROR(check_server());
  RMQC_ASSIGN_OR_RETURN(auto tables, captured_tables());
  RMQC_RETURN_IF_ERROR(ensure_publication(tables));

  // The slot, and whether a snapshot is due.
  bool slot_exists = false;
  Lsn slot_flush = 0;
  for (int attempt = 0;; ++attempt) {
    RMQC_ASSIGN_OR_RETURN(
        ResPtr slot,
        exec_params(conn_.get(),
                    "SELECT plugin, active, active_pid, confirmed_flush_lsn, database FROM "
                    "pg_replication_slots WHERE slot_name = $1",
                    {cfg_.slot_name}, "reading the replication slot"));
    slot_exists = PQntuples(slot.get()) == 1;
    if (!slot_exists) break;
    if (cell(slot.get(), 0, 0) != "pgoutput" || cell(slot.get(), 0, 4) != cfg_.dbname) {
      return Error::fatal(ErrorCode::kInvalidConfig,
                          "replication slot '" + cfg_.slot_name + "' exists for plugin '" +
                              cell(slot.get(), 0, 0) + "' in database '" + cell(slot.get(), 0, 4) +
                              "': set slot.name to another slot (or drop this one)");
    }
    if (auto lsn = parse_lsn(cell(slot.get(), 0, 3)); lsn.ok()) slot_flush = *lsn;
    if (cell(slot.get(), 0, 1) != "t") break;
    if (attempt >= cfg_.slot_max_retries) {
      return Error::fatal(ErrorCode::kAlreadyExists,
                          "replication slot '" + cfg_.slot_name + "' is in use by PID " +
                              cell(slot.get(), 0, 2) +
                              ": stop the other client or give this connector its own slot.name");
    }
    log().warn("replication slot ", cfg_.slot_name, " is in use by PID ", cell(slot.get(), 0, 2),
               "; retrying");
    for (std::int64_t waited = 0; waited < cfg_.slot_retry_delay_ms && !o_.stopping_.load();
         waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (o_.stopping_.load()) return ok_result();
  }

  const auto mode = cfg_.common.snapshot_mode;
  const bool have_offset = o_.committed_.has_value();
  const bool snapshot_incomplete = have_offset && offset_bool(*o_.committed_, kSnapshotField) &&
                                   !offset_bool(*o_.committed_, kLastSnapshotRecordField);
  bool want_snapshot = false;
  if (!o_.snapshot_settled_) {
    switch (mode) {
      case SnapshotMode::kAlways:
        want_snapshot = true;
        break;
      case SnapshotMode::kInitial:
      case SnapshotMode::kInitialOnly:
        want_snapshot = !have_offset || snapshot_incomplete;
        if (mode == SnapshotMode::kInitial && have_offset && !snapshot_incomplete && !slot_exists) {
          return Error::fatal(ErrorCode::kDataLoss,
                              "the committed position needs replication slot '" + cfg_.slot_name +
                                  "', which no longer exists: changes since then are lost. Set "
                                  "snapshot.mode=when_needed to take a new snapshot");
        }
        break;
      case SnapshotMode::kWhenNeeded:
        want_snapshot = !have_offset || snapshot_incomplete || !slot_exists;
        break;
      default:
        break;
    }
  }
  if (want_snapshot && slot_exists) {
    // A snapshot needs the slot's own exported snapshot: start the slot afresh.
    log().info("dropping replication slot ", cfg_.slot_name, " to snapshot with a new one");
    RMQC_ASSIGN_OR_RETURN(ResPtr d, exec_params(conn_.get(), "SELECT pg_drop_replication_slot($1)",
                                                {cfg_.slot_name}, "dropping the slot"));
    slot_exists = false;
    slot_flush = 0;
  }

  repl_.reset(PQconnectdb(cfg_.conninfo(true).c_str()));
  if (PQstatus(repl_.get()) != CONNECTION_OK) {
    const std::string m = trim(PQerrorMessage(repl_.get()));
    const std::string text = "opening a replication connection: " + m;
    if (m.find("replication") != std::string::npos || m.find("pg_hba") != std::string::npos) {
      return Error::fatal(ErrorCode::kPermissionDenied,
                          text +
                              " (the user needs the REPLICATION attribute and a pg_hba.conf "
                              "entry that allows it a replication connection)");
    }
    return Error::retriable(ErrorCode::kUnavailable, text);
  }
  RMQC_ASSIGN_OR_RETURN(ResPtr ident, exec(repl_.get(), "IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM"));
  std::string snapshot_name;
  Lsn consistent_point = 0;
  if (!slot_exists) {
    RMQC_ASSIGN_OR_RETURN(
        ResPtr created,
        exec(repl_.get(),
             "CREATE_REPLICATION_SLOT " + quote_ident(cfg_.slot_name) + " LOGICAL pgoutput " +
                 (want_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT"),
             "creating replication slot " + cfg_.slot_name));
    RMQC_ASSIGN_OR_RETURN(consistent_point, parse_lsn(cell(created.get(), 0, 1)));
    snapshot_name = cell(created.get(), 0, 2);
    log().info("created replication slot ", cfg_.slot_name, " at ", format_lsn(consistent_point));
  }
  // Never report a flush position below what the slot already confirmed.
  Lsn expected = o_.confirmed_.load();
  while (slot_flush > expected && !o_.confirmed_.compare_exchange_weak(expected, slot_flush)) {
  }
  if (want_snapshot) {
    RMQC_RETURN_IF_ERROR(snapshot(snapshot_name, consistent_point, tables));
    if (o_.stopping_.load()) return ok_result();
  }
  o_.snapshot_settled_ = true;  // a reconnect streams on, it never snapshots again
  if (mode == SnapshotMode::kInitialOnly) {
    // No streaming follows: a slot left behind would keep WAL on the server forever.
    repl_.reset();
    for (int i = 0; i < 100 && !o_.stopping_.load(); ++i) {
      RMQC_ASSIGN_OR_RETURN(
          ResPtr left,
          exec_params(conn_.get(),
                      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                      "WHERE slot_name = $1 AND NOT active",
                      {cfg_.slot_name}, "dropping the slot after the snapshot"));
      if (PQntuples(left.get()) == 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    log().info("snapshot.mode=initial_only: not streaming");
    while (!o_.stopping_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return ok_result();
  }
  return stream(std::max(slot_exists ? slot_flush : consistent_point, o_.confirmed_.load()));
}

// --- the reader
// ------------------------------------------------------------------------------------

PgChangeReader::PgChangeReader(PostgresCdcConfig config, RecordPartition partition,
                               std::optional<RecordOffset> committed,
                               ChangeQueue<PgQueueBatch>& queue)
    : config_(std::move(config)),
      partition_(std::move(partition)),
      committed_(std::move(committed)),
      queue_(queue),
      incremental_(config_.incremental, config_.common.prefix) {
  if (committed_) incremental_.restore(*committed_);
}

PgChangeReader::~PgChangeReader() {
  stop();
}

void PgChangeReader::start() {
  thread_ = std::thread([this, thread_name = reader_thread_name("r:cdc-postgres")] {
    name_reader_thread(thread_name);
    run();
  });
}

void PgChangeReader::stop() {
  stopping_.store(true);
  if (thread_.joinable()) thread_.join();
}

void PgChangeReader::confirm(Lsn lsn) {
  Lsn expected = confirmed_.load();
  while (lsn > expected) {
    if (confirmed_.compare_exchange_weak(expected, lsn)) {
      confirm_pending_.store(true);
      return;
    }
  }
}

void PgChangeReader::run() {
  if (committed_ && !offset_bool(*committed_, kSnapshotField)) {
    emitted_commit_ = offset_int(*committed_, kLsnCommitField, -1);
    emitted_seq_ = offset_int(*committed_, kEventSeqField, -1);
  }
  std::int64_t backoff_ms = 500;
  while (!stopping_.load()) {
    Result<void> r = ok_result();
    try {
      Session session(*this);
      r = session.run();
      session.finish();
    } catch (const std::exception& e) {
      // Nothing the database sends may take the worker down: the task fails instead.
      r = Error::fatal(ErrorCode::kInternal, std::string("unexpected error: ") + e.what());
    }
    if (stopping_.load()) break;
    if (r.ok()) continue;
    if (r.error().is_fatal()) {
      log().error("postgres-cdc: ", r.error().message());
      queue_.fail(r.error().message());
      break;
    }
    log().warn("postgres-cdc: ", r.error().message(), "; reconnecting in ", backoff_ms, " ms");
    for (std::int64_t waited = 0; waited < backoff_ms && !stopping_.load(); waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff_ms = std::min<std::int64_t>(backoff_ms * 2, config_.common.connect_backoff_max_ms);
  }
  if (stopping_.load() && config_.slot_drop_on_stop) {
    ConnPtr conn(PQconnectdb(config_.conninfo(false).c_str()));
    if (PQstatus(conn.get()) == CONNECTION_OK) {
      for (int i = 0; i < 100; ++i) {
        auto r = exec_params(conn.get(),
                             "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                             "WHERE slot_name = $1 AND NOT active",
                             {config_.slot_name}, "dropping the slot");
        auto left =
            exec_params(conn.get(), "SELECT 1 FROM pg_replication_slots WHERE slot_name = $1",
                        {config_.slot_name}, "reading the slot");
        if (left.ok() && PQntuples(left->get()) == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
}

}  // namespace rmqc::connectors::cdc::postgres
