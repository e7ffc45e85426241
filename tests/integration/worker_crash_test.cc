// kill -9 of `rmq-connect standalone` (embedded broker included) while 200k lines stream from a
// file source to a file sink; after a restart on the same store every input line is in the
// output (at-least-once). Duplicates come only from work done after the last commit; the test
// splits them into the source's re-sends (extra messages in the topic) and the sink's re-writes
// (output beyond its committed offsets) and holds each to what one commit interval explains.
#include "rocketmq/client/admin.h"
#include "worker_harness.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <unordered_map>

namespace rmqc::itest {
namespace {

constexpr int kLines = 200'000;
constexpr std::size_t kLineBytes = 34;  // fixed, so the output's size tells its line count
constexpr auto kCommitInterval = 100ms;

TEST(WorkerCrashTest, EveryLineArrivesAfterSigkill) {
  ASSERT_FALSE(worker_bin().empty()) << "RMQ_CONNECT_BIN must point at rmq-connect";
  TempDir dir("rmqc_crash_worker");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store", "offsetCommitIntervalMsConfig=" +
                                            std::to_string(kCommitInterval.count()) + "\n"));
  const std::string in = dir / "in.txt", out = dir / "out.txt";
  {
    std::string text;
    text.reserve(kLines * kLineBytes);
    char buf[64];
    for (int i = 0; i < kLines; ++i) {
      std::snprintf(buf, sizeof(buf), "crash-line-%09d-xxxxxxxxxxxx\n", i);
      text += buf;
    }
    ASSERT_EQ(text.size(), kLines * kLineBytes);
    write_file(in, text);
  }
  write_file(dir / "src.json", Json{{"name", "src"},
                                    {"config",
                                     {{"connector.class", "FileSourceConnector"},
                                      {"filename", in},
                                      {"batch.size", "500"},
                                      {"connect.topicname", "crash-topic"}}}}
                                   .dump());
  write_file(dir / "sink.json", Json{{"name", "sink"},
                                     {"config",
                                      {{"connector.class", "FileSinkConnector"},
                                       {"filename", out},
                                       {"connect.topicnames", "crash-topic"},
                                       {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}}}}
                                    .dump());
  auto out_lines = [&] {
    std::error_code ec;
    auto size = fs::file_size(out, ec);
    return ec ? std::size_t{0} : static_cast<std::size_t>(size / kLineBytes);
  };
  // Committed progress from the REST API: the source's position in lines, the sink's offsets
  // summed over its queues (messages it will not be given again).
  auto committed = [](const WorkerProcess& w, const std::string& connector) -> std::int64_t {
    Json j = w.get("/connectors/" + connector + "/offsets").json();
    if (!j.is_object() || !j.contains("offsets")) return -1;
    std::int64_t sum = 0;
    for (const auto& o : j["offsets"]) {
      const Json& off = o["offset"];
      if (off.contains("position")) sum += off["position"].get<std::int64_t>() / kLineBytes;
      if (off.contains("queueOffset")) sum += off["queueOffset"].get<std::int64_t>();
    }
    return sum;
  };
  // Largest step between two consecutive commits seen: the work of one commit interval.
  struct Progress {
    std::int64_t last = 0;
    std::int64_t max_step = 0;
    void see(std::int64_t v) {
      if (v > last) {
        max_step = std::max(max_step, v - last);
        last = v;
      }
    }
  };
  Progress src, sink;

  // First run: stream, watch the commits, kill -9 in the middle.
  std::size_t at_kill = 0;
  {
    WorkerProcess w;
    ASSERT_TRUE(
        w.start(dir / "worker.conf", {dir / "src.json", dir / "sink.json"}, dir / "worker.log"))
        << w.error();
    bool mid_stream = eventually(
        [&] {
          src.see(committed(w, "src"));
          sink.see(committed(w, "sink"));
          // Mid-stream, after both stages committed at least once (the pipeline can be fast
          // enough to pass a third of the input before the first commit interval ends).
          return out_lines() >= kLines / 3 && src.max_step > 0 && sink.max_step > 0;
        },
        60s, 2ms);
    ASSERT_TRUE(mid_stream) << "the pipeline did not get going: " << w.log_tail();
    sink.see(committed(w, "sink"));
    int status = w.kill9();
    at_kill = out_lines();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ASSERT_LT(at_kill, static_cast<std::size_t>(kLines)) << "finished before the kill";
    ASSERT_GT(src.max_step, 0) << "no source commit was seen";
    ASSERT_GT(sink.max_step, 0) << "no sink commit was seen";
  }

