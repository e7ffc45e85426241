#pragma once

// What the CDC benchmarks share: draining a task in-process (acknowledging each record as the
// worker would), the MariaDB server, table and rows of the MySQL benchmarks, CPU time per thread
// from /proc, and the worker's source path into the embedded broker (WorkerSourceTask with the
// JsonConverter, the worker's producer and a position store).

#include "rmqc/api/record.h"
#include "rmqc/api/source_task.h"

#include "base/logging.h"
#include "bench_support.h"
#include "config/worker_config.h"
#include "converters/json/json_converter.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "rocketmq/client/admin.h"
#include "runtime/storage/state_store.h"
#include "runtime/task_io.h"
#include "runtime/worker.h"
#include "runtime/worker_task.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mysql.h>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc::bench {

using CdcClock = std::chrono::steady_clock;

inline double seconds_since(CdcClock::time_point t0) {
  return std::chrono::duration<double>(CdcClock::now() - t0).count();
}

inline long long arg(int argc, char** argv, const char* name, long long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoll(argv[i + 1]);
  }
  return fallback;
}

inline bool flag(int argc, char** argv, const char* name) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

// p in [0, 1] of sorted samples.
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<std::size_t>(p * sorted.size()))];
}

// The offset of the last record polled (tombstones and heartbeats included, counted out).
inline std::optional<RecordOffset> drain(SourceTask& task, long long n) {
  long long got = 0;
  std::optional<RecordOffset> last;
  while (got < n) {
    auto records = task.poll();
    for (const auto& r : records) {
      task.commit(r, RecordMetadata{});
      if (!r.value.is_null()) ++got;
      if (got % 50'000 == 0) task.commit();
    }
    if (!records.empty()) last = records.back().position.offset;
  }
  task.commit();
  return last;
}

// --- CPU time from /proc ---

struct ThreadCpu {
  std::string name;    // comm
  double seconds = 0;  // user + system
};

// CPU seconds (user + system) of each thread of a process: /proc/<pid>/task/<tid>/stat.
inline std::map<long, ThreadCpu> thread_cpu(long pid) {
  std::map<long, ThreadCpu> out;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(e.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::atof(field.c_str());
      if (i == 15) stime = std::atof(field.c_str());
    }
    out[std::atol(e.path().filename().c_str())] =
        ThreadCpu{text.substr(open + 1, close - open - 1), (utime + stime) / tick};
  }
  return out;
}

inline double process_cpu(long pid) {
  double sum = 0;
  for (const auto& [tid, t] : thread_cpu(pid)) sum += t.seconds;
  return sum;
}

// CPU seconds per thread name (digits dropped, so "rmq-io-1" and "rmq-io-2" add up) spent
// between two thread_cpu() samples.
inline std::map<std::string, double> cpu_by_name(const std::map<long, ThreadCpu>& before,
                                                 const std::map<long, ThreadCpu>& after) {
  std::map<std::string, double> out;
  for (const auto& [tid, t] : after) {
    const auto it = before.find(tid);
    std::string name = t.name;
    name.erase(
        std::remove_if(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }),
        name.end());
    out[name] += t.seconds - (it == before.end() ? 0.0 : it->second.seconds);
  }
  return out;
}

// 1-minute load average.
inline double load_average() {
  std::ifstream in("/proc/loadavg");
  double l = 0;
  in >> l;
  return l;
}

// CPU of this process (per thread group: seconds, and microseconds per row in parentheses) and
// of mariadbd over one phase.
class CpuWindow {
 public:
  explicit CpuWindow(long server_pid = 0)
      : server_pid_(server_pid),
        before_(thread_cpu(::getpid())),
        server_before_(server_pid > 0 ? process_cpu(server_pid) : 0) {}

