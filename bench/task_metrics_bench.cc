// What the task metrics of GET /metrics cost on the record path (docs/operations.md): a relaxed
// counter add, a histogram observation, the whole per-batch instrumentation of a source poll()
// (two clock reads, a batch-time and a batch-size observation, the poll counter) and of a drain
// of acknowledgments (one add), with another thread scraping meanwhile or not. Compare with the
// pipeline's cost per record in bench/README.md (about 8 us per 100 B line end to end).
#include "runtime/task_metrics.h"

#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace rmqc::runtime {
namespace {

void BM_CounterAdd(benchmark::State& state) {
  TaskMetrics m;
  for (auto _ : state) add(m.source_record_poll, 1);
  benchmark::DoNotOptimize(read(m.source_record_poll));
}
BENCHMARK(BM_CounterAdd);

void BM_HistogramObserve(benchmark::State& state) {
  TaskMetrics m;
  std::uint64_t v = 0;
  for (auto _ : state) m.batch_size.observe(++v & 1023);
  benchmark::DoNotOptimize(m.batch_size.snapshot().count);
}
BENCHMARK(BM_HistogramObserve);

// Everything WorkerSourceTask adds around one poll() and its acknowledgments; Arg = records per
// batch, so the per-record share is the time divided by it.
void BM_PerBatchInstrumentation(benchmark::State& state) {
  TaskMetrics m;
  const auto batch = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    const auto started = std::chrono::steady_clock::now();
    m.batch_time.observe(std::chrono::steady_clock::now() - started);
    add(m.source_record_poll, batch);
    m.batch_size.observe(batch);
    add(m.source_record_write, batch);
  }
  state.counters["ns_per_record"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(batch),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PerBatchInstrumentation)->Arg(1)->Arg(128);

// The same with a scraper reading the counters in a loop on another thread (the worst case for
// the cache line the counters share; a real scrape comes every few seconds).
void BM_PerBatchInstrumentationWhileScraped(benchmark::State& state) {
  TaskMetrics m;
  ErrorMetrics e;
  std::atomic<bool> stop{false};
  std::thread scraper([&] {
    while (!stop.load(std::memory_order_relaxed)) benchmark::DoNotOptimize(snapshot_of(m, e));
  });
  const auto batch = static_cast<std::uint64_t>(state.range(0));
  for (auto _ : state) {
    const auto started = std::chrono::steady_clock::now();
    m.batch_time.observe(std::chrono::steady_clock::now() - started);
    add(m.source_record_poll, batch);
    m.batch_size.observe(batch);
    add(m.source_record_write, batch);
  }
  stop = true;
  scraper.join();
  state.counters["ns_per_record"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(batch),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PerBatchInstrumentationWhileScraped)->Arg(1)->Arg(128);

}  // namespace
}  // namespace rmqc::runtime

BENCHMARK_MAIN();
