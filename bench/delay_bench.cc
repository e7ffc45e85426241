// Delayed-message delivery precision of the embedded broker (issue 16, "Performance"): how late
// a DELAY=n message reaches a consumer after its level's delay.
//
// In-process embedded broker with levels "1s 2s 5s" (--message-delay-level syntax); for each
// level, N messages (1 KB, body starts with the send time) are sent over about 2 s with
// DELAY=level from one thread while a lite pull consumer (long polling) receives them from the
// real topic on another.
// lateness = receive time - (send time + the level's delay); p50 / p99 / max per level. Early
// arrivals (negative lateness) would be a bug and are counted.
//
//   rmqc_bench_delay [--count N]

#include "bench_support.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstring>
#include <thread>
#include <vector>

namespace rmqc::bench {
namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int run(int argc, char** argv) {
  std::int64_t count = 2000;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--count") == 0) count = std::atoll(argv[i + 1]);
  }
  const std::int64_t delays_ms[] = {1000, 2000, 5000};

  auto dir =
      std::filesystem::temp_directory_path() / ("rmqc_delay_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  broker::EmbeddedBrokerOptions o;
  o.store.dir = dir.string();
  o.namesrv_port = 0;
  o.broker_port = 0;
  o.vip_port = false;
  o.broker.message_delay_level = "1s 2s 5s";
  auto started = broker::EmbeddedBroker::start(o);
  if (!started.ok()) {
    std::fprintf(stderr, "broker: %s\n", started.error().to_string().c_str());
    return 1;
  }
  auto broker = std::move(started).value();

  rocketmq::ProducerConfig pc;
  pc.client.namesrv_addr = broker->namesrv_addr();
  pc.group = "bench_delay_producer";
  auto producer = rocketmq::Producer::start(pc);
  auto admin = rocketmq::Admin::start(pc.client);
  if (!producer.ok() || !admin.ok() || !(*admin)->create_topic("bench_delay", 4).ok()) {
    std::fprintf(stderr, "cannot start the producer or create the topic\n");
    return 1;
  }
  rocketmq::ConsumerConfig cc;
  cc.client.namesrv_addr = broker->namesrv_addr();
  cc.group = "bench_delay_consumer";
  cc.consume_from = rocketmq::ConsumeFromWhere::kFirstOffset;
  auto consumer = rocketmq::LitePullConsumer::start(cc);
  if (!consumer.ok() || !(*consumer)->subscribe("bench_delay").ok()) {
    std::fprintf(stderr, "cannot start the consumer\n");
    return 1;
  }

  // Measure delivery, not the consumer's start: wait for its queues first.
  const auto warm = Clock::now() + std::chrono::seconds(30);
  while ((*consumer)->assignment().size() < 4 && Clock::now() < warm) {
    (void)(*consumer)->poll(std::chrono::milliseconds(100));
  }
  std::printf("Delayed delivery, embedded broker, %lld messages of 1 KB per level over ~2 s\n\n",
              static_cast<long long>(count));
  std::printf("| level | delay | received | early | p50 late | p99 late | max late |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int level = 1; level <= 3; ++level) {
    const std::int64_t delay = delays_ms[level - 1];
    const auto gap = std::chrono::microseconds(2'000'000 / count);
    // Sent from another thread while this one receives: a message is timed when it arrives.
    std::atomic<bool> send_failed{false};
    std::thread sender([&] {
      for (std::int64_t i = 0; i < count; ++i) {
        std::string body = std::to_string(now_ms()) + ";";
        body.resize(1024, 'x');
        rocketmq::Message m("bench_delay", std::move(body));
        m.delay_level = level;
        if (auto r = (*producer)->send(m); !r.ok()) {
          std::fprintf(stderr, "send: %s\n", r.error().to_string().c_str());
          send_failed = true;
          return;
        }
        std::this_thread::sleep_for(gap);
      }
    });
    std::vector<double> late;
    std::int64_t early = 0;
    const auto deadline =
        Clock::now() + std::chrono::milliseconds(delay) + std::chrono::seconds(30);
    while (static_cast<std::int64_t>(late.size()) < count && Clock::now() < deadline) {
      auto got = (*consumer)->poll(std::chrono::milliseconds(500));
      if (!got.ok()) continue;
      const std::int64_t received = now_ms();
      for (const auto& m : *got) {
        std::int64_t sent = 0;
        auto body = m.body();
        std::from_chars(body.data(), body.data() + body.size(), sent);
        const std::int64_t l = received - (sent + delay);
        if (l < 0) ++early;
        late.push_back(static_cast<double>(l));
      }
    }
    sender.join();
    if (send_failed) return 1;
    std::sort(late.begin(), late.end());
    auto pct = [&](double p) {
      return late.empty()
                 ? 0.0
                 : late[std::min(late.size() - 1, static_cast<std::size_t>(p * late.size()))];
    };
    std::printf("| %d | %lld ms | %zu | %lld | %.0f ms | %.0f ms | %.0f ms |\n", level,
                static_cast<long long>(delay), late.size(), static_cast<long long>(early), pct(0.5),
                pct(0.99), late.empty() ? 0.0 : late.back());
    std::fflush(stdout);
  }
  (*consumer)->shutdown();
  (*producer)->shutdown();
  broker->stop();
  broker.reset();
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace rmqc::bench

int main(int argc, char** argv) {
  return rmqc::bench::run(argc, argv);
}
