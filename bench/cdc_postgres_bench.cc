// PostgreSQL CDC (issue 13, "Benchmark"): PostgresCdcTask, 1 task, against a private PostgreSQL 15
// (connectors/jdbc/tests/testing/postgres_server.h), rows of about 600 B:
//   snapshot:  rows/s of the initial snapshot (exported snapshot of a new slot) of --snapshot-rows;
//   streaming: events/s of --stream-rows inserted (1000-row transactions) while the task was
//              stopped, so the slot holds them: from start() to the last event polled, i.e.
//              pgoutput decoding in the server + the wire + the connector's parsing and envelopes;
//   latency:   from an autocommitted single-row INSERT to the poll() that returns its event,
//              p50 / p99 over --latency-samples inserts.
// The task runs in-process with a fake context; every record is acknowledged (commit(record)) and
// positions committed (commit()) as the worker would, without a broker or converter.
// --broker runs the task through the worker's source path into the embedded broker instead, as
// rmqc_bench_cdc_broker does for MySQL (WorkerSourceTask, JsonConverter, per-queue batches, the
// worker's producer, positions in a store; --schemas for schemas.enable=true): rates and latency
// to the broker's acknowledgment, CPU per row of this process and of the walsender.
//
//   rmqc_bench_cdc_postgres [--snapshot-rows N] [--stream-rows M] [--latency-samples K]
//                           [--broker [--schemas]]

#include "rmqc/api/record.h"

#include "cdc/postgres/postgres_cdc_connector.h"
#include "cdc_bench_support.h"
#include "jdbc/tests/testing/postgres_server.h"
#include "testing/task_fakes.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <libpq-fe.h>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace rmqc::bench {
namespace {

namespace pg = rmqc::connectors::cdc::postgres;
using Clock = std::chrono::steady_clock;
using rmqc::connectors::jdbc::testing::PostgresServer;

KeyValue config(const PostgresServer& s) {
  KeyValue c;
  c.put("database.hostname", s.host());
  c.put("database.port", std::to_string(s.port()));
  c.put("database.user", s.user());
  c.put("database.password", s.password());
  c.put("database.dbname", s.database());
  c.put("topic.prefix", "bench");
  c.put("schema.include.list", "bench");
  c.put("publication.autocreate.mode", "filtered");
  c.put("poll.interval.ms", "100");
  c.put("status.update.interval.ms", "1000");
  return c;
}

// About 600 bytes per row: 8 columns, a 420-character note.
const char* kInsert =
    "INSERT INTO bench.rows SELECT g, 'name-' || lpad(g::text, 8, '0') || '-xxxxxxxxxxxxxxx', "
    "'user' || lpad(g::text, 8, '0') || '@example.com', 'company-' || (g % 100000), "
    "(g % 9999999) / 100.0, date '2000-01-01' + (g % 9000), "
    "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', "
    "repeat('abcdefghijklmnopqrstuvwxyz0123456789', 12) || lpad(g::text, 8, '0') "
    "FROM generate_series(%lld, %lld) g";

void insert_range(PGconn* conn, long long from, long long to) {
  char sql[1024];
  std::snprintf(sql, sizeof(sql), kInsert, from, to);
  PGresult* r = PQexec(conn, sql);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) {
    std::fprintf(stderr, "insert failed: %s\n", PQresultErrorMessage(r));
    std::exit(1);
  }
  PQclear(r);
}

// CPU of this process per thread group over a phase, per row.
void print_cpu(const char* phase, const std::map<long, ThreadCpu>& before, long long rows,
               double walsender) {
  const auto groups = cpu_by_name(before, thread_cpu(::getpid()));
  double total = 0;
  for (const auto& [name, s] : groups) total += s;
  std::printf("  CPU %-9s this process %.2f s (%.2f us/row)", phase, total,
              1e6 * total / static_cast<double>(rows));
  if (walsender >= 0) {
    std::printf(", walsender %.2f s (%.2f us/row)", walsender,
                1e6 * walsender / static_cast<double>(rows));
  }
  std::printf(":");
  for (const auto& [name, s] : groups) {
    if (s >= 0.01) {
      std::printf(" %s %.2f (%.1f)", name.c_str(), s, 1e6 * s / static_cast<double>(rows));
    }
  }
  std::printf("\n");
  std::fflush(stdout);
}

