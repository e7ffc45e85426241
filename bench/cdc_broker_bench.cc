// MySQL/MariaDB CDC into the embedded broker (issue 13, "Benchmark") through the worker's own
// source path: MysqlCdcTask (1 task) inside a WorkerSourceTask, the object the worker runs, with
// the JsonConverter for key and value (--schemas: Debezium's schema block in every body), no
// transforms, records batched per target queue, the worker's producer (binary headers) to the
// embedded broker in-process over loopback TCP, positions committed to a position store every
// second and at stop. A private MariaDB 10.11 (binlog_row_metadata=FULL), rows of about 600 B:
//   snapshot:  rows/s of the initial snapshot of --snapshot-rows, from the task's start to the
//              broker's acknowledgment (= stored) of the last row;
//   streaming: events/s of --stream-rows inserted (1000-row transactions) while no task ran, so
//              the binlog holds them; a new WorkerSourceTask starts at the position the first one
//              committed, timed from its start to the last acknowledgment;
//   latency:   from sending an autocommitted single-row INSERT to the broker's acknowledgment of
//              its message (the INSERT's commit included), p50 / p99 over --latency-samples;
//   CPU:       seconds (and microseconds per row) per thread group of this process (r: = the
//              connector's binlog reader, t: = the task thread, io: = the producer's I/O,
//              broker-io = the broker's) and of mariadbd, per phase;
//   ceiling:   the raw producer in the same run with bodies of the average size sent: async (512
//              in flight), and sync batches of 32 from 4 threads.
//
//   rmqc_bench_cdc_broker [--snapshot-rows N] [--stream-rows M] [--latency-samples K] [--schemas]

#include "cdc/mysql/binlog_reader.h"
#include "cdc/mysql/mysql_cdc_connector.h"
#include "cdc_bench_support.h"

#include <cinttypes>

namespace rmqc::bench {
namespace {

namespace cdc = rmqc::connectors::cdc;
using namespace std::chrono_literals;

int run(int argc, char** argv) {
  const long long snapshot_rows = arg(argc, argv, "--snapshot-rows", 200'000);
  const long long stream_rows = arg(argc, argv, "--stream-rows", 300'000);
  const long long samples = arg(argc, argv, "--latency-samples", 500);
  const bool schemas = flag(argc, argv, "--schemas");
  set_log_level("warn");

  auto pipe = WorkerPipeline::start("rmqc_cdc_broker_bench", schemas);
  if (!pipe) return 1;
  // The connector's topic for bench.rows, 8 queues (the broker's default for a new topic).
  if (auto r = pipe->create_topic("bench_bench_rows", 8); !r.ok()) {
    std::fprintf(stderr, "cannot create the topic: %s\n", r.error().to_string().c_str());
    return 1;
  }
  auto server = mysql_rows::start_with_rows(snapshot_rows);
  if (!server) return 1;
  MYSQL* m = mysql_rows::connect(*server);
  if (m == nullptr) return 1;
  const long server_pid = mysql_rows::server_pid(m);
  std::printf(
      "MySQL CDC, 1 task, WorkerSourceTask into the embedded broker (JsonConverter, "
      "schemas.enable=%s), load average %.2f\n",
      schemas ? "true" : "false", load_average());
  const KeyValue c = mysql_rows::config(*server);
  auto& acks = pipe->acks();

  auto wait = [&](long long target) -> std::optional<CdcClock::time_point> {
    auto at = acks.wait_acked(target, 600s);
    if (!at) std::fprintf(stderr, "timed out; task %s\n", pipe->task_state().c_str());
    return at;
  };

  {
    const CpuWindow cpu(server_pid);
    const auto t0 = CdcClock::now();
    pipe->start_task(std::make_unique<cdc::MysqlCdcTask>(), c);
    const auto done = wait(snapshot_rows);
    if (!done) return 1;
    const double s = std::chrono::duration<double>(*done - t0).count();
    std::printf("snapshot:  %lld rows stored in %.2f s = %.0f rows/s (%lld requests)\n",
                snapshot_rows, s, snapshot_rows / s, acks.requests());
    cpu.print("snapshot", snapshot_rows);
    if (!pipe->stop_task()) return 1;
  }

  mysql_rows::insert_in_transactions(*server, snapshot_rows + 1, snapshot_rows + stream_rows);
  {
    const long long requests = acks.requests();
    const CpuWindow cpu(server_pid);
    const auto t0 = CdcClock::now();
    pipe->start_task(std::make_unique<cdc::MysqlCdcTask>(), c);
    const auto done = wait(snapshot_rows + stream_rows);
    if (!done) return 1;
    const double s = std::chrono::duration<double>(*done - t0).count();
    std::printf("streaming: %lld events stored in %.2f s = %.0f events/s (%lld requests)\n",
                stream_rows, s, stream_rows / s, acks.requests() - requests);
    cpu.print("streaming", stream_rows);
  }

  std::vector<double> latencies;
  const long long base = snapshot_rows + stream_rows + 1;
  for (long long i = 0; i < samples; ++i) {
    const std::string sql = mysql_rows::insert_rows(base + i, base + i);
    const auto t0 = CdcClock::now();
    if (mysql_query(m, sql.c_str()) != 0) {
      std::fprintf(stderr, "insert: %s\n", mysql_error(m));
      return 1;
    }
    const auto done = wait(base + i);
    if (!done) return 1;
    latencies.push_back(std::chrono::duration<double, std::milli>(*done - t0).count());
  }
  mysql_close(m);
  std::sort(latencies.begin(), latencies.end());
  std::printf(
      "latency:   INSERT (autocommit) to stored in the broker p50 %.2f ms, p99 %.2f ms "
      "(%lld samples)\n",
      percentile(latencies, 0.50), percentile(latencies, 0.99), samples);
  if (!pipe->stop_task()) return 1;
  const std::size_t body =
      static_cast<std::size_t>(acks.body_bytes() / std::max<long long>(1, acks.acked()));

  // The ceiling: the same producer, bodies of the same size, nothing else running.
  const std::int64_t n = std::max<long long>(100'000, stream_rows);
  std::printf("ceiling, bodies of %zu B (the average above), load average %.2f:\n", body,
              load_average());
  const Rate async = raw_rocketmq_produce(pipe->producer(), "bench_raw_async", n, body);
  std::printf("  raw producer, async 512 in flight:      %.0f msgs/s\n", async.msgs_per_sec());
  const Rate batch =
      raw_rocketmq_batch_produce(pipe->producer(), "bench_raw_batch", n, body, 32, 4);
  std::printf("  raw producer, sync batches of 32 x 4:   %.0f msgs/s\n", batch.msgs_per_sec());
  return 0;
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  return rmqc::bench::run(argc, argv);
}
