// MySQL/MariaDB CDC into the embedded broker (issue 13, "Benchmark"): MysqlCdcTask, 1 task,
// against a private MariaDB 10.11 (binlog_row_metadata=FULL), rows of about 600 B, each record
// converted as the worker does (JsonConverter for key and value; --schemas adds the schema to
// every body as Debezium's default JSON does) and sent with the native producer to the embedded
// broker in-process (send_by_key_async: per-key queues as the worker's, at most 1024 in flight
// as the worker's window); commit(record) once the broker acknowledged it (= stored):
//   snapshot:  rows/s of the initial snapshot of --snapshot-rows, from start() to the last
//              acknowledgement;
//   streaming: events/s of --stream-rows inserted (1000-row transactions) while the task was
//              stopped, from start() to the last acknowledgement;
//   latency:   from sending an autocommitted single-row INSERT to the broker's acknowledgement of
//              its message, p50 / p99 over --latency-samples inserts.
//
//   rmqc_bench_cdc_broker [--snapshot-rows N] [--stream-rows M] [--latency-samples K] [--schemas]

#include "rmqc/api/record.h"

#include "base/logging.h"
#include "bench_support.h"
#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "converters/json/json_converter.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/producer.h"
#include "testing/task_fakes.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <mysql.h>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::bench {
namespace {

namespace cdc = rmqc::connectors::cdc;
using Clock = std::chrono::steady_clock;
using rmqc::connectors::jdbc::testing::MariaDbServer;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

KeyValue config(const MariaDbServer& s) {
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
std::string insert_rows(long long from, long long to) {
  return "INSERT INTO bench.rows SELECT seq, CONCAT('name-', LPAD(seq, 8, '0'), "
         "'-xxxxxxxxxxxxxxx'), CONCAT('user', LPAD(seq, 8, '0'), '@example.com'), "
         "CONCAT('company-', seq % 100000), (seq % 9999999) / 100.0, "
         "DATE '2000-01-01' + INTERVAL (seq % 9000) DAY, "
         "TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND, "
         "CONCAT(REPEAT('abcdefghijklmnopqrstuvwxyz0123456789', 14), LPAD(seq, 8, '0')) "
         "FROM bench.seq_" +
         std::to_string(from) + "_to_" + std::to_string(to);
}

void insert_in_transactions(const MariaDbServer& s, long long from, long long to) {
  for (long long a = from; a <= to; a += 1000) {
    const long long b = std::min(to, a + 999);
    auto r = s.exec(insert_rows(a, b));
    if (!r.ok()) {
      std::fprintf(stderr, "insert: %s\n", r.error().to_string().c_str());
      std::exit(1);
    }
  }
}

long long arg(int argc, char** argv, const char* name, long long fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoll(argv[i + 1]);
  }
  return fallback;
}

// poll() -> converters -> producer -> broker -> commit(record), as the worker's source loop.
class ToBroker {
 public:
  ToBroker(rocketmq::Producer& producer, bool schemas) : producer_(producer) {
    const KeyValue c{{"schemas.enable", schemas ? "true" : "false"}};
    (void)keys_.configure(c, true);
    (void)values_.configure(c, false);
  }

  // Polls and sends until n more data records are stored; returns the last record's offset.
  // on_stored(record) runs on the producer's I/O thread for each acknowledged record.
  std::optional<RecordOffset> run(SourceTask& task, long long n,
                                  const std::function<void()>& on_stored = {}) {
    std::optional<RecordOffset> last;
    const long long target = stored_.load() + n;
    while (stored_.load() < target) {
      auto records = task.poll();
      for (auto& record : records) {
        if (record.value.is_null()) continue;  // tombstones: none here
        auto value = values_.from_connect_data(record.topic(), record.value_schema, record.value);
        auto key = keys_.from_connect_data(record.topic(), record.key_schema, record.key);
        if (!value.ok() || !key.ok()) {
          std::fprintf(stderr, "convert: %s\n",
                       (!value.ok() ? value.error() : key.error()).to_string().c_str());
          std::exit(1);
        }
        {
          std::unique_lock lock(mutex_);
          cv_.wait(lock, [&] { return in_flight_ < kWindow; });
          ++in_flight_;
        }
        last = record.position.offset;
        rocketmq::Message m(std::string(record.topic()), std::move(value).value(), {}, key.value());
        auto shared = std::make_shared<ConnectRecord>(std::move(record));
        producer_.send_by_key_async(std::move(m), std::move(key).value(),
                                    [this, shared, &on_stored](Result<rocketmq::SendResult> r) {
                                      if (!r.ok()) {
                                        std::fprintf(stderr, "send: %s\n",
                                                     r.error().to_string().c_str());
                                        std::exit(1);
                                      }
                                      if (on_stored) on_stored();
                                      std::lock_guard lock(mutex_);
                                      --in_flight_;
                                      acked_.push_back(std::move(*shared));
                                      ++stored_;
                                      cv_.notify_all();
                                    });
      }
      retire(task);
    }
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
    lock.unlock();
    retire(task);
    task.commit();
    return last;
  }

