#pragma once

#include "rmqc/api/config_def.h"
#include "rmqc/api/key_value.h"
#include "rmqc/base/result.h"

#include "runtime/task_metrics.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace rmqc::rocketmq {
class Producer;
}

namespace rmqc::runtime {

// Where in the pipeline a record failed (Java's ErrorReporter stages).
enum class Stage {
  kTaskPoll,
  kTransformation,
  kKeyConverter,
  kValueConverter,
  kProduce,
  kConsume,
  kTaskPut
};
std::string_view stage_name(Stage stage);

// errors.* of a connector.
struct ErrorConfig {
  bool tolerate_all = false;                         // errors.tolerance = all | none
  std::chrono::milliseconds retry_timeout{0};        // errors.retry.timeout (-1 = forever)
  std::chrono::milliseconds retry_delay_max{60000};  // errors.retry.delay.max.ms
  bool log_enable = false;                           // errors.log.enable
  bool log_include_messages = false;                 // errors.log.include.messages
  std::string dlq_topic;                             // errors.deadletterqueue.topic.name
  bool dlq_context_headers = true;  // errors.deadletterqueue.context.headers.enable
};

// The errors.* keys, for validation and docs.
const ConfigDef& error_config_def();
Result<ErrorConfig> parse_error_config(const KeyValue& connector_config);

// What failed: enough to log it and to write it to the dead letter queue.
struct FailedRecord {
  Stage stage = Stage::kTaskPut;
  std::string error;           // the exception's message
  std::string error_class;     // e.g. "DataException"
  std::string topic;           // where it came from / was going
  std::int32_t queue_id = -1;  // sink side
  std::int64_t queue_offset = -1;
  std::string keys;         // raw message KEYS / rendered key
  std::string body;         // raw message body (sink) or the rendered value (source)
  std::string description;  // the record, rendered, for errors.log.include.messages
};

// Java's RetryWithToleranceOperator + dead letter queue reporter. One per task.
//   run(stage, fn): fn may throw; RetriableException is retried (exponential backoff up to
//   retry_delay_max) until retry_timeout; then, or for any other exception, the failure is
//   tolerated (logged, sent to the DLQ, nullopt returned) when errors.tolerance=all, and
//   otherwise returned as a fatal Error that fails the task.
class ErrorHandler {
 public:
  ErrorHandler(ErrorConfig config, std::string connector, int task_id,
               std::shared_ptr<rocketmq::Producer> producer);

  const ErrorConfig& config() const { return config_; }

  // Reports a failure that already happened (converter error, produce failure, a sink task's
  // ErrorRecordReporter). Returns the fatal error when the failure is not tolerated.
  Result<void> report(FailedRecord failed);

  template <typename Fn>
  auto run(Stage stage, Fn&& fn, const std::function<FailedRecord()>& describe)
      -> Result<std::optional<decltype(fn())>>;

  // Records handled so far (metrics and tests).
  std::int64_t tolerated() const { return tolerated_; }
  std::int64_t dead_lettered() const { return dead_lettered_; }
  // Kafka Connect's task-error-metrics of this task (GET /metrics).
  const ErrorMetrics& metrics() const { return metrics_; }

  // Stops retries in progress (task shutdown), also one waiting out its back-off; run() then
  // returns an Error with ErrorCode::kCancelled for the record it was retrying.
  void cancel();
  bool cancelled();

 private:
  bool retry_allowed(std::chrono::steady_clock::time_point started, int attempt);
  Result<void> send_to_dlq(const FailedRecord& failed);

  ErrorConfig config_;
  std::string connector_;
  int task_id_;
  std::shared_ptr<rocketmq::Producer> producer_;
  std::int64_t tolerated_ = 0;
  std::int64_t dead_lettered_ = 0;
  ErrorMetrics metrics_;
  std::mutex cancel_mutex_;
  std::condition_variable cancel_cv_;
  bool cancelled_ = false;  // under cancel_mutex_
};

}  // namespace rmqc::runtime

#include "runtime/errors/error_handler_inl.h"
