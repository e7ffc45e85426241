#include "jdbc/sink/jdbc_sink_task.h"

#include "rmqc/api/errors.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>

namespace rmqc::connectors::jdbc {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "topic queue 3 offset 17": where a record came from, for messages.
std::string describe_record(const ConnectRecord& record) {
  std::string out = "record of topic '" + std::string(record.topic()) + "'";
  if (const Value* q = record.position.partition.find("queueId")) out += " queue " + q->to_string();
  if (const Value* o = record.position.offset.find("queueOffset")) {
    out += " offset " + o->to_string();
  }
  return out;
}

std::size_t key_hash(const MappedRow& row) {
  std::size_t h = 0;
  for (std::size_t i = 0; i < row.shape->key_count && i < row.params.size(); ++i) {
    h = h * 1000003u ^ row.params[i].value.hash();
  }
  return h;
}

}  // namespace

JdbcSinkTask::JdbcSinkTask() : JdbcSinkTask(DialectRegistry::installed()) {}

JdbcSinkTask::JdbcSinkTask(std::shared_ptr<const DialectRegistry> dialects)
    : dialects_(std::move(dialects)) {}

JdbcSinkTask::~JdbcSinkTask() = default;

void JdbcSinkTask::start(const KeyValue& config) {
  auto parsed = JdbcSinkConfig::parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  config_ = std::move(parsed).value();
  if (!dialects_) throw ConnectException("JDBC sink: no dialects are registered");
  auto settings = connection_settings(config, *dialects_);
  if (!settings.ok()) throw ConnectException(settings.error().message());
  settings_ = std::move(settings).value();
  dialect_ = settings_.dialect;
  const std::string dialect_name = lower(dialect_->name());
  mapper_.emplace(config_, dialect_name.find("mysql") != std::string::npos);
  tables_.clear();
  tables_by_name_.clear();
  sql_cache_.clear();
  bulk_supported_ = true;
  // Connect now so bad credentials or a missing database fail the task at start.
  auto c = connection();
  if (!c.ok()) {
    if (c.error().code() == ErrorCode::kCancelled) return;
    if (!c.error().is_retriable()) throw ConnectException(c.error().message());
    log_.warn("cannot connect yet (retried when records come): ", c.error().message());
  }
  log_.info("JDBC sink started: ", dialect_->name(), ", insert.mode ",
            config_.insert_mode == InsertMode::kInsert   ? "insert"
            : config_.insert_mode == InsertMode::kUpsert ? "upsert"
                                                         : "update",
            ", pk.mode ", pk_mode_name(config_.pk_mode), ", batch.size ", config_.batch_size);
}

void JdbcSinkTask::stop() {
  const std::size_t left = pending_rows();
  if (left > 0) {
    log_.info(left, " rows were put but not written; their records are delivered again");
  }
  tables_.clear();
  tables_by_name_.clear();
  drop_connection();
}

void JdbcSinkTask::wakeup() {
  signal_.notify();
  std::lock_guard lock(connection_mutex_);
  if (conn_) conn_->cancel();
}

std::size_t JdbcSinkTask::pending_rows() const {
  std::size_t n = 0;
  for (const auto& t : tables_) {
    for (const auto& b : t->batches) n += b.rows.size();
  }
  return n;
}

// --- put ---------------------------------------------------------------------------------

JdbcSinkTask::TableState& JdbcSinkTask::table_state(const std::string& name) {
  auto it = tables_by_name_.find(name);
  if (it != tables_by_name_.end()) return *it->second;
  auto state = std::make_unique<TableState>();
  state->name = name;
  state->id = mapper_->table_id(name);
  TableState* raw = state.get();
  tables_.push_back(std::move(state));
  tables_by_name_.emplace(name, raw);
  return *raw;
}

