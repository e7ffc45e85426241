// Error handling of the standalone worker, end to end: a poison record (a line that is not JSON,
// read by a sink whose JsonConverter expects envelopes) is dead-lettered with its
// __connect.errors.* context when errors.tolerance=all, and fails the task with a trace when it
// is none. Source side too: a transform failure goes to the DLQ.
#include "broker_probe.h"
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace rmqc::itest {
namespace {

// The figures of task 0 of `connector` in a /metrics text, by metric name.
double task_sample(const std::string& text, const std::string& metric,
                   const std::string& connector) {
  return metrics_sample(text, metric + "{connector=\"" + connector + "\",task=\"0\"}");
}

std::string envelope(const std::string& s) {
  return Json{{"schema", {{"type", "string"}, {"optional", false}}}, {"payload", s}}.dump();
}

TEST(WorkerDlqTest, PoisonRecordIsDeadLetteredOrFailsTheTask) {
  ASSERT_FALSE(worker_bin().empty()) << "RMQ_CONNECT_BIN must point at rmq-connect";
  TempDir dir("rmqc_dlq");
  write_file(dir / "worker.conf", worker_conf(dir / "store"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();

  const std::string in = dir / "in.txt";
  write_file(in, envelope("first") + "\n" + "this line is not JSON\n" + envelope("third") + "\n");
  ASSERT_EQ(w.post("/connectors/feed", Json{{"connector.class", "FileSourceConnector"},
                                            {"filename", in},
                                            {"connect.topicname", "dlq-in"}}
                                           .dump())
                .status,
            200);

  Json sink = {{"connector.class", "FileSinkConnector"},
               {"connect.topicnames", "dlq-in"},
               {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
               {"value.converter", "JsonConverter"},
               {"value.converter.schemas.enable", "true"}};
  // Tolerant sink with a DLQ.
  Json tolerant = sink;
  tolerant["filename"] = dir / "tolerant.txt";
  tolerant["errors.tolerance"] = "all";
  tolerant["errors.log.enable"] = "true";
  tolerant["errors.deadletterqueue.topic.name"] = "dlq-topic";
  ASSERT_EQ(w.post("/connectors/tolerant", tolerant.dump()).status, 200);
  // Intolerant sink on the same topic (its own group).
  Json strict = sink;
  strict["filename"] = dir / "strict.txt";
  strict["errors.tolerance"] = "none";
  ASSERT_EQ(w.post("/connectors/strict", strict.dump()).status, 200);

  // The good records get through the tolerant sink, the poison one is skipped.
  ASSERT_TRUE(eventually([&] { return count_lines(dir / "tolerant.txt") >= 2; }, 30s))
      << w.log_tail();
  // (Records without a key spread over the queues: no order between them.)
  auto good = read_lines(dir / "tolerant.txt");
  std::sort(good.begin(), good.end());
  EXPECT_EQ(good, (std::vector<std::string>{"first", "third"}));
  EXPECT_TRUE(w.all_in("tolerant", "RUNNING")) << w.status("tolerant");

  auto dead = read_topic(w.namesrv(), "dlq-topic", 1, 20s);
  ASSERT_EQ(dead.size(), 1u) << w.log_tail();
  EXPECT_EQ(dead[0].body(), "this line is not JSON");
  auto props = dead[0].properties();
  auto prop = [&](const std::string& k) {
    auto it = props.find(k);
    return it == props.end() ? std::string("<missing>") : it->second;
  };
  EXPECT_EQ(prop("__connect.errors.topic"), "dlq-in");
  EXPECT_EQ(prop("__connect.errors.connector.name"), "tolerant");
  EXPECT_EQ(prop("__connect.errors.task.id"), "0");
  EXPECT_EQ(prop("__connect.errors.stage"), "VALUE_CONVERTER");
  EXPECT_NE(prop("__connect.errors.partition"), "<missing>");
  EXPECT_NE(prop("__connect.errors.offset"), "<missing>");
  EXPECT_NE(prop("__connect.errors.class.name"), "<missing>");
  EXPECT_FALSE(prop("__connect.errors.exception.message").empty());
  EXPECT_NE(prop("__connect.errors.exception.message"), "<missing>");

  // The strict sink's task is FAILED with a trace, in both status shapes.
  ASSERT_TRUE(eventually([&] {
    Json s = w.status("strict");
    return s.is_object() && !s["tasks"].empty() && s["tasks"][0]["state"] == "FAILED";
  })) << w.status("strict");
  Json s = w.status("strict");
  ASSERT_TRUE(s["tasks"][0]["trace"].is_string()) << s;
  std::string trace = s["tasks"][0]["trace"];
  EXPECT_NE(trace.find("VALUE_CONVERTER"), std::string::npos) << trace;
  Json k = w.get("/connectors/strict/status?format=kafka").json();
  EXPECT_EQ(k["tasks"][0]["state"], "FAILED") << k;
  EXPECT_TRUE(k["tasks"][0]["trace"].is_string()) << k;
  auto ts = w.get("/connectors/strict/tasks/0/status").json()["body"];
  EXPECT_EQ(ts["state"], "FAILED");
  // The poison record is never written. Records without a key spread over the topic's queues,
  // so good records from other queues may have been put before the task failed.
  for (const auto& line : read_lines(dir / "strict.txt")) {
    EXPECT_TRUE(line == "first" || line == "third") << read_text(dir / "strict.txt");
  }

  // Kafka Connect's task-error-metrics count what happened: the tolerant sink read three
  // records, put two, skipped, logged and dead-lettered the poison one (a conversion failure is
  // not retried); the strict one failed on it without a dead letter.
  std::string text;
  ASSERT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return task_sample(text, "rmqc_task_deadletterqueue_produce_total", "tolerant") == 1 &&
           task_sample(text, "rmqc_sink_record_send_total", "tolerant") == 2;
  })) << text;
  EXPECT_EQ(task_sample(text, "rmqc_sink_record_read_total", "tolerant"), 3) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_record_failures_total", "tolerant"), 1) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_record_errors_total", "tolerant"), 1) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_records_skipped_total", "tolerant"), 1) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_errors_logged_total", "tolerant"), 1) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_retries_total", "tolerant"), 0) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_deadletterqueue_produce_failures_total", "tolerant"), 0)
      << text;
  // The strict task (restarted automatically, failing again on the same record) is the one
  // FAILED task, with nothing skipped or dead-lettered.
  EXPECT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return metrics_sample(text, "rmqc_worker_task_count{state=\"FAILED\"}") == 1 &&
           metrics_sample(
               text, "rmqc_task_status{connector=\"strict\",task=\"0\",state=\"FAILED\"}") == 1 &&
           task_sample(text, "rmqc_task_records_skipped_total", "strict") == 0 &&
           task_sample(text, "rmqc_task_deadletterqueue_produce_total", "strict") == 0;
  })) << text;

  // Source side: a transform failure (PatternRename needs a struct or map, the file source
  // gives strings) is dead-lettered too, with its stage.
  const std::string in2 = dir / "in2.txt";
  write_file(in2, "plain-1\nplain-2\n");
  Json src = {{"connector.class", "FileSourceConnector"},
              {"filename", in2},
              {"connect.topicname", "src-out"},
              {"transforms", "Replace"},
              {"transforms.Replace.class", "PatternRename$Value"},
              {"transforms.Replace.field.pattern", "a"},
              {"transforms.Replace.field.replacement", "b"},
              {"errors.tolerance", "all"},
              {"errors.deadletterqueue.topic.name", "src-dlq"}};
  ASSERT_EQ(w.post("/connectors/src-tolerant", src.dump()).status, 200);
  auto src_dead = read_topic(w.namesrv(), "src-dlq", 2, 20s);
  ASSERT_EQ(src_dead.size(), 2u) << w.log_tail();
  std::vector<std::string> bodies = {std::string(src_dead[0].body()),
                                     std::string(src_dead[1].body())};
  std::sort(bodies.begin(), bodies.end());
  EXPECT_EQ(bodies, (std::vector<std::string>{"plain-1", "plain-2"}));
  EXPECT_EQ(src_dead[0].properties()["__connect.errors.stage"], "TRANSFORMATION");
  EXPECT_EQ(src_dead[0].properties()["__connect.errors.connector.name"], "src-tolerant");
  EXPECT_TRUE(w.all_in("src-tolerant", "RUNNING")) << w.status("src-tolerant");
  // Both polled lines failed in the transform: skipped and dead-lettered, none written.
  ASSERT_TRUE(eventually([&] {
    text = w.get("/metrics").body;
    return task_sample(text, "rmqc_task_deadletterqueue_produce_total", "src-tolerant") == 2;
  })) << text;
  EXPECT_EQ(task_sample(text, "rmqc_source_record_poll_total", "src-tolerant"), 2) << text;
  EXPECT_EQ(task_sample(text, "rmqc_source_record_write_total", "src-tolerant"), 0) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_records_skipped_total", "src-tolerant"), 2) << text;
  EXPECT_EQ(task_sample(text, "rmqc_task_errors_logged_total", "src-tolerant"), 0) << text;

  int status = w.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace rmqc::itest
