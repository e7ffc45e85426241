// Operating a real `rmq-connect standalone` (embedded broker, everything over TCP): the counters of
// GET /metrics against what went through a file -> broker -> file pipeline, /health and /ready,
// log levels changed at run time, automatic restarts of a failed task, PATCH of a connector's
// config, the loopback default bind, and /health of a distributed worker cut off from its broker
// (docs/operations.md).
#include "cluster_harness.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace rmqc::itest {
namespace {

// The sum of the samples of `metric` whose labels start with `labels_prefix` (every queue of a
// task), or -1 when there are none.
double sum_samples(const std::string& text, const std::string& metric,
                   const std::string& labels_prefix) {
  const std::string prefix = metric + "{" + labels_prefix;
  double sum = -1;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    if (text.compare(at, prefix.size(), prefix) == 0) {
      const std::size_t space = text.rfind(' ', nl);
      sum = (sum < 0 ? 0 : sum) + std::stod(text.substr(space + 1, nl - space - 1));
    }
    at = nl + 1;
  }
  return sum;
}

std::string task_series(const std::string& metric, const std::string& connector) {
  return metric + "{connector=\"" + connector + "\",task=\"0\"}";
}

std::string lines(int from, int to) {
  std::string out;
  for (int i = from; i < to; ++i) out += "line-" + std::to_string(i) + "\n";
  return out;
}

Json connector(const std::string& name, Json config) {
  return {{"name", name}, {"config", std::move(config)}};
}

Json file_sink(const std::string& file, const std::string& topic) {
  return {{"connector.class", "org.apache.rocketmq.connect.file.FileSinkConnector"},
          {"filename", file},
          {"connect.topicnames", topic},
          {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}};
}

Json file_source(const std::string& file, const std::string& topic) {
  return {{"connector.class", "org.apache.rocketmq.connect.file.FileSourceConnector"},
          {"filename", file},
          {"connect.topicname", topic}};
}