double walsender_cpu(PGconn* conn) {
  PGresult* ws = PQexec(conn, "SELECT pid FROM pg_stat_replication LIMIT 1");
  double cpu = 0;
  if (PQntuples(ws) == 1) cpu = process_cpu(std::atol(PQgetvalue(ws, 0, 0)));
  PQclear(ws);
  return cpu;
}

// --broker: the same phases through WorkerSourceTask into the embedded broker.
int run_into_broker(PGconn* conn, const KeyValue& cfg, long long snapshot_rows,
                    long long stream_rows, long long samples, bool schemas) {
  using namespace std::chrono_literals;
  auto pipe = WorkerPipeline::start("rmqc_cdc_postgres_bench", schemas);
  if (!pipe) return 1;
  if (auto r = pipe->create_topic("bench_bench_rows", 8); !r.ok()) {
    std::fprintf(stderr, "cannot create the topic: %s\n", r.error().to_string().c_str());
    return 1;
  }
  std::printf(
      "into the embedded broker: WorkerSourceTask, JsonConverter (schemas.enable=%s), "
      "load average %.2f\n",
      schemas ? "true" : "false", load_average());
  auto& acks = pipe->acks();
  auto wait = [&](long long target) -> std::optional<CdcClock::time_point> {
    auto at = acks.wait_acked(target, 600s);
    if (!at) std::fprintf(stderr, "timed out; task %s\n", pipe->task_state().c_str());
    return at;
  };
  {
    const auto before = thread_cpu(::getpid());
    const auto t0 = CdcClock::now();
    pipe->start_task(std::make_unique<pg::PostgresCdcTask>(), cfg);
    const auto done = wait(snapshot_rows);
    if (!done) return 1;
    const double s = std::chrono::duration<double>(*done - t0).count();
    std::printf("snapshot:  %lld rows stored in %.2f s = %.0f rows/s\n", snapshot_rows, s,
                snapshot_rows / s);
    print_cpu("snapshot", before, snapshot_rows, -1);
    if (!pipe->stop_task()) return 1;
  }
  long long next = snapshot_rows + 1;
  for (long long done = 0; done < stream_rows; done += 1000) {
    insert_range(conn, next + done, next + done + std::min(1000LL, stream_rows - done) - 1);
  }
  next += stream_rows;
  {
    const auto before = thread_cpu(::getpid());
    const auto t0 = CdcClock::now();
    pipe->start_task(std::make_unique<pg::PostgresCdcTask>(), cfg);
    const auto done = wait(snapshot_rows + stream_rows);
    if (!done) return 1;
    const double s = std::chrono::duration<double>(*done - t0).count();
    std::printf("streaming: %lld events stored in %.2f s = %.0f events/s\n", stream_rows, s,
                stream_rows / s);
    // The walsender started with this task: its CPU so far is this phase's.
    print_cpu("streaming", before, stream_rows, walsender_cpu(conn));
  }
  std::vector<double> lat;
  for (long long i = 0; i < samples; ++i) {
    const auto t0 = CdcClock::now();
    insert_range(conn, next + i, next + i);
    const auto done = wait(snapshot_rows + stream_rows + i + 1);
    if (!done) return 1;
    lat.push_back(std::chrono::duration<double, std::milli>(*done - t0).count());
  }
  std::sort(lat.begin(), lat.end());
  std::printf(
      "latency:   INSERT (autocommit) to stored in the broker p50 %.2f ms, p99 %.2f ms "
      "(%lld samples)\n",
      percentile(lat, 0.50), percentile(lat, 0.99), samples);
  return pipe->stop_task() ? 0 : 1;
}

