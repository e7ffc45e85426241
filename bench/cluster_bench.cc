// Distributed mode with real processes: one `rmq-connect broker` child and `rmq-connect
// distributed` workers (helpers shared with the integration tests,
// tests/integration/cluster_harness.h). Each part runs its own cluster on the same broker (its own
// connectClusterId and internal topics); the workers use the default intervals
// (membershipPollIntervalMs 10 s, statePersistInterval 20 s) with
// offsetCommitIntervalMsConfig=1000.
//  1. Idle worker: RSS after 5 s without connectors, CPU% over the next 10 s.
//  2. Throughput file -> FileSource -> broker -> FileSink (3 tasks) -> file, 1 worker vs 3 workers,
//     next to the native producer (async, 512 in flight) into the same broker.
//  3. Failover: 3 workers, a streaming file source + a 3-task file sink; kill -9 of the worker
//     running the source task, time until every task is RUNNING on the survivors (status polled
//     every 20 ms), 5 runs (the killed worker restarted between runs); the survivors' logs give
//     when they saw the member list change.
//  4. Join: 2 workers running a 12-task sink; a third starts; time from its ready line until its
//     share (as allocation.h computes it) is RUNNING on it; 5 runs (SIGTERM between runs).
//  5. Tasks moved when a 4th worker joins 3 and leaves again (SIGTERM), per allocTaskStrategy,
//     from the task -> worker maps of /connectors/{name}/status, next to allocation.h's prediction.
//
//   rmqc_bench_cluster [path/to/rmq-connect] [throughput lines at 100 B, default 500000]
//
// The bench process, the broker and the workers share the machine's cores.
#include "cluster_harness.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/producer.h"
#include "rocketmq/client/throughput.h"
#include "runtime/cluster/allocation.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <iomanip>
#include <unordered_set>

namespace {

using namespace rmqc;
using namespace rmqc::itest;
namespace alloc = rmqc::runtime::cluster;
using SysClock = std::chrono::system_clock;
using TaskMap = std::map<std::string, std::string>;  // "connector-task" -> worker id

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Stats {
  double median = 0, min = 0, max = 0;
};
Stats stats(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  s.min = v.front();
  s.max = v.back();
  return s;
}

long status_kib(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  }
  return -1;
}

// CPU time of a process, in seconds: the sum of its threads' on-CPU nanoseconds
// (/proc/<pid>/task/*/schedstat), finer than the 10 ms ticks of /proc/<pid>/stat.
double cpu_seconds(pid_t pid) {
  std::error_code ec;
  long double ns = 0;
  for (const auto& t : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    unsigned long long on_cpu = 0;
    if (in >> on_cpu) ns += static_cast<long double>(on_cpu);
  }
  return static_cast<double>(ns / 1e9L);
}

std::string loadavg() {
  std::string text = read_text("/proc/loadavg");
  auto cut = text.find(' ', text.find(' ', text.find(' ') + 1) + 1);
  return text.substr(0, cut);
}

// The time of a log line "YYYY-mm-dd HH:MM:SS.mmm ..." (local time).
std::optional<SysClock::time_point> log_time(const std::string& line) {
  if (line.size() < 23 || line[19] != '.') return std::nullopt;
  std::tm tm{};
  std::istringstream in(line.substr(0, 19));
  in >> std::get_time(&tm, "%Y-%m-%d %H:%M:%S");
  if (in.fail()) return std::nullopt;
  tm.tm_isdst = -1;
  std::time_t t = std::mktime(&tm);
  return SysClock::from_time_t(t) + std::chrono::milliseconds(std::atoi(line.c_str() + 20));
}