TEST(WorkerOperationsTest, MetricsCountWhatFlowsThroughThePipeline) {
  TempDir dir("rmqc_ops_metrics");
  write_file(dir / "worker.conf", worker_conf(dir / "store"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
  ASSERT_TRUE(eventually([&] { return w.get("/health").status == 200; })) << w.get("/health").body;
  EXPECT_EQ(w.get("/health").json()["status"], "healthy");

  const std::string in = dir / "in.txt";
  const std::string out = dir / "out.txt";
  constexpr int kFirst = 300;
  write_file(in, lines(0, kFirst));
  ASSERT_EQ(w.post("/connectors", connector("sink", file_sink(out, "ops-lines")).dump()).status,
            201);
  ASSERT_EQ(w.post("/connectors", connector("src", file_source(in, "ops-lines")).dump()).status,
            201);
  ASSERT_TRUE(eventually([&] { return count_lines(out) == kFirst; }, 60s))
      << count_lines(out) << " lines\n"
      << w.log_tail();

  std::string text;
  auto counts_are = [&](double n) {
    return eventually([&] {
      auto r = w.get("/metrics");
      if (r.status != 200) return false;
      text = r.body;
      return metrics_sample(text, task_series("rmqc_source_record_poll_total", "src")) == n &&
             metrics_sample(text, task_series("rmqc_source_record_write_total", "src")) == n &&
             metrics_sample(text, task_series("rmqc_sink_record_read_total", "sink")) == n &&
             metrics_sample(text, task_series("rmqc_sink_record_send_total", "sink")) == n;
    });
  };
  ASSERT_TRUE(counts_are(kFirst)) << text;
  EXPECT_NE(w.get("/metrics").headers.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(text.find("# TYPE rmqc_source_record_poll_total counter"), std::string::npos);
  EXPECT_NE(text.find("# HELP rmqc_sink_record_send_total "), std::string::npos);
  EXPECT_NE(text.find("# TYPE rmqc_sink_put_batch_time_seconds histogram"), std::string::npos);
  EXPECT_GE(metrics_sample(text,
                           "rmqc_sink_put_batch_time_seconds_bucket{connector=\"sink\",task=\"0\","
                           "le=\"0.0001\"}"),
            0)
      << "bounds are printed as written";
  // A source task has no sink series and the other way round.
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_sink_record_read_total", "src")), -1);
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_source_record_poll_total", "sink")), -1);
  // Batches were timed and sized; their sizes add up to the records.
  EXPECT_GT(metrics_sample(text, task_series("rmqc_source_poll_batch_time_seconds_count", "src")),
            0);
  EXPECT_GT(metrics_sample(text, task_series("rmqc_sink_put_batch_time_seconds_count", "sink")), 0);
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_task_batch_size_sum", "src")), kFirst);
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_task_batch_size_sum", "sink")), kFirst);
  EXPECT_GE(metrics_sample(text, task_series("rmqc_task_batch_size_max", "sink")), 1);
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_task_record_failures_total", "src")), 0);
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_task_deadletterqueue_produce_total", "sink")),
            0);
  EXPECT_EQ(metrics_sample(text, "rmqc_worker_connector_count"), 2);
  EXPECT_EQ(metrics_sample(text, "rmqc_worker_task_count{state=\"RUNNING\"}"), 2);
  EXPECT_EQ(metrics_sample(text, "rmqc_worker_task_count{state=\"FAILED\"}"), 0);
  EXPECT_EQ(
      metrics_sample(text, "rmqc_task_status{connector=\"src\",task=\"0\",state=\"RUNNING\"}"), 1);
  EXPECT_GT(metrics_sample(text, "rmqc_worker_uptime_seconds"), 0);
  EXPECT_GT(metrics_sample(text, "process_resident_memory_bytes"), 1 << 20);
  // Positions and offsets are committed every 500 ms (worker_conf).
  EXPECT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return metrics_sample(text, task_series("rmqc_offset_commit_success_total", "src")) > 0 &&
           metrics_sample(text, task_series("rmqc_offset_commit_success_total", "sink")) > 0;
  })) << text;
  // Idle afterwards, the next commits have nothing new: skipped, none failed.
  EXPECT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return metrics_sample(text, task_series("rmqc_offset_commit_skip_total", "src")) > 0 &&
           metrics_sample(text, task_series("rmqc_offset_commit_skip_total", "sink")) > 0;
  })) << text;
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_offset_commit_failure_total", "src")), 0);
  EXPECT_EQ(metrics_sample(text, task_series("rmqc_offset_commit_failure_total", "sink")), 0);
  EXPECT_EQ(w.get("/ready").status, 200);

  // More lines: the counters follow.
  constexpr int kMore = 200;
  write_file(in, lines(kFirst, kFirst + kMore), /*append=*/true);
  ASSERT_TRUE(eventually([&] { return count_lines(out) == kFirst + kMore; }, 60s)) << w.log_tail();
  EXPECT_TRUE(counts_are(kFirst + kMore)) << text;
  EXPECT_EQ(w.stop(), 0);
}

// The newest message of `topic` (a fresh group reading from the start) whose JSON body
// satisfies `accept`; null when none did within `timeout`.
Json find_message(const std::string& namesrv, const std::string& topic,
                  const std::function<bool(const Json&, const rocketmq::MessageExt&)>& accept,
                  std::chrono::milliseconds timeout) {
  rocketmq::ConsumerConfig cc;
  cc.client.namesrv_addr = namesrv;
  cc.group = "metrics-reader-" + std::to_string(::getpid());
  cc.auto_commit = false;
  auto consumer = rocketmq::LitePullConsumer::start(cc);
  if (!consumer.ok()) {
    ADD_FAILURE() << consumer.error().to_string();
    return Json();
  }
  auto& c = **consumer;
  const auto deadline = Clock::now() + timeout;
  std::vector<rocketmq::MessageQueue> queues;
  while (queues.empty() && Clock::now() < deadline) {
    auto q = c.fetch_queues(topic);
    if (q.ok()) queues = *q;
    if (queues.empty()) std::this_thread::sleep_for(100ms);
  }
  Json found;
  if (!queues.empty() && c.assign(queues).ok()) {
    for (const auto& q : queues) (void)c.seek_to_begin(q);
    while (found.is_null() && Clock::now() < deadline) {
      auto got = c.poll(200ms);
      if (!got.ok()) continue;
      for (const auto& m : *got) {
        Json body = Json::parse(m.body(), nullptr, /*allow_exceptions=*/false);
        if (!body.is_discarded() && accept(body, m)) found = std::move(body);
      }
    }
  }
  c.shutdown();
  return found;
}