 private:
  void retire(SourceTask& task) {
    std::deque<ConnectRecord> ready;
    {
      std::lock_guard lock(mutex_);
      ready.swap(acked_);
    }
    for (const auto& r : ready) task.commit(r, RecordMetadata{});
  }

  static constexpr long long kWindow = 1024;
  rocketmq::Producer& producer_;
  converters::JsonConverter keys_;
  converters::JsonConverter values_;
  std::mutex mutex_;
  std::condition_variable cv_;
  long long in_flight_ = 0;
  std::deque<ConnectRecord> acked_;
  std::atomic<long long> stored_{0};
};

int run(int argc, char** argv) {
  const long long snapshot_rows = arg(argc, argv, "--snapshot-rows", 200'000);
  const long long stream_rows = arg(argc, argv, "--stream-rows", 300'000);
  const long long samples = arg(argc, argv, "--latency-samples", 500);
  bool schemas = false;
  for (int i = 1; i < argc; ++i) schemas = schemas || std::strcmp(argv[i], "--schemas") == 0;
  set_log_level("warn");

  auto broker = TempBroker::start("rmqc_cdc_broker_bench");
  if (!broker) return 1;
  rocketmq::ProducerConfig pc;
  pc.client.namesrv_addr = (*broker)->namesrv_addr();
  pc.group = "bench_cdc_producer";
  pc.client.serialize_type = rocketmq::SerializeType::ROCKETMQ;  // binary headers, as the worker
  auto producer = rocketmq::Producer::start(pc);
  if (!producer.ok()) return 1;
  auto admin = rocketmq::Admin::start(pc.client);
  if (!admin.ok() || !(*admin)->create_topic("bench_bench_rows", 8).ok()) {
    std::fprintf(stderr, "cannot create the topic\n");
    return 1;
  }

  MariaDbServer::Options options;
  options.extra_args = {"--binlog-row-metadata=FULL", "--max-binlog-size=1G"};
  auto started = MariaDbServer::start(options);
  if (!started.ok()) {
    std::fprintf(stderr, "MariaDB: %s\n", started.error().to_string().c_str());
    return 1;
  }
  auto server = std::move(started).value();
  auto ddl = server->exec(
      "CREATE DATABASE bench; CREATE TABLE bench.rows (id BIGINT PRIMARY KEY, name "
      "VARCHAR(40), email VARCHAR(40), company VARCHAR(30), amount DECIMAL(12,2), born DATE, "
      "created TIMESTAMP(3) NULL, note VARCHAR(600))");
  if (!ddl.ok()) {
    std::fprintf(stderr, "ddl: %s\n", ddl.error().to_string().c_str());
    return 1;
  }
  insert_in_transactions(*server, 1, snapshot_rows);
  std::printf("MySQL CDC, 1 task, into the embedded broker (JsonConverter, schemas.enable=%s)\n",
              schemas ? "true" : "false");

  ToBroker pipe(**producer, schemas);
  rmqc::testing::FakeSourceContext context;
  const KeyValue c = config(*server);
  std::optional<RecordOffset> last;
  {
    cdc::MysqlCdcTask task;
    task.init(context);
    const auto t0 = Clock::now();
    task.start(c);
    last = pipe.run(task, snapshot_rows);
    const double s = seconds_since(t0);
    std::printf("snapshot:  %lld rows stored in %.2f s = %.0f rows/s\n", snapshot_rows, s,
                snapshot_rows / s);
    task.stop();
  }

  context.reader.offsets[cdc::mysql::server_partition("bench")] = *last;
  insert_in_transactions(*server, snapshot_rows + 1, snapshot_rows + stream_rows);
  cdc::MysqlCdcTask task;
  task.init(context);
  {
    const auto t0 = Clock::now();
    task.start(c);
    last = pipe.run(task, stream_rows);
    const double s = seconds_since(t0);
    std::printf("streaming: %lld events stored in %.2f s = %.0f events/s\n", stream_rows, s,
                stream_rows / s);
  }

  MYSQL* m = mysql_init(nullptr);
  const std::string socket = server->socket_path();
  if (mysql_real_connect(m, "localhost", "root", "", nullptr, 0, socket.c_str(), 0) == nullptr) {
    std::fprintf(stderr, "connect: %s\n", mysql_error(m));
    return 1;
  }
  std::vector<double> latencies;
  const long long base = snapshot_rows + stream_rows + 1;
  std::atomic<std::int64_t> stored_at{0};
  const std::function<void()> on_stored = [&] {
    stored_at.store(Clock::now().time_since_epoch().count());
  };
  for (long long i = 0; i < samples; ++i) {
    const std::string sql = insert_rows(base + i, base + i);
    const auto t0 = Clock::now();
    if (mysql_query(m, sql.c_str()) != 0) {
      std::fprintf(stderr, "insert: %s\n", mysql_error(m));
      return 1;
    }
    pipe.run(task, 1, on_stored);
    const auto t1 = Clock::time_point(Clock::duration(stored_at.load()));
    latencies.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  mysql_close(m);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf(
      "latency:   INSERT (autocommit) to stored in the broker p50 %.2f ms, p99 %.2f ms "
      "(%lld samples)\n",
      pct(0.50), pct(0.99), samples);
  task.stop();
  return 0;
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  return rmqc::bench::run(argc, argv);
}