// When `log` first says, at or after `since`, "cluster members: a,b,c (...)" without `gone`.
std::optional<SysClock::time_point> members_without(const std::string& log,
                                                    SysClock::time_point since,
                                                    const std::string& gone) {
  static const std::string kNeedle = "cluster members: ";
  std::istringstream in(read_text(log));
  std::string line;
  while (std::getline(in, line)) {
    auto t = log_time(line);
    auto at = line.find(kNeedle);
    if (!t || *t + 1ms < since || at == std::string::npos) continue;
    at += kNeedle.size();
    std::string list = "," + line.substr(at, line.find(' ', at) - at) + ",";
    if (list.find("," + gone + ",") == std::string::npos) return t;
  }
  return std::nullopt;
}

std::string line_text(int i) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "failover-line-%09d-xxxxxxxx", i);
  return buf;
}

// A cluster of `rmq-connect distributed` children with its own connectClusterId and internal
// topics on the shared broker.
class Cluster {
 public:
  Cluster(std::string name, const TempDir& dir, std::string namesrv, std::string extra = "")
      : name_(std::move(name)), dir_(dir), namesrv_(std::move(namesrv)), extra_(std::move(extra)) {}
  ~Cluster() { stop_all(); }

  std::string log(const std::string& id) const { return dir_ / (name_ + "-" + id + ".log"); }

