#include "cdc/postgres/postgres_cdc_connector.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include "cdc/common/envelope.h"
#include "cdc/postgres/pg_reader.h"

#include <algorithm>
#include <cctype>

namespace rmqc::connectors::cdc::postgres {
namespace {

const Logger& log() {
  static const Logger logger("postgres-cdc");
  return logger;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A libpq conninfo value, single-quoted.
std::string conn_value(std::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::int64_t offset_int(const RecordOffset& offset, std::string_view field) {
  const Value* v = offset.find(field);
  if (!v) return 0;
  if (v->kind() == Value::Kind::kInt64) return v->as_int64();
  if (v->kind() == Value::Kind::kInt32) return v->as_int32();
  return 0;
}

}  // namespace

std::string PostgresCdcConfig::conninfo(bool replication) const {
  std::string s = "host=" + conn_value(common.hostname) + " port=" + std::to_string(common.port) +
                  " dbname=" + conn_value(dbname) + " user=" + conn_value(common.user);
  if (!common.password.empty()) s += " password=" + conn_value(common.password);
  if (!sslmode.empty()) s += " sslmode=" + conn_value(sslmode);
  const std::int64_t timeout_s =
      std::max<std::int64_t>(2, (common.connect_timeout_ms + 999) / 1000);
  s += " connect_timeout=" + std::to_string(timeout_s);
  s += " application_name=" + conn_value("rmqc-cdc-" + slot_name);
  // The text forms pg_types.cc parses, for the snapshot and for pgoutput in the walsender.
  s += " options=" + conn_value(
                         "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 "
                         "-c extra_float_digits=3 -c bytea_output=hex");
  if (replication) s += " replication=database";
  return s;
}

ConfigDef PostgresCdcConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef d = common_config_def(5432, "schema", "shared", "adaptive");
  ConfigDef pg;
  pg.define(std::string(kDbnameConfig), T::kString, std::nullopt, I::kHigh,
            "The database to capture (one per connector).", validators::non_empty())
      .define(
          std::string(kSslModeConfig), T::kString, "prefer", I::kLow,
          "libpq sslmode: disable, allow, prefer, require, verify-ca or verify-full.",
          validators::one_of({"disable", "allow", "prefer", "require", "verify-ca", "verify-full"}))
      .define(std::string(kSlotNameConfig), T::kString, "debezium", I::kMedium,
              "The logical replication slot the connector streams from (created when missing; "
              "one per connector).",
              validators::non_empty())
      .define(std::string(kSlotDropOnStopConfig), T::kBoolean, "false", I::kLow,
              "Drop the slot when the task stops (testing only: the server then forgets the "
              "position and a restart snapshots again).")
      .define(std::string(kSlotMaxRetriesConfig), T::kInt, "6", I::kLow,
              "How often to retry when the slot is in use by another connection before failing.",
              validators::at_least(0))
      .define(std::string(kSlotRetryDelayConfig), T::kLong, "10000", I::kLow,
              "Milliseconds between those retries.", validators::at_least(0))
      .define(std::string(kPublicationNameConfig), T::kString, "dbz_publication", I::kMedium,
              "The publication pgoutput streams (created per publication.autocreate.mode).",
              validators::non_empty())
      .define(std::string(kPublicationAutocreateConfig), T::kString, "all_tables", I::kMedium,
              "all_tables: create the publication FOR ALL TABLES when missing (superuser); "
              "filtered: create it for the captured tables, and set its tables at every start; "
              "disabled: the publication must exist.",
              validators::one_of({"all_tables", "disabled", "filtered"}))
      .define(std::string(kPluginNameConfig), T::kString, "pgoutput", I::kMedium,
              "The logical decoding plugin: pgoutput, PostgreSQL's built-in one (the only one "
              "supported).",
              [](std::string_view v) -> std::optional<std::string> {
                if (lower(v) == "pgoutput") return std::nullopt;
                return "only pgoutput (built into PostgreSQL 10+) is supported, not '" +
                       std::string(v) + "': set plugin.name=pgoutput";
              })
      .define(std::string(kSnapshotLockingModeConfig), T::kString, "shared", I::kMedium,
              "shared: the snapshot holds ACCESS SHARE locks on the captured tables (no DDL "
              "while it reads them); none: no locks of its own (the table being read is locked "
              "by its read).",
              [](std::string_view v) -> std::optional<std::string> {
                const std::string mode = lower(v);
                if (mode == "shared" || mode == "none") return std::nullopt;
                if (mode == "custom") {
                  return std::string(
                      "custom needs a Java SnapshotLock implementation "
                      "(snapshot.locking.mode.custom.name), which this runtime cannot load: set "
                      "shared or none");
                }
                return "must be one of shared, none, not '" + std::string(v) + "'";
              })
      .define(std::string(kStatusUpdateIntervalConfig), T::kLong, "10000", I::kLow,
              "Milliseconds between standby status updates to the server (the flushed position "
              "is also sent as soon as it moves).",
              validators::at_least(10));
  d.merge(pg);
  define_incremental_snapshot_keys(d);
  return d;
}

Result<PostgresCdcConfig> parse_postgres_config(const KeyValue& raw) {
  auto parsed = PostgresCdcConnector::definition().parse(raw);
  if (!parsed.ok()) return parsed.error();
  const KeyValue& config = *parsed;
  PostgresCdcConfig c;
  auto common = parse_common_config(config, "schema");
  if (!common.ok()) return common.error();
  c.common = std::move(common).value();
  c.dbname = config.get_string(kDbnameConfig);
  c.sslmode = config.get_string(kSslModeConfig, "prefer");
  c.slot_name = config.get_string(kSlotNameConfig, "debezium");
  c.slot_drop_on_stop = config.get_bool(kSlotDropOnStopConfig, false);
  c.slot_max_retries = config.get_int(kSlotMaxRetriesConfig, 6);
  c.slot_retry_delay_ms = config.get_long(kSlotRetryDelayConfig, 10000);
  c.publication_name = config.get_string(kPublicationNameConfig, "dbz_publication");
  const std::string mode = lower(config.get_string(kPublicationAutocreateConfig, "all_tables"));
  c.publication_autocreate = mode == "disabled"   ? PublicationAutocreate::kDisabled
                             : mode == "filtered" ? PublicationAutocreate::kFiltered
                                                  : PublicationAutocreate::kAllTables;
  c.status_update_interval_ms = config.get_long(kStatusUpdateIntervalConfig, 10000);
  auto incremental = parse_incremental_snapshot_config(config);
  if (!incremental.ok()) return incremental.error();
  c.incremental = std::move(incremental).value();
  for (char ch : c.slot_name) {
    if (!(std::islower(static_cast<unsigned char>(ch)) ||
          std::isdigit(static_cast<unsigned char>(ch)) || ch == '_')) {
      return Error(ErrorCode::kInvalidConfig,
                   "slot.name '" + c.slot_name +
                       "': PostgreSQL slot names may only contain lower case letters, digits "
                       "and underscores");
    }
  }
  return c;
}

// --- the connector
// --------------------------------------------------------------------------------

void PostgresCdcConnector::validate(const KeyValue& config) {
  auto parsed = parse_postgres_config(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
}

void PostgresCdcConnector::start(const KeyValue& config) {
  validate(config);
  config_ = config;
}

std::vector<KeyValue> PostgresCdcConnector::task_configs(int max_tasks) {
  if (max_tasks < 1) return {};
  return {config_};  // one slot, one reader: one task, as Debezium
}

std::string PostgresCdcConnector::task_class() const {
  return "org.apache.rocketmq.connect.debezium.postgres.DebeziumPostgresTask";
}

std::unique_ptr<Task> PostgresCdcConnector::create_task() const {
  return std::make_unique<PostgresCdcTask>();
}

// --- the task
// ---------------------------------------------------------------------------------------

PostgresCdcTask::PostgresCdcTask() = default;

PostgresCdcTask::~PostgresCdcTask() {
  if (reader_) reader_->stop();
}

void PostgresCdcTask::start(const KeyValue& config) {
  auto parsed = parse_postgres_config(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  config_ = std::move(parsed).value();
  partition_ = RecordPartition{{std::string(kServerPartitionField), Value(config_.common.prefix)}};
  std::optional<RecordOffset> committed;
  if (context()) committed = context()->offset_storage_reader().read_offset(partition_);
  if (committed) {
    log().info("resuming ", config_.common.prefix, " at lsn_commit ",
               format_lsn(static_cast<Lsn>(offset_int(*committed, kLsnCommitField))));
    last_offset_ = committed;
  }
  queue_ = std::make_unique<ChangeQueue<PgQueueBatch>>(std::max<std::size_t>(
      1, (static_cast<std::size_t>(std::max(1, config_.common.max_queue_size)) + kQueueBatch - 1) /
             kQueueBatch));
  wake_target_.store(queue_.get());
  reader_ = std::make_unique<PgChangeReader>(config_, partition_, committed, *queue_);
  reader_->start();
  next_heartbeat_ = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(config_.common.heartbeat_interval_ms);
}

std::vector<ConnectRecord> PostgresCdcTask::poll() {
  if (!queue_) return {};
  auto reporter = [&] {
    return context() != nullptr ? context()->error_record_reporter() : nullptr;
  };
  // Records after an undecodable change wait for the poll() after the one that returned the
  // records before it (docs/connectors/cdc.md, "Undecodable events").
  if (!undecodable_.empty()) return undecodable_.take(reporter(), "PostgreSQL CDC");
  const auto max = static_cast<std::size_t>(std::max(1, config_.common.max_batch_size));
  if (ready_.size() < max) {
    // Wait only when nothing is ready.
    // Wait only when nothing is ready, in steps, so a reader failure or a wakeup() ends the
    // wait at once (the queue's wait does not end on a failure).
    const auto deadline =
        std::chrono::steady_clock::now() +
        (ready_.empty() ? std::chrono::milliseconds(config_.common.poll_interval_ms)
                        : std::chrono::milliseconds(0));
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto batches = queue_->drain(
          (max - ready_.size()) / kQueueBatch + 1,
          std::clamp(left, std::chrono::milliseconds(0), std::chrono::milliseconds(100)));
      for (auto& batch : batches) {
        for (auto& item : batch) ready_.push_back(std::move(item));
      }
      if (!ready_.empty() || woken_.exchange(false) || queue_->error() ||
          std::chrono::steady_clock::now() >= deadline) {
        break;
      }
    }
  }
  const bool drained_nothing = ready_.empty();
  std::vector<ConnectRecord> out;
  out.reserve(std::min(max, ready_.size()));
  while (!ready_.empty() && out.size() < max) {
    PgQueueItem item = std::move(ready_.front());
    ready_.pop_front();
    if (!item.record) {
      pending_.push_back(Pending{false, 0, 0, item.flush_lsn});
      continue;
    }
    const auto& offset = item.record->position.offset;
    const std::int64_t commit = offset.find(kLsnCommitField) ? offset_int(offset, kLsnCommitField)
                                                             : offset_int(offset, kLsnField);
    pending_.push_back(Pending{true, commit, offset_int(offset, kEventSeqField), 0});
    out.push_back(std::move(*item.record));
  }
  if (!out.empty()) last_offset_ = out.back().position.offset;
  if (drained_nothing) {
    if (auto error = queue_->error()) throw ConnectException("postgres-cdc: " + *error);
  }
  // Heartbeats on a quiet stream keep the committed position (and the slot) moving.
  if (config_.common.heartbeat_interval_ms > 0 &&
      std::chrono::steady_clock::now() >= next_heartbeat_) {
    next_heartbeat_ = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(config_.common.heartbeat_interval_ms);
    const std::int64_t now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
    std::optional<RecordOffset> at = last_offset_;
    if (!at && reader_ && reader_->stream_start() != 0) {
      // No record yet (a no_data connector on a quiet database): the position the stream
      // started at, or past it what the server reported with nothing captured before it.
      // Every transaction committed before it is done, so a restart from it loses nothing.
      const auto lsn =
          static_cast<std::int64_t>(std::max(reader_->stream_start(), acked_flush_lsn_));
      at = RecordOffset(RecordOffset::Map{
          {std::string(kLsnField), Value(lsn)},
          {std::string(kLsnProcField), Value(lsn)},
          {std::string(kLsnCommitField), Value(lsn)},
          {std::string(kTsUsecField), Value(now_us)},
      });
    }
    if (at) {
      const std::int64_t commit =
          at->find(kLsnCommitField) ? offset_int(*at, kLsnCommitField) : offset_int(*at, kLsnField);
      pending_.push_back(Pending{true, commit, offset_int(*at, kEventSeqField), 0});
      out.push_back(
          heartbeat_record(config_.common.prefix, now_us / 1000, partition_, std::move(*at)));
    }
  }
  // Markers with no record before them: every record up to there is acknowledged already.
  const bool settled_before = pending_.empty() || !pending_.front().is_record;
  release_markers();
  if (settled_before && !acked_since_commit_ && reader_) reader_->confirm(acked_flush_lsn_);
  if (UndecodableSplitter::any(out)) {
    undecodable_.add(std::move(out));
    return undecodable_.take(reporter(), "PostgreSQL CDC");
  }
  return out;
}

void PostgresCdcTask::release_markers() {
  while (!pending_.empty() && !pending_.front().is_record) {
    acked_flush_lsn_ = std::max(acked_flush_lsn_, pending_.front().flush_lsn);
    pending_.pop_front();
  }
}

void PostgresCdcTask::commit(const ConnectRecord& record, const RecordMetadata& metadata) {
  (void)metadata;
  const auto& offset = record.position.offset;
  const std::int64_t commit = offset.find(kLsnCommitField) ? offset_int(offset, kLsnCommitField)
                                                           : offset_int(offset, kLsnField);
  const std::int64_t seq = offset_int(offset, kEventSeqField);
  // Acknowledgements come in poll order: everything up to this record is done (records a
  // transform dropped are never acknowledged themselves).
  auto it = std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) {
    return p.is_record && p.lsn_commit == commit && p.seq == seq;
  });
  if (it == pending_.end()) return;
  for (auto p = pending_.begin(); p != std::next(it); ++p) {
    if (!p->is_record) acked_flush_lsn_ = std::max(acked_flush_lsn_, p->flush_lsn);
  }
  pending_.erase(pending_.begin(), std::next(it));
  release_markers();
  acked_since_commit_ = true;
}

void PostgresCdcTask::commit() {
  // The positions of every acknowledged record are stored: the slot may forget what they cover.
  acked_since_commit_ = false;
  if (reader_) reader_->confirm(acked_flush_lsn_);
}

void PostgresCdcTask::stop() {
  if (reader_) reader_->stop();
  if (queue_) queue_->close();
}

void PostgresCdcTask::wakeup() {
  woken_.store(true);
  if (auto* q = wake_target_.load()) q->wake();
}

Lsn PostgresCdcTask::confirmed_flush_lsn() const {
  return reader_ ? reader_->confirmed() : 0;
}

}  // namespace rmqc::connectors::cdc::postgres
