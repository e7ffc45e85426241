// rmqc-kafka-mock: serves librdkafka's mock Kafka cluster on loopback for tests and benchmarks.
//
//   rmqc-kafka-mock [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints "bootstrap: host:port,..." on stdout once the brokers listen, then serves until
// SIGTERM/SIGINT or, when stdin is a pipe, until it closes (the parent is gone). Lines on that
// pipe control the brokers: "down <id>" disconnects broker <id> (1..N) and refuses connections,
// "up <id>" lets them in again; each is answered with "ok" on stdout.

#include "mock_cluster.h"

#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <poll.h>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {
volatile std::sig_atomic_t stop_requested = 0;
void on_signal(int) {
  stop_requested = 1;
}
}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--topic" && i + 1 < argc) {
      std::string t = argv[++i];
      auto colon = t.rfind(':');
      if (colon == std::string::npos) {
        topics.emplace_back(t, 1);
      } else {
        topics.emplace_back(t.substr(0, colon), std::atoi(t.c_str() + colon + 1));
      }
    } else {
      std::fprintf(stderr, "usage: %s [--brokers N] [--topic NAME:PARTITIONS]...\n", argv[0]);
      return 2;
    }
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  rmqc::connectors::kafka::testing::MockKafkaCluster cluster(brokers);
  for (const auto& [name, partitions] : topics) cluster.create_topic(name, partitions);
  std::printf("bootstrap: %s\n", cluster.bootstraps().c_str());
  std::fflush(stdout);
  struct stat in {};
  const bool watch_stdin = ::fstat(STDIN_FILENO, &in) == 0 && S_ISFIFO(in.st_mode);
  std::string pending;
  while (!stop_requested) {
    pollfd p{watch_stdin ? STDIN_FILENO : -1, POLLIN, 0};
    int n = ::poll(&p, 1, 200);
    if (n > 0) {
      char buf[256];
      const ssize_t got = ::read(STDIN_FILENO, buf, sizeof(buf));
      if (got <= 0) break;  // stdin closed: the parent is gone
      pending.append(buf, static_cast<std::size_t>(got));
      for (auto eol = pending.find('\n'); eol != std::string::npos; eol = pending.find('\n')) {
        const std::string line = pending.substr(0, eol);
        pending.erase(0, eol + 1);
        const int id = line.size() > 3 ? std::atoi(line.c_str() + line.find(' ') + 1) : 0;
        if (line.rfind("down ", 0) == 0 && id >= 1 && id <= brokers) {
          cluster.set_down(id);
        } else if (line.rfind("up ", 0) == 0 && id >= 1 && id <= brokers) {
          cluster.set_up(id);
        } else {
          std::printf("unknown command: %s\n", line.c_str());
          std::fflush(stdout);
          continue;
        }
        std::printf("ok\n");
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
