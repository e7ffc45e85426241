#include "cdc/mysql/mysql_cdc_connector.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/logging.h"

#include "cdc/mysql/binlog_reader.h"

#include <algorithm>
#include <chrono>
#include <functional>

namespace rmqc::connectors::cdc {
namespace {

const Logger& logger() {
  static const Logger log("cdc-mysql");
  return log;
}

KeyValue parse_or_throw(const KeyValue& config) {
  auto parsed = MysqlCdcConnector::definition().parse(config);
  if (!parsed.ok()) throw ConnectException(parsed.error().message());
  const std::string locking = parsed.value().get_string(kSnapshotLockingModeConfig);
  if (locking != "minimal" && locking != "extended" && locking != "none") {
    throw ConnectException("snapshot.locking.mode: '" + locking +
                           "' is not one of minimal, extended, none");
  }
  return std::move(parsed).value();
}

// database.server.id, or a stable id derived from the topic prefix (5400..6399, as Debezium's
// random default range) so that restarts re-register under the same id.
std::uint32_t server_id_of(const KeyValue& parsed, const std::string& prefix) {
  const std::int64_t configured = parsed.get_long(kServerIdConfig, 0);
  if (configured > 0) return static_cast<std::uint32_t>(configured);
  return static_cast<std::uint32_t>(5400 + std::hash<std::string>{}(prefix) % 1000);
}

}  // namespace

ConfigDef MysqlCdcConnector::definition() {
  using T = ConfigDef::Type;
  using I = ConfigDef::Importance;
  ConfigDef def = common_config_def(3306, "database", "minimal", "adaptive_time_microseconds");
  def.define(std::string(kServerIdConfig), T::kLong, "0", I::kHigh,
             "The replica server id the connector registers with when it reads the binlog; it "
             "must differ from every server and replica of the topology. 0: derived from "
             "topic.prefix (5400-6399).",
             validators::between(0, 4294967295.0));
  def.define(std::string(kHistoryTopicConfig), T::kString, "", I::kLow,
             "Debezium's schema history topic (old name). Accepted for compatibility: this "
             "connector needs no schema history, since every binlog TABLE_MAP event carries the "
             "table's columns (binlog_row_metadata=FULL).");
  def.define(std::string(kSchemaHistoryTopicConfig), T::kString, "", I::kLow,
             "Debezium's schema history topic. Accepted for compatibility and not used: table "
             "schemas come from the binlog's TABLE_MAP metadata (binlog_row_metadata=FULL).");
  def.define(std::string(kSchemaHistoryOnlyCapturedConfig), T::kBoolean, "false", I::kLow,
             "Debezium's schema history option; accepted and not used (no schema history is "
             "kept).");
  def.define(std::string(kSchemaHistorySkipUnparseableConfig), T::kBoolean, "false", I::kLow,
             "Debezium's schema history option; accepted and not used (DDL is not parsed).");
  define_incremental_snapshot_keys(def);
  return def;
}

void MysqlCdcConnector::validate(const KeyValue& config) {
  KeyValue parsed = parse_or_throw(config);
  auto common = parse_common_config(parsed, "database");
  if (!common.ok()) throw ConnectException(common.error().message());
  auto incremental = parse_incremental_snapshot_config(parsed);
  if (!incremental.ok()) throw ConnectException(incremental.error().message());
}

void MysqlCdcConnector::start(const KeyValue& config) {
  validate(config);
  config_ = config;
}

std::vector<KeyValue> MysqlCdcConnector::task_configs(int max_tasks) {
  if (max_tasks > 1) {
    logger().info("max.tasks=", max_tasks, ": a binlog is read by one task; starting one");
  }
  return {config_};
}

std::string MysqlCdcConnector::task_class() const {
  return "org.apache.rocketmq.connect.debezium.mysql.DebeziumMysqlTask";
}

std::unique_ptr<Task> MysqlCdcConnector::create_task() const {
  return std::make_unique<MysqlCdcTask>();
}

MysqlCdcTask::MysqlCdcTask() = default;

MysqlCdcTask::~MysqlCdcTask() {
  stop();
}

void MysqlCdcTask::start(const KeyValue& config) {
  KeyValue parsed = parse_or_throw(config);
  auto common = parse_common_config(parsed, "database");
  if (!common.ok()) throw ConnectException(common.error().message());
  config_ = std::move(common).value();

  mysql::ReaderOptions options;
  options.config = config_;
  options.server_id = server_id_of(parsed, config_.prefix);
  auto incremental = parse_incremental_snapshot_config(parsed);
  if (!incremental.ok()) throw ConnectException(incremental.error().message());
  options.incremental = std::move(incremental).value();
  if (context() != nullptr) {
    auto offset =
        context()->offset_storage_reader().read_offset(mysql::server_partition(config_.prefix));
    if (offset) {
      options.committed_offset = *offset;
      options.committed = mysql::position_from_offset(*offset);
      if (options.committed) {
        logger().info("resuming from ", options.committed->file, ":", options.committed->pos,
                      " event ", options.committed->event,
                      options.committed->snapshot ? " (unfinished snapshot)" : "");
      }
    }
  }
  // Batches of up to 256 records (fewer when max.batch.size is smaller); the queue holds about
  // max.queue.size records.
  batch_limit_ = static_cast<std::size_t>(std::clamp(config_.max_batch_size, 1, 256));
  options.batch_limit = batch_limit_;
  queue_ = std::make_shared<ChangeQueue<std::vector<ConnectRecord>>>(std::max<std::size_t>(
      1, static_cast<std::size_t>(std::max(1, config_.max_queue_size)) / batch_limit_));
  wake_queue_.store(queue_.get());
  reader_ = std::make_unique<mysql::BinlogReader>(std::move(options), queue_);
  reader_->start();
}

void MysqlCdcTask::stop() {
  if (queue_) queue_->close();
  // wake_queue_ keeps pointing at the closed queue (still owned) so a late wakeup() is harmless.
  if (reader_) {
    reader_->stop();
    reader_.reset();
  }
}

std::vector<ConnectRecord> MysqlCdcTask::poll() {
  if (!queue_) return {};
  auto reporter = [&] {
    return context() != nullptr ? context()->error_record_reporter() : nullptr;
  };
  // Records after an undecodable event wait for the poll() after the one that returned the
  // records before it (docs/connectors/cdc.md, "Undecodable events").
  if (!undecodable_.empty()) return undecodable_.take(reporter(), "MySQL CDC");
  // Waits up to poll.interval.ms for the first batch; wakeup() ends the wait early. At most
  // max.batch.size records: batches are at most batch_limit_ records.
  const std::size_t batches =
      std::max<std::size_t>(1, static_cast<std::size_t>(config_.max_batch_size) / batch_limit_);
  auto drained = queue_->drain(
      batches, std::chrono::milliseconds(std::max<std::int64_t>(1, config_.poll_interval_ms)));
  if (drained.empty()) {
    if (auto error = queue_->error()) throw ConnectException("MySQL CDC: " + *error);
    return {};
  }
  std::vector<ConnectRecord> records;
  if (drained.size() == 1) {
    records = std::move(drained.front());
  } else {
    std::size_t total = 0;
    for (const auto& b : drained) total += b.size();
    records.reserve(total);
    for (auto& b : drained) {
      for (auto& r : b) records.push_back(std::move(r));
    }
  }
  if (UndecodableSplitter::any(records)) {
    undecodable_.add(std::move(records));
    return undecodable_.take(reporter(), "MySQL CDC");
  }
  return records;
}

void MysqlCdcTask::wakeup() {
  if (auto* q = wake_queue_.load()) q->wake();
}

}  // namespace rmqc::connectors::cdc
