// Transactions against an in-process embedded broker over loopback, 1 KB bodies:
//
// * transactional send rate: send_in_transaction (half message + local transaction that
//   commits at once + END_TRANSACTION oneway) with 1 and 8 threads, next to plain sync sends
//   of the same producer;
// * check-back latency: transactions left unknown, the broker's check pass every
//   --transaction-check-interval (200 ms and 1 s here, timeout 0): how late the check listener
//   is called after the half became checkable (its born time + transactionTimeOut = 0), and
//   that every one of them was committed through its check-back answer.
//
//   rmqc_bench_transaction [transactions per send mode, default 20000]
#include "base/logging.h"
#include "broker/server/embedded_broker.h"
#include "rocketmq/client/transaction_producer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace rmqc;
using namespace rmqc::rocketmq;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

struct Broker {
  std::filesystem::path dir;
  std::unique_ptr<broker::EmbeddedBroker> broker;
};

Broker start_broker(std::chrono::milliseconds interval) {
  Broker b;
  b.dir = std::filesystem::temp_directory_path() /
          ("rmqc_bench_tx_" + std::to_string(::getpid()) + "_" + std::to_string(interval.count()));
  std::filesystem::remove_all(b.dir);
  broker::EmbeddedBrokerOptions o;
  o.store.dir = b.dir.string();
  o.namesrv_port = 0;
  o.broker_port = 0;
  o.vip_port = false;
  o.broker.transaction.check_interval = interval;
  o.broker.transaction.timeout = 0ms;
  auto started = broker::EmbeddedBroker::start(o);
  if (!started.ok()) {
    std::fprintf(stderr, "broker: %s\n", started.error().to_string().c_str());
    std::exit(1);
  }
  b.broker = std::move(started).value();
  (void)b.broker->broker().create_topic("TX", 8, 8);
  return b;
}

std::unique_ptr<TransactionProducer> make_producer(const std::string& namesrv,
                                                   TransactionCheckListener listener) {
  ProducerConfig pc;
  pc.client.namesrv_addr = namesrv;
  pc.client.serialize_type = SerializeType::ROCKETMQ;
  pc.group = "bench_tx";
  auto p = TransactionProducer::start(pc, std::move(listener));
  if (!p.ok()) {
    std::fprintf(stderr, "producer: %s\n", p.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(p).value();
}

void send_rate(int n) {
  auto b = start_broker(60s);
  auto tx = make_producer(b.broker->namesrv_addr(),
                          [](const MessageExt&) { return TransactionState::kCommit; });
  const std::string body(1024, 'x');
  auto run = [&](const char* what, int threads, bool transactional) {
    std::atomic<int> next{0}, errors{0};
    std::vector<double> lat;
    std::mutex lat_mu;
    auto t0 = Clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&] {
        std::vector<double> mine;
        while (next.fetch_add(1) < n) {
          auto s = Clock::now();
          bool ok = transactional ? tx->send_in_transaction(Message("TX", body),
                                                            [](const Message&, const SendResult&) {
                                                              return TransactionState::kCommit;
                                                            })
                                        .ok()
                                  : tx->producer().send(Message("TX", body)).ok();
          if (!ok) errors.fetch_add(1);
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        }
        std::lock_guard lock(lat_mu);
        lat.insert(lat.end(), mine.begin(), mine.end());
      });
    }
    for (auto& th : pool) th.join();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("| %-40s | %9.0f | %7.2f | %7.2f | %6d |\n", what, n / secs, percentile(lat, 0.5),
                percentile(lat, 0.99), errors.load());
    std::fflush(stdout);
  };
  std::printf("| mode (%d messages, 1 KB) | msgs/s | p50 ms | p99 ms | errors |\n", n);
  std::printf("|---|---:|---:|---:|---:|\n");
  run("plain sync send, 1 thread", 1, false);
  run("send_in_transaction (commit), 1 thread", 1, true);
  run("plain sync send, 8 threads", 8, false);
  run("send_in_transaction (commit), 8 threads", 8, true);
  auto stats = b.broker->broker().transactions().stats();
  std::printf("(broker: %lld committed)\n\n", static_cast<long long>(stats.committed));
  tx->shutdown();
  b.broker->stop();
  std::filesystem::remove_all(b.dir);
}

void check_latency(std::chrono::milliseconds interval, int n) {
  auto b = start_broker(interval);
  std::mutex mu;
  std::vector<double> lateness;  // listener call - born (timeout 0)
  auto tx = make_producer(b.broker->namesrv_addr(), [&](const MessageExt& m) {
    double late = static_cast<double>(wall_ms() - m.born_timestamp());
    std::lock_guard lock(mu);
    lateness.push_back(late);
    return TransactionState::kCommit;
  });
  const std::string body(1024, 'x');
  auto& service = b.broker->broker().transactions();
  // Spread the halves over a few intervals, as an application's unknown outcomes would be.
  const auto spread = interval * 3 / n;
  for (int i = 0; i < n; ++i) {
    auto r = tx->send_in_transaction(Message("TX", body), [](const Message&, const SendResult&) {
      return TransactionState::kUnknown;
    });
    if (!r.ok()) std::fprintf(stderr, "send: %s\n", r.error().to_string().c_str());
    std::this_thread::sleep_for(spread);
  }
  auto deadline = Clock::now() + interval * 5 + 10s;
  while (service.stats().committed < n && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  const auto committed = service.stats().committed;
  std::lock_guard lock(mu);
  std::printf("| %6lld ms | %5d | %5lld | %8.0f | %8.0f | %8.0f |\n",
              static_cast<long long>(interval.count()), n, static_cast<long long>(committed),
              percentile(lateness, 0.5), percentile(lateness, 0.99),
              lateness.empty() ? 0.0 : *std::max_element(lateness.begin(), lateness.end()));
  std::fflush(stdout);
  tx->shutdown();
  b.broker->stop();
  std::filesystem::remove_all(b.dir);
}

}  // namespace

int main(int argc, char** argv) {
  rmqc::set_log_level("warn");
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  send_rate(n);
  std::printf(
      "| check interval | unknown txs | committed by check-back | p50 late ms | p99 late ms | "
      "max ms |\n|---:|---:|---:|---:|---:|---:|\n");
  check_latency(200ms, 200);
  check_latency(1000ms, 200);
  return 0;
}