  void print(const char* phase, long long rows) const {
    const auto groups = cpu_by_name(before_, thread_cpu(::getpid()));
    double total = 0;
    for (const auto& [name, s] : groups) total += s;
    const double server = server_pid_ > 0 ? process_cpu(server_pid_) - server_before_ : 0;
    std::printf("  CPU %-9s this process %.2f s (%.2f us/row), mariadbd %.2f s (%.2f us/row):",
                phase, total, 1e6 * total / static_cast<double>(rows), server,
                1e6 * server / static_cast<double>(rows));
    // Per thread group: seconds and microseconds per row.
    for (const auto& [name, s] : groups) {
      if (s >= 0.01) {
        std::printf(" %s %.2f (%.1f)", name.c_str(), s, 1e6 * s / static_cast<double>(rows));
      }
    }
    std::printf("\n");
    std::fflush(stdout);
  }

 private:
  long server_pid_;
  std::map<long, ThreadCpu> before_;
  double server_before_;
};

// --- The MySQL benchmarks' server, table and rows ---

namespace mysql_rows {

using connectors::jdbc::testing::MariaDbServer;

// The connector's configuration: the `bench` database, no schema-change events.
inline KeyValue config(const MariaDbServer& s) {
  KeyValue c;
  c.put("database.hostname", s.host());
  c.put("database.port", std::to_string(s.port()));
  c.put("database.user", s.user());
  c.put("database.password", s.password());
  c.put("topic.prefix", "bench");
  c.put("database.include.list", "bench");
  c.put("poll.interval.ms", "100");
  c.put("include.schema.changes", "false");
  return c;
}

// About 600 bytes per row: 8 columns, a 512-character note.
inline std::string insert_rows(long long from, long long to) {
  return "INSERT INTO bench.rows SELECT seq, CONCAT('name-', LPAD(seq, 8, '0'), "
         "'-xxxxxxxxxxxxxxx'), CONCAT('user', LPAD(seq, 8, '0'), '@example.com'), "
         "CONCAT('company-', seq % 100000), (seq % 9999999) / 100.0, "
         "DATE '2000-01-01' + INTERVAL (seq % 9000) DAY, "
         "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, "
         "CONCAT(REPEAT('abcdefghijklmnopqrstuvwxyz0123456789', 14), LPAD(seq, 8, '0')) "
         "FROM bench.seq_" +
         std::to_string(from) + "_to_" + std::to_string(to);
}

// Rows [from, to] in 1000-row transactions; exits on failure.
inline void insert_in_transactions(const MariaDbServer& s, long long from, long long to) {
  for (long long a = from; a <= to; a += 1000) {
    const long long b = std::min(to, a + 999);
    auto r = s.exec(insert_rows(a, b));
    if (!r.ok()) {
      std::fprintf(stderr, "insert: %s\n", r.error().to_string().c_str());
      std::exit(1);
    }
  }
}

// A private MariaDB 10.11 (ROW binlog with full metadata) holding bench.rows with rows 1..rows;
// null (after a message) when it cannot start.
inline std::unique_ptr<MariaDbServer> start_with_rows(long long rows) {
  MariaDbServer::Options options;
  options.extra_args = {"--binlog-row-metadata=FULL", "--max-binlog-size=1G"};
  auto started = MariaDbServer::start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "MariaDB: %s\n", started.error().to_string().c_str());
    return nullptr;
  }
  auto server = std::move(started).value();
  auto ddl = server->exec(
      "CREATE DATABASE bench; CREATE TABLE bench.rows (id BIGINT PRIMARY KEY, name "
      "VARCHAR(40), email VARCHAR(40), company VARCHAR(30), amount DECIMAL(12,2), born DATE, "
      "created TIMESTAMP(3) NULL, note VARCHAR(600))");
  if (!ddl.ok()) {
    std::fprintf(stderr, "ddl: %s\n", ddl.error().to_string().c_str());
    return nullptr;
  }
  insert_in_transactions(*server, 1, rows);
  return server;
}

// A client session over the server's socket; null (after a message) on failure.
inline MYSQL* connect(const MariaDbServer& s) {
  MYSQL* m = mysql_init(nullptr);
  const std::string socket = s.socket_path();
  if (mysql_real_connect(m, "localhost", "root", "", nullptr, 0, socket.c_str(), 0) == nullptr) {
    std::fprintf(stderr, "connect: %s\n", mysql_error(m));
    mysql_close(m);
    return nullptr;
  }
  return m;
}

