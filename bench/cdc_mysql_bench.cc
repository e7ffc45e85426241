// MySQL/MariaDB CDC (issue 13, "Benchmark"): MysqlCdcTask, 1 task, against a private MariaDB
// 10.11 (connectors/jdbc/tests/testing/mariadb_server.h, binlog_row_metadata=FULL), rows of about
// 600 B:
//   snapshot:  rows/s of the initial snapshot (consistent snapshot, minimal locking) of
//              --snapshot-rows;
//   streaming: events/s of --stream-rows inserted (1000-row transactions) while the task was
//              stopped, so the binlog holds them: from start() to the last event polled, i.e. the
//              binlog dump over the wire + the connector's decoding and envelopes;
//   latency:   from an autocommitted single-row INSERT to the poll() that returns its event,
//              p50 / p99 over --latency-samples inserts;
//   CPU:       seconds and microseconds per row of each thread group (r: = the connector's
//              binlog reader, rmqc_bench_cdc_ = the polling thread) and of mariadbd, per phase.
// The task runs in-process with a fake context; every record is acknowledged (commit(record)) and
// positions committed (commit()) as the worker would, without a broker or converter.
//
//   rmqc_bench_cdc_mysql [--snapshot-rows N] [--stream-rows M] [--latency-samples K]

#include "rmqc/api/record.h"

#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "cdc_bench_support.h"
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

int run(int argc, char** argv) {
  const long long snapshot_rows = arg(argc, argv, "--snapshot-rows", 200'000);
  const long long stream_rows = arg(argc, argv, "--stream-rows", 300'000);
  const long long samples = arg(argc, argv, "--latency-samples", 500);

  auto server = mysql_rows::start_with_rows(snapshot_rows);
  if (!server) return 1;
  MYSQL* m = mysql_rows::connect(*server);
  if (m == nullptr) return 1;
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

  const long server_pid = mysql_rows::server_pid(m);
  rmqc::testing::FakeSourceContext context;
  const KeyValue c = mysql_rows::config(*server);
  std::optional<RecordOffset> last;
  {
    cdc::MysqlCdcTask task;
    task.init(context);
    const CpuWindow cpu(server_pid);
    const auto t0 = Clock::now();
    task.start(c);
    last = drain(task, snapshot_rows);
    const double s = seconds_since(t0);
    std::printf("snapshot:  %lld rows in %.2f s = %.0f rows/s\n", snapshot_rows, s,
                snapshot_rows / s);
    cpu.print("snapshot", snapshot_rows);
    task.stop();
  }

  context.reader.offsets[cdc::mysql::server_partition("bench")] = *last;
  mysql_rows::insert_in_transactions(*server, snapshot_rows + 1, snapshot_rows + stream_rows);
  cdc::MysqlCdcTask task;
  task.init(context);
  {
    const CpuWindow cpu(server_pid);
    const auto t0 = Clock::now();
    task.start(c);
    last = drain(task, stream_rows);
    const double s = seconds_since(t0);
    std::printf("streaming: %lld events in %.2f s = %.0f events/s\n", stream_rows, s,
                stream_rows / s);
    cpu.print("streaming", stream_rows);
  }

  std::vector<double> latencies;
  const long long base = snapshot_rows + stream_rows + 1;
  for (long long i = 0; i < samples; ++i) {
    const std::string sql = mysql_rows::insert_rows(base + i, base + i);
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
  std::printf("latency:   commit to poll p50 %.2f ms, p99 %.2f ms (%lld samples)\n",
              percentile(latencies, 0.50), percentile(latencies, 0.99), samples);
  task.stop();
  return 0;
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  return rmqc::bench::run(argc, argv);
}