// Sink consumer lag per queue grows while the sink is paused and returns to 0 once it caught
// up; source send latency and errors count the sends; the log and rocketmq reporters publish the
// same figures (docs/operations.md#metrics).
TEST(WorkerOperationsTest, LagSendLatencyAndReporters) {
  TempDir dir("rmqc_ops_lag");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store",
                         "metrics.reporters=log,rocketmq\nmetrics.report.interval.ms=300\n"
                         "metrics.topic=ops-metrics\n"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();

  // One line first: the topic exists and the sink has its queues before it is paused.
  const std::string in = dir / "in.txt";
  const std::string out = dir / "out.txt";
  write_file(in, lines(0, 1));
  ASSERT_EQ(w.post("/connectors", connector("src", file_source(in, "lag-lines")).dump()).status,
            201);
  ASSERT_EQ(w.post("/connectors", connector("sink", file_sink(out, "lag-lines")).dump()).status,
            201);
  ASSERT_TRUE(eventually([&] { return count_lines(out) == 1; }, 60s)) << w.log_tail();
  std::string text;
  const std::string sink_queues = "connector=\"sink\",task=\"0\",";
  ASSERT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return sum_samples(text, "rmqc_sink_consumer_lag", sink_queues) == 0 &&
           sum_samples(text, "rmqc_sink_consumer_offset", sink_queues) == 1;
  })) << text;
  EXPECT_NE(text.find("# TYPE rmqc_sink_consumer_lag gauge"), std::string::npos);

  // Paused, the sink reads nothing: what the source writes meanwhile is its lag.
  ASSERT_EQ(w.put("/connectors/sink/pause").status, 202);
  ASSERT_TRUE(eventually([&] { return w.all_in("sink", "PAUSED"); })) << w.status("sink").dump();
  constexpr int kLines = 250;
  write_file(in, lines(1, 1 + kLines), /*append=*/true);
  ASSERT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return metrics_sample(text, task_series("rmqc_source_record_write_total", "src")) ==
               1 + kLines &&
           sum_samples(text, "rmqc_sink_consumer_lag", sink_queues) == kLines;
  })) << text;
  EXPECT_EQ(sum_samples(text, "rmqc_sink_consumer_offset", sink_queues), 1);
  EXPECT_EQ(count_lines(out), 1u);

  // Every send request was acknowledged: each is timed, none failed.
  const double sends =
      metrics_sample(text, task_series("rmqc_source_send_latency_seconds_count", "src"));
  EXPECT_GE(sends, 2);
  EXPECT_LE(sends, 1 + kLines);
  EXPECT_EQ(metrics_sample(text,
                           "rmqc_source_send_errors_total{connector=\"src\",task=\"0\","
                           "retriable=\"true\"}"),
            0);
  EXPECT_EQ(metrics_sample(text,
                           "rmqc_source_send_errors_total{connector=\"src\",task=\"0\","
                           "retriable=\"false\"}"),
            0);

  // Resumed, it catches up: lag 0, its position at the queues' ends.
  ASSERT_EQ(w.put("/connectors/sink/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return count_lines(out) == 1 + kLines; }, 60s)) << w.log_tail();
  ASSERT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return sum_samples(text, "rmqc_sink_consumer_lag", sink_queues) == 0 &&
           sum_samples(text, "rmqc_sink_consumer_offset", sink_queues) == 1 + kLines;
  })) << text;

  // The rocketmq reporter: one JSON document per interval, tagged with the worker id, with the
  // same counts.
  auto task_of = [](const Json& doc, const std::string& name) {
    for (const auto& t : doc["tasks"]) {
      if (t["connector"] == name) return t;
    }
    return Json();
  };
  Json doc = find_message(
      w.namesrv(), "ops-metrics",
      [&](const Json& d, const rocketmq::MessageExt& m) {
        const Json src = task_of(d, "src");
        const Json sink = task_of(d, "sink");
        return m.tags() == "test-worker" && src.is_object() && sink.is_object() &&
               src["source-record-write-total"] == 1 + kLines &&
               sink["sink-record-send-total"] == 1 + kLines && sink["consumer-lag"] == 0;
      },
      30s);
  ASSERT_TRUE(doc.is_object()) << "no metrics message with the final counts\n" << w.log_tail();
  EXPECT_EQ(doc["worker_id"], "test-worker");
  EXPECT_GT(doc["timestamp"].get<std::int64_t>(), 0);
  EXPECT_EQ(doc["worker"]["running-task-count"], 2);
  EXPECT_EQ(task_of(doc, "src")["source-record-poll-total"], 1 + kLines);
  EXPECT_EQ(task_of(doc, "src")["send-errors-total"], 0);
  EXPECT_EQ(task_of(doc, "src")["send-requests-total"].get<double>(), sends);
  EXPECT_EQ(task_of(doc, "sink")["sink-record-read-total"], 1 + kLines);

  // The log reporter: a line per task and one for the worker.
  const std::string log = read_text(dir / "worker.log");
  EXPECT_NE(log.find("task src-0 SOURCE RUNNING: "), std::string::npos) << w.log_tail();
  EXPECT_NE(log.find("source-record-write-total=" + std::to_string(1 + kLines)), std::string::npos);
  EXPECT_NE(log.find("worker test-worker: "), std::string::npos);
  EXPECT_EQ(w.stop(), 0);
}

