// What GET /metrics and the task metrics cost in a real worker (`rmq-connect standalone` child
// with the embedded broker; docs/operations.md#cost):
//
//   1. one scrape of a worker running 100 tasks (50 FileSource and 50 FileSink connectors, each
//      on a topic of its own, so the sinks report lag for every queue): wall time of GET
//      /metrics over loopback (median, p90, max of 50 scrapes), body size and series count;
//   2. end-to-end throughput, file -> FileSource -> broker -> FileSink -> file, 100 B lines,
//      with metrics.enabled=true against false, alternated in the same run (a fresh worker per
//      run), medians of the repeats.
//
//   rmqc_bench_metrics [path/to/rmq-connect] [lines per run, default 200000] [repeats, default 5]
#include "worker_harness.h"

#include <algorithm>
#include <cstdio>

namespace {

using namespace rmqc;
using namespace rmqc::itest;

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

std::string numbered_lines(std::size_t n, std::size_t bytes) {
  std::string text;
  text.reserve(n * (bytes + 1));
  std::string body(bytes, 'x');
  for (std::size_t i = 0; i < n; ++i) {
    std::string num = std::to_string(i);
    std::copy(num.begin(), num.end(), body.begin());
    text += body;
    text += '\n';
  }
  return text;
}

bool create(const WorkerProcess& w, const std::string& name, const Json& config) {
  auto r = w.post("/connectors/" + name, config.dump());
  if (r.status != 200) std::fprintf(stderr, "%s: %d %s\n", name.c_str(), r.status, r.body.c_str());
  return r.status == 200;
}

Json file_source(const std::string& file, const std::string& topic) {
  return {
      {"connector.class", "FileSourceConnector"}, {"filename", file}, {"connect.topicname", topic}};
}
Json file_sink(const std::string& file, const std::string& topic) {
  return {{"connector.class", "FileSinkConnector"},
          {"filename", file},
          {"connect.topicnames", topic},
          {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}};
}

int scrape_cost() {
  constexpr int kPairs = 50;
  constexpr int kScrapes = 50;
  TempDir dir("rmqc_bench_metrics_scrape");
  write_file(dir / "worker.conf",
             worker_conf(dir / "store", "offsetCommitIntervalMsConfig=1000\n"));
  WorkerProcess w;
  if (!w.start(dir / "worker.conf", {}, dir / "worker.log")) {
    std::fprintf(stderr, "start failed: %s\n", w.error().c_str());
    return 1;
  }
  for (int i = 0; i < kPairs; ++i) {
    const std::string n = std::to_string(i);
    write_file(dir / ("in-" + n + ".txt"), numbered_lines(100, 100));
    if (!create(w, "sink-" + n, file_sink(dir / ("out-" + n + ".txt"), "scrape-" + n)) ||
        !create(w, "src-" + n, file_source(dir / ("in-" + n + ".txt"), "scrape-" + n))) {
      return 1;
    }
  }
  // Every line through, so every counter, histogram and queue series is there.
  const bool through = eventually(
      [&] {
        for (int i = 0; i < kPairs; ++i) {
          if (count_lines(dir / ("out-" + std::to_string(i) + ".txt")) < 100) return false;
        }
        return true;
      },
      180s, 50ms);
  if (!through) {
    std::fprintf(stderr, "the 50 pipelines did not finish\n%s\n", w.log_tail().c_str());
    return 1;
  }
  std::vector<double> ms;
  std::size_t bytes = 0, series = 0, lag_series = 0;
  for (int i = 0; i < kScrapes; ++i) {
    const auto start = Clock::now();
    auto r = w.get("/metrics");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    if (r.status != 200) {
      std::fprintf(stderr, "scrape: %d\n", r.status);
      return 1;
    }
    bytes = r.body.size();
    series = lag_series = 0;
    for (std::size_t at = 0; at < r.body.size();) {
      std::size_t nl = r.body.find('\n', at);
      if (nl == std::string::npos) nl = r.body.size();
      if (r.body[at] != '#') ++series;
      if (r.body.compare(at, 23, "rmqc_sink_consumer_lag{") == 0) ++lag_series;
      at = nl + 1;
    }
  }
  std::printf(
      "GET /metrics, %d tasks (%d sources, %d sinks), %d scrapes over loopback: median %.2f ms, "
      "p90 %.2f ms, max %.2f ms; body %zu bytes (%.1f KiB), %zu samples (%zu lag series)\n",
      2 * kPairs, kPairs, kPairs, kScrapes, percentile(ms, 0.5), percentile(ms, 0.9),
      percentile(ms, 1.0), bytes, static_cast<double>(bytes) / 1024, series, lag_series);
  std::fflush(stdout);
  w.stop();
  return 0;
}

// One file -> broker -> file run of `lines` 100 B lines on a fresh worker; records/s, 0 on error.
double pipeline(bool metrics, std::size_t lines, int run) {
  TempDir dir("rmqc_bench_metrics_ab");
  write_file(
      dir / "worker.conf",
      worker_conf(dir / "store", std::string("offsetCommitIntervalMsConfig=1000\n") +
                                     "metrics.enabled=" + (metrics ? "true" : "false") + "\n"));
  WorkerProcess w;
  if (!w.start(dir / "worker.conf", {}, dir / "worker.log")) {
    std::fprintf(stderr, "start failed: %s\n", w.error().c_str());
    return 0;
  }
  const std::string in = dir / "in.txt", out = dir / "out.txt";
  write_file(in, numbered_lines(lines, 100));
  const std::string topic = "ab-" + std::to_string(run);
  if (!create(w, "sink", file_sink(out, topic))) return 0;
  const auto start = Clock::now();
  if (!create(w, "src", file_source(in, topic))) return 0;
  const std::uintmax_t want = lines * 101;
  const bool ok = eventually(
      [&] {
        std::error_code ec;
        return fs::file_size(out, ec) >= want && !ec;
      },
      300s, 2ms);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  w.stop();
  if (!ok) {
    std::fprintf(stderr, "run %d did not finish\n", run);
    return 0;
  }
  return static_cast<double>(lines) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) ::setenv("RMQ_CONNECT_BIN", argv[1], 1);
  if (worker_bin().empty()) ::setenv("RMQ_CONNECT_BIN", RMQC_WORKER_BIN, 1);
  const std::size_t lines = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 200'000;
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 5;
  std::printf("worker: %s\n", worker_bin().c_str());
  if (int rc = scrape_cost(); rc != 0) return rc;

  std::vector<double> on, off;
  for (int r = 0; r < repeats; ++r) {
    // Alternated, and the order swapped every repeat, so drift in the machine's load hits both.
    for (bool metrics :
         r % 2 == 0 ? std::vector<bool>{true, false} : std::vector<bool>{false, true}) {
      const double rate = pipeline(metrics, lines, 2 * r + (metrics ? 0 : 1));
      if (rate == 0) return 1;
      (metrics ? on : off).push_back(rate);
      std::printf("  run %d metrics %-3s %.0f records/s\n", r, metrics ? "on" : "off", rate);
      std::fflush(stdout);
    }
  }
  const double m_on = percentile(on, 0.5), m_off = percentile(off, 0.5);
  std::printf(
      "file -> broker -> file, %zu lines of 100 B, median of %d: metrics on %.0f records/s "
      "(min %.0f, max %.0f), off %.0f records/s (min %.0f, max %.0f): on is %+.1f%%\n",
      lines, repeats, m_on, percentile(on, 0), percentile(on, 1.0), m_off, percentile(off, 0),
      percentile(off, 1.0), (m_on / m_off - 1) * 100);
  return 0;
}