void JdbcSinkTask::append(TableState& table, Pending pending) {
  const RowShape& shape = *pending.row.shape;
  const bool upsert = shape.op == RowOp::kWrite && config_.insert_mode == InsertMode::kUpsert;
  Batch* batch = table.batches.empty() ? nullptr : &table.batches.back();
  std::size_t hash = 0;
  if (upsert) hash = key_hash(pending.row);
  if (batch == nullptr || batch->rows.size() >= static_cast<std::size_t>(config_.batch_size) ||
      !batch->shape->same_columns(shape) || (upsert && batch->key_hashes.contains(hash))) {
    table.batches.emplace_back();
    batch = &table.batches.back();
    batch->shape = pending.row.shape;
    batch->rows.reserve(static_cast<std::size_t>(config_.batch_size));
  }
  if (upsert) batch->key_hashes.insert(hash);
  batch->rows.push_back(std::move(pending));
}

void JdbcSinkTask::put(std::vector<ConnectRecord>& records) {
  if (!mapper_) throw ConnectException("JdbcSinkTask: put() before start()");
  std::string last_name;
  TableState* last_table = nullptr;
  for (auto& record : records) {
    std::string name = mapper_->table_name(record);
    if (last_table == nullptr || name != last_name) {
      if (!mapper_->table_allowed(name)) {
        log_.debug("skipped a ", describe_record(record), ": table '", name,
                   "' is not in tables.whitelist");
        continue;
      }
      last_table = &table_state(name);
      last_name = std::move(name);
    }
    Pending pending{std::move(record), {}};
    auto mapped = mapper_->map(pending.record, pending.row);
    if (!mapped.ok()) {
      RecordMapper::restore(pending.record, pending.row);
      reject(pending, last_table->name, mapped.error().message());
      continue;
    }
    if (!*mapped) {
      log_.debug("skipped a ", describe_record(pending.record),
                 ": a null value (tombstone) while delete.enabled is false");
      continue;
    }
    append(*last_table, std::move(pending));
  }
  records.clear();
  write_pending();
}

void JdbcSinkTask::flush(const OffsetMap& /*current_offsets*/) {
  if (!mapper_) return;
  if (!write_pending()) {
    throw RetriableException("JDBC sink: woken before " + std::to_string(pending_rows()) +
                             " rows were written");
  }
}

OffsetMap JdbcSinkTask::pre_commit(const OffsetMap& current_offsets) {
  if (mapper_) write_pending();
  OffsetMap out = current_offsets;
  if (pending_rows() == 0) return out;
  // Rows not committed yet: their queues commit only up to the first of them.
  std::unordered_map<RecordPartition, std::int64_t, RecordPartitionHash> first;
  std::unordered_set<RecordPartition, RecordPartitionHash> unknown;
  for (const auto& t : tables_) {
    for (const auto& b : t->batches) {
      for (const auto& p : b.rows) {
        const auto& partition = p.record.position.partition;
        std::int64_t offset = 0;
        const Value* at = p.record.position.offset.find("queueOffset");
        if (at == nullptr || !at->to_int64(offset)) {
          unknown.insert(partition);  // not a queue offset: commit nothing of that queue
          continue;
        }
        auto [it, inserted] = first.try_emplace(partition, offset);
        if (!inserted) it->second = std::min(it->second, offset);
      }
    }
  }
  for (const auto& partition : unknown) out.erase(partition);
  for (const auto& [partition, offset] : first) {
    if (unknown.contains(partition)) continue;
    auto it = out.find(partition);
    if (it != out.end()) it->second = RecordOffset{{"queueOffset", Value(offset)}};
  }
  return out;
}

void JdbcSinkTask::reject(Pending& pending, const std::string& table, const std::string& error) {
  const std::string message =
      "table '" + table + "' rejected the " + describe_record(pending.record) + ": " + error;
  ErrorRecordReporter* reporter = context() ? context()->error_record_reporter() : nullptr;
  if (reporter == nullptr) throw ConnectException("JDBC sink: " + message);
  log_.warn(message, " (sent to the error reporter)");
  reporter->report(pending.record, message);
}

// --- writing -----------------------------------------------------------------------------

bool JdbcSinkTask::write_pending() {
  try {
    for (auto& t : tables_) {
      while (!t->batches.empty()) {
        write_batch(*t, t->batches.front());
        t->batches.pop_front();
      }
    }
    return true;
  } catch (const Woken&) {
    log_.debug("woken with ", pending_rows(), " rows not written yet");
    return false;
  }
}

