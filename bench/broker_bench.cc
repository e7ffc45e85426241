// Producer -> broker -> consumer throughput over loopback against `rmq-connect broker` running as
// a child process (so its RSS is its own): single sends from 8 concurrent senders with p50/p99
// latency, batch sends, and pulls, at 100 B and 1 KB, plus the broker's idle and loaded RSS.
//
//   rmqc_bench_broker [path/to/rmq-connect] [--seconds N] [--flush sync|async]
//
// The clients are plain blocking remoting connections (one per thread), so the numbers are the
// broker's, not a client library's.
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <signal.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using namespace rmqc;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;

struct Broker {
  pid_t pid = -1;
  std::string addr;
};

Broker start_broker(const std::string& bin, const std::string& store, const std::string& flush) {
  int out[2];
  if (pipe(out) != 0) std::abort();
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    close(out[1]);
    execl(bin.c_str(), bin.c_str(), "--log-level", "warn", "broker", "--store", store.c_str(),
          "--namesrv-port", "0", "--broker-port", "0", "--flush", flush.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  auto at = line.find("broker=");
  if (at == std::string::npos) {
    std::fprintf(stderr, "broker did not start: %s\n", line.c_str());
    std::exit(1);
  }
  return Broker{pid, line.substr(at + 7)};
}

// key: "VmRSS:" (all resident), "RssAnon:" (heap), "RssFile:" (mapped store segments: page cache
// the kernel reclaims under pressure).
long rss_kib(pid_t pid, const std::string& which = "VmRSS:") {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == which) {
      long kib = 0;
      in >> kib;
      return kib;
    }
    std::getline(in, key);
  }
  return -1;
}

rocketmq::RemotingCommand send_command(const std::string& topic, int queue, const std::string& body,
                                       bool batch = false) {
  rocketmq::SendMessageRequestHeader h;
  h.producer_group = "bench";
  h.topic = topic;
  h.queue_id = queue;
  h.born_timestamp = 1;
  h.batch = batch;
  auto cmd = rocketmq::RemotingCommand::request(
      batch ? rc::SEND_BATCH_MESSAGE : rc::SEND_MESSAGE_V2, h.to_v2_ext_fields());
  cmd.body = body;
  return cmd;
}

