// Operating the worker (docs/operations.md): GET /metrics in Prometheus' text format, GET /health
// and /ready, and the log levels under /admin/loggers, in Kafka Connect's shapes.
#include "base/logging.h"
#include "rest/routes.h"
#include "runtime/metrics/metrics_snapshot.h"
#include "runtime/task_metrics.h"

#include <charconv>
#include <map>
#include <system_error>

namespace rmqc::rest {

using runtime::ConnectorType;
using runtime::RunState;
using runtime::TaskMetricsSnapshot;

namespace {

constexpr ResponseStyle kKafka = ResponseStyle::kKafka;

// Label values escape backslash, double quote and newline (the text format's rules).
std::string escape_label(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// Whole numbers as integers ("1000000"), others as the shortest text that reads back as the
// same double, %g-style ("4.626674058", "0.0001").
std::string number(double v) {
  if (v >= 0 && v < 9007199254740992.0 && v == static_cast<double>(static_cast<std::uint64_t>(v))) {
    return std::to_string(static_cast<std::uint64_t>(v));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

// Writes the text exposition format: each family's HELP and TYPE once, then its samples.
class Exposition {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(std::string_view name, const Labels& labels, double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        out_ += escape_label(labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += number(value);
    out_ += '\n';
  }
  void histogram(const std::string& name, Labels labels, const runtime::HistogramSnapshot& h) {
    labels.emplace_back("le", "");
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      labels.back().second = number(h.bounds[i]);
      sample(name + "_bucket", labels, static_cast<double>(h.buckets[i]));
    }
    labels.back().second = "+Inf";
    sample(name + "_bucket", labels, static_cast<double>(h.count));
    labels.pop_back();
    sample(name + "_sum", labels, h.sum);
    sample(name + "_count", labels, static_cast<double>(h.count));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

using TaskField = std::uint64_t TaskMetricsSnapshot::*;

struct CounterDef {
  const char* name;
  const char* help;
  TaskField field;
  ConnectorType only;  // kUnknown: every task
};

// Kafka Connect's task metrics under Prometheus names (docs/operations.md has the mapping).
constexpr CounterDef kTaskCounters[] = {
    {"rmqc_source_record_poll_total",
     "Records returned by the source task's poll(), before transforms (source-record-poll-total).",
     &TaskMetricsSnapshot::source_record_poll, ConnectorType::kSource},
    {"rmqc_source_record_write_total",
     "Records the broker acknowledged, after transforms (source-record-write-total).",
     &TaskMetricsSnapshot::source_record_write, ConnectorType::kSource},
    {"rmqc_sink_record_read_total",
     "Messages read from the broker, before transforms (sink-record-read-total).",
     &TaskMetricsSnapshot::sink_record_read, ConnectorType::kSink},
    {"rmqc_sink_record_send_total",
     "Records put() accepted, after transforms (sink-record-send-total).",
     &TaskMetricsSnapshot::sink_record_send, ConnectorType::kSink},
    {"rmqc_offset_commit_success_total",
     "Offset commits that succeeded (offset-commit-completion-total; source positions, sink "
     "queue offsets).",
     &TaskMetricsSnapshot::offset_commit_success, ConnectorType::kUnknown},
    {"rmqc_offset_commit_failure_total",
     "Offset commits that failed, retried at the next interval (offset-commit-failure).",
     &TaskMetricsSnapshot::offset_commit_failure, ConnectorType::kUnknown},
    {"rmqc_offset_commit_skip_total",
     "Offset commits skipped: nothing new to commit (offset-commit-skip-total).",
     &TaskMetricsSnapshot::offset_commit_skip, ConnectorType::kUnknown},
    {"rmqc_task_record_failures_total",
     "Record processing failures, each retry included (total-record-failures).",
     &TaskMetricsSnapshot::record_failures, ConnectorType::kUnknown},
    {"rmqc_task_record_errors_total",
     "Records that failed after any retries, tolerated or not (total-record-errors).",
     &TaskMetricsSnapshot::record_errors, ConnectorType::kUnknown},
    {"rmqc_task_records_skipped_total",
     "Failed records skipped under errors.tolerance=all (total-records-skipped).",
     &TaskMetricsSnapshot::records_skipped, ConnectorType::kUnknown},
    {"rmqc_task_retries_total", "Retries of failed operations (total-retries).",
     &TaskMetricsSnapshot::retries, ConnectorType::kUnknown},
    {"rmqc_task_errors_logged_total", "Failures logged by errors.log.enable (total-errors-logged).",
     &TaskMetricsSnapshot::errors_logged, ConnectorType::kUnknown},
    {"rmqc_task_deadletterqueue_produce_total",
     "Records sent to the dead letter queue topic (deadletterqueue-produce-requests).",
     &TaskMetricsSnapshot::dlq_produce_requests, ConnectorType::kUnknown},
    {"rmqc_task_deadletterqueue_produce_failures_total",
     "Dead letter queue sends that failed (deadletterqueue-produce-failures).",
     &TaskMetricsSnapshot::dlq_produce_failures, ConnectorType::kUnknown},
};

constexpr RunState kStates[] = {RunState::kRunning, RunState::kPaused, RunState::kFailed,
                                RunState::kUnassigned, RunState::kStopped};

Exposition::Labels task_labels(const TaskMetricsSnapshot& t) {
  return {{"connector", t.connector}, {"task", std::to_string(t.task)}};
}

std::string render_metrics(const runtime::MetricsSnapshot& snapshot) {
  const runtime::WorkerInfo& info = snapshot.info;
  const runtime::WorkerMetrics& m = snapshot.worker;
  Exposition out;

  out.family("rmqc_worker_info", "gauge", "This worker: id, mode and version (always 1).");
  out.sample("rmqc_worker_info",
             {{"worker_id", info.worker_id}, {"mode", info.mode}, {"version", info.version}}, 1);
  out.family("rmqc_worker_uptime_seconds", "gauge", "Seconds since the worker started.");
  out.sample("rmqc_worker_uptime_seconds", {}, m.uptime_seconds);
  out.family("process_resident_memory_bytes", "gauge",
             "Resident memory of the worker process (/proc/self/statm).");
  out.sample("process_resident_memory_bytes", {}, snapshot.resident_bytes);

  const auto& tasks = snapshot.tasks;
  out.family("rmqc_worker_connector_count", "gauge",
             "Connectors known to the worker (connector-count; the cluster's, in distributed "
             "mode).");
  out.sample("rmqc_worker_connector_count", {}, static_cast<double>(snapshot.connector_count));
  out.family("rmqc_worker_task_count", "gauge",
             "Tasks assigned to this worker by state (task-count, connector-*-task-count).");
  for (RunState s : kStates) {
    std::size_t n = 0;
    for (const auto& t : tasks) n += t.state == s;
    out.sample("rmqc_worker_task_count", {{"state", std::string(runtime::run_state_name(s))}},
               static_cast<double>(n));
  }
  if (m.completed_rebalances) {
    out.family("rmqc_worker_rebalances_total", "counter",
               "Rebalances this worker completed (completed-rebalances-total).");
    out.sample("rmqc_worker_rebalances_total", {}, static_cast<double>(*m.completed_rebalances));
  }
  out.family("rmqc_worker_task_auto_restarts_total", "counter",
             "Automatic restarts of FAILED tasks (taskAutoRestartEnable).");
  out.sample("rmqc_worker_task_auto_restarts_total", {}, static_cast<double>(m.task_auto_restarts));

  out.family("rmqc_task_status", "gauge",
             "1 for each task of this worker in its current state (status).");
  for (const auto& t : tasks) {
    out.sample("rmqc_task_status",
               {{"connector", t.connector},
                {"task", std::to_string(t.task)},
                {"state", std::string(runtime::run_state_name(t.state))}},
               1);
  }

  for (const auto& def : kTaskCounters) {
    bool any = false;
    for (const auto& t : m.tasks) {
      if (def.only != ConnectorType::kUnknown && t.type != def.only) continue;
      if (!any) out.family(def.name, "counter", def.help);
      any = true;
      out.sample(def.name, task_labels(t), static_cast<double>(t.*(def.field)));
    }
  }

  struct HistogramDef {
    std::string name;
    const char* help;
    const char* max_help;
    ConnectorType only;
    runtime::HistogramSnapshot TaskMetricsSnapshot::*field;
  };
  const HistogramDef histograms[] = {
      {"rmqc_source_poll_batch_time_seconds",
       "Time of the source task's poll() calls (poll-batch-avg-time-ms).",
       "Longest poll() since the task started (poll-batch-max-time-ms).", ConnectorType::kSource,
       &TaskMetricsSnapshot::batch_time},
      {"rmqc_sink_put_batch_time_seconds",
       "Time of the sink task's put() calls (put-batch-avg-time-ms).",
       "Longest put() since the task started (put-batch-max-time-ms).", ConnectorType::kSink,
       &TaskMetricsSnapshot::batch_time},
      {"rmqc_task_batch_size", "Records per poll() or put() (batch-size-avg).",
       "Largest poll() or put() batch since the task started (batch-size-max).",
       ConnectorType::kUnknown, &TaskMetricsSnapshot::batch_size},
      {"rmqc_source_send_latency_seconds",
       "Time from a source task's send request (a batch or one record) to the broker's "
       "acknowledgment.",
       "Longest send to acknowledgment since the task started.", ConnectorType::kSource,
       &TaskMetricsSnapshot::send_latency},
  };
  for (const auto& def : histograms) {
    bool any = false;
    for (const auto& t : m.tasks) {
      if (def.only != ConnectorType::kUnknown && t.type != def.only) continue;
      if (!any) out.family(def.name, "histogram", def.help);
      any = true;
      out.histogram(def.name, task_labels(t), t.*(def.field));
    }
    if (!any) continue;
    const std::string max_name = def.name.ends_with("_seconds")
                                     ? def.name.substr(0, def.name.size() - 8) + "_max_seconds"
                                     : def.name + "_max";
    out.family(max_name, "gauge", def.max_help);
    for (const auto& t : m.tasks) {
      if (def.only != ConnectorType::kUnknown && t.type != def.only) continue;
      out.sample(max_name, task_labels(t), (t.*(def.field)).max);
    }
  }

  // Send failures of source tasks, by whether the producer may succeed if sent again.
  {
    bool any = false;
    for (const auto& t : m.tasks) {
      if (t.type != ConnectorType::kSource) continue;
      if (!any) {
        out.family("rmqc_source_send_errors_total", "counter",
                   "Send requests of a source task that failed, each attempt (retried ones "
                   "included); retriable=\"true\" for timeouts and unreachable brokers.");
      }
      any = true;
      auto labels = task_labels(t);
      labels.emplace_back("retriable", "true");
      out.sample("rmqc_source_send_errors_total", labels,
                 static_cast<double>(t.send_errors_retriable));
      labels.back().second = "false";
      out.sample("rmqc_source_send_errors_total", labels, static_cast<double>(t.send_errors_fatal));
    }
  }

  // Sink consumer position and lag per assigned queue (those with a pull reply so far).
  struct QueueDef {
    const char* name;
    const char* help;
    bool lag;
  };
  constexpr QueueDef kQueueGauges[] = {
      {"rmqc_sink_consumer_offset", "Next offset a sink task reads from the queue.", false},
      {"rmqc_sink_consumer_lag",
       "Messages in the queue after the sink task's position: the broker's end offset in the last "
       "pull reply minus the next offset to read.",
       true},
  };
  for (const auto& def : kQueueGauges) {
    bool any = false;
    for (const auto& t : m.tasks) {
      for (const auto& q : t.queues) {
        if (!any) out.family(def.name, "gauge", def.help);
        any = true;
        auto labels = task_labels(t);
        labels.emplace_back("topic", q.topic);
        labels.emplace_back("broker", q.broker);
        labels.emplace_back("queue", std::to_string(q.queue));
        out.sample(def.name, labels, static_cast<double>(def.lag ? q.lag() : q.offset));
      }
    }
  }
  return out.take();
}

std::string render_metrics(const runtime::ConnectController& controller) {
  return render_metrics(runtime::collect_metrics(controller));
}

std::string health_status_name(runtime::WorkerHealth::Status s) {
  switch (s) {
    case runtime::WorkerHealth::Status::kStarting:
      return "starting";
    case runtime::WorkerHealth::Status::kHealthy:
      return "healthy";
    case runtime::WorkerHealth::Status::kUnhealthy:
      return "unhealthy";
    case runtime::WorkerHealth::Status::kStopping:
      return "stopping";
  }
  return "unhealthy";
}

int health_http_status(runtime::WorkerHealth::Status s) {
  switch (s) {
    case runtime::WorkerHealth::Status::kHealthy:
      return 200;
    case runtime::WorkerHealth::Status::kUnhealthy:
      return 500;
    default:
      return 503;
  }
}

Json health_body(const runtime::WorkerHealth& h) {
  std::string message = h.message;
  if (h.details) message += " " + *h.details;
  return {{"status", health_status_name(h.status)}, {"message", std::move(message)}};
}

Json logger_json(const LoggerLevel& l) {
  return {{"level", l.level},
          {"last_modified", l.last_modified_ms ? Json(*l.last_modified_ms) : Json(nullptr)}};
}

}  // namespace

void add_task_restart_info(Json& task_status, ResponseStyle style, const RouteContext& ctx,
                           const std::string& connector, int task) {
  auto info = ctx.controller.task_restart_info(connector, task);
  if (!info) return;
  const bool seed = style == ResponseStyle::kSeed;
  Json next = info->next_attempt_ms ? Json(*info->next_attempt_ms) : Json(nullptr);
  task_status[seed ? "autoRestart" : "auto_restart"] = {
      {"attempts", info->attempts},
      {seed ? "lastError" : "last_error", info->last_error},
      {seed ? "nextAttemptMs" : "next_attempt_ms", std::move(next)},
      {"exhausted", info->exhausted}};
}

void add_restart_info(Json& status, ResponseStyle style, const RouteContext& ctx,
                      const std::string& connector) {
  if (!status.contains("tasks") || !status["tasks"].is_array()) return;
  for (auto& t : status["tasks"]) {
    if (t.contains("id") && t["id"].is_number_integer()) {
      add_task_restart_info(t, style, ctx, connector, t["id"].get<int>());
    }
  }
}

void add_operation_routes(Router& router, const RouteContext& ctx) {
  auto& controller = ctx.controller;

  router.add("GET", "/metrics", kKafka, [&](const RestRequest&) {
    RestResponse r;
    r.body = render_metrics(controller);
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    return r;
  });

  router.add("GET", "/health", kKafka, [&](const RestRequest&) {
    auto h = controller.health();
    return json_response(health_http_status(h.status), health_body(h));
  });

  // Ready: healthy, and every task this worker runs is RUNNING (or PAUSED by its user).
  router.add("GET", "/ready", kKafka, [&](const RestRequest&) {
    auto h = controller.health();
    if (h.status != runtime::WorkerHealth::Status::kHealthy) {
      Json body = health_body(h);
      body["status"] = "not ready";
      return json_response(503, body);
    }
    Json waiting = Json::array();
    for (const auto& t :
         runtime::tasks_of_worker(controller, controller.worker_info().worker_id, nullptr)) {
      if (t.state == RunState::kRunning || t.state == RunState::kPaused) continue;
      waiting.push_back({{"connector", t.connector},
                         {"task", t.task},
                         {"state", runtime::run_state_name(t.state)}});
    }
    if (!waiting.empty()) {
      return json_response(503, Json{{"status", "not ready"},
                                     {"message", std::to_string(waiting.size()) +
                                                     " task(s) of this worker are not RUNNING."},
                                     {"tasks", std::move(waiting)}});
    }
    return json_response(
        200, Json{{"status", "ready"}, {"message", "Every task of this worker is RUNNING."}});
  });

  router.add("GET", "/admin/loggers", kKafka, [](const RestRequest&) {
    Json body = Json::object();
    for (const auto& l : logger_levels()) body[l.name] = logger_json(l);
    return json_response(200, body);
  });
  router.add("GET", "/admin/loggers/:name", kKafka, [](const RestRequest& req) {
    auto l = logger_level(req.params[0]);
    if (!l) return error_response(kKafka, 404, "Logger " + req.params[0] + " not found.");
    return json_response(200, logger_json(*l));
  });
  // Body {"level": "DEBUG"}; answers the names of the loggers set (Kafka's PUT, scope=worker).
  router.add("PUT", "/admin/loggers/:name", kKafka, [](const RestRequest& req) {
    if (const std::string* scope = req.query_value("scope");
        scope && lowercase(*scope) == "cluster") {
      return error_response(kKafka, 400,
                            "scope=cluster is not supported: set the level on each worker "
                            "(scope=worker, the default)");
    }
    auto body = parse_json_body(req.body);
    if (!body.ok()) return error_response(kKafka, body.error());
    if (!body->is_object() || !body->contains("level") || !(*body)["level"].is_string()) {
      return error_response(kKafka, 400, "Desired 'level' parameter was not specified in request.");
    }
    const std::string level = (*body)["level"].get<std::string>();
    auto changed = set_logger_level(req.params[0], level);
    if (!changed) {
      return error_response(
          kKafka, 400,
          "Invalid log level '" + level + "': use OFF, FATAL, ERROR, WARN, INFO, DEBUG or TRACE.");
    }
    logger("rest")->info("log level of {} set to {} ({} loggers)", req.params[0], level,
                         changed->size());
    Json names = Json::array();
    for (const auto& n : *changed) names.push_back(n);
    return json_response(200, names);
  });
}

}  // namespace rmqc::rest