void JdbcSinkTask::write_batch(TableState& table, Batch& batch) {
  int failures = 0;
  while (true) {
    auto r = try_batch(table, batch);
    if (r.ok()) return;
    const Error& e = r.error();
    rollback_quietly();
    if (e.code() == ErrorCode::kCancelled) {
      drop_connection();
      throw Woken{};
    }
    if (e.is_retriable()) {
      retry_or_fail(
          failures, e,
          "writing " + std::to_string(batch.rows.size()) + " rows to '" + table.name + "'");
      continue;
    }
    log_.debug("batch of ", batch.rows.size(), " rows into '", table.name,
               "' failed, writing it row by row: ", e.message());
    write_rows_one_by_one(table, batch);
    return;
  }
}

void JdbcSinkTask::write_rows_one_by_one(TableState& table, Batch& batch) {
  std::size_t done = 0;
  const auto forget_done = [&] {
    batch.rows.erase(batch.rows.begin(), batch.rows.begin() + static_cast<std::ptrdiff_t>(done));
  };
  try {
    for (; done < batch.rows.size(); ++done) {
      Pending& row = batch.rows[done];
      int failures = 0;
      while (true) {
        auto r = try_row(table, *row.row.shape, row);
        if (r.ok()) break;
        const Error& e = r.error();
        rollback_quietly();
        if (e.code() == ErrorCode::kCancelled) {
          drop_connection();
          throw Woken{};
        }
        if (e.is_retriable()) {
          retry_or_fail(failures, e, "writing a row to '" + table.name + "'");
          continue;
        }
        RecordMapper::restore(row.record, row.row);
        reject(row, table.name, e.message());
        break;
      }
    }
  } catch (...) {
    forget_done();
    throw;
  }
  forget_done();
}

void JdbcSinkTask::retry_or_fail(int& failures, const Error& error, const std::string& what) {
  drop_connection();
  ++failures;
  if (failures > config_.max_retries) {
    throw ConnectException("JDBC sink: " + what + " failed " + std::to_string(failures) +
                           " times (max.retries " + std::to_string(config_.max_retries) +
                           "): " + error.message());
  }
  log_.warn(what, " failed (retry ", failures, " of ", config_.max_retries, " in ",
            config_.retry_backoff_ms, " ms): ", error.message());
  if (signal_.wait_for(std::chrono::milliseconds(config_.retry_backoff_ms))) throw Woken{};
}

Result<void> JdbcSinkTask::try_batch(TableState& table, Batch& batch) {
  RMQC_ASSIGN_OR_RETURN(Connection * conn, connection());
  RMQC_RETURN_IF_ERROR(ensure_table(table, *batch.shape));
  if (!table.exists) {
    // Deletes for a table that does not exist (auto.create): nothing to delete.
    return {};
  }
  RMQC_RETURN_IF_ERROR(conn->begin());
  RMQC_RETURN_IF_ERROR(execute_rows(table, *batch.shape, batch.rows.data(), batch.rows.size()));
  return conn->commit();
}

Result<void> JdbcSinkTask::try_row(TableState& table, const RowShape& shape, Pending& row) {
  RMQC_ASSIGN_OR_RETURN(Connection * conn, connection());
  RMQC_RETURN_IF_ERROR(ensure_table(table, shape));
  if (!table.exists) return {};
  RMQC_RETURN_IF_ERROR(conn->begin());
  RMQC_RETURN_IF_ERROR(execute_rows(table, shape, &row, 1));
  return conn->commit();
}

const std::string& JdbcSinkTask::insert_statement(const TableState& table, const RowShape& shape,
                                                  InsertMode mode, int rows) {
  cache_key_.clear();
  cache_key_ += table.name;
  cache_key_ += '\x1f';
  cache_key_ += static_cast<char>('0' + static_cast<int>(mode));
  cache_key_ += std::to_string(rows);
  for (const auto& c : shape.columns) {
    cache_key_ += '\x1f';
    cache_key_ += c.name;
  }
  cache_key_ += '\x1e';
  cache_key_ += std::to_string(shape.key_count);
  auto it = sql_cache_.find(cache_key_);
  if (it != sql_cache_.end()) return it->second;
  if (sql_cache_.size() > 4096) sql_cache_.clear();
  std::string sql;
  if (mode == InsertMode::kUpdate) {
    sql =
        dialect_->update_sql(table.id, shape.columns, shape.key_names, settings_.quote_identifiers);
  } else if (shape.op == RowOp::kDelete) {
    std::vector<ColumnDef> keys(
        shape.columns.begin(),
        shape.columns.begin() + static_cast<std::ptrdiff_t>(shape.key_count));
    sql = dialect_->delete_sql(table.id, keys, settings_.quote_identifiers);
  } else {
    sql = dialect_->insert_sql(table.id, shape.columns, shape.key_names, mode, rows,
                               settings_.quote_identifiers);
  }
  return sql_cache_.emplace(cache_key_, std::move(sql)).first->second;
}