int run(int argc, char** argv) {
  const long long snapshot_rows = arg(argc, argv, "--snapshot-rows", 200'000);
  const long long stream_rows = arg(argc, argv, "--stream-rows", 300'000);
  const long long samples = arg(argc, argv, "--latency-samples", 1000);
  const bool broker = flag(argc, argv, "--broker");
  set_log_level("warn");
  auto started = PostgresServer::start();
  if (!started.ok()) {
    std::fprintf(stderr, "PostgreSQL: %s\n", started.error().to_string().c_str());
    return 1;
  }
  auto& server = **started;
  const std::string info = "host=" + server.host() + " port=" + std::to_string(server.port()) +
                           " dbname=" + server.database() + " user=" + server.user() +
                           " password=" + server.password();
  PGconn* conn = PQconnectdb(info.c_str());
  if (PQstatus(conn) != CONNECTION_OK) return 1;
  // The test server runs with synchronous_commit=off, whose WAL reaches the disk (and logical
  // decoding) only every wal_writer_delay: commit like a production server instead.
  PQclear(PQexec(conn, "SET synchronous_commit = on"));
  PQclear(PQexec(conn,
                 "CREATE SCHEMA bench; CREATE TABLE bench.rows (id bigint PRIMARY KEY, name text, "
                 "email text, company text, amount numeric(12,2), born date, created "
                 "timestamptz, note text)"));
  for (long long i = 1; i <= snapshot_rows; i += 50'000) {
    insert_range(conn, i, std::min(snapshot_rows, i + 49'999));
  }
  PQclear(PQexec(conn, "VACUUM ANALYZE bench.rows"));
  PGresult* size = PQexec(conn, "SELECT avg(pg_column_size(r.*))::int FROM bench.rows r");
  std::printf("PostgreSQL CDC, 1 task, rows of %s B (pg_column_size)\n\n", PQgetvalue(size, 0, 0));
  PQclear(size);

  const KeyValue cfg = config(server);
  if (broker) {
    const int rc = run_into_broker(conn, cfg, snapshot_rows, stream_rows, samples,
                                   flag(argc, argv, "--schemas"));
    PQfinish(conn);
    return rc;
  }
  std::optional<RecordOffset> offset;
  {
    testing::FakeSourceContext ctx;
    pg::PostgresCdcTask task;
    task.init(ctx);
    const auto t0 = Clock::now();
    task.start(cfg);
    offset = drain(task, snapshot_rows);
    const double s = seconds_since(t0);
    std::printf("%-34s %10lld rows %8.2f s %12.0f rows/s\n", "snapshot (initial)", snapshot_rows, s,
                snapshot_rows / s);
    task.stop();
  }
  // The slot keeps what is inserted while no task runs.
  long long next = snapshot_rows + 1;
  for (long long done = 0; done < stream_rows; done += 1000) {
    insert_range(conn, next + done, next + done + std::min(1000LL, stream_rows - done) - 1);
  }
  next += stream_rows;
  testing::FakeSourceContext ctx;
  ctx.reader.offsets[RecordPartition{{"server", Value(std::string("bench"))}}] = *offset;
  pg::PostgresCdcTask task;
  task.init(ctx);
  {
    const auto before = thread_cpu(::getpid());
    const auto t0 = Clock::now();
    task.start(cfg);
    drain(task, stream_rows);
    const double s = seconds_since(t0);
    std::printf("%-34s %10lld evts %8.2f s %12.0f events/s\n", "streaming (slot backlog)",
                stream_rows, s, stream_rows / s);
    // Who was busy: the reader thread (new since `before`), poll()'s thread, the walsender.
    double reader = 0, poller = 0;
    for (const auto& [tid, cpu] : thread_cpu(::getpid())) {
      const auto it = before.find(tid);
      const double used = cpu.seconds - (it == before.end() ? 0.0 : it->second.seconds);
      if (tid == ::getpid()) {
        poller = used;
      } else if (it == before.end()) {
        reader = std::max(reader, used);
      }
    }
    PGresult* ws = PQexec(conn, "SELECT pid FROM pg_stat_replication LIMIT 1");
    double walsender = 0;
    if (PQntuples(ws) == 1) walsender = process_cpu(std::atol(PQgetvalue(ws, 0, 0)));
    PQclear(ws);
    std::printf("%-34s reader thread %.2f s, poll thread %.2f s, walsender %.2f s (of %.2f s)\n",
                "  CPU while streaming", reader, poller, walsender, s);
  }
  std::vector<double> lat;
  for (long long i = 0; i < samples; ++i) {
    const auto t0 = Clock::now();
    insert_range(conn, next + i, next + i);
    drain(task, 1);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) { return lat[static_cast<std::size_t>(p * (lat.size() - 1))]; };
  std::printf("%-34s %10lld rows   p50 %.2f ms   p99 %.2f ms\n", "commit -> poll latency", samples,
              pct(0.50), pct(0.99));
  task.stop();
  PQfinish(conn);
  return 0;
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  return rmqc::bench::run(argc, argv);
}
