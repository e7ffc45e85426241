// Restart of `rmq-connect standalone` on the same store: a clean stop (SIGTERM) commits
// everything; after the restart the connectors, their target states (a paused one stays paused)
// and positions are back, and nothing already committed is sent again.
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>

namespace rmqc::itest {
namespace {

// stdout of a command (popen).
std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

// Messages stored in a topic: the sum of the queues' max offsets (`admin topic status`).
long long topic_messages(const WorkerProcess& w, const std::string& topic) {
  std::string out =
      run_capture(worker_bin() + " admin -n " + w.namesrv() + " topic status -t " + topic);
  std::istringstream in(out);
  std::string line;
  std::getline(in, line);  // header
  long long total = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string broker;
    long long queue = 0, min = 0, max = 0;
    if (f >> broker >> queue >> min >> max) total += max;
  }
  return total;
}

// Committed offsets of a connector: source -> {filename: position}; sink -> sum of queueOffset.
long long source_position(const WorkerProcess& w, const std::string& name) {
  auto r = w.get("/connectors/" + name + "/offsets");
  if (r.status != 200) return -1;
  Json j = r.json();
  for (const auto& o : j["offsets"]) return o["offset"].value("position", -1LL);
  return -1;
}
long long sink_consumed(const WorkerProcess& w, const std::string& name) {
  auto r = w.get("/connectors/" + name + "/offsets");
  if (r.status != 200) return -1;
  long long sum = 0;
  Json j = r.json();
  for (const auto& o : j["offsets"]) sum += o["offset"].value("queueOffset", 0LL);
  return sum;
}

std::string lines(int from, int to) {
  std::string s;
  char buf[64];
  for (int i = from; i < to; ++i) {
    std::snprintf(buf, sizeof(buf), "restart-line-%06d\n", i);
    s += buf;
  }
  return s;
}

TEST(WorkerRestartTest, ConnectorsStatesAndPositionsSurviveARestart) {
  ASSERT_FALSE(worker_bin().empty()) << "RMQ_CONNECT_BIN must point at rmq-connect";
  TempDir dir("rmqc_restart");
  write_file(dir / "worker.conf", worker_conf(dir / "store"));
  const std::string in = dir / "in.txt", out = dir / "out.txt";
  Json src = {{"connector.class", "FileSourceConnector"},
              {"filename", in},
              {"connect.topicname", "restart-topic"}};
  Json sink = {{"connector.class", "FileSinkConnector"},
               {"filename", out},
               {"connect.topicnames", "restart-topic"},
               {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}};
  Json idle = {{"connector.class", "FileSourceConnector"},
               {"filename", dir / "idle.txt"},
               {"connect.topicname", "idle-topic"}};

  long long src_pos = 0, sink_pos = 0;
  {
    WorkerProcess w;
    ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
    ASSERT_EQ(w.post("/connectors/src", src.dump()).status, 200);
    ASSERT_EQ(w.post("/connectors/sink", sink.dump()).status, 200);
    ASSERT_EQ(w.post("/connectors/idle", idle.dump()).status, 200);
    ASSERT_TRUE(eventually([&] { return w.all_in("idle", "RUNNING"); })) << w.status("idle");
    ASSERT_EQ(w.put("/connectors/idle/pause").status, 202);
    ASSERT_TRUE(eventually([&] { return w.all_in("idle", "PAUSED"); })) << w.status("idle");

    write_file(in, lines(0, 1000));
    const long long size = static_cast<long long>(fs::file_size(in));
    ASSERT_TRUE(eventually([&] { return count_lines(out) >= 1000; }, 30s)) << w.log_tail();
    // Wait for both commits (every 500 ms) so the stop has nothing left to do but commit again.
    ASSERT_TRUE(eventually([&] { return source_position(w, "src") == size; }))
        << w.get("/connectors/src/offsets").body;
    ASSERT_TRUE(eventually([&] { return sink_consumed(w, "sink") == 1000; }))
        << w.get("/connectors/sink/offsets").body << "\noutput lines " << count_lines(out)
        << ", topic messages " << topic_messages(w, "restart-topic") << "\n"
        << w.log_tail();
    src_pos = source_position(w, "src");
    sink_pos = sink_consumed(w, "sink");
    EXPECT_EQ(topic_messages(w, "restart-topic"), 1000);

    int status = w.stop();
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  // While the worker is down, more lines arrive.
  write_file(in, lines(1000, 1500), true);

  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker2.log")) << w.error();
  auto names = w.get("/connectors").json();
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()),
            (std::set<std::string>{"src", "sink", "idle"}))
      << names;
  EXPECT_EQ(w.get("/connectors/sink/config?format=kafka").json()["filename"], out);
  // The paused connector stays paused; the others run.
  ASSERT_TRUE(eventually([&] { return w.all_in("idle", "PAUSED"); })) << w.status("idle");
  ASSERT_TRUE(eventually([&] { return w.all_in("src", "RUNNING"); })) << w.status("src");
  ASSERT_TRUE(eventually([&] { return w.all_in("sink", "RUNNING"); })) << w.status("sink");
  EXPECT_EQ(w.get("/getConnectorsStatus/idle").json()["body"]["targetState"], "PAUSED");

  const long long size = static_cast<long long>(fs::file_size(in));
  ASSERT_TRUE(eventually([&] { return count_lines(out) >= 1500; }, 30s)) << w.log_tail();
  ASSERT_TRUE(eventually([&] { return source_position(w, "src") == size; }))
      << w.get("/connectors/src/offsets").body;
  EXPECT_GT(src_pos, 0);
  EXPECT_GT(sink_pos, 0);
  // The source resumed at its committed position: the topic holds each line once.
  EXPECT_EQ(topic_messages(w, "restart-topic"), 1500);
  ASSERT_TRUE(eventually([&] { return sink_consumed(w, "sink") == 1500; }))
      << w.get("/connectors/sink/offsets").body;
  // And the sink resumed at its committed offset: each line once in the output, in order.
  auto got = read_lines(out);
  ASSERT_EQ(got.size(), 1500u);
  auto want = read_lines(in);
  std::multiset<std::string> a(got.begin(), got.end()), b(want.begin(), want.end());
  EXPECT_TRUE(a == b) << "the output is not the input, once each";
  // Resumed after the restart, the paused source works.
  write_file(dir / "idle.txt", "not-while-paused\n");
  ASSERT_EQ(w.put("/connectors/idle/resume").status, 202);
  ASSERT_TRUE(eventually([&] { return topic_messages(w, "idle-topic") == 1; }));

  int status = w.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace rmqc::itest