// The first column of the first row of a query, "" when none.
inline std::string query_value(MYSQL* m, const char* sql) {
  std::string out;
  if (mysql_query(m, sql) != 0) return out;
  if (MYSQL_RES* res = mysql_store_result(m)) {
    if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) out = row[0];
    mysql_free_result(res);
  }
  return out;
}

// mariadbd's process id (from its pid file), 0 when unknown.
inline long server_pid(MYSQL* m) {
  std::ifstream in(query_value(m, "SELECT @@pid_file"));
  long pid = 0;
  in >> pid;
  return pid;
}

}  // namespace mysql_rows

// --- The worker's source path into the embedded broker ---

// The worker's sender, counting what the broker acknowledged (stored) and when the last
// acknowledgment arrived: what the benchmarks wait for. One relaxed add and a clock read per
// request (a batch counts its messages).
class AckCountingSender final : public runtime::RecordSender {
 public:
  explicit AckCountingSender(std::shared_ptr<runtime::RecordSender> inner)
      : inner_(std::move(inner)) {}

  void send_async(rocketmq::Message message, std::string key,
                  rocketmq::SendCallback callback) override {
    body_bytes_.fetch_add(static_cast<long long>(message.body.size()), std::memory_order_relaxed);
    inner_->send_async(std::move(message), std::move(key),
                       [this, cb = std::move(callback)](Result<rocketmq::SendResult> r) {
                         if (r.ok()) note(1);
                         cb(std::move(r));
                       });
  }
  void send_batch_async(std::span<const rocketmq::Message> messages, std::string key,
                        rocketmq::SendCallback callback) override {
    const long long n = static_cast<long long>(messages.size());
    long long bytes = 0;
    for (const auto& m : messages) bytes += static_cast<long long>(m.body.size());
    body_bytes_.fetch_add(bytes, std::memory_order_relaxed);
    inner_->send_batch_async(messages, std::move(key),
                             [this, n, cb = std::move(callback)](Result<rocketmq::SendResult> r) {
                               if (r.ok()) note(n);
                               cb(std::move(r));
                             });
  }
  std::size_t queue_count(const std::string& topic) const override {
    return inner_->queue_count(topic);
  }