  // Starts (or restarts) worker `id`; a worker refused as a duplicate right after a kill -9 is
  // tried again for up to 30 s.
  bool start(const std::string& id) {
    const std::string conf = dir_ / (name_ + "-" + id + ".conf");
    write_file(conf, "workerId=" + id + "\nconnectClusterId=" + name_ +
                         "\nhttpPort=0\nnamesrvAddr=" + namesrv_ +
                         "\nstorePathRootDir=" + (dir_ / (name_ + "-store-" + id)) +
                         "\nclusterStoreTopic=" + name_ + "-cluster\nconfigStoreTopic=" + name_ +
                         "-config\npositionStoreTopic=" + name_ + "-position\nconnectStatusTopic=" +
                         name_ + "-status\noffsetCommitIntervalMsConfig=1000\n" + extra_);
    auto deadline = Clock::now() + 30s;
    while (true) {
      auto child = std::make_unique<WorkerChild>();
      if (child->start_worker(conf, log(id))) {
        workers_[id] = std::move(child);
        return true;
      }
      if (Clock::now() >= deadline) {
        std::fprintf(stderr, "%s/%s did not start: %s\n", name_.c_str(), id.c_str(),
                     child->error().c_str());
        return false;
      }
      std::this_thread::sleep_for(200ms);
    }
  }
  WorkerChild& w(const std::string& id) { return *workers_.at(id); }
  std::set<std::string> live() const {
    std::set<std::string> out;
    for (const auto& [id, wk] : workers_) {
      if (wk->running()) out.insert(id);
    }
    return out;
  }
  std::vector<std::string> live_list() const {
    auto l = live();
    return {l.begin(), l.end()};
  }
  const WorkerChild& any() const {
    for (const auto& [id, wk] : workers_) {
      if (wk->running()) return *wk;
    }
    return *workers_.begin()->second;
  }
  // Every live worker lists exactly the live workers.
  bool formed() const {
    auto want = live();
    for (const auto& [id, wk] : workers_) {
      if (!wk->running()) continue;
      Json body = wk->get("/getClusterInfo").json()["body"];
      if (!body.is_array()) return false;
      if (std::set<std::string>(body.begin(), body.end()) != want) return false;
    }
    return true;
  }
  // The task -> worker map of `connectors` (name, task count) as `on` shows it; nullopt unless
  // every task is RUNNING on a live worker.
  std::optional<TaskMap> owners(const WorkerChild& on,
                                const std::vector<std::pair<std::string, int>>& connectors) const {
    TaskMap out;
    auto alive = live();
    for (const auto& [name, count] : connectors) {
      auto tasks = on.tasks(name);
      if (!all_tasks(tasks, static_cast<std::size_t>(count), "RUNNING", alive)) {
        return std::nullopt;
      }
      for (const auto& t : *tasks) out[name + "-" + std::to_string(t.id)] = t.worker;
    }
    return out;
  }
  // Every live worker shows every task RUNNING on a live worker, all agreeing (and equal to
  // `expected` when given); the agreed map.
  std::optional<TaskMap> settled(const std::vector<std::pair<std::string, int>>& connectors,
                                 const TaskMap* expected = nullptr) const {
    std::optional<TaskMap> first;
    for (const auto& [id, wk] : workers_) {
      if (!wk->running()) continue;
      auto map = owners(*wk, connectors);
      if (!map || (first && *first != *map) || (expected && *map != *expected)) {
        return std::nullopt;
      }
      first = std::move(map);
    }
    return first;
  }
  std::optional<TaskMap> wait_settled(const std::vector<std::pair<std::string, int>>& connectors,
                                      const TaskMap* expected = nullptr,
                                      std::chrono::milliseconds timeout = 30s) const {
    std::optional<TaskMap> map;
    eventually(
        [&] {
          map = settled(connectors, expected);
          return map.has_value();
        },
        timeout, 20ms);
    return map;
  }
  bool create(const std::string& name, const Json& config) {
    auto r = any().post("/connectors", Json{{"name", name}, {"config", config}}.dump());
    if (r.status != 201) {
      std::fprintf(stderr, "%s: creating %s: %d %s\n", name_.c_str(), name.c_str(), r.status,
                   r.body.c_str());
    }
    return r.status == 201;
  }
  // The worker running task `task` of `name` by any live view; "" when none.
  std::string runner(const std::string& name, int task) const {
    for (const auto& [id, wk] : workers_) {
      if (!wk->running()) continue;
      auto tasks = wk->tasks(name);
      if (!tasks) continue;
      for (const auto& t : *tasks) {
        if (t.id == task && t.state == "RUNNING") return t.worker;
      }
    }
    return "";
  }
  void stop_all() {
    for (auto& [id, wk] : workers_) wk->signal(SIGTERM);
    for (auto& [id, wk] : workers_) wk->reap(60s);
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  const TempDir& dir_;
  std::string namesrv_;
  std::string extra_;
  std::map<std::string, std::unique_ptr<WorkerChild>> workers_;
};

Json source_config(const std::string& file, const std::string& topic) {
  return {
      {"connector.class", "FileSourceConnector"}, {"filename", file}, {"connect.topicname", topic}};
}
Json sink_config(const std::string& file, const std::string& topic, int tasks) {
  return {{"connector.class", "FileSinkConnector"},
          {"filename", file},
          {"max.tasks", std::to_string(tasks)},
          {"connect.topicnames", topic},
          {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}};
}

// allocation.h's task -> worker map for `workers` and `connectors`.
TaskMap predict(const std::string& strategy, const std::vector<std::string>& workers,
                const std::vector<std::pair<std::string, int>>& connectors) {
  auto s = alloc::make_allocation_strategy(strategy);
  std::vector<alloc::ConnectorLoad> loads;
  for (const auto& [name, count] : connectors) loads.push_back({name, count});
  TaskMap out;
  for (const auto& [worker, a] : (*s)->allocate(workers, loads)) {
    for (const auto& t : a.tasks) out[t.to_string()] = worker;
  }
  return out;
}
std::size_t moved(const TaskMap& before, const TaskMap& after) {
  std::size_t n = 0;
  for (const auto& [task, worker] : before) {
    auto it = after.find(task);
    n += it != after.end() && it->second != worker;
  }
  return n;
}

// Table rows, printed at the end.
std::vector<std::array<std::string, 3>> rows;
void row(std::string what, std::string result, std::string target = "") {
  std::printf("  -> %s: %s\n", what.c_str(), result.c_str());
  std::fflush(stdout);
  rows.push_back({std::move(what), std::move(result), std::move(target)});
}
std::string strf(const char* f, auto... args) {
  char buf[512];
  std::snprintf(buf, sizeof(buf), f, args...);
  return buf;
}

// 2. Sink first (RUNNING everywhere), then the source; from the source's creation until the
// output holds every line. Connectors, topic and output are new each run (a source of the same
// name would resume at its committed position). Lines/s, or 0 on failure.
double end_to_end(Cluster& c, const std::string& in, std::size_t lines, std::size_t line_bytes,
                  const TempDir& dir, int run) {
  const std::string tag = std::to_string(run), sink = "sink-" + tag, src = "src-" + tag;
  const std::string out = dir / (c.name() + "-out-" + tag + ".txt");
  const std::string topic = c.name() + "-data-" + tag;
  if (!c.create(sink, sink_config(out, topic, 3))) return 0;
  if (!c.wait_settled({{sink, 3}})) {
    std::fprintf(stderr, "%s: sink not RUNNING\n", c.name().c_str());
    return 0;
  }
  const std::string load = loadavg();
  auto start = Clock::now();
  if (!c.create(src, source_config(in, topic))) return 0;
  const std::uintmax_t want = lines * (line_bytes + 1);
  bool ok = eventually(
      [&] {
        std::error_code ec;
        return fs::file_size(out, ec) >= want && !ec;
      },
      180s, 5ms);
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("  %s run %d: %zu lines in %.2f s; sink tasks %s; source on %s; loadavg %s\n",
              c.name().c_str(), run, lines, seconds, describe(c.any().tasks(sink)).c_str(),
              c.runner(src, 0).c_str(), load.c_str());
  c.any().del("/connectors/" + src);
  c.any().del("/connectors/" + sink);
  // Until every worker ran its tasks down.
  eventually(
      [&] {
        for (const auto& id : c.live()) {
          if (!c.w(id).allocated().empty()) return false;
        }
        return true;
      },
      30s);
  fs::remove(out);
  return ok ? static_cast<double>(lines) / seconds : 0;
}

std::string range(const std::vector<double>& v, const char* unit, double mb_per_unit) {
  auto s = stats(v);
  if (v.size() < 2) return strf("%.0f %s (%.1f MB/s)", s.max, unit, s.max * mb_per_unit);
  return strf("%.0f-%.0f %s (%.1f-%.1f MB/s)", s.min, s.max, unit, s.min * mb_per_unit,
              s.max * mb_per_unit);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) ::setenv("RMQ_CONNECT_BIN", argv[1], 1);
  if (worker_bin().empty()) ::setenv("RMQ_CONNECT_BIN", RMQC_WORKER_BIN, 1);
  const std::size_t tp_lines = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 500'000;
  constexpr std::size_t kLineBytes = 100;
  const auto bench_start = Clock::now();
  std::printf("worker: %s\nloadavg at start: %s\n", worker_bin().c_str(), loadavg().c_str());