Result<void> JdbcSinkTask::execute_rows(TableState& table, const RowShape& shape, Pending* rows,
                                        std::size_t count) {
  Connection* conn = conn_.get();
  if (shape.op == RowOp::kDelete) {
    const std::string& sql = insert_statement(table, shape, InsertMode::kInsert, -1);
    for (std::size_t i = 0; i < count; ++i) {
      auto r = conn->execute(sql, rows[i].row.params);
      if (!r.ok()) return std::move(r).error();
    }
    return {};
  }
  if (config_.insert_mode == InsertMode::kUpdate) {
    const std::string& sql = insert_statement(table, shape, InsertMode::kUpdate, 1);
    // update_sql numbers the non-key columns first, then the keys.
    for (std::size_t i = 0; i < count; ++i) {
      auto& params = rows[i].row.params;
      flat_.clear();
      for (std::size_t j = shape.key_count; j < params.size(); ++j) {
        flat_.push_back(std::move(params[j]));
      }
      for (std::size_t j = 0; j < shape.key_count; ++j) flat_.push_back(std::move(params[j]));
      auto r = conn->execute(sql, flat_);
      std::size_t at = 0;
      for (std::size_t j = shape.key_count; j < params.size(); ++j) {
        params[j] = std::move(flat_[at++]);
      }
      for (std::size_t j = 0; j < shape.key_count; ++j) params[j] = std::move(flat_[at++]);
      if (!r.ok()) return std::move(r).error();
      if (*r == 0) {
        log_.debug("update of a ", describe_record(rows[i].record), " in '", table.name,
                   "' matched no row");
      }
    }
    return {};
  }
  if (config_.insert_mode == InsertMode::kInsert && bulk_supported_ && count > 1) {
    bulk_rows_.resize(count);
    for (std::size_t i = 0; i < count; ++i) bulk_rows_[i] = std::move(rows[i].row.params);
    auto r = conn->bulk_insert(table.id, shape.columns, bulk_rows_);
    for (std::size_t i = 0; i < count; ++i) rows[i].row.params = std::move(bulk_rows_[i]);
    if (r.ok()) return {};
    if (r.error().code() != ErrorCode::kUnsupported) return std::move(r).error();
    bulk_supported_ = false;
  }
  const std::size_t columns = std::max<std::size_t>(1, shape.columns.size());
  const std::size_t per_statement =
      std::max<std::size_t>(1, static_cast<std::size_t>(dialect_->max_parameters()) / columns);
  for (std::size_t from = 0; from < count; from += per_statement) {
    const std::size_t n = std::min(per_statement, count - from);
    const std::string& sql =
        insert_statement(table, shape, config_.insert_mode, static_cast<int>(n));
    flat_.clear();
    for (std::size_t i = from; i < from + n; ++i) {
      for (auto& p : rows[i].row.params) flat_.push_back(std::move(p));
    }
    auto r = conn->execute(sql, flat_);
    std::size_t at = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      for (auto& p : rows[i].row.params) p = std::move(flat_[at++]);
    }
    if (!r.ok()) return std::move(r).error();
  }
  return {};
}

// --- connection and tables ----------------------------------------------------------------

Result<Connection*> JdbcSinkTask::connection() {
  {
    std::lock_guard lock(connection_mutex_);
    if (conn_) return conn_.get();
  }
  auto opened = connect_with_retries(settings_, &signal_, log_);
  if (!opened.ok()) return std::move(opened).error();
  std::lock_guard lock(connection_mutex_);
  conn_ = std::move(opened).value();
  return conn_.get();
}

