// Direct connectors (connector.direct.enable, issue 15) and secrets in traces, against a real
// `rmq-connect standalone` that runs without any broker: namesrvAddr names a port nobody listens
// on, so no embedded broker starts and no record could travel through one.
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <set>

namespace rmqc::itest {
namespace {

// A port nobody listens on (tcpmux): sends to it fail at once.
constexpr const char* kNoBroker = "127.0.0.1:1";

std::string no_broker_conf(const std::string& store, const std::string& extra = "") {
  return "workerId=direct-worker\nhttpPort=0\nnamesrvAddr=" + std::string(kNoBroker) +
         "\nstorePathRootDir=" + store + "\noffsetCommitIntervalMsConfig=500\n" + extra;
}

std::string numbered(int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i) text += "line-" + std::to_string(i) + "\n";
  return text;
}

Json direct_connector(const std::string& name, const std::string& in, const std::string& out) {
  return {{"name", name},
          {"config",
           {{"connector.class", "org.apache.rocketmq.connect.file.FileSourceConnector"},
            {"filename", in},
            {"connector.direct.enable", "true"},
            {"source.task.class", "org.apache.rocketmq.connect.file.FileSourceTask"},
            {"sink.task.class", "FileSinkConnector"},
            {"direct.sink.filename", out}}}};
}

TEST(WorkerDirectTest, CopiesAFileWithNoBrokerAndResumesWhereItCommitted) {
  TempDir dir("rmqc_itest_direct");
  const std::string in = dir / "in.txt";
  const std::string out = dir / "out.txt";
  const std::string conf = dir / "worker.conf";
  const std::string log = dir / "worker.log";
  write_file(conf, no_broker_conf(dir / "store"));
  write_file(in, numbered(0, 2000));

  auto w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, log)) << w->error();
  EXPECT_EQ(w->namesrv(), kNoBroker) << w->ready_line();

  // Validation: a missing or unknown task class is refused at create time with a clear 400.
  Json bad = direct_connector("bad", in, out);
  bad["config"]["source.task.class"] = "NoSuchTask";
  auto refused = w->post("/connectors", bad.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("source.task.class"), std::string::npos) << refused.body;
  EXPECT_NE(refused.body.find("NoSuchTask"), std::string::npos) << refused.body;
  bad = direct_connector("bad", in, out);
  bad["config"]["sink.task.class"] = "FileSourceTask";  // a source task on the sink side
  refused = w->post("/connectors", bad.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("no sink task class"), std::string::npos) << refused.body;
  bad = direct_connector("bad", in, out);
  bad["config"].erase("sink.task.class");
  refused = w->post("/connectors", bad.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("sink.task.class is required"), std::string::npos) << refused.body;
  EXPECT_EQ(w->get("/connectors/bad").status, 404);

  ASSERT_EQ(w->post("/connectors", direct_connector("copy", in, out).dump()).status, 201);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 2000; }, 30s)) << w->log_tail();
  EXPECT_EQ(read_text(out), read_text(in));
  EXPECT_TRUE(w->all_in("copy", "RUNNING")) << w->status("copy");
  // The stored task config is stamped as the Java runtime stamps it.
  Json tasks = w->get("/connectors/copy/tasks?format=kafka").json();
  ASSERT_EQ(tasks.size(), 1u) << tasks;
  EXPECT_EQ(tasks[0]["config"]["task.type"], "DIRECT") << tasks;
  EXPECT_EQ(tasks[0]["config"]["direct.sink.filename"], out) << tasks;

  // Pause and resume: nothing is copied while paused.
  ASSERT_EQ(w->put("/connectors/copy/pause").status, 202);
  ASSERT_TRUE(eventually([&] { return w->all_in("copy", "PAUSED"); }, 20s)) << w->status("copy");
  write_file(in, numbered(2000, 2100), /*append=*/true);
  std::this_thread::sleep_for(300ms);  // (a paused task that copied would show it by now)
  EXPECT_EQ(count_lines(out), 2000u);
  ASSERT_EQ(w->put("/connectors/copy/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 2100; }, 30s)) << w->log_tail();

  // A clean stop commits what was put: the restarted worker goes on from there, no line twice.
  ASSERT_EQ(w->stop(), 0);
  write_file(in, numbered(2100, 3000), /*append=*/true);
  w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, log)) << w->error();
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 3000; }, 30s)) << w->log_tail();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(read_text(out), read_text(in)) << "lines copied twice or lost across a clean restart";

  // A crash (kill -9) loses nothing and copies again exactly what was put since the last
  // commit. With commits every minute, the last one is the clean stop's (line 3000): every line
  // the crashed worker copied after it comes twice, and nothing before it does.
  ASSERT_EQ(w->stop(), 0);
  write_file(conf, no_broker_conf(dir / "store", "offsetCommitIntervalMsConfig=60000\n"));
  w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, log)) << w->error();
  write_file(in, numbered(3000, 20000), /*append=*/true);
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 10000; }, 30s)) << w->log_tail();
  w->kill9();
  const std::size_t at_crash = count_lines(out);
  w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, log)) << w->error();
  const auto expected = read_lines(in);
  ASSERT_TRUE(
      eventually([&] { return count_lines(out) >= at_crash + expected.size() - 3000; }, 30s))
      << w->log_tail();
  std::this_thread::sleep_for(300ms);
  const auto lines = read_lines(out);
  const std::size_t duplicates = lines.size() - expected.size();
  std::printf("direct task, kill -9 at %zu of 20000 lines, last commit at 3000: %zu copied twice\n",
              at_crash, duplicates);
  EXPECT_EQ(duplicates, at_crash - 3000);
  // out = in[0, at_crash) + in[3000, end)
  std::vector<std::string> want(expected.begin(), expected.begin() + at_crash);
  want.insert(want.end(), expected.begin() + 3000, expected.end());
  EXPECT_TRUE(lines == want) << "not one replay of the lines after the last commit";

  // No broker took part: nothing listens at the name server address the worker used.
  EXPECT_EQ(http(1, "GET", "/").status, 0);
}

