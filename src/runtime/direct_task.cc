#include "runtime/direct_task.h"

#include "rmqc/api/errors.h"

#include "base/logging.h"

namespace rmqc::runtime {
namespace {

constexpr auto kEmptyPollBackoff = std::chrono::milliseconds(50);
constexpr auto kRetryBackoff = std::chrono::milliseconds(500);

std::string_view simple_name(std::string_view class_name) {
  const auto dot = class_name.rfind('.');
  return dot == std::string_view::npos ? class_name : class_name.substr(dot + 1);
}

}  // namespace

bool direct_enabled(const KeyValue& connector_config) {
  return connector_config.get_string(kDirectEnableKey) == "true";
}

bool is_direct_task(const KeyValue& task_config) {
  return task_config.get_string(kTaskTypeKey) == kDirectTaskType;
}

Result<std::shared_ptr<Connector>> find_task_factory(const plugins::PluginRegistry& registry,
                                                     std::string_view name, PluginKind kind) {
  const bool source = kind == PluginKind::kSourceConnector;
  const std::string side = source ? "source" : "sink";
  const std::string key(source ? kSourceTaskClassKey : kSinkTaskClassKey);
  if (name.empty()) {
    return Error(ErrorCode::kInvalidConfig, key + " is required when connector.direct.enable=true");
  }
  auto create = [&](std::string_view connector) -> Result<std::shared_ptr<Connector>> {
    if (source) {
      RMQC_ASSIGN_OR_RETURN(auto c, registry.create_source_connector(connector));
      return std::shared_ptr<Connector>(std::move(c));
    }
    RMQC_ASSIGN_OR_RETURN(auto c, registry.create_sink_connector(connector));
    return std::shared_ptr<Connector>(std::move(c));
  };
  if (const auto* entry = registry.find(name)) {
    if (entry->kind == kind) return create(name);
    return Error(ErrorCode::kInvalidConfig, key + ": '" + std::string(name) + "' is a " +
                                                std::string(plugin_kind_name(entry->kind)) +
                                                " plugin, not a " + side + " connector or task");
  }
  for (const auto& entry : registry.list()) {
    if (entry.kind != kind) continue;
    auto connector = create(entry.descriptor.class_name);
    if (!connector.ok()) continue;
    std::string task_class;
    try {
      task_class = (*connector)->task_class();
    } catch (...) {
      continue;
    }
    if (task_class == name || simple_name(task_class) == name) return connector;
  }
  return Error(ErrorCode::kInvalidConfig,
               key + ": no " + side + " task class or " + side + " connector named '" +
                   std::string(name) +
                   "' (GET /connector-plugins lists the connectors; a task class is named as " +
                   "its connector's task_class(), or by its simple name)");
}

void stamp_direct_task_config(KeyValue& task_config, const KeyValue& connector_config) {
  for (const auto& [k, v] : connector_config) {
    if (k == kDirectEnableKey || k == kSourceTaskClassKey || k == kSinkTaskClassKey ||
        k.starts_with(kDirectSourcePrefix) || k.starts_with(kDirectSinkPrefix)) {
      task_config.put(k, v);
    }
  }
  task_config.put(std::string(kTaskTypeKey), std::string(kDirectTaskType));
}

KeyValue direct_side_config(const KeyValue& task_config, std::string_view prefix) {
  KeyValue out = task_config;
  for (const auto& [k, v] : task_config) {
    if (k.size() > prefix.size() && k.starts_with(prefix)) out.put(k.substr(prefix.size()), v);
  }
  return out;
}

// --- WorkerDirectTask ---

WorkerDirectTask::WorkerDirectTask(TaskSetup setup, std::unique_ptr<SinkTask> sink,
                                   KeyValue sink_config)
    : WorkerTask(std::move(setup)),
      sink_(std::move(sink)),
      sink_config_(std::move(sink_config)),
      task_name_(setup_.connector + "-" + std::to_string(setup_.task_id)),
      default_topic_(setup_.connector_config.get_string("connect.topicname")) {}

WorkerDirectTask::~WorkerDirectTask() = default;

std::optional<RecordOffset> WorkerDirectTask::Reader::read_offset(
    const RecordPartition& partition) {
  return task_.setup_.store->position(task_.setup_.connector, partition);
}

OffsetMap WorkerDirectTask::Reader::read_offsets(const std::vector<RecordPartition>& partitions) {
  OffsetMap out;
  for (const auto& p : partitions) {
    if (auto o = read_offset(p)) out[p] = *o;
  }
  return out;
}

ErrorRecordReporter* WorkerDirectTask::error_record_reporter() {
  return setup_.errors.tolerate_all ? this : nullptr;
}

void WorkerDirectTask::report(const ConnectRecord& record, const std::string& error) {
  FailedRecord f = describe(record, Stage::kTaskPoll);
  f.error = error;
  f.error_class = "reported by the task";
  f.description = error;
  if (auto r = errors_.report(std::move(f)); !r.ok()) {
    if (!report_error_) report_error_ = r.error();
    return;
  }
  // Passed over, in order with the records poll() returns after it.
  if (!record.position.partition.empty()) {
    pending_[record.position.partition] = record.position.offset;
  }
}

void WorkerDirectTask::SinkContext::reset_offset(const RecordPartition&, const RecordOffset&) {
  logger("worker")->warn(
      "task {}: reset_offset ignored: a direct task's records come from its source task",
      task_.task_name_);
}

void WorkerDirectTask::SinkContext::reset_offset(const OffsetMap& offsets) {
  if (!offsets.empty()) reset_offset(offsets.begin()->first, offsets.begin()->second);
}

ErrorRecordReporter* WorkerDirectTask::SinkContext::error_record_reporter() {
  return task_.setup_.errors.dlq_topic.empty() && !task_.setup_.errors.tolerate_all ? nullptr
                                                                                    : this;
}

void WorkerDirectTask::SinkContext::report(const ConnectRecord& record, const std::string& error) {
  FailedRecord f = task_.describe(record, Stage::kTaskPut);
  f.error = error;
  f.error_class = "reported by the task";
  if (auto r = task_.errors_.report(std::move(f)); !r.ok() && !task_.report_error_) {
    task_.report_error_ = r.error();
  }
}

FailedRecord WorkerDirectTask::describe(const ConnectRecord& record, Stage stage) const {
  FailedRecord f;
  f.stage = stage;
  f.topic = std::string(record.topic().empty() ? std::string_view(default_topic_) : record.topic());
  f.body = record.value.to_string();
  f.keys = record.key.is_null() ? std::string() : record.key.to_string();
  f.description = "key=" + f.keys + " value=" + f.body;
  return f;
}

void WorkerDirectTask::interrupt() {
  // The sink's put() may block on its system too (the SDK's wakeup contract); the source's
  // wakeup() is called by the worker.
  if (!sink_initialized_.load()) return;
  try {
    sink_->wakeup();
  } catch (...) {
    logger("worker")->warn("task {}: sink wakeup threw: {}", task_name_,
                           describe_exception(std::current_exception()));
  }
}

void WorkerDirectTask::run() {
  // The sink starts first: the source may produce records from its start() on.
  bool sink_started = false;
  auto stop_sink = [&] {
    if (!sink_started) return;
    try {
      sink_->stop();
    } catch (...) {
      logger("worker")->warn("task {}: sink stop threw: {}", task_name_,
                             describe_exception(std::current_exception()));
    }
  };
  if (!start_plugin([&] {
        sink_->init(sink_context_);
        sink_initialized_.store(true);
        sink_->start(sink_config_);
        sink_started = true;
        static_cast<SourceTask*>(setup_.task.get())->init(*this);
      })) {
    stop_sink();
    return;
  }
  auto* source = static_cast<SourceTask*>(setup_.task.get());
  auto next_commit = std::chrono::steady_clock::now() + setup_.commit_interval;
  bool healthy = true;
  while (healthy && wait_while_paused()) {
    auto result = poll_source(*source);
    if (!result.ok()) {
      if (result.error().code() == ErrorCode::kCancelled) break;  // stopped while retrying
      fail(result.error().message());
      healthy = false;
      break;
    }
    if (report_error_) {
      fail(report_error_->message());
      healthy = false;
      break;
    }
    if (result->has_value() && !(**result).empty()) {
      if (metrics_.enabled) {
        add(metrics_.source_record_poll, (**result).size());
        metrics_.batch_size.observe((**result).size());
      }
      if (!transfer(**result)) {
        healthy = state().state != RunState::kFailed;
        break;
      }
    } else {
      // Positions of input the source reported (tolerated) without records move on too.
      for (auto& [p, o] : pending_) put_[p] = std::move(o);
      pending_.clear();
      wait_for(kEmptyPollBackoff);
    }
    if (std::chrono::steady_clock::now() >= next_commit) {
      healthy = commit();
      next_commit = std::chrono::steady_clock::now() + setup_.commit_interval;
    }
  }
  // What put() accepted is flushed and its positions committed; a batch a stop cut short was
  // not put and is polled again after a restart.
  if (healthy) commit();
  try {
    source->stop();
  } catch (...) {
    logger("worker")->warn("task {}: source stop threw: {}", task_name_,
                           describe_exception(std::current_exception()));
  }
  stop_sink();
  setup_.chain.stop();
  if (healthy) set_state(RunState::kUnassigned);
}

bool WorkerDirectTask::transfer(std::vector<ConnectRecord>& records) {
  std::vector<ConnectRecord> batch;
  batch.reserve(records.size());
  for (auto& record : records) {
    if (record.topic().empty() && !default_topic_.empty()) record.set_topic(default_topic_);
    RecordPartition partition = record.position.partition;
    RecordOffset offset = record.position.offset;
    if (!setup_.chain.empty()) {
      auto transformed = errors_.run(
          Stage::kTransformation, [&] { return setup_.chain.apply(record); },
          [&] { return describe(record, Stage::kTransformation); });
      if (!transformed.ok()) {
        // Stopped while retrying: nothing of this poll is put, its positions stay.
        if (transformed.error().code() != ErrorCode::kCancelled) {
          fail(transformed.error().message());
        }
        pending_.clear();
        return false;
      }
      if (!transformed->has_value() || !(**transformed).has_value()) {
        // Dropped by a transform, or a tolerated failure: its position moves on with the batch.
        if (!partition.empty()) pending_[std::move(partition)] = std::move(offset);
        continue;
      }
      record = std::move(***transformed);
    }
    if (logging_messages()) {
      logger("worker")->info("{} direct value={}", task_name_, record.value.to_string());
    }
    batch.push_back(std::move(record));
    if (!partition.empty()) pending_[std::move(partition)] = std::move(offset);
  }
  if (!batch.empty() && !put(batch)) {
    pending_.clear();
    return false;
  }
  for (auto& [p, o] : pending_) put_[p] = std::move(o);
  pending_.clear();
  return true;
}

bool WorkerDirectTask::put(std::vector<ConnectRecord>& batch) {
  // A RetriableException retries the same batch until it is taken or the task stops.
  while (true) {
    try {
      sink_->put(batch);
      clear_retrying(RetryCall::kPut);
      if (metrics_.enabled) {
        add(metrics_.source_record_write, batch.size());
        add(metrics_.sink_record_send, batch.size());
      }
      break;
    } catch (const RetriableException& e) {
      note_retrying(RetryCall::kPut, e.what());
      wait_for(kRetryBackoff);
      if (stopping()) return false;
    } catch (...) {
      // A record failure under errors.*: with tolerance all every record of the batch is
      // logged (and dead-lettered) and passed over; with none the task fails.
      const std::string error = describe_exception(std::current_exception());
      for (const auto& record : batch) {
        FailedRecord f = describe(record, Stage::kTaskPut);
        f.error = error;
        f.error_class = "put failed";
        if (auto r = errors_.report(std::move(f)); !r.ok()) {
          fail("put failed: " + error);
          return false;
        }
      }
      break;
    }
  }
  if (report_error_) {
    fail(report_error_->message());
    return false;
  }
  return true;
}

bool WorkerDirectTask::commit() {
  if (put_.empty()) {
    add(metrics_.offset_commit_skip);
    return true;
  }
  bool failed = false;
  auto pre_committed = sink_pre_commit(*sink_, put_, "positions", &failed);
  if (!pre_committed) return !failed;
  OffsetMap& flushed = *pre_committed;
  // Only positions of partitions this task put: the sink may hold some back (not durable yet).
  OffsetMap to_commit;
  for (auto& [p, o] : flushed) {
    if (put_.contains(p)) to_commit[p] = std::move(o);
  }
  if (to_commit.empty()) {
    add(metrics_.offset_commit_skip);
    return true;
  }
  if (auto r = setup_.store->put_positions(setup_.connector, to_commit); !r.ok()) {
    add(metrics_.offset_commit_failure);
    logger("worker")->error("task {}: committing positions failed (retried): {}", task_name_,
                            r.error().message());
    return true;
  }
  add(metrics_.offset_commit_success);
  remember_committed(to_commit);
  for (const auto& [p, o] : to_commit) {
    if (auto it = put_.find(p); it != put_.end() && it->second == o) put_.erase(it);
  }
  try {
    static_cast<SourceTask*>(setup_.task.get())->commit();
  } catch (...) {
    logger("worker")->warn("task {}: source commit() threw: {}", task_name_,
                           describe_exception(std::current_exception()));
  }
  return true;
}

}  // namespace rmqc::runtime