void JdbcSinkTask::drop_connection() {
  std::unique_ptr<Connection> old;
  {
    std::lock_guard lock(connection_mutex_);
    old = std::move(conn_);
  }
  // Descriptions may be stale after a reconnect (another task's DDL): read them again.
  for (auto& t : tables_) t->described = false;
}

void JdbcSinkTask::rollback_quietly() {
  if (!conn_) return;
  if (auto r = conn_->rollback(); !r.ok()) {
    log_.debug("rollback failed: ", r.error().message());
  }
}

Result<void> JdbcSinkTask::describe(TableState& table) {
  auto described = conn_->describe_table(table.id);
  if (!described.ok()) {
    if (described.error().code() != ErrorCode::kNotFound) return std::move(described).error();
    table.exists = false;
    table.columns.clear();
    table.column_names.clear();
  } else {
    table.exists = true;
    table.columns = std::move(described).value();
    table.column_names.clear();
    for (const auto& c : table.columns) table.column_names.insert(lower(c.name));
  }
  table.described = true;
  return {};
}

Result<void> JdbcSinkTask::ensure_table(TableState& table, const RowShape& shape) {
  const bool quote = settings_.quote_identifiers;
  if (!table.described) RMQC_RETURN_IF_ERROR(describe(table));
  if (!table.exists) {
    if (shape.op == RowOp::kDelete && config_.auto_create) return {};
    if (!config_.auto_create) {
      throw ConnectException("JDBC sink: table '" + table.name +
                             "' does not exist (auto.create is false: create it, or set "
                             "auto.create=true)");
    }
    const std::string sql =
        dialect_->create_table_sql(table.id, shape.columns, shape.key_names, quote);
    log_.info("creating table '", table.name, "': ", sql);
    auto r = conn_->execute(sql);
    if (!r.ok()) {
      if (r.error().is_retriable()) return std::move(r).error();
      // Another task may have created it meanwhile.
      RMQC_RETURN_IF_ERROR(describe(table));
      if (!table.exists) {
        throw ConnectException("JDBC sink: could not create table '" + table.name +
                               "': " + r.error().message());
      }
    } else {
      RMQC_RETURN_IF_ERROR(describe(table));
      if (!table.exists) {
        throw ConnectException("JDBC sink: table '" + table.name +
                               "' is still missing after CREATE TABLE");
      }
    }
  }
  std::vector<ColumnDef> missing;
  std::vector<std::string> missing_names;
  for (std::size_t i = 0; i < shape.columns.size(); ++i) {
    if (table.column_names.contains(lower(shape.columns[i].name))) continue;
    missing_names.push_back(shape.columns[i].name);
    if (!config_.auto_evolve) continue;
    if (!shape.columns[i].nullable && !shape.has_default[i] && !shape.kind_unknown[i]) {
      throw ConnectException("JDBC sink: cannot add column '" + shape.columns[i].name +
                             "' to table '" + table.name +
                             "': its field is required and has no default (make the field "
                             "optional or add the column yourself)");
    }
    ColumnDef c = shape.columns[i];
    c.nullable = true;
    c.primary_key = false;
    missing.push_back(std::move(c));
  }
  if (missing_names.empty()) return {};
  if (!config_.auto_evolve) {
    std::string names;
    for (const auto& n : missing_names) names += (names.empty() ? "" : ", ") + n;
    throw ConnectException("JDBC sink: table '" + table.name + "' has no column(s) " + names +
                           " for the record's fields (auto.evolve is false)");
  }
  for (const std::string& sql : dialect_->add_columns_sql(table.id, missing, quote)) {
    log_.info("evolving table '", table.name, "': ", sql);
    auto r = conn_->execute(sql);
    if (!r.ok()) {
      if (r.error().is_retriable()) return std::move(r).error();
      log_.warn("ALTER TABLE failed (another task may have added the column): ",
                r.error().message());
    }
  }
  RMQC_RETURN_IF_ERROR(describe(table));
  for (const auto& c : missing) {
    if (!table.column_names.contains(lower(c.name))) {
      throw ConnectException("JDBC sink: could not add column '" + c.name + "' to table '" +
                             table.name + "'");
    }
  }
  return {};
}

}  // namespace rmqc::connectors::jdbc
