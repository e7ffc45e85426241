// /metrics, /health, /ready and /admin/loggers over the fake controller.
#include "base/logging.h"
#include "rest/tests/rest_fixture.h"
#include "runtime/metrics/metrics_reporter.h"

namespace rmqc::rest::testing {
namespace {

using runtime::RunState;
using runtime::WorkerHealth;

class OperationsRoutesTest : public RestTest {};

// The value of one sample line ("name{labels} value"), or -1 when it is absent.
double sample(const std::string& text, const std::string& series) {
  const std::string prefix = series + " ";
  for (std::size_t at = 0; at < text.size();) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(at, nl - at);
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(prefix.size()));
    at = nl + 1;
  }
  return -1;
}

TEST_F(OperationsRoutesTest, HealthFollowsTheWorker) {
  auto r = get("/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body["status"], "healthy");

  fake_.health_value = {WorkerHealth::Status::kStarting, "Worker is still starting up.",
                        "restoring"};
  r = get("/health");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["status"], "starting");
  EXPECT_EQ(r.body["message"], "Worker is still starting up. restoring");
  EXPECT_EQ(get("/ready").status, 503);

  fake_.health_value = {WorkerHealth::Status::kUnhealthy, "Worker was unable to handle this.",
                        "stuck for 61 s"};
  r = get("/health");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body["status"], "unhealthy");
  EXPECT_NE(r.body["message"].get<std::string>().find("stuck for 61 s"), std::string::npos);

  fake_.health_value = {WorkerHealth::Status::kStopping, "Worker is shutting down.", std::nullopt};
  EXPECT_EQ(get("/health").status, 503);
}

TEST_F(OperationsRoutesTest, ReadyWhenEveryTaskHereRuns) {
  create("a", source_config());
  auto r = get("/ready");
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["status"], "ready");
  fake_.set_task_state("a", 0, RunState::kFailed);
  r = get("/ready");
  EXPECT_EQ(r.status, 503);
  ASSERT_EQ(r.body["tasks"].size(), 1u) << r.raw;
  EXPECT_EQ(r.body["tasks"][0]["connector"], "a");
  EXPECT_EQ(r.body["tasks"][0]["state"], "FAILED");
}

TEST_F(OperationsRoutesTest, MetricsInTextFormat) {
  create("a", source_config());
  runtime::TaskMetricsSnapshot t;
  t.connector = "a\"quoted";
  t.task = 0;
  t.type = runtime::ConnectorType::kSource;
  t.source_record_poll = 7;
  t.source_record_write = 5;
  t.batch_time = {{0.001, 0.01}, {1, 2, 3}, 0.5, 3, 0.4};
  t.batch_size = {{1, 4}, {0, 2, 3}, 9, 3, 5};
  fake_.metrics_value.tasks = {t};
  fake_.metrics_value.uptime_seconds = 12.5;
  fake_.metrics_value.completed_rebalances = 3;
  auto r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = r.raw;
  EXPECT_NE(text.find("# TYPE rmqc_source_record_poll_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP rmqc_source_record_poll_total "), std::string::npos);
  EXPECT_EQ(sample(text, R"(rmqc_source_record_poll_total{connector="a\"quoted",task="0"})"), 7);
  EXPECT_EQ(sample(text, R"(rmqc_source_record_write_total{connector="a\"quoted",task="0"})"), 5);
  // A source task has no sink series.
  EXPECT_EQ(text.find("rmqc_sink_record_read_total"), std::string::npos);
  EXPECT_EQ(
      sample(
          text,
          R"(rmqc_source_poll_batch_time_seconds_bucket{connector="a\"quoted",task="0",le="+Inf"})"),
      3);
  EXPECT_EQ(
      sample(text, R"(rmqc_source_poll_batch_time_seconds_count{connector="a\"quoted",task="0"})"),
      3);
  EXPECT_EQ(sample(text, R"(rmqc_task_batch_size_max{connector="a\"quoted",task="0"})"), 5);
  EXPECT_EQ(sample(text, "rmqc_worker_uptime_seconds"), 12.5);
  EXPECT_EQ(sample(text, "rmqc_worker_rebalances_total"), 3);
  EXPECT_EQ(sample(text, "rmqc_worker_connector_count"), 1);
  EXPECT_EQ(sample(text, R"(rmqc_worker_task_count{state="RUNNING"})"), 1);
  EXPECT_EQ(sample(text, R"(rmqc_worker_task_count{state="FAILED"})"), 0);
  EXPECT_EQ(sample(text, R"(rmqc_task_status{connector="a",task="0",state="RUNNING"})"), 1);
  EXPECT_GT(sample(text, "process_resident_memory_bytes"), 0);
}

