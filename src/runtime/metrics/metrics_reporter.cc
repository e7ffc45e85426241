#include "runtime/metrics/metrics_reporter.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "runtime/worker.h"

#include <fmt/ranges.h>

#include <cctype>
#include <cmath>
#include <map>
#include <utility>

namespace rmqc::runtime {
namespace {

using Json = nlohmann::json;

// Three decimals are plenty for rates and milliseconds (and keep the log and the body short).
double rounded(double v) {
  return std::round(v * 1000) / 1000;
}

double avg(const HistogramSnapshot& h) {
  return h.count == 0 ? 0 : h.sum / static_cast<double>(h.count);
}

using TaskKey = std::pair<std::string, int>;

Json task_json(const TaskMetricsSnapshot& t, const TaskMetricsSnapshot* before, double seconds) {
  auto rate = [&](std::uint64_t TaskMetricsSnapshot::*field) {
    if (!before || seconds <= 0) return 0.0;
    const std::uint64_t now = t.*field;
    const std::uint64_t then = before->*field;
    // A restarted task counts from zero again: everything it counted is new.
    return rounded(static_cast<double>(now >= then ? now - then : now) / seconds);
  };
  Json j = {{"connector", t.connector},
            {"task", t.task},
            {"type", connector_type_name(t.type)},
            {"state", run_state_name(t.state)}};
  if (t.type == ConnectorType::kSource) {
    j["source-record-poll-total"] = t.source_record_poll;
    j["source-record-poll-rate"] = rate(&TaskMetricsSnapshot::source_record_poll);
    j["source-record-write-total"] = t.source_record_write;
    j["source-record-write-rate"] = rate(&TaskMetricsSnapshot::source_record_write);
    j["poll-batch-avg-time-ms"] = rounded(avg(t.batch_time) * 1000);
    j["poll-batch-max-time-ms"] = rounded(t.batch_time.max * 1000);
    j["send-requests-total"] = t.send_latency.count;
    j["send-latency-avg-ms"] = rounded(avg(t.send_latency) * 1000);
    j["send-latency-max-ms"] = rounded(t.send_latency.max * 1000);
    j["send-errors-total"] = t.send_errors_retriable + t.send_errors_fatal;
    j["send-errors-retriable-total"] = t.send_errors_retriable;
  } else if (t.type == ConnectorType::kSink) {
    j["sink-record-read-total"] = t.sink_record_read;
    j["sink-record-read-rate"] = rate(&TaskMetricsSnapshot::sink_record_read);
    j["sink-record-send-total"] = t.sink_record_send;
    j["sink-record-send-rate"] = rate(&TaskMetricsSnapshot::sink_record_send);
    j["put-batch-avg-time-ms"] = rounded(avg(t.batch_time) * 1000);
    j["put-batch-max-time-ms"] = rounded(t.batch_time.max * 1000);
    std::int64_t lag = 0;
    Json queues = Json::array();
    for (const auto& q : t.queues) {
      lag += q.lag();
      queues.push_back({{"topic", q.topic},
                        {"broker", q.broker},
                        {"queue", q.queue},
                        {"offset", q.offset},
                        {"lag", q.lag()}});
    }
    j["consumer-lag"] = lag;
    j["queues"] = std::move(queues);
  }
  j["batch-size-avg"] = rounded(avg(t.batch_size));
  j["batch-size-max"] = t.batch_size.max;
  j["offset-commit-success-total"] = t.offset_commit_success;
  j["offset-commit-failure-total"] = t.offset_commit_failure;
  j["offset-commit-skip-total"] = t.offset_commit_skip;
  j["total-record-failures"] = t.record_failures;
  j["total-record-errors"] = t.record_errors;
  j["total-records-skipped"] = t.records_skipped;
  j["total-retries"] = t.retries;
  j["total-errors-logged"] = t.errors_logged;
  j["deadletterqueue-produce-requests"] = t.dlq_produce_requests;
  j["deadletterqueue-produce-failures"] = t.dlq_produce_failures;
  return j;
}

// "k=v k=v" of the scalar members of `j` but those in `skip`.
std::string fields(const Json& j, std::initializer_list<std::string_view> skip) {
  std::string out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_structured()) continue;
    bool skipped = false;
    for (auto s : skip) skipped |= k == s;
    if (skipped) continue;
    if (!out.empty()) out += ' ';
    out += k;
    out += '=';
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

}  // namespace

Json metrics_json(const MetricsSnapshot& now, const MetricsSnapshot* previous) {
  const double seconds =
      previous ? static_cast<double>(now.timestamp_ms - previous->timestamp_ms) / 1000 : 0;
  Json worker = {{"uptime-seconds", rounded(now.worker.uptime_seconds)},
                 {"connector-count", now.connector_count},
                 {"task-count", now.tasks.size()}};
  for (RunState s :
       {RunState::kRunning, RunState::kPaused, RunState::kFailed, RunState::kUnassigned}) {
    std::size_t n = 0;
    for (const auto& t : now.tasks) n += t.state == s;
    std::string name(run_state_name(s));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    worker[name + "-task-count"] = n;
  }
  if (now.worker.completed_rebalances) {
    worker["completed-rebalances-total"] = *now.worker.completed_rebalances;
  }
  worker["task-auto-restarts-total"] = now.worker.task_auto_restarts;
  worker["resident-memory-bytes"] = now.resident_bytes;

  std::map<TaskKey, const TaskMetricsSnapshot*> before;
  if (previous) {
    for (const auto& t : previous->worker.tasks) before[{t.connector, t.task}] = &t;
  }
  Json tasks = Json::array();
  for (const auto& t : now.worker.tasks) {
    auto it = before.find({t.connector, t.task});
    tasks.push_back(task_json(t, it == before.end() ? nullptr : it->second, seconds));
  }
  return {{"worker_id", now.info.worker_id}, {"cluster_id", now.info.cluster_id},
          {"mode", now.info.mode},           {"version", now.info.version},
          {"timestamp", now.timestamp_ms},   {"interval_seconds", rounded(seconds)},
          {"worker", std::move(worker)},     {"tasks", std::move(tasks)}};
}

Result<void> LogMetricsReporter::report(const Json& doc) {
  auto log = logger("metrics");
  log->info("worker {}: {}", doc.value("worker_id", ""), fields(doc["worker"], {}));
  for (const auto& t : doc["tasks"]) {
    log->info("task {}-{} {} {}: {}", t.value("connector", ""), t.value("task", 0),
              t.value("type", ""), t.value("state", ""),
              fields(t, {"connector", "task", "type", "state"}));
  }
  return {};
}

Result<void> RocketMqMetricsReporter::report(const Json& doc) {
  rocketmq::Message m(topic_, doc.dump(), doc.value("worker_id", ""), "rmqc-metrics");
  auto r = producer_->send(m);
  if (!r.ok()) return std::move(r).error().with_context("sending metrics to " + topic_);
  return {};
}

Result<std::unique_ptr<MetricsReporting>> MetricsReporting::start(
    const config::WorkerConfig& config, const ConnectController& controller,
    const std::string& namesrv) {
  if (config.metrics_reporters.empty()) return std::unique_ptr<MetricsReporting>();
  std::vector<std::unique_ptr<MetricsReporter>> reporters;
  std::shared_ptr<rocketmq::Producer> producer;
  for (const auto& name : config.metrics_reporters) {
    if (name == "log") {
      reporters.push_back(std::make_unique<LogMetricsReporter>());
    } else if (name == "rocketmq") {
      config::WorkerConfig pc = config;
      pc.rmq_producer_group = config.rmq_producer_group + "-metrics";
      auto p = start_worker_producer(pc, namesrv);
      if (!p.ok()) return std::move(p).error().with_context("metrics reporter rocketmq");
      producer = std::move(p).value();
      reporters.push_back(
          std::make_unique<RocketMqMetricsReporter>(producer, config.metrics_topic));
    } else {
      return Error(ErrorCode::kInvalidConfig, "unknown metrics reporter '" + name + "'");
    }
  }
  auto r = std::make_unique<MetricsReporting>(controller, std::move(reporters),
                                              config.metrics_report_interval);
  r->producer_ = std::move(producer);
  logger("worker")->info("metrics reporters: {} every {} ms",
                         fmt::join(config.metrics_reporters, ", "),
                         config.metrics_report_interval.count());
  return r;
}

MetricsReporting::MetricsReporting(const ConnectController& controller,
                                   std::vector<std::unique_ptr<MetricsReporter>> reporters,
                                   std::chrono::milliseconds interval)
    : controller_(controller), interval_(interval) {
  for (auto& r : reporters) reporters_.push_back(Reporter{std::move(r)});
  thread_ = std::thread([this] {
    set_thread_name("metrics-report");
    run();
  });
}

MetricsReporting::~MetricsReporting() {
  stop();
}

void MetricsReporting::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (producer_) producer_->shutdown();
}