struct PhaseResult {
  std::string name;
  double msgs_per_s = 0;
  double mb_per_s = 0;
  double p50_us = -1;
  double p99_us = -1;
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

void ensure_topic(const std::string& addr, const std::string& topic) {
  remoting::BlockingClient c;
  if (!c.connect(addr, 2s).ok()) std::exit(1);
  rocketmq::CreateTopicRequestHeader h;
  h.topic = topic;
  h.read_queue_nums = h.write_queue_nums = 8;
  auto r = c.invoke(
      rocketmq::RemotingCommand::request(rc::UPDATE_AND_CREATE_TOPIC, h.to_ext_fields()), 5s);
  if (!r.ok() || r->code != rsp::SUCCESS) std::exit(1);
}

PhaseResult single_sends(const std::string& addr, const std::string& topic, std::size_t size,
                         int senders, double seconds) {
  ensure_topic(addr, topic);
  std::string body(size, 'x');
  std::atomic<long> sent{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&, t] {
      remoting::BlockingClient c;
      if (!c.connect(addr, 2s).ok()) return;
      std::vector<double> mine;
      int i = 0;
      while (Clock::now() < deadline) {
        auto t0 = Clock::now();
        auto r = c.invoke(send_command(topic, (t + i++) % 8, body), 5s);
        if (!r.ok() || r->code != rsp::SUCCESS) break;
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      sent += static_cast<long>(mine.size());
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PhaseResult r;
  r.name = "send " + std::to_string(size) + " B, " + std::to_string(senders) + " senders";
  r.msgs_per_s = static_cast<double>(sent) / elapsed;
  r.mb_per_s = r.msgs_per_s * static_cast<double>(size) / 1e6;
  r.p50_us = percentile(latencies, 0.50);
  r.p99_us = percentile(latencies, 0.99);
  return r;
}

PhaseResult batch_sends(const std::string& addr, const std::string& topic, std::size_t size,
                        int batch, int senders, double seconds) {
  ensure_topic(addr, topic);
  std::vector<rocketmq::BatchMessageView> views(batch);
  std::string body(size, 'y');
  for (auto& v : views) v.body = body;
  std::string blob = *rocketmq::encode_batch_body(views);
  std::atomic<long> sent{0};
  auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&, t] {
      remoting::BlockingClient c;
      if (!c.connect(addr, 2s).ok()) return;
      int i = 0;
      while (Clock::now() < deadline) {
        auto r = c.invoke(send_command(topic, (t + i++) % 8, blob, true), 5s);
        if (!r.ok() || r->code != rsp::SUCCESS) break;
        sent += batch;
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PhaseResult r;
  r.name = "batch send " + std::to_string(size) + " B x" + std::to_string(batch) + ", " +
           std::to_string(senders) + " senders";
  r.msgs_per_s = static_cast<double>(sent) / elapsed;
  r.mb_per_s = r.msgs_per_s * static_cast<double>(size) / 1e6;
  return r;
}

// Reads every queue of the topic from 0 to its end; one thread per queue pair.
PhaseResult consume_all(const std::string& addr, const std::string& topic, std::size_t size) {
  std::atomic<long> got{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      remoting::BlockingClient c;
      if (!c.connect(addr, 2s).ok()) return;
      for (int q = t; q < 8; q += 2) {
        std::int64_t offset = 0;
        while (true) {
          rocketmq::PullMessageRequestHeader h;
          h.consumer_group = "bench";
          h.topic = topic;
          h.queue_id = q;
          h.queue_offset = offset;
          h.max_msg_nums = 32;
          h.sys_flag = rocketmq::pull_sysflag::FLAG_SUBSCRIPTION;
          h.subscription = "*";
          auto r =
              c.invoke(rocketmq::RemotingCommand::request(rc::PULL_MESSAGE, h.to_ext_fields()), 5s);
          if (!r.ok() || r->code != rsp::SUCCESS) break;
          rocketmq::StoredMessageReader reader(r->body);
          long n = 0;
          while (true) {
            auto m = reader.next();
            if (!m.ok() || !*m) break;
            ++n;
          }
          got += n;
          offset = std::stoll(*r->ext("nextBeginOffset"));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PhaseResult r;
  r.name = "pull " + std::to_string(size) + " B (" + std::to_string(got.load()) + " msgs)";
  r.msgs_per_s = static_cast<double>(got) / elapsed;
  r.mb_per_s = r.msgs_per_s * static_cast<double>(size) / 1e6;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = "build/release/src/app/rmq-connect";
  double seconds = 3;
  std::string flush = "async";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else if (a == "--flush" && i + 1 < argc) {
      flush = argv[++i];
    } else {
      bin = a;
    }
  }
  auto store = std::filesystem::temp_directory_path() / ("rmqc_bench_" + std::to_string(getpid()));
  std::filesystem::remove_all(store);
  Broker broker = start_broker(bin, store.string(), flush);
  std::this_thread::sleep_for(1s);
  long idle_rss = rss_kib(broker.pid);

  std::vector<PhaseResult> results;
  for (std::size_t size : {std::size_t{100}, std::size_t{1024}}) {
    std::string single = "bench-single-" + std::to_string(size);
    std::string batched = "bench-batch-" + std::to_string(size);
    results.push_back(single_sends(broker.addr, single, size, 8, seconds));
    results.push_back(batch_sends(broker.addr, batched, size, 64, 2, seconds));
    results.push_back(consume_all(broker.addr, batched, size));
  }
  long loaded_rss = rss_kib(broker.pid);
  long loaded_anon = rss_kib(broker.pid, "RssAnon:");
  long loaded_file = rss_kib(broker.pid, "RssFile:");
  kill(broker.pid, SIGTERM);
  int status = 0;
  waitpid(broker.pid, &status, 0);
  std::filesystem::remove_all(store);

  std::printf(
      "\nbroker benchmark (flush=%s, %g s per phase, loopback, client and broker on one host)\n\n",
      flush.c_str(), seconds);
  std::printf("| %-40s | %12s | %8s | %8s | %8s |\n", "phase", "msgs/s", "MB/s", "p50 us",
              "p99 us");
  std::printf("|%s|%s|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(14, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str());
  for (const auto& r : results) {
    std::printf("| %-40s | %12.0f | %8.1f | %8s | %8s |\n", r.name.c_str(), r.msgs_per_s,
                r.mb_per_s, r.p50_us < 0 ? "" : std::to_string(static_cast<long>(r.p50_us)).c_str(),
                r.p99_us < 0 ? "" : std::to_string(static_cast<long>(r.p99_us)).c_str());
  }
  std::printf(
      "\nbroker RSS: idle %.1f MiB; after the run %.1f MiB = %.1f MiB anonymous (heap) + %.1f MiB "
      "of mapped store files (page cache)\n",
      idle_rss / 1024.0, loaded_rss / 1024.0, loaded_anon / 1024.0, loaded_file / 1024.0);
  return 0;
}