  long long acked() const { return acked_.load(std::memory_order_acquire); }
  long long requests() const { return requests_.load(std::memory_order_relaxed); }
  // Body bytes handed to the producer (re-sends included).
  long long body_bytes() const { return body_bytes_.load(std::memory_order_relaxed); }
  CdcClock::time_point last_ack() const {
    return CdcClock::time_point(CdcClock::duration(last_ack_.load(std::memory_order_acquire)));
  }
  // Waits (1 ms steps) until `target` messages were acknowledged in all; the time of the last
  // acknowledgment then, or nullopt after `timeout`.
  std::optional<CdcClock::time_point> wait_acked(long long target,
                                                 std::chrono::seconds timeout) const {
    const auto deadline = CdcClock::now() + timeout;
    while (acked() < target) {
      if (CdcClock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return last_ack();
  }

 private:
  void note(long long n) {
    requests_.fetch_add(1, std::memory_order_relaxed);
    last_ack_.store(CdcClock::now().time_since_epoch().count(), std::memory_order_relaxed);
    acked_.fetch_add(n, std::memory_order_release);
  }

  std::shared_ptr<runtime::RecordSender> inner_;
  std::atomic<long long> acked_{0};
  std::atomic<long long> requests_{0};
  std::atomic<long long> body_bytes_{0};
  std::atomic<CdcClock::rep> last_ack_{0};
};

// The embedded broker in-process, the worker's producer (worker defaults: binary headers, its
// send timeout), a position store, and WorkerSourceTasks over a connector's task with the
// JsonConverter for keys and values (`schemas.enable` as asked).
class WorkerPipeline {
 public:
  static std::unique_ptr<WorkerPipeline> start(const std::string& name, bool schemas) {
    auto self = std::unique_ptr<WorkerPipeline>(new WorkerPipeline);
    self->schemas_ = schemas;
    self->broker_ = TempBroker::start(name);
    if (!self->broker_) return nullptr;
    self->dir_ =
        std::filesystem::temp_directory_path() / (name + "_state_" + std::to_string(::getpid()));
    std::filesystem::remove_all(self->dir_);
    auto store = runtime::StateStore::open(self->dir_.string());
    if (!store.ok()) {
      std::fprintf(stderr, "state store: %s\n", store.error().to_string().c_str());
      return nullptr;
    }
    self->store_ = std::move(store).value();
    auto producer =
        runtime::start_worker_producer(config::WorkerConfig{}, (*self->broker_)->namesrv_addr());
    if (!producer.ok()) {
      std::fprintf(stderr, "producer: %s\n", producer.error().to_string().c_str());
      return nullptr;
    }
    self->producer_ = std::move(producer).value();
    self->sender_ = std::make_shared<AckCountingSender>(
        std::make_shared<runtime::RocketMqRecordSender>(self->producer_));
    return self;
  }
  ~WorkerPipeline() {
    if (task_) task_->stop(std::chrono::seconds(30));
    task_.reset();
    if (producer_) producer_->shutdown();
    producer_.reset();
    broker_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  Result<void> create_topic(const std::string& topic, int queues) {
    rocketmq::ClientConfig client;
    client.namesrv_addr = (*broker_)->namesrv_addr();
    RMQC_ASSIGN_OR_RETURN(auto admin, rocketmq::Admin::start(client));
    return admin->create_topic(topic, queues);
  }

  // Starts a WorkerSourceTask (connector `connector`, task 0) over `task`: it reads its start
  // position from the store, polls, converts, batches per queue, sends, and commits positions
  // every `commit_interval` and at stop.
  void start_task(std::unique_ptr<SourceTask> task, const KeyValue& config,
                  std::chrono::milliseconds commit_interval = std::chrono::milliseconds(1000)) {
    runtime::TaskSetup setup;
    setup.connector = "bench";
    setup.worker_id = "bench";
    setup.connector_config = config;
    setup.task_config = config;
    setup.task = std::move(task);
    const KeyValue c{{"schemas.enable", schemas_ ? "true" : "false"}};
    auto keys = std::make_unique<converters::JsonConverter>();
    auto values = std::make_unique<converters::JsonConverter>();
    (void)keys->configure(c, true);
    (void)values->configure(c, false);
    setup.key_converter = std::move(keys);
    setup.value_converter = std::move(values);
    setup.producer = producer_;
    setup.sender = sender_;
    setup.store = store_.get();
    setup.commit_interval = commit_interval;
    task_ = std::make_shared<runtime::WorkerSourceTask>(std::move(setup));
    task_->start();
  }
  // Stops the task (final position commit); false when it did not stop in time.
  bool stop_task() {
    const bool ok = task_->stop(std::chrono::seconds(30));
    task_.reset();
    return ok;
  }
  // The task's state and trace, for a failure message.
  std::string task_state() const {
    if (!task_) return "no task";
    auto s = task_->state();
    return std::string(runtime::run_state_name(s.state)) + (s.trace ? " " + *s.trace : "");
  }

  AckCountingSender& acks() { return *sender_; }
  rocketmq::Producer& producer() { return *producer_; }

 private:
  WorkerPipeline() = default;
  bool schemas_ = false;
  std::unique_ptr<TempBroker> broker_;
  std::filesystem::path dir_;
  std::unique_ptr<runtime::StateStore> store_;
  std::shared_ptr<rocketmq::Producer> producer_;
  std::shared_ptr<AckCountingSender> sender_;
  std::shared_ptr<runtime::WorkerSourceTask> task_;
};

}  // namespace rmqc::bench