void MetricsReporting::run() {
  std::unique_lock lock(mutex_);
  auto next = std::chrono::steady_clock::now() + interval_;
  while (!cv_.wait_until(lock, next, [&] { return stop_; })) {
    lock.unlock();
    report_once();
    lock.lock();
    next += interval_;
    // A report that took longer than the interval: the next one waits a full interval.
    const auto now = std::chrono::steady_clock::now();
    if (next < now) next = now + interval_;
  }
  lock.unlock();
  report_once();  // the last figures, at shutdown
}

void MetricsReporting::report_once() {
  auto now = std::make_unique<MetricsSnapshot>(collect_metrics(controller_));
  const Json doc = metrics_json(*now, previous_.get());
  previous_ = std::move(now);
  for (auto& r : reporters_) {
    Result<void> result;
    try {
      result = r.impl->report(doc);
    } catch (const std::exception& e) {
      result = Error(ErrorCode::kInternal, e.what());
    }
    const auto t = std::chrono::steady_clock::now();
    if (result.ok()) {
      if (r.failures > 0) {
        logger("worker")->info("metrics reporter {} works again after {} failed reports",
                               r.impl->name(), r.failures);
      }
      r.failures = 0;
      continue;
    }
    ++r.failures;
    // Logged at the first failure, then at most once a minute while it keeps failing.
    if (r.failures == 1 || t - r.last_failure_logged >= std::chrono::minutes(1)) {
      r.last_failure_logged = t;
      logger("worker")->warn("metrics reporter {} failed ({} in a row): {}", r.impl->name(),
                             r.failures, result.error().to_string());
    }
  }
}

}  // namespace rmqc::runtime