TEST(WorkerOperationsTest, LogLevelsChangeAtRunTime) {
  TempDir dir("rmqc_ops_loggers");
  write_file(dir / "worker.conf", worker_conf(dir / "store"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
  auto all = w.get("/admin/loggers");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(all.json()["root"]["level"], "INFO") << all.body;
  EXPECT_EQ(all.json()["rest"]["level"], "INFO") << all.body;
  EXPECT_TRUE(all.json()["rest"]["last_modified"].is_null());

  // The REST API logs each request at DEBUG: nothing at INFO, every request once "rest" is DEBUG.
  ASSERT_EQ(w.get("/connectors?probe=1").status, 200);
  EXPECT_EQ(read_text(dir / "worker.log").find("GET /connectors -> 200"), std::string::npos);
  auto set = w.put("/admin/loggers/rest", R"({"level":"DEBUG"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.json(), Json::parse(R"(["rest"])"));
  auto one = w.get("/admin/loggers/rest");
  EXPECT_EQ(one.json()["level"], "DEBUG");
  EXPECT_TRUE(one.json()["last_modified"].is_number());
  ASSERT_EQ(w.get("/connectors").status, 200);
  EXPECT_TRUE(eventually([&] {
    return read_text(dir / "worker.log").find("GET /connectors -> 200") != std::string::npos;
  })) << w.log_tail();

  // "worker" at ERROR hides the INFO line of a connector's creation; back at INFO it shows.
  ASSERT_EQ(w.put("/admin/loggers/worker", R"({"level":"ERROR"})").status, 200);
  const std::string in = dir / "in.txt";
  write_file(in, "");
  ASSERT_EQ(w.post("/connectors", connector("quiet", file_source(in, "t1")).dump()).status, 201);
  EXPECT_EQ(read_text(dir / "worker.log").find("connector quiet created"), std::string::npos);
  ASSERT_EQ(w.put("/admin/loggers/worker", R"({"level":"info"})").status, 200);
  ASSERT_EQ(w.post("/connectors", connector("loud", file_source(in, "t2")).dump()).status, 201);
  EXPECT_NE(read_text(dir / "worker.log").find("connector loud created"), std::string::npos);

  EXPECT_EQ(w.put("/admin/loggers/rest", R"({"level":"CHATTY"})").status, 400);
  EXPECT_EQ(w.get("/admin/loggers/no.such.logger").status, 404);
  EXPECT_EQ(w.stop(), 0);
}

// A sink whose output directory does not exist fails at start; the worker restarts it with
// backoff, the status shows the attempts and the error, and once the directory exists the
// restart sticks and records flow. The directory's name comes from a config provider: the last
// error shows the reference, never the resolved name, in the status and the log.
TEST(WorkerOperationsTest, FailedTaskIsRestartedUntilItWorks) {
  TempDir dir("rmqc_ops_restart");
  const std::string secrets = dir / "secrets";
  fs::create_directories(secrets);
  const std::string secret = "Later-9c2f41";
  write_file(secrets + "/app.properties", "subdir=" + secret + "\n");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store",
                         "taskAutoRestartInitialBackoffMs=100\ntaskAutoRestartMaxBackoffMs=400\n"
                         "config.providers=file\nconfig.providers.file.param.allowed.paths=" +
                             secrets + "\n"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
  const std::string reference = "${file:" + secrets + "/app.properties:subdir}";
  const std::string out = dir / (secret + "/out.txt");
  ASSERT_EQ(
      w.post("/connectors",
             connector("sink", file_sink(dir / (reference + "/out.txt"), "restart-lines")).dump())
          .status,
      201);
  Json task;
  ASSERT_TRUE(eventually(
      [&] {
        auto s = w.get("/connectors/sink/status?format=kafka").json();
        if (!s.is_object() || s["tasks"].empty()) return false;
        task = s["tasks"][0];
        return task.contains("auto_restart") && task["auto_restart"]["attempts"] >= 2;
      },
      60s))
      << task << w.log_tail();
  EXPECT_NE(task["auto_restart"]["last_error"].get<std::string>().find("cannot open"),
            std::string::npos)
      << task;
  EXPECT_NE(task["auto_restart"]["last_error"].get<std::string>().find(reference),
            std::string::npos)
      << task;
  EXPECT_EQ(task.dump().find(secret), std::string::npos) << task;
  EXPECT_EQ(task["auto_restart"]["exhausted"], false);
  EXPECT_EQ(w.get("/ready").status, 503);
  EXPECT_GE(metrics_sample(w.get("/metrics").body, "rmqc_worker_task_auto_restarts_total"), 2);
  // Seed shape too.
  auto seed = w.get("/connectors/sink/status").json()["body"]["tasks"][0];
  EXPECT_GE(seed["autoRestart"]["attempts"], 2) << seed;
  EXPECT_EQ(seed.dump().find(secret), std::string::npos) << seed;

  fs::create_directories(dir / secret);
  ASSERT_TRUE(eventually([&] { return w.all_in("sink", "RUNNING"); }, 60s)) << w.status("sink");
  const std::string in = dir / "in.txt";
  write_file(in, lines(0, 20));
  ASSERT_EQ(w.post("/connectors", connector("src", file_source(in, "restart-lines")).dump()).status,
            201);
  EXPECT_TRUE(eventually([&] { return count_lines(out) == 20; }, 60s)) << w.log_tail();
  auto after = w.get("/connectors/sink/status?format=kafka").json()["tasks"][0];
  EXPECT_EQ(after["state"], "RUNNING");
  EXPECT_GE(after["auto_restart"]["attempts"], 2) << after;
  EXPECT_EQ(after.dump().find(secret), std::string::npos) << after;
  EXPECT_EQ(w.get("/ready").status, 200);
  EXPECT_EQ(w.stop(), 0);
  const std::string log = read_text(dir / "worker.log");
  EXPECT_NE(log.find("automatic restart"), std::string::npos);
  EXPECT_EQ(log.find(secret), std::string::npos) << log;
}

TEST(WorkerOperationsTest, DisabledAutoRestartLeavesTaskFailed) {
  TempDir dir("rmqc_ops_norestart");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store",
                         "taskAutoRestartEnable=false\ntaskAutoRestartInitialBackoffMs=100\n"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
  const std::string out = dir / "missing/out.txt";
  ASSERT_EQ(w.post("/connectors", connector("sink", file_sink(out, "norestart")).dump()).status,
            201);
  ASSERT_TRUE(eventually([&] {
    auto s = w.get("/connectors/sink/status?format=kafka").json();
    return s.is_object() && !s["tasks"].empty() && s["tasks"][0]["state"] == "FAILED";
  }));
  fs::create_directories(dir / "missing");  // a restart would now succeed: none comes
  std::this_thread::sleep_for(1500ms);      // fifteen initial backoffs
  auto s = w.get("/connectors/sink/status?format=kafka").json();
  EXPECT_EQ(s["tasks"][0]["state"], "FAILED") << s;
  EXPECT_FALSE(s["tasks"][0].contains("auto_restart")) << s;
  EXPECT_EQ(metrics_sample(w.get("/metrics").body, "rmqc_worker_task_auto_restarts_total"), 0);
  EXPECT_EQ(w.get("/ready").status, 503);
  // The user's restart brings it back.
  EXPECT_EQ(w.post("/connectors/sink/tasks/0/restart").status, 204);
  EXPECT_TRUE(eventually([&] { return w.all_in("sink", "RUNNING"); })) << w.status("sink");
  EXPECT_EQ(w.stop(), 0);
}

// The local addresses (as /proc/net/tcp{,6} print them, "0100007F" for 127.0.0.1) of the TCP
// sockets listening on `port`.
std::vector<std::string> listening_addresses(std::uint16_t port) {
  std::vector<std::string> out;
  char want[8];
  std::snprintf(want, sizeof(want), "%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    for (const auto& line : read_lines(table)) {
      // "  sl  local_address rem_address   st ..."; st 0A is LISTEN.
      char local[64];
      char remote[64];
      char state[8];
      if (std::sscanf(line.c_str(), " %*s %63s %63s %7s", local, remote, state) != 3) continue;
      const std::string addr = local;
      const auto colon = addr.rfind(':');
      if (colon == std::string::npos || std::string(state) != "0A") continue;
      if (addr.substr(colon + 1) == want) out.push_back(addr.substr(0, colon));
    }
  }
  return out;
}

// PATCH /connectors/{name}/config on a live worker: a JSON null deletes a key, the other keys
// merge, and the tasks restart with the merged config (the sink writes to its new file). Also
// the REST API's default bind: loopback only.
TEST(WorkerOperationsTest, PatchConfigDeletesNullKeysAndRestartsTheTasks) {
  TempDir dir("rmqc_ops_patch");
  write_file(dir / "worker.conf", worker_conf(dir / "store"));  // no httpHost
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
  EXPECT_NE(w.ready_line().find("rest=http://127.0.0.1:"), std::string::npos) << w.ready_line();
  EXPECT_EQ(listening_addresses(w.port()), std::vector<std::string>{"0100007F"})
      << "the REST port listens on 127.0.0.1 only";

  const std::string in = dir / "in.txt";
  const std::string first = dir / "first.txt";
  const std::string second = dir / "second.txt";
  write_file(in, lines(0, 5));
  Json sink = file_sink(first, "patch-lines");
  sink["custom.note"] = "to be deleted";
  ASSERT_EQ(w.post("/connectors", connector("sink", sink).dump()).status, 201);
  ASSERT_EQ(w.post("/connectors", connector("src", file_source(in, "patch-lines")).dump()).status,
            201);
  ASSERT_TRUE(eventually([&] { return count_lines(first) == 5; }, 60s)) << w.log_tail();

  auto patched = http(w.port(), "PATCH", "/connectors/sink/config",
                      Json{{"custom.note", nullptr}, {"filename", second}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_FALSE(patched.json()["config"].contains("custom.note")) << patched.body;
  EXPECT_EQ(patched.json()["config"]["filename"], second);
  EXPECT_EQ(patched.json()["config"]["connect.topicnames"], "patch-lines")
      << "merged, not replaced";
  Json info = w.get("/connectors/sink").json();
  EXPECT_FALSE(info["config"].contains("custom.note")) << info;
  EXPECT_EQ(info["config"]["filename"], second) << info;
  Json tasks;
  ASSERT_TRUE(eventually([&] {
    tasks = w.get("/connectors/sink/tasks?format=kafka").json();
    return tasks.is_array() && !tasks.empty() && tasks[0]["config"]["filename"] == second;
  })) << tasks;
  EXPECT_FALSE(tasks[0]["config"].contains("custom.note")) << tasks;
  // PATCH answers 404 for an unknown connector and 400 for a body that is not an object.
  EXPECT_EQ(http(w.port(), "PATCH", "/connectors/nope/config", R"({"a":"b"})").status, 404);
  EXPECT_EQ(http(w.port(), "PATCH", "/connectors/sink/config", "[1]").status, 400);

  // New lines go to the new file only.
  ASSERT_TRUE(eventually([&] { return w.all_in("sink", "RUNNING"); })) << w.status("sink");
  write_file(in, lines(5, 8), /*append=*/true);
  ASSERT_TRUE(eventually(
      [&] {
        const std::string text = read_text(second);
        return text.find("line-7\n") != std::string::npos;
      },
      60s))
      << w.log_tail();
  EXPECT_EQ(read_text(first).find("line-7"), std::string::npos) << read_text(first);
  EXPECT_EQ(w.stop(), 0);
}

// /health of a `rmq-connect distributed` worker follows its contact with the broker: 200
// healthy once it joined, 500 unhealthy (naming the cause) while the broker is frozen (SIGSTOP)
// for longer than the contact window, 200 again once the broker answers; /ready follows.
TEST(WorkerOperationsTest, DistributedHealthFollowsTheBrokerContact) {
  TempDir dir("rmqc_ops_health");
  BrokerChild broker;
  ASSERT_TRUE(broker.start_broker(dir / "broker", dir / "broker.log")) << broker.error();
  const std::string conf = dir / "w1.conf";
  // membershipPollIntervalMs=1000: the contact window is its minimum, 5 s.
  write_file(conf, "workerId=w1\nconnectClusterId=health-cluster\nhttpPort=0\nnamesrvAddr=" +
                       broker.namesrv() + "\nstorePathRootDir=" + (dir / "store") +
                       "\nmembershipPollIntervalMs=1000\nstatePersistInterval=1000\n"
                       "maxStopTimeoutMills=10000\n");
  WorkerChild w;
  ASSERT_TRUE(w.start_worker(conf, dir / "w1.log")) << w.error();
  HttpReply h;
  ASSERT_TRUE(eventually([&] { return (h = w.get("/health")).status == 200; }, 30s))
      << h.status << " " << h.body << w.log_tail();
  EXPECT_EQ(h.json()["status"], "healthy");
  EXPECT_EQ(w.get("/ready").status, 200);
  EXPECT_GE(metrics_sample(w.get("/metrics").body, "rmqc_worker_rebalances_total"), 1);

  broker.signal(SIGSTOP);
  const bool cut_off = eventually([&] { return (h = w.get("/health")).status == 500; }, 30s);
  const int ready_while_cut_off = w.get("/ready").status;
  broker.signal(SIGCONT);
  ASSERT_TRUE(cut_off) << h.status << " " << h.body << w.log_tail();
  EXPECT_EQ(h.json()["status"], "unhealthy") << h.body;
  EXPECT_NE(h.json()["message"].get<std::string>().find("cut off from the broker"),
            std::string::npos)
      << h.body;
  EXPECT_EQ(ready_while_cut_off, 503);

  ASSERT_TRUE(eventually([&] { return (h = w.get("/health")).status == 200; }, 30s))
      << h.status << " " << h.body << w.log_tail();
  EXPECT_EQ(h.json()["status"], "healthy");
  EXPECT_EQ(w.get("/ready").status, 200);
  EXPECT_EQ(w.stop(), 0);
  EXPECT_EQ(broker.stop(), 0);
}

}  // namespace
}  // namespace rmqc::itest
