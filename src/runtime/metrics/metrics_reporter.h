#pragma once

// Metrics reporters (seed 002 "补全指标， 增加Metrics Reporter"; docs/operations.md#reporters):
// every metrics.report.interval.ms the worker collects the snapshot GET /metrics renders and
// hands it to each configured reporter. `log` writes a line per task and one for the worker to
// the worker log; `rocketmq` sends one JSON message per interval to metrics.topic. A reporter
// that fails is logged (at most once a minute while it keeps failing) and never affects tasks.

#include "rmqc/base/result.h"

#include "config/worker_config.h"
#include "rocketmq/client/producer.h"
#include "runtime/connect_controller.h"
#include "runtime/metrics/metrics_snapshot.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace rmqc::runtime {

// The figures of a snapshot as one JSON document (the rocketmq reporter's message body, the log
// reporter's fields): worker id, timestamp, the worker's figures and one object per task with
// Kafka Connect's metric names. Rates (`*-rate`, per second) are over the time since `previous`
// (0 without it, or for a task that was not in it).
nlohmann::json metrics_json(const MetricsSnapshot& now, const MetricsSnapshot* previous);

class MetricsReporter {
 public:
  virtual ~MetricsReporter() = default;
  virtual std::string_view name() const = 0;
  // Publishes one interval's figures (`doc` is metrics_json of the snapshot).
  virtual Result<void> report(const nlohmann::json& doc) = 0;
};

// One line per task and one for the worker, at INFO on the `metrics` logger (its level can be
// changed through /admin/loggers/metrics).
class LogMetricsReporter final : public MetricsReporter {
 public:
  std::string_view name() const override { return "log"; }
  Result<void> report(const nlohmann::json& doc) override;
};

// One message per interval to `topic`, tag = the worker id, key = "rmqc-metrics", body = the
// JSON document, sent synchronously through `producer`.
class RocketMqMetricsReporter final : public MetricsReporter {
 public:
  RocketMqMetricsReporter(std::shared_ptr<rocketmq::Producer> producer, std::string topic)
      : producer_(std::move(producer)), topic_(std::move(topic)) {}
  std::string_view name() const override { return "rocketmq"; }
  Result<void> report(const nlohmann::json& doc) override;

 private:
  std::shared_ptr<rocketmq::Producer> producer_;
  std::string topic_;
};

// The reporting thread of a worker.
class MetricsReporting {
 public:
  // The reporters of config.metrics_reporters, reporting `controller` (which must outlive this
  // object); null when none is configured. The rocketmq reporter starts a producer of its own
  // (group rmqProducerGroup + "-metrics") on `namesrv`.
  static Result<std::unique_ptr<MetricsReporting>> start(const config::WorkerConfig& config,
                                                         const ConnectController& controller,
                                                         const std::string& namesrv);
  // Starts reporting to `reporters` every `interval` on a thread of its own.
  MetricsReporting(const ConnectController& controller,
                   std::vector<std::unique_ptr<MetricsReporter>> reporters,
                   std::chrono::milliseconds interval);
  ~MetricsReporting();
  MetricsReporting(const MetricsReporting&) = delete;
  MetricsReporting& operator=(const MetricsReporting&) = delete;

  // Reports once more (the last figures) and stops the thread. Idempotent.
  void stop();

 private:
  struct Reporter {
    std::unique_ptr<MetricsReporter> impl;
    std::chrono::steady_clock::time_point last_failure_logged{};
    std::uint64_t failures = 0;  // since the last success
  };
  void run();
  void report_once();

  const ConnectController& controller_;
  std::vector<Reporter> reporters_;
  std::chrono::milliseconds interval_;
  std::unique_ptr<MetricsSnapshot> previous_;
  std::shared_ptr<rocketmq::Producer> producer_;  // the rocketmq reporter's, shut down at stop
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rmqc::runtime