  TempDir dir("rmqc_bench_cluster");
  BrokerChild broker;
  if (!broker.start_broker(dir / "broker", dir / "broker.log")) {
    std::fprintf(stderr, "broker: %s\n", broker.error().c_str());
    return 1;
  }
  const std::string ns = broker.namesrv();
  std::printf("broker ready: namesrv=%s\n", ns.c_str());

  // 1. Idle worker (then the 1-worker throughput on it).
  {
    std::printf("\n[idle + 1-worker throughput]\n");
    Cluster c("bc-one", dir, ns);
    if (!c.start("w1")) return 1;
    std::printf("  w1 ready in %.0f ms: %s\n", c.w("w1").ready_ms(),
                c.w("w1").ready_line().c_str());
    std::this_thread::sleep_for(5s);
    const pid_t pid = c.w("w1").pid();
    row("idle distributed worker, no connectors, after 5 s: VmRSS",
        strf("%.1f MiB (anon %.1f, file %.1f)", status_kib(pid, "VmRSS:") / 1024.0,
             status_kib(pid, "RssAnon:") / 1024.0, status_kib(pid, "RssFile:") / 1024.0),
        "< 20 MB");
    const double cpu0 = cpu_seconds(pid), broker0 = cpu_seconds(broker.pid());
    auto t0 = Clock::now();
    std::this_thread::sleep_for(10s);
    const double wall = ms_since(t0) / 1000.0;
    row("idle worker CPU over the next 10 s (idle broker beside it)",
        strf("%.3f%% of a core (broker %.3f%%)", 100.0 * (cpu_seconds(pid) - cpu0) / wall,
             100.0 * (cpu_seconds(broker.pid()) - broker0) / wall));

    // 2. Throughput input: tp_lines lines of 100 B (+ '\n').
    const std::string in = dir / "tp-in.txt";
    {
      std::string text;
      text.reserve(tp_lines * (kLineBytes + 1));
      std::string body(kLineBytes, 'x');
      for (std::size_t i = 0; i < tp_lines; ++i) {
        std::string n = std::to_string(i);
        std::copy(n.begin(), n.end(), body.begin());
        text += body;
        text += '\n';
      }
      write_file(in, text);
    }
    rocketmq::ProducerConfig pc;
    pc.client.namesrv_addr = ns;
    pc.group = "bench-raw-producer";
    pc.client.serialize_type = rocketmq::SerializeType::ROCKETMQ;  // as the worker's clients
    auto producer = rocketmq::Producer::start(pc);
    if (!producer.ok()) {
      std::fprintf(stderr, "producer: %s\n", producer.error().to_string().c_str());
      return 1;
    }
    const double mb = kLineBytes / (1024.0 * 1024.0);
    // As bench/worker_bench.cc: async, 512 in flight, one message per request; and batches of 64
    // from 2 threads, closer to what the source task sends.
    for (auto mode : {rocketmq::ProduceMode::kAsync, rocketmq::ProduceMode::kBatch}) {
      const bool batch = mode == rocketmq::ProduceMode::kBatch;
      rocketmq::ThroughputOptions t;
      t.topic = batch ? "bc-raw-batch" : "bc-raw-async";
      t.size = kLineBytes;
      t.count = static_cast<std::int64_t>(tp_lines);
      t.mode = mode;
      t.concurrency = batch ? 2 : 512;
      t.batch_size = 64;
      const std::string load = loadavg();
      auto r = rocketmq::run_produce(**producer, t);
      std::printf("  raw producer %s: %s; loadavg %s\n", batch ? "batch 64 x 2" : "async 512",
                  r.summary().c_str(), load.c_str());
      row(strf("raw producer, %zu x 100 B, %s, binary headers", tp_lines,
               batch ? "batches of 64 from 2 threads" : "async 512 in flight"),
          range({r.msgs_per_sec()}, "msgs/s", mb));
    }
    (*producer)->shutdown();
    std::vector<double> one;
    for (int run = 0; run < 2; ++run)
      one.push_back(end_to_end(c, in, tp_lines, kLineBytes, dir, run));
    row(strf("file -> broker -> file, %zu x 100 B, 1 worker: source 1 task, sink 3 (2 runs)",
             tp_lines),
        range(one, "lines/s", mb));
    c.stop_all();

    Cluster c3("bc-three", dir, ns);
    for (const char* id : {"w1", "w2", "w3"}) {
      if (!c3.start(id)) return 1;
    }
    if (!eventually([&] { return c3.formed(); }, 30s)) {
      std::fprintf(stderr, "bc-three not formed\n");
    }
    std::vector<double> three;
    for (int run = 0; run < 2; ++run) {
      three.push_back(end_to_end(c3, in, tp_lines, kLineBytes, dir, run));
    }
    row(strf("file -> broker -> file, %zu x 100 B, 3 workers, same connectors (2 runs)", tp_lines),
        range(three, "lines/s", mb));
    c3.stop_all();
    fs::remove(in);
  }

