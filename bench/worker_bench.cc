// The standalone worker end to end, as a child process (`rmq-connect standalone` with the embedded
// broker): start to REST ready on an empty store, idle RSS, and file -> FileSourceConnector ->
// broker -> FileSinkConnector -> file at 100 B and 1 KB lines, next to the raw throughput of the
// native producer (async, 512 in flight) to the same broker in the same run as the ceiling.
//
//   rmqc_bench_worker [path/to/rmq-connect] [lines at 1 KB, default 100000]
//
// (100 B runs twice as many lines.) The bench process and the worker share the machine's cores.
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"
#include "worker_harness.h"

#include <algorithm>
#include <cstdio>

namespace {

using namespace rmqc;
using namespace rmqc::itest;

long status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  }
  return -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct E2e {
  double seconds = 0;
  bool ok = false;
};

// Sink first (so it is subscribed), then the source; timed from the source's creation until the
// output holds every line.
E2e end_to_end(const WorkerProcess& w, const TempDir& dir, std::size_t line_bytes,
               std::size_t lines) {
  const std::string tag = std::to_string(line_bytes);
  const std::string in = dir / ("in-" + tag + ".txt"), out = dir / ("out-" + tag + ".txt");
  {
    std::string text;
    text.reserve(lines * (line_bytes + 1));
    std::string body(line_bytes, 'x');
    for (std::size_t i = 0; i < lines; ++i) {
      std::string n = std::to_string(i);
      std::copy(n.begin(), n.end(), body.begin());
      text += body;
      text += '\n';
    }
    write_file(in, text);
  }
  const std::string topic = "bench-e2e-" + tag;
  E2e r;
  auto sink =
      w.post("/connectors/sink-" + tag, Json{{"connector.class", "FileSinkConnector"},
                                             {"filename", out},
                                             {"connect.topicnames", topic},
                                             {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}}
                                            .dump());
  if (sink.status != 200) {
    std::fprintf(stderr, "sink: %d %s\n", sink.status, sink.body.c_str());
    return r;
  }
  auto start = Clock::now();
  auto src = w.post("/connectors/src-" + tag, Json{{"connector.class", "FileSourceConnector"},
                                                   {"filename", in},
                                                   {"connect.topicname", topic}}
                                                  .dump());
  if (src.status != 200) {
    std::fprintf(stderr, "source: %d %s\n", src.status, src.body.c_str());
    return r;
  }
  const std::uintmax_t want = lines * (line_bytes + 1);
  r.ok = eventually(
      [&] {
        std::error_code ec;
        return fs::file_size(out, ec) >= want && !ec;
      },
      300s, 2ms);
  r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  w.del("/connectors/src-" + tag);
  w.del("/connectors/sink-" + tag);
  fs::remove(in);
  fs::remove(out);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) ::setenv("RMQ_CONNECT_BIN", argv[1], 1);
  if (worker_bin().empty()) ::setenv("RMQ_CONNECT_BIN", RMQC_WORKER_BIN, 1);
  const std::size_t lines_1k = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 100'000;
  const std::size_t lines_100 = 2 * lines_1k;
  std::printf("worker: %s\n", worker_bin().c_str());

  // 1. Start to REST ready, empty store each time.
  std::vector<double> measured, reported;
  for (int i = 0; i < 7; ++i) {
    TempDir dir("rmqc_bench_worker_start");
    write_file(dir / "worker.conf", worker_conf(dir / "store"));
    WorkerProcess w;
    if (!w.start(dir / "worker.conf", {}, dir / "worker.log")) {
      std::fprintf(stderr, "start failed: %s\n", w.error().c_str());
      return 1;
    }
    measured.push_back(w.measured_ready_ms());
    reported.push_back(static_cast<double>(w.reported_ready_ms()));
    w.stop();
  }
  std::printf(
      "start to REST ready, empty store, embedded broker (median of 7): %.1f ms measured from "
      "fork to the ready line (min %.1f, max %.1f); the worker reports %.0f ms\n",
      median(measured), *std::min_element(measured.begin(), measured.end()),
      *std::max_element(measured.begin(), measured.end()), median(reported));

  TempDir dir("rmqc_bench_worker");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store", "offsetCommitIntervalMsConfig=1000\n"));
  WorkerProcess w;
  if (!w.start(dir / "worker.conf", {}, dir / "worker.log")) {
    std::fprintf(stderr, "start failed: %s\n", w.error().c_str());
    return 1;
  }
  // 2. Idle RSS (after a second of idling: the broker's and worker's threads are up).
  std::this_thread::sleep_for(1s);
  std::printf(
      "idle worker with the embedded broker: RSS %.1f MiB (anonymous %.1f MiB, file %.1f MiB)\n",
      status_kib(w.pid(), "VmRSS:") / 1024.0, status_kib(w.pid(), "RssAnon:") / 1024.0,
      status_kib(w.pid(), "RssFile:") / 1024.0);

  // 3. The ceiling: the native producer into the same broker.
  rocketmq::ProducerConfig pc;
  pc.client.namesrv_addr = w.namesrv();
  pc.group = "bench-raw-producer";
  // The worker's clients send binary (ROCKETMQ) headers by default: so does the ceiling.
  pc.client.serialize_type = rocketmq::SerializeType::ROCKETMQ;
  auto producer = rocketmq::Producer::start(pc);
  if (!producer.ok()) {
    std::fprintf(stderr, "producer: %s\n", producer.error().to_string().c_str());
    return 1;
  }
  std::printf("\n| %-44s | %10s | %8s |\n", "pipeline", "records/s", "MB/s");
  std::printf("|%s|%s|%s|\n", std::string(46, '-').c_str(), std::string(12, '-').c_str(),
              std::string(10, '-').c_str());
  double raw_1k = 0, e2e_1k = 0;
  for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
    const std::size_t lines = size == 100 ? lines_100 : lines_1k;
    rocketmq::ThroughputOptions t;
    t.topic = "bench-raw-" + std::to_string(size);
    t.size = size;
    t.count = static_cast<std::int64_t>(lines);
    t.mode = rocketmq::ProduceMode::kAsync;
    t.concurrency = 512;
    auto raw = rocketmq::run_produce(**producer, t);
    std::string what = "raw producer, " + std::to_string(size) + " B, async 512, binary hdr";
    std::printf("| %-44s | %10.0f | %8.1f |\n", what.c_str(), raw.msgs_per_sec(), raw.mb_per_sec());
    std::fflush(stdout);
    auto e = end_to_end(w, dir, size, lines);
    if (!e.ok) {
      std::fprintf(stderr, "end to end at %zu B did not finish: %s\n", size, w.log_tail().c_str());
      return 1;
    }
    double rps = static_cast<double>(lines) / e.seconds;
    what = "file -> broker -> file, " + std::to_string(size) + " B lines";
    std::printf("| %-44s | %10.0f | %8.1f |\n", what.c_str(), rps,
                rps * static_cast<double>(size) / (1024.0 * 1024.0));
    std::fflush(stdout);
    if (size == 1024) {
      raw_1k = raw.msgs_per_sec();
      e2e_1k = rps;
    }
  }
  (*producer)->shutdown();
  std::printf("\nend to end at 1 KB = %.0f%% of the raw producer (target >= 50%%)\n",
              raw_1k > 0 ? 100.0 * e2e_1k / raw_1k : 0.0);
  std::printf("worker RSS after the runs: %.1f MiB (anonymous %.1f MiB)\n",
              status_kib(w.pid(), "VmRSS:") / 1024.0, status_kib(w.pid(), "RssAnon:") / 1024.0);
  w.stop();
  return 0;
}
