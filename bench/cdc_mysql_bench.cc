// MySQL/MariaDB CDC (issue 13, "Benchmark"): MysqlCdcTask, 1 task, against a private MariaDB
// 10.11 (connectors/jdbc/tests/testing/mariadb_server.h, binlog_row_metadata=FULL), rows of about
// 600 B:
//   snapshot:  rows/s of the initial snapshot (consistent snapshot, minimal locking) of
//              --snapshot-rows;
//   streaming: events/s of --stream-rows inserted (1000-row transactions) while the task was
//              stopped, so the binlog holds them: from start() to the last event polled, i.e. the
//              binlog dump over the wire + the connector's decoding and envelopes;
//   latency:   from an autocommitted single-row INSERT to the poll() that returns its event,
//              p50 / p99 over --latency-samples inserts.
// The task runs in-process with a fake context; every record is acknowledged (commit(record)) and
// positions committed (commit()) as the worker would, without a broker or converter.
//
//   rmqc_bench_cdc_mysql [--snapshot-rows N] [--stream-rows M] [--latency-samples K]

#include "rmqc/api/record.h"

#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "cdc_bench_support.h"
#include "jdbc/tests/testing/mariadb_server.h"
#include "testing/task_fakes.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mysql.h>
#include <optional>
#include <string>
#include <vector>

namespace rmqc::bench {
namespace {

namespace cdc = rmqc::connectors::cdc;
using Clock = std::chrono::steady_clock;
using rmqc::connectors::jdbc::testing::MariaDbServer;

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

int run(int argc, char** argv) {
  const long long snapshot_rows = arg(argc, argv, "--snapshot-rows", 200'000);
  const long long stream_rows = arg(argc, argv, "--stream-rows", 300'000);
  const long long samples = arg(argc, argv, "--latency-samples", 500);

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
  MYSQL* m = mysql_init(nullptr);
  const std::string socket = server->socket_path();
  if (mysql_real_connect(m, "localhost", "root", "", nullptr, 0, socket.c_str(), 0) == nullptr) {
    std::fprintf(stderr, "connect: %s\n", mysql_error(m));
    return 1;
  }
  // The bytes of a row's values (8 + name + email + company + 6 + 3 + 7 + note).
  if (mysql_query(m,
                  "SELECT AVG(8 + LENGTH(name) + LENGTH(email) + LENGTH(company) + 6 + 3 + 7 + "
                  "LENGTH(note)) FROM bench.rows") == 0) {
    if (MYSQL_RES* res = mysql_store_result(m)) {
      if (MYSQL_ROW row = mysql_fetch_row(res); row != nullptr && row[0] != nullptr) {
        std::printf("rows of %.0f bytes of values on average\n", std::atof(row[0]));
      }
      mysql_free_result(res);
    }
  }

  rmqc::testing::FakeSourceContext context;
  const KeyValue c = config(*server);
  std::optional<RecordOffset> last;
  {
    cdc::MysqlCdcTask task;
    task.init(context);
    const auto t0 = Clock::now();
    task.start(c);
    last = drain(task, snapshot_rows);
    const double s = seconds_since(t0);
    std::printf("snapshot:  %lld rows in %.2f s = %.0f rows/s\n", snapshot_rows, s,
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
    last = drain(task, stream_rows);
    const double s = seconds_since(t0);
    std::printf("streaming: %lld events in %.2f s = %.0f events/s\n", stream_rows, s,
                stream_rows / s);
  }

  std::vector<double> latencies;
  const long long base = snapshot_rows + stream_rows + 1;
  for (long long i = 0; i < samples; ++i) {
    const std::string sql = insert_rows(base + i, base + i);
    const auto t0 = Clock::now();
    if (mysql_query(m, sql.c_str()) != 0) {
      std::fprintf(stderr, "insert: %s\n", mysql_error(m));
      return 1;
    }
    drain(task, 1);
    latencies.push_back(seconds_since(t0) * 1e3);
  }
  mysql_close(m);
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies[std::min(latencies.size() - 1,
                              static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf("latency:   commit to poll p50 %.2f ms, p99 %.2f ms (%lld samples)\n", pct(0.50),
              pct(0.99), samples);
  task.stop();
  return 0;
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  return rmqc::bench::run(argc, argv);
}