TEST(WorkerDirectTest, ResolvedSecretsNeverReachATraceOrTheLog) {
  TempDir dir("rmqc_itest_direct_secrets");
  const std::string secret = "Secret-4e1d77b0";
  const std::string secrets = dir / "secrets";
  fs::create_directories(secrets);
  write_file(secrets + "/app.properties", "subdir=" + secret + "\n");
  const std::string in = dir / "in.txt";
  write_file(in, "a\nb\n");
  const std::string conf = dir / "worker.conf";
  const std::string log = dir / "worker.log";
  write_file(conf, no_broker_conf(dir / "store",
                                  "config.providers=file\n"
                                  "config.providers.file.param.allowed.paths=" +
                                      secrets + "\n"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(conf, {}, log)) << w.error();
  // The sink's path goes through a directory named after the secret that does not exist: its
  // task fails with an error that quotes the path.
  const std::string reference = "${file:" + secrets + "/app.properties:subdir}";
  Json c =
      direct_connector("leak", in, std::string(dir / "missing") + "/" + reference + "/out.txt");
  ASSERT_EQ(w.post("/connectors", c.dump()).status, 201);
  auto trace = [&] {
    Json s = w.status("leak");
    if (!s.is_object() || s["tasks"].empty() || s["tasks"][0]["state"] != "FAILED") return Json();
    return s["tasks"][0]["trace"];
  };
  ASSERT_TRUE(eventually([&] { return trace().is_string(); }, 20s)) << w.status("leak");
  const std::string text = trace().get<std::string>();
  EXPECT_NE(text.find("cannot open"), std::string::npos) << text;
  EXPECT_NE(text.find(reference), std::string::npos) << text;  // the reference stands in
  EXPECT_EQ(text.find(secret), std::string::npos) << text;
  // A restart of the task fails the same way, and says so the same way.
  ASSERT_EQ(w.post("/connectors/leak/tasks/0/restart").status / 100, 2);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(eventually([&] { return trace().is_string(); }, 20s)) << w.status("leak");
  std::string answers;
  for (const char* path : {"/connectors/leak/status", "/connectors/leak/tasks",
                           "/connectors/leak/tasks/0/status", "/connectors?expand=status"}) {
    answers += w.get(path).body;
  }
  EXPECT_EQ(answers.find(secret), std::string::npos) << answers;
  // The stored status has the trace, scrubbed.
  std::string stored;
  ASSERT_TRUE(eventually(
      [&] {
        stored.clear();
        for (const auto& e : fs::recursive_directory_iterator(dir / "store")) {
          if (e.is_regular_file()) stored += read_text(e.path());
        }
        return stored.find("cannot open") != std::string::npos;
      },
      20s));
  EXPECT_EQ(stored.find(secret), std::string::npos);
  w.stop();
  const std::string logged = read_text(log);
  EXPECT_NE(logged.find("cannot open"), std::string::npos);
  EXPECT_EQ(logged.find(secret), std::string::npos) << logged;
}

}  // namespace
}  // namespace rmqc::itest
