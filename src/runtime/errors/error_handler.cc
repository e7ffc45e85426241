#include "runtime/errors/error_handler.h"

#include "base/logging.h"
#include "rocketmq/client/producer.h"

#include <algorithm>

namespace rmqc::runtime {

std::string_view stage_name(Stage stage) {
  switch (stage) {
    case Stage::kTaskPoll:
      return "TASK_POLL";
    case Stage::kTransformation:
      return "TRANSFORMATION";
    case Stage::kKeyConverter:
      return "KEY_CONVERTER";
    case Stage::kValueConverter:
      return "VALUE_CONVERTER";
    case Stage::kProduce:
      return "PRODUCE";
    case Stage::kConsume:
      return "CONSUME";
    case Stage::kTaskPut:
      return "TASK_PUT";
  }
  return "UNKNOWN";
}

const ConfigDef& error_config_def() {
  static const ConfigDef def = [] {
    ConfigDef d;
    using T = ConfigDef::Type;
    using I = ConfigDef::Importance;
    d.define("errors.tolerance", T::kString, "none", I::kMedium,
             "none: a record that fails (conversion, transform, put) fails the task; all: skip it "
             "(logged and sent to the dead letter queue when configured).",
             validators::one_of({"none", "all"}))
        .define("errors.retry.timeout", T::kLong, "0", I::kMedium,
                "How long a RetriableException is retried before the failure counts, ms "
                "(-1 = forever, 0 = no retry).")
        .define("errors.retry.delay.max.ms", T::kLong, "60000", I::kLow,
                "Longest wait between retries (the backoff doubles from 100 ms), ms.",
                validators::at_least(1))
        .define("errors.log.enable", T::kBoolean, "false", I::kMedium,
                "Log every tolerated failure.")
        .define("errors.log.include.messages", T::kBoolean, "false", I::kLow,
                "Include the failed record in that log line.")
        .define("errors.deadletterqueue.topic.name", T::kString, "", I::kMedium,
                "Topic that receives failed records (with __connect.errors.* properties).")
        .define("errors.deadletterqueue.context.headers.enable", T::kBoolean, "true", I::kLow,
                "Add the __connect.errors.* context properties to dead-lettered messages.");
    return d;
  }();
  return def;
}

Result<ErrorConfig> parse_error_config(const KeyValue& connector_config) {
  RMQC_ASSIGN_OR_RETURN(KeyValue kv, error_config_def().parse(connector_config));
  ErrorConfig c;
  std::string tolerance = kv.get_string("errors.tolerance");
  c.tolerate_all = tolerance == "all" || tolerance == "ALL" || tolerance == "All";
  c.retry_timeout = std::chrono::milliseconds(kv.get_long("errors.retry.timeout"));
  c.retry_delay_max = std::chrono::milliseconds(kv.get_long("errors.retry.delay.max.ms"));
  c.log_enable = kv.get_bool("errors.log.enable");
  c.log_include_messages = kv.get_bool("errors.log.include.messages");
  c.dlq_topic = kv.get_string("errors.deadletterqueue.topic.name");
  c.dlq_context_headers = kv.get_bool("errors.deadletterqueue.context.headers.enable");
  return c;
}

ErrorHandler::ErrorHandler(ErrorConfig config, std::string connector, int task_id,
                           std::shared_ptr<rocketmq::Producer> producer)
    : config_(std::move(config)),
      connector_(std::move(connector)),
      task_id_(task_id),
      producer_(std::move(producer)) {}

void ErrorHandler::cancel() {
  {
    std::lock_guard lock(cancel_mutex_);
    cancelled_ = true;
  }
  cancel_cv_.notify_all();
}

bool ErrorHandler::cancelled() {
  std::lock_guard lock(cancel_mutex_);
  return cancelled_;
}

bool ErrorHandler::retry_allowed(std::chrono::steady_clock::time_point started, int attempt) {
  if (config_.retry_timeout.count() == 0) return false;
  auto delay = std::min<std::chrono::milliseconds>(
      std::chrono::milliseconds(100) * (1LL << std::min(attempt, 16)), config_.retry_delay_max);
  if (config_.retry_timeout.count() > 0 &&
      std::chrono::steady_clock::now() + delay - started > config_.retry_timeout) {
    return false;
  }
  // Back-offs grow to errors.retry.delay.max.ms (a minute by default): a stopping task must not
  // sit them out.
  std::unique_lock lock(cancel_mutex_);
  return !cancel_cv_.wait_for(lock, delay, [&] { return cancelled_; });
}

Result<void> ErrorHandler::report(FailedRecord failed) {
  auto log = logger("worker");
  add(metrics_.record_failures);
  add(metrics_.record_errors);
  if (!config_.tolerate_all) {
    return Error::fatal(ErrorCode::kInternal, "Tolerance exceeded in error handler: stage " +
                                                  std::string(stage_name(failed.stage)) + ", " +
                                                  failed.error_class + ": " + failed.error);
  }
  ++tolerated_;
  add(metrics_.records_skipped);
  if (config_.log_enable) {
    add(metrics_.errors_logged);
    if (config_.log_include_messages) {
      log->warn("{}-{}: tolerated failure at {} ({}): {}; record: {}", connector_, task_id_,
                stage_name(failed.stage), failed.error_class, failed.error, failed.description);
    } else {
      log->warn("{}-{}: tolerated failure at {} ({}): {}", connector_, task_id_,
                stage_name(failed.stage), failed.error_class, failed.error);
    }
  }
  if (!config_.dlq_topic.empty()) {
    add(metrics_.dlq_produce_requests);
    if (auto r = send_to_dlq(failed); !r.ok()) {
      add(metrics_.dlq_produce_failures);
      // A DLQ that cannot be written is not silently ignored: the task fails and says why.
      return Error::fatal(ErrorCode::kUnavailable, "could not write to dead letter queue '" +
                                                       config_.dlq_topic +
                                                       "': " + r.error().message());
    }
    ++dead_lettered_;
  }
  return {};
}

Result<void> ErrorHandler::send_to_dlq(const FailedRecord& failed) {
  if (!producer_) return Error(ErrorCode::kUnavailable, "no producer");
  rocketmq::Message m(config_.dlq_topic, failed.body, {}, failed.keys);
  if (config_.dlq_context_headers) {
    // Property values may not contain RocketMQ's separators and the whole set is limited to
    // 32 KiB: sanitize and bound what goes in.
    auto clean = [](std::string v) {
      if (v.size() > 4096) v.resize(4096);
      std::replace(v.begin(), v.end(), '\x01', ' ');
      std::replace(v.begin(), v.end(), '\x02', ' ');
      return v;
    };
    auto& p = m.properties;
    p["__connect.errors.topic"] = clean(failed.topic);
    p["__connect.errors.partition"] = std::to_string(failed.queue_id);
    p["__connect.errors.offset"] = std::to_string(failed.queue_offset);
    p["__connect.errors.connector.name"] = connector_;
    p["__connect.errors.task.id"] = std::to_string(task_id_);
    p["__connect.errors.stage"] = std::string(stage_name(failed.stage));
    p["__connect.errors.class.name"] = clean(failed.error_class);
    p["__connect.errors.exception.message"] = clean(failed.error);
  }
  auto sent = producer_->send(m);
  if (!sent.ok()) return std::move(sent).error();
  return {};
}

}  // namespace rmqc::runtime