  // 3. Failover after kill -9 of the worker running the source task.
  {
    std::printf("\n[failover]\n");
    Cluster c("bc-failover", dir, ns);
    for (const char* id : {"w1", "w2", "w3"}) {
      if (!c.start(id)) return 1;
    }
    if (!eventually([&] { return c.formed(); }, 30s)) std::fprintf(stderr, "not formed\n");
    const std::string in = dir / "fo-in.txt", out = dir / "fo-out.txt";
    write_file(in, "");
    const std::vector<std::pair<std::string, int>> both = {{"sink", 3}, {"src", 1}};
    if (!c.create("sink", sink_config(out, "bc-failover-data", 3)) ||
        !c.create("src", source_config(in, "bc-failover-data"))) {
      return 1;
    }
    if (!c.wait_settled(both)) {
      std::fprintf(stderr, "failover: connectors not RUNNING\n");
      return 1;
    }
    // A stream of 5,000 lines/s (100 lines every 20 ms) during the whole part.
    std::atomic<bool> stop_writer{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
      int i = 0;
      while (!stop_writer) {
        std::string text;
        for (int k = 0; k < 100; ++k) text += line_text(i++) + "\n";
        write_file(in, text, true);
        written = i;
        std::this_thread::sleep_for(20ms);
      }
    });
    std::vector<double> total, detect;
    for (int run = 0; run < 5; ++run) {
      std::this_thread::sleep_for(1s);  // streaming steadily
      const std::string victim = c.runner("src", 0);
      if (victim.empty()) {
        std::fprintf(stderr, "failover: nobody runs src-0\n");
        break;
      }
      auto survivors = c.live();
      survivors.erase(victim);
      std::string ran;
      for (const auto& [task, state] : c.w(victim).allocated()) ran += " " + task;
      const auto wall = SysClock::now();
      const auto killed_at = Clock::now();
      c.w(victim).kill9();
      const WorkerChild& watcher = c.w(*survivors.begin());
      bool ok = eventually(
          [&] {
            return all_tasks(watcher.tasks("src"), 1, "RUNNING", survivors) &&
                   all_tasks(watcher.tasks("sink"), 3, "RUNNING", survivors);
          },
          60s, 20ms);
      const double ms = ms_since(killed_at);
      // When each survivor logged the member list without the victim.
      double seen = 0;
      std::string seen_text;
      for (const auto& id : survivors) {
        auto t = members_without(c.log(id), wall, victim);
        double d = t ? std::chrono::duration<double, std::milli>(*t - wall).count() : -1;
        seen = std::max(seen, d);
        seen_text += strf(" %s %.0f ms", id.c_str(), d);
      }
      std::printf(
          "  run %d: kill -9 %s (ran%s) -> all tasks RUNNING on survivors after %.0f ms%s; "
          "members changed in the logs:%s; loadavg %s\n",
          run + 1, victim.c_str(), ran.c_str(), ms, ok ? "" : " (TIMED OUT)", seen_text.c_str(),
          loadavg().c_str());
      std::fflush(stdout);
      if (ok) {
        total.push_back(ms);
        detect.push_back(seen);
      }
      if (!c.start(victim) || !eventually([&] { return c.formed(); }, 30s) ||
          !c.wait_settled(both)) {
        std::fprintf(stderr, "failover: %s did not rejoin\n", victim.c_str());
        break;
      }
    }
    stop_writer = true;
    writer.join();
    auto ft = stats(total), fd = stats(detect);
    row(strf("failover: kill -9 of the source's worker -> every task RUNNING (%zu runs)",
             total.size()),
        strf("median %.0f ms (min %.0f, max %.0f)", ft.median, ft.min, ft.max), "< 5 s");
    row("  of which: kill -> survivors log the new member list",
        strf("median %.0f ms (min %.0f, max %.0f)", fd.median, fd.min, fd.max));
    // Every line arrives; duplicates counted.
    const int lines_in = written.load();
    std::size_t distinct = 0, total_out = 0;
    eventually(
        [&] {
          auto got = read_lines(out);
          std::unordered_set<std::string> d(got.begin(), got.end());
          distinct = d.size();
          total_out = got.size();
          return distinct >= static_cast<std::size_t>(lines_in);
        },
        60s, 500ms);
    // Messages in the topic beyond the input are the source's re-sends; the rest of the
    // duplicates are the sink's re-writes.
    long long in_topic = -1;
    rocketmq::ClientConfig cc;
    cc.namesrv_addr = ns;
    if (auto admin = rocketmq::Admin::start(cc); admin.ok()) {
      if (auto queues = (*admin)->topic_status("bc-failover-data"); queues.ok()) {
        in_topic = 0;
        for (const auto& q : *queues) in_topic += q.max_offset;
      }
    }
    const long long dups = static_cast<long long>(total_out - distinct);
    row(strf("failover stream (5,000 lines/s, %zu kills): lines in / distinct out", total.size()),
        strf("%d / %zu (nothing lost: %s)", lines_in, distinct,
             distinct == static_cast<std::size_t>(lines_in) ? "yes" : "NO"));
    row("  duplicates: source re-sent / sink re-wrote (all kills)",
        strf("%lld / %lld (commit interval 1 s = 5,000 lines)", in_topic - lines_in,
             dups - (in_topic - lines_in)));
  }

  // 4. A joining worker gets its share.
  {
    std::printf("\n[join]\n");
    Cluster c("bc-join", dir, ns);
    for (const char* id : {"w1", "w2"}) {
      if (!c.start(id)) return 1;
    }
    const std::vector<std::pair<std::string, int>> sink12 = {{"sink12", 12}};
    if (!c.create("sink12", sink_config(dir / "join-out.txt", "bc-join-data", 12))) return 1;
    const TaskMap two = predict("round-robin", {"w1", "w2"}, sink12);
    const TaskMap three = predict("round-robin", {"w1", "w2", "w3"}, sink12);
    std::set<std::string> share;
    for (const auto& [task, worker] : three) {
      if (worker == "w3") share.insert(task);
    }
    if (!c.wait_settled(sink12, &two)) {
      std::fprintf(stderr, "join: sink12 not RUNNING on w1, w2\n");
      return 1;
    }
    std::vector<double> times, settle;
    for (int run = 0; run < 5; ++run) {
      if (!c.start("w3")) return 1;
      const auto ready = Clock::now();
      bool ok = eventually(
          [&] {
            auto tasks = c.w("w3").tasks("sink12");
            if (!tasks) return false;
            std::size_t mine = 0;
            for (const auto& t : *tasks) {
              mine += t.worker == "w3" && t.state == "RUNNING" &&
                      share.count("sink12-" + std::to_string(t.id));
            }
            return mine == share.size();
          },
          60s, 20ms);
      const double ms = ms_since(ready);
      bool all = c.wait_settled(sink12, &three).has_value();
      const double all_ms = ms_since(ready);
      std::printf(
          "  run %d: w3 ready in %.0f ms; its %zu tasks RUNNING on it %.0f ms after its ready "
          "line%s; all 12 as predicted after %.0f ms%s\n",
          run + 1, c.w("w3").ready_ms(), share.size(), ms, ok ? "" : " (TIMED OUT)", all_ms,
          all ? "" : " (NOT REACHED)");
      std::fflush(stdout);
      if (ok) times.push_back(ms);
      if (all) settle.push_back(all_ms);
      c.w("w3").stop();
      if (!c.wait_settled(sink12, &two)) {
        std::fprintf(stderr, "join: back to 2 workers did not settle\n");
        return 1;
      }
    }
    auto s = stats(times), a = stats(settle);
    row(strf("join: 3rd worker's ready line -> its %zu of 12 tasks RUNNING on it (%zu runs)",
             share.size(), times.size()),
        strf("median %.0f ms (min %.0f, max %.0f)", s.median, s.min, s.max));
    row("join: ready line -> all 12 tasks where the allocation puts them",
        strf("median %.0f ms (min %.0f, max %.0f)", a.median, a.min, a.max));
  }

  // 5. Tasks moved on join and leave, per strategy.
  for (const std::string strategy : {"round-robin", "hash", "consistent-hash"}) {
    std::printf("\n[moves: %s]\n", strategy.c_str());
    Cluster c("bc-" + strategy, dir, ns, "allocTaskStrategy=" + strategy + "\n");
    for (const char* id : {"w1", "w2", "w3"}) {
      if (!c.start(id)) return 1;
    }
    const std::vector<std::pair<std::string, int>> conns = {{"alpha", 12}, {"beta", 8}};
    if (!c.create("alpha", sink_config(dir / "alpha.txt", "bc-" + strategy + "-a", 12)) ||
        !c.create("beta", sink_config(dir / "beta.txt", "bc-" + strategy + "-b", 8))) {
      return 1;
    }
    const TaskMap p3 = predict(strategy, {"w1", "w2", "w3"}, conns);
    const TaskMap p4 = predict(strategy, {"w1", "w2", "w3", "w4"}, conns);
    // The observed map: the predicted one once every view agrees on it; else what they agree on.
    auto observe = [&](const TaskMap& expected, bool& matched, double& ms) {
      auto t0 = Clock::now();
      auto m = c.wait_settled(conns, &expected, 20s);
      ms = ms_since(t0);
      matched = m.has_value();
      if (!m) m = c.wait_settled(conns, nullptr, 20s);
      return m.value_or(TaskMap{});
    };
    bool m_before = false, m_join = false, m_leave = false;
    double ms_before = 0, ms_join = 0, ms_leave = 0;
    TaskMap before = observe(p3, m_before, ms_before);
    if (!c.start("w4")) return 1;
    TaskMap joined = observe(p4, m_join, ms_join);
    c.w("w4").stop();
    TaskMap left = observe(p3, m_leave, ms_leave);
    std::size_t on_w4 = 0;
    for (const auto& [task, worker] : joined) on_w4 += worker == "w4";
    std::printf(
        "  settled as predicted: 3 workers %s, join %s (%.0f ms after w4's ready line), leave %s "
        "(%.0f ms after its exit)\n",
        m_before ? "yes" : "NO", m_join ? "yes" : "NO", ms_join, m_leave ? "yes" : "NO", ms_leave);
    row(strf("%s: 20 tasks (12 + 8), 3 -> 4 workers: moved (w4 got)", strategy.c_str()),
        strf("%zu (%zu); predicted %zu%s", moved(before, joined), on_w4, moved(p3, p4),
             m_before && m_join ? "" : " [did not settle as predicted]"));
    row(strf("%s: 4 -> 3 workers (w4 SIGTERM): moved", strategy.c_str()),
        strf("%zu; predicted %zu%s", moved(joined, left), moved(p4, p3),
             m_leave ? "" : " [did not settle as predicted]"));
  }

  broker.stop();
  std::size_t w0 = 7, w1 = 6, w2 = 6;
  for (const auto& [what, result, target] : rows) {
    w0 = std::max(w0, what.size());
    w1 = std::max(w1, result.size());
    w2 = std::max(w2, target.size());
  }
  auto print_row = [&](const std::string& a, const std::string& b, const std::string& c) {
    std::printf("| %-*s | %-*s | %-*s |\n", static_cast<int>(w0), a.c_str(), static_cast<int>(w1),
                b.c_str(), static_cast<int>(w2), c.c_str());
  };
  std::printf("\n");
  print_row("measure", "result", "target");
  std::printf("|%s|%s|%s|\n", std::string(w0 + 2, '-').c_str(), std::string(w1 + 2, '-').c_str(),
              std::string(w2 + 2, '-').c_str());
  for (const auto& [what, result, target] : rows) print_row(what, result, target);
  std::printf("\ntotal bench time %.0f s on %ld cores (bench, broker and workers share them)\n",
              ms_since(bench_start) / 1000.0, ::sysconf(_SC_NPROCESSORS_ONLN));
  return 0;
}