  // Second run: the connectors come back from the store and finish the job.
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker2.log")) << w.error();
  std::unordered_map<std::string, int> seen;
  std::size_t duplicates = 0;
  std::size_t parsed_bytes = 0;
  // Reads what was appended since the last call (whole lines only).
  auto absorb = [&] {
    std::string text = read_text(out);
    while (true) {
      auto nl = text.find('\n', parsed_bytes);
      if (nl == std::string::npos) break;
      std::string line = text.substr(parsed_bytes, nl - parsed_bytes);
      parsed_bytes = nl + 1;
      if (++seen[line] > 1) ++duplicates;
    }
    return seen.size() >= static_cast<std::size_t>(kLines);
  };
  ASSERT_TRUE(eventually(absorb, 120s, 100ms))
      << seen.size() << " distinct lines of " << kLines << "; " << w.log_tail();
  // Let the source finish its position commit and the sink drain, then count once more.
  const long long size = static_cast<long long>(fs::file_size(in));
  EXPECT_TRUE(eventually([&] {
    auto r = w.get("/connectors/src/offsets");
    return r.status == 200 && !r.json()["offsets"].empty() &&
           r.json()["offsets"][0]["offset"].value("position", -1LL) == size;
  })) << w.get("/connectors/src/offsets").body;
  absorb();

  // Every line, and only input lines.
  char buf[64];
  std::size_t missing = 0;
  for (int i = 0; i < kLines; ++i) {
    std::snprintf(buf, sizeof(buf), "crash-line-%09d-xxxxxxxxxxxx", i);
    missing += seen.count(buf) == 0;
  }
  EXPECT_EQ(missing, 0u) << "lines lost across kill -9";
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(kLines)) << "lines that were never input";

  // Where the duplicates come from. Every message in the topic beyond the input is a source
  // re-send; the rest of the duplicates are the sink re-writing messages after its last commit.
  rocketmq::ClientConfig client;
  client.namesrv_addr = w.namesrv();
  auto admin = rocketmq::Admin::start(client);
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  auto queues = (*admin)->topic_status("crash-topic");
  ASSERT_TRUE(queues.ok()) << queues.error().to_string();
  std::int64_t in_topic = 0;
  for (const auto& q : *queues) in_topic += q.max_offset;
  ASSERT_GE(in_topic, kLines);
  const auto source_dups = static_cast<std::size_t>(in_topic - kLines);
  // The sink may still be writing the source's re-sends (a fast source runs ahead of it).
  eventually(
      [&] {
        absorb();
        return duplicates >= source_dups;
      },
      60s, 100ms);
  ASSERT_GE(duplicates, source_dups);
  const std::size_t sink_dups = duplicates - source_dups;
  // The source re-sends what was acknowledged after its last position commit (at most one
  // interval's worth: the largest step seen between two commits, doubled for the interval cut
  // short by the kill running slower or faster) plus its unacknowledged window (1024 records).
  constexpr std::size_t kSourceInFlight = 1024;
  const std::size_t source_bound = 2 * static_cast<std::size_t>(src.max_step) + kSourceInFlight;
  // The sink restarts exactly at its committed offsets: it re-writes at most what was in the
  // output beyond the last commit seen before the kill (a later commit only lowers it).
  const std::size_t sink_bound = at_kill - static_cast<std::size_t>(sink.last);
  std::printf(
      "crash: %zu of %d lines out at kill -9; after the restart all arrived with %zu duplicates: "
      "source re-sent %zu (bound %zu = 2 x %lld lines per commit interval + %zu in flight), sink "
      "re-wrote %zu (bound %zu = output %zu - committed %lld; %lld lines per commit interval)\n",
      at_kill, kLines, duplicates, source_dups, source_bound, static_cast<long long>(src.max_step),
      kSourceInFlight, sink_dups, sink_bound, at_kill, static_cast<long long>(sink.last),
      static_cast<long long>(sink.max_step));
  EXPECT_LE(source_dups, source_bound) << "the source re-sent more than one commit interval";
  EXPECT_LE(sink_dups, sink_bound) << "the sink re-delivered messages it had committed";

  int status = w.stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace rmqc::itest
