#include "rocketmq/client/throughput.h"

#include "base/thread_name.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace rmqc::rocketmq {
namespace {

using Clock = std::chrono::steady_clock;

double micros_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

void percentiles(std::vector<double>& us, ThroughputResult& r) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  r.p50_ms = us[us.size() / 2] / 1000.0;
  r.p99_ms = us[std::min(us.size() - 1, us.size() * 99 / 100)] / 1000.0;
}

std::string payload(std::size_t size) {
  std::string body(size, 'x');
  for (std::size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + (i * 7) % 26);
  return body;
}

}  // namespace

std::string ThroughputResult::summary() const {
  return fmt::format(
      "msgs/s {:.0f}  MB/s {:.1f}  p50 {:.2f} ms  p99 {:.2f} ms  messages {}  errors {}",
      msgs_per_sec(), mb_per_sec(), p50_ms, p99_ms, messages, errors);
}

ThroughputResult run_produce(Producer& producer, const ThroughputOptions& o) {
  ThroughputResult result;
  const std::string body = payload(o.size);
  const int threads = std::max(1, o.concurrency);
  std::atomic<std::int64_t> sent{0}, errors{0};
  std::vector<double> latencies;
  std::mutex lat_mutex;
  const auto start = Clock::now();

  if (o.mode == ProduceMode::kAsync) {
    std::mutex m;
    std::condition_variable cv;
    std::int64_t in_flight = 0;
    std::int64_t done = 0;
    latencies.reserve(static_cast<std::size_t>(o.count));
    for (std::int64_t i = 0; i < o.count; ++i) {
      {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return in_flight < threads; });
        ++in_flight;
      }
      auto t0 = Clock::now();
      producer.send_async(Message(o.topic, body), [&, t0](Result<SendResult> r) {
        double us = micros_since(t0);
        std::lock_guard lock(m);
        if (r.ok()) {
          latencies.push_back(us);
        } else {
          errors++;
        }
        --in_flight;
        ++done;
        cv.notify_all();
      });
    }
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done == o.count; });
    sent = o.count - errors.load();
  } else {
    std::vector<std::thread> workers;
    std::atomic<std::int64_t> next{0};
    const std::int64_t step =
        o.mode == ProduceMode::kBatch
            ? std::max<std::int64_t>(1, static_cast<std::int64_t>(o.batch_size))
            : 1;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        set_thread_name("tput-" + std::to_string(t));
        std::vector<double> local;
        std::vector<Message> batch;
        while (true) {
          std::int64_t first = next.fetch_add(step);
          if (first >= o.count) break;
          std::int64_t n = std::min(step, o.count - first);
          auto t0 = Clock::now();
          bool ok;
          if (o.mode == ProduceMode::kBatch) {
            batch.assign(static_cast<std::size_t>(n), Message(o.topic, body));
            ok = producer.send_batch(batch).ok();
          } else {
            ok = producer.send(Message(o.topic, body)).ok();
          }
          local.push_back(micros_since(t0));
          (ok ? sent : errors) += n;
        }
        std::lock_guard lock(lat_mutex);
        latencies.insert(latencies.end(), local.begin(), local.end());
      });
    }
    for (auto& w : workers) w.join();
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.messages = sent.load();
  result.errors = errors.load();
  result.bytes = result.messages * static_cast<std::int64_t>(o.size);
  percentiles(latencies, result);
  return result;
}

ThroughputResult run_consume(LitePullConsumer& consumer, const ThroughputOptions& o) {
  ThroughputResult result;
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(std::max<std::int64_t>(0, o.count)));
  const auto start = Clock::now();
  auto last_message = start;
  auto end = start;
  while (result.messages < o.count) {
    auto got = consumer.poll(std::chrono::milliseconds(100));
    if (!got.ok()) {
      ++result.errors;
      break;
    }
    const auto now = Clock::now();
    if (got->empty()) {
      if (now - last_message > o.idle_timeout) break;
      continue;
    }
    last_message = end = now;
    const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    for (const auto& m : *got) {
      ++result.messages;
      result.bytes += static_cast<std::int64_t>(m.body().size());
      latencies.push_back(static_cast<double>(wall_ms - m.store_timestamp()) * 1000.0);
    }
  }
  result.seconds = std::chrono::duration<double>(end - start).count();
  percentiles(latencies, result);
  return result;
}

}  // namespace rmqc::rocketmq