// Source send latency and errors; sink position and lag per queue; the same figures in the
// reporters' JSON document.
TEST_F(OperationsRoutesTest, MetricsShowSendLatencyAndConsumerLag) {
  create("src", source_config());
  runtime::TaskMetricsSnapshot src;
  src.connector = "src";
  src.type = runtime::ConnectorType::kSource;
  src.source_record_poll = 10;
  src.send_latency = {{0.001, 0.01}, {2, 4, 4}, 0.008, 4, 0.004};
  src.send_errors_retriable = 2;
  src.send_errors_fatal = 1;
  runtime::TaskMetricsSnapshot sink;
  sink.connector = "sink";
  sink.type = runtime::ConnectorType::kSink;
  sink.sink_record_read = 3;
  sink.queues = {{"in", "broker-a", 0, 5, 12}, {"in", "broker-a", 1, 7, 7}};
  fake_.metrics_value.tasks = {src, sink};
  auto r = get("/metrics");
  ASSERT_EQ(r.status, 200);
  const std::string& text = r.raw;
  EXPECT_NE(text.find("# TYPE rmqc_source_send_latency_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(sample(text, R"(rmqc_source_send_latency_seconds_count{connector="src",task="0"})"), 4);
  EXPECT_EQ(
      sample(text,
             R"(rmqc_source_send_latency_seconds_bucket{connector="src",task="0",le="0.001"})"),
      2);
  EXPECT_EQ(sample(text, R"(rmqc_source_send_latency_max_seconds{connector="src",task="0"})"),
            0.004);
  EXPECT_EQ(
      sample(text, R"(rmqc_source_send_errors_total{connector="src",task="0",retriable="true"})"),
      2);
  EXPECT_EQ(
      sample(text, R"(rmqc_source_send_errors_total{connector="src",task="0",retriable="false"})"),
      1);
  EXPECT_EQ(text.find(R"(rmqc_source_send_errors_total{connector="sink")"), std::string::npos);
  EXPECT_NE(text.find("# TYPE rmqc_sink_consumer_lag gauge\n"), std::string::npos);
  EXPECT_EQ(
      sample(
          text,
          R"(rmqc_sink_consumer_lag{connector="sink",task="0",topic="in",broker="broker-a",queue="0"})"),
      7);
  EXPECT_EQ(
      sample(
          text,
          R"(rmqc_sink_consumer_lag{connector="sink",task="0",topic="in",broker="broker-a",queue="1"})"),
      0);
  EXPECT_EQ(
      sample(
          text,
          R"(rmqc_sink_consumer_offset{connector="sink",task="0",topic="in",broker="broker-a",queue="0"})"),
      5);

  // The reporters' document: the same figures, rates over the time between two snapshots.
  runtime::MetricsSnapshot before = runtime::collect_metrics(fake_);
  runtime::MetricsSnapshot now = before;
  now.timestamp_ms = before.timestamp_ms + 2000;
  now.worker.tasks[0].source_record_poll = 30;
  const auto doc = runtime::metrics_json(now, &before);
  EXPECT_EQ(doc["worker_id"], fake_.worker_info().worker_id);
  EXPECT_EQ(doc["timestamp"], now.timestamp_ms);
  ASSERT_EQ(doc["tasks"].size(), 2u);
  const auto& s = doc["tasks"][0];
  EXPECT_EQ(s["connector"], "src");
  EXPECT_EQ(s["type"], "SOURCE");
  EXPECT_EQ(s["source-record-poll-total"], 30);
  EXPECT_EQ(s["source-record-poll-rate"], 10.0);
  EXPECT_EQ(s["send-requests-total"], 4);
  EXPECT_EQ(s["send-latency-avg-ms"], 2.0);
  EXPECT_EQ(s["send-errors-total"], 3);
  EXPECT_FALSE(s.contains("consumer-lag"));
  const auto& k = doc["tasks"][1];
  EXPECT_EQ(k["consumer-lag"], 7);
  EXPECT_EQ(k["queues"][0]["lag"], 7);
  EXPECT_EQ(k["sink-record-read-rate"], 0.0);
  EXPECT_EQ(doc["worker"]["connector-count"], 1);
  // Without a previous snapshot there are no rates yet.
  EXPECT_EQ(runtime::metrics_json(now, nullptr)["tasks"][0]["source-record-poll-rate"], 0.0);
}

// A reporter that fails or throws is called again at the next interval, and once more at stop;
// the others are not held up by it.
TEST_F(OperationsRoutesTest, FailingMetricsReporterKeepsReporting) {
  create("src", source_config());
  struct Counting final : runtime::MetricsReporter {
    Counting(std::atomic<int>& calls, int mode) : calls_(calls), mode_(mode) {}
    std::string_view name() const override { return "counting"; }
    Result<void> report(const nlohmann::json& doc) override {
      ++calls_;
      if (!doc.contains("tasks") || !doc.contains("worker_id")) {
        return Error(ErrorCode::kInternal, "no figures");
      }
      if (mode_ == 1) return Error::retriable(ErrorCode::kTimeout, "broker away (test)");
      if (mode_ == 2) throw std::runtime_error("reporter threw (test)");
      return {};
    }
    std::atomic<int>& calls_;
    int mode_;
  };
  std::atomic<int> failing{0}, throwing{0}, working{0};
  std::vector<std::unique_ptr<runtime::MetricsReporter>> reporters;
  reporters.push_back(std::make_unique<Counting>(failing, 1));
  reporters.push_back(std::make_unique<Counting>(throwing, 2));
  reporters.push_back(std::make_unique<Counting>(working, 0));
  runtime::MetricsReporting reporting(fake_, std::move(reporters), std::chrono::milliseconds(20));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (working.load() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  reporting.stop();
  const int at_stop = working.load();
  EXPECT_GE(at_stop, 4) << "three intervals and the report at stop";
  EXPECT_EQ(failing.load(), at_stop);
  EXPECT_EQ(throwing.load(), at_stop);
  reporting.stop();  // idempotent
  EXPECT_EQ(working.load(), at_stop);
}

TEST_F(OperationsRoutesTest, StatusShowsAutomaticRestarts) {
  create("a", source_config());
  EXPECT_FALSE(get("/connectors/a/status?format=kafka").body["tasks"][0].contains("auto_restart"));
  fake_.restart_info = runtime::TaskRestartInfo{2, "start failed: boom", 1700000000000, false};
  auto k = get("/connectors/a/status?format=kafka").body["tasks"][0]["auto_restart"];
  EXPECT_EQ(k["attempts"], 2);
  EXPECT_EQ(k["last_error"], "start failed: boom");
  EXPECT_EQ(k["next_attempt_ms"], 1700000000000);
  EXPECT_EQ(k["exhausted"], false);
  auto s = get("/connectors/a/status").body["body"]["tasks"][0]["autoRestart"];
  EXPECT_EQ(s["attempts"], 2);
  EXPECT_EQ(s["lastError"], "start failed: boom");
  auto one = get("/connectors/a/tasks/0/status?format=kafka").body;
  EXPECT_EQ(one["auto_restart"]["attempts"], 2);
}

TEST_F(OperationsRoutesTest, LoggerLevelsReadAndSet) {
  auto l = logger("ops-test.child");
  (void)logger("ops-test");
  auto all = get("/admin/loggers");
  ASSERT_EQ(all.status, 200);
  EXPECT_TRUE(all.body.contains("root"));
  EXPECT_TRUE(all.body["ops-test"].contains("level"));

  auto set = put("/admin/loggers/ops-test", R"({"level":"debug"})");
  ASSERT_EQ(set.status, 200) << set.raw;
  EXPECT_EQ(set.body, json::parse(R"(["ops-test","ops-test.child"])"));
  EXPECT_TRUE(l->should_log(spdlog::level::debug));
  auto one = get("/admin/loggers/ops-test.child");
  EXPECT_EQ(one.body["level"], "DEBUG");
  EXPECT_TRUE(one.body["last_modified"].is_number());

  EXPECT_EQ(put("/admin/loggers/ops-test", R"({"level":"LOUD"})").status, 400);
  EXPECT_EQ(put("/admin/loggers/ops-test", R"({})").status, 400);
  EXPECT_EQ(put("/admin/loggers/ops-test?scope=cluster", R"({"level":"INFO"})").status, 400);
  EXPECT_EQ(get("/admin/loggers/no-such-logger").status, 404);
  ASSERT_EQ(put("/admin/loggers/ops-test.child", R"({"level":"ERROR"})").status, 200);
  EXPECT_FALSE(l->should_log(spdlog::level::warn));
  EXPECT_TRUE(logger_enabled("ops-test.child", spdlog::level::err));
  EXPECT_FALSE(logger_enabled("ops-test.child", spdlog::level::warn));
}

}  // namespace
}  // namespace rmqc::rest::testing
