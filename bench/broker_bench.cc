// Producer -> broker -> consumer throughput over loopback against `rmq-connect broker` running as
// a child process (so its RSS is its own): single sync sends from 8 concurrent senders with
// p50/p99 latency, async sends (8 in flight on one connection, as a producer's sendAsync keeps
// them) with p50/p99, batch sends, and pulls, at 100 B and 1 KB, plus the broker's idle and
// loaded RSS.
//
//   rmqc_bench_broker [path/to/rmq-connect] [--seconds N] [--flush sync|async]
//                     [--sizes 100,1024] [--phases sync,async,batch,pull] [--count N]
//                     [--broker HOST:PORT]
//
// --count N sends N messages per send phase (split over the senders) instead of running for a
// time: a fixed workload for instruction counts (valgrind) and syscall counts (strace) of the
// broker. --broker drives an already running broker (one started under a profiler) instead of
// starting one. Every message carries the properties a Java producer sets (UNIQ_KEY, WAIT).
//
// The clients are plain blocking remoting connections (one per thread), so the numbers are the
// broker's, not a client library's.
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"
#include "rocketmq/remoting/blocking_client.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>
#include <unordered_map>
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

// User + system CPU time the process used so far, in microseconds (-1 if unreadable).
double cpu_us(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {  // fields 14 and 15: utime, stime
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  return (utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
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

// What a Java producer puts on every message: a unique key (32 hex digits) and WAIT=true.
std::string producer_properties(long n) {
  char key[33];
  std::snprintf(key, sizeof key, "7F000001%08X%016lX", static_cast<unsigned>(getpid()),
                static_cast<unsigned long>(n));
  std::string p = "UNIQ_KEY";
  p += '\x01';
  p += key;
  p += '\x02';
  p += "WAIT";
  p += '\x01';
  p += "true";
  p += '\x02';
  return p;
}

std::atomic<long> g_message_number{0};

rocketmq::RemotingCommand send_command(const std::string& topic, int queue, const std::string& body,
                                       bool batch = false) {
  rocketmq::SendMessageRequestHeader h;
  h.producer_group = "bench";
  h.topic = topic;
  h.queue_id = queue;
  h.born_timestamp = 1;
  h.batch = batch;
  if (!batch) h.properties = producer_properties(g_message_number++);
  auto cmd = rocketmq::RemotingCommand::request(
      batch ? rc::SEND_BATCH_MESSAGE : rc::SEND_MESSAGE_V2, h.to_v2_ext_fields());
  cmd.body = body;
  return cmd;
}

struct PhaseResult {
  std::string name;
  double cpu_us_per_msg = -1;  // the broker's user+system CPU time per message of the phase
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

// Phase length: `seconds`, or `count` messages in all when count > 0.
struct Budget {
  double seconds = 3;
  long count = 0;
};

PhaseResult single_sends(const std::string& addr, const std::string& topic, std::size_t size,
                         int senders, Budget budget) {
  ensure_topic(addr, topic);
  std::string body(size, 'x');
  std::atomic<long> sent{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto deadline = Clock::now() + std::chrono::duration<double>(budget.seconds);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&, t] {
      remoting::BlockingClient c;
      if (!c.connect(addr, 2s).ok()) return;
      std::vector<double> mine;
      const long quota = budget.count / senders + (t < budget.count % senders ? 1 : 0);
      int i = 0;
      while (budget.count > 0 ? static_cast<long>(mine.size()) < quota : Clock::now() < deadline) {
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

// A raw connection for pipelined requests: frames written back to back, replies matched by
// opaque as they come (BlockingClient waits for one reply at a time).
class PipelinedConnection {
 public:
  ~PipelinedConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connect(const std::string& addr) {
    auto colon = addr.rfind(':');
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(addr.substr(0, colon).c_str(), addr.substr(colon + 1).c_str(), &hints,
                    &found) != 0) {
      return false;
    }
    for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
      int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
      if (fd < 0) continue;
      if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
      } else {
        ::close(fd);
      }
    }
    freeaddrinfo(found);
    return fd_ >= 0;
  }
  // Sends with a fresh opaque, returned.
  std::int32_t send(rocketmq::RemotingCommand cmd) {
    cmd.opaque = next_opaque_++;
    auto frame = rocketmq::encode_frame(cmd);
    if (!frame.ok()) return -1;
    std::string_view left = *frame;
    while (!left.empty()) {
      auto n = ::write(fd_, left.data(), left.size());
      if (n <= 0) return -1;
      left.remove_prefix(static_cast<std::size_t>(n));
    }
    return cmd.opaque;
  }
  // The next reply, or nullopt on a broken connection.
  std::optional<rocketmq::RemotingCommand> receive() {
    while (true) {
      auto next = decoder_.next();
      if (!next.ok()) return std::nullopt;
      if (next->has_value()) return std::move(**next);
      auto buf = decoder_.prepare(64 * 1024);
      auto n = ::read(fd_, buf.data(), buf.size());
      decoder_.commit(n > 0 ? static_cast<std::size_t>(n) : 0);
      if (n <= 0) return std::nullopt;
    }
  }

 private:
  int fd_ = -1;
  std::int32_t next_opaque_ = 1;
  rocketmq::FrameDecoder decoder_;
};

// Async sends as a producer's sendAsync makes them: `depth` requests in flight on each of
// `connections` connections, a new one sent as each reply arrives; latency = send to reply.
PhaseResult async_sends(const std::string& addr, const std::string& topic, std::size_t size,
                        int connections, int depth, Budget budget) {
  ensure_topic(addr, topic);
  std::string body(size, 'z');
  std::atomic<long> sent{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto deadline = Clock::now() + std::chrono::duration<double>(budget.seconds);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      PipelinedConnection c;
      if (!c.connect(addr)) return;
      std::unordered_map<std::int32_t, Clock::time_point> pending;
      std::vector<double> mine;
      const long quota = budget.count / connections + (t < budget.count % connections ? 1 : 0);
      long issued = 0;
      int i = 0;
      auto more = [&] { return budget.count > 0 ? issued < quota : Clock::now() < deadline; };
      bool ok = true;
      while (ok && (more() || !pending.empty())) {
        while (ok && static_cast<int>(pending.size()) < depth && more()) {
          auto t0 = Clock::now();
          auto opaque = c.send(send_command(topic, (t + i++) % 8, body));
          ok = opaque >= 0;
          pending.emplace(opaque, t0);
          ++issued;
        }
        if (!ok) break;
        auto reply = c.receive();
        if (!reply || reply->code != rsp::SUCCESS) break;
        auto it = pending.find(reply->opaque);
        if (it == pending.end()) break;
        mine.push_back(
            std::chrono::duration<double, std::micro>(Clock::now() - it->second).count());
        pending.erase(it);
      }
      sent += static_cast<long>(mine.size());
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PhaseResult r;
  r.name = "async send " + std::to_string(size) + " B, " + std::to_string(depth) + " in flight x" +
           std::to_string(connections);
  r.msgs_per_s = static_cast<double>(sent) / elapsed;
  r.mb_per_s = r.msgs_per_s * static_cast<double>(size) / 1e6;
  r.p50_us = percentile(latencies, 0.50);
  r.p99_us = percentile(latencies, 0.99);
  return r;
}

PhaseResult batch_sends(const std::string& addr, const std::string& topic, std::size_t size,
                        int batch, int senders, Budget budget) {
  ensure_topic(addr, topic);
  std::vector<rocketmq::BatchMessageView> views(batch);
  std::vector<std::string> props(batch);
  std::string body(size, 'y');
  for (int i = 0; i < batch; ++i) {
    props[i] = producer_properties(g_message_number++);
    props[i].pop_back();  // a batch entry's properties end without a separator
    views[i].body = body;
    views[i].properties = props[i];
  }
  std::string blob = *rocketmq::encode_batch_body(views);
  std::atomic<long> sent{0};
  std::mutex mu;
  std::vector<double> latencies;
  auto deadline = Clock::now() + std::chrono::duration<double>(budget.seconds);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  const long batches = (budget.count + batch - 1) / batch;
  for (int t = 0; t < senders; ++t) {
    threads.emplace_back([&, t] {
      remoting::BlockingClient c;
      if (!c.connect(addr, 2s).ok()) return;
      std::vector<double> mine;
      const long quota = batches / senders + (t < batches % senders ? 1 : 0);
      int i = 0;
      while (budget.count > 0 ? static_cast<long>(mine.size()) < quota : Clock::now() < deadline) {
        auto t0 = Clock::now();
        auto r = c.invoke(send_command(topic, (t + i++) % 8, blob, true), 5s);
        if (!r.ok() || r->code != rsp::SUCCESS) break;
        mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        sent += batch;
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  PhaseResult r;
  r.name = "batch send " + std::to_string(size) + " B x" + std::to_string(batch) + ", " +
           std::to_string(senders) + " senders";
  r.msgs_per_s = static_cast<double>(sent) / elapsed;
  r.mb_per_s = r.msgs_per_s * static_cast<double>(size) / 1e6;
  r.p50_us = percentile(latencies, 0.50);
  r.p99_us = percentile(latencies, 0.99);
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

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t from = 0;
  while (from <= text.size()) {
    auto comma = text.find(',', from);
    if (comma == std::string::npos) comma = text.size();
    if (comma > from) out.push_back(text.substr(from, comma - from));
    from = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = "build/release/src/app/rmq-connect";
  Budget budget;
  std::string flush = "async";
  std::string attach;
  std::vector<std::string> sizes = {"100", "1024"};
  std::vector<std::string> phases = {"sync", "async", "batch", "pull"};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      budget.seconds = std::atof(argv[++i]);
    } else if (a == "--count" && i + 1 < argc) {
      budget.count = std::atol(argv[++i]);
    } else if (a == "--flush" && i + 1 < argc) {
      flush = argv[++i];
    } else if (a == "--sizes" && i + 1 < argc) {
      sizes = split(argv[++i]);
    } else if (a == "--phases" && i + 1 < argc) {
      phases = split(argv[++i]);
    } else if (a == "--broker" && i + 1 < argc) {
      attach = argv[++i];
    } else {
      bin = a;
    }
  }
  auto wanted = [&](const char* phase) {
    return std::find(phases.begin(), phases.end(), phase) != phases.end();
  };
  auto store = std::filesystem::temp_directory_path() / ("rmqc_bench_" + std::to_string(getpid()));
  Broker broker;
  long idle_rss = -1;
  if (attach.empty()) {
    std::filesystem::remove_all(store);
    broker = start_broker(bin, store.string(), flush);
    std::this_thread::sleep_for(1s);
    idle_rss = rss_kib(broker.pid);
  } else {
    broker.addr = attach;
  }

  std::vector<PhaseResult> results;
  for (const auto& size_text : sizes) {
    const auto size = static_cast<std::size_t>(std::stoul(size_text));
    std::string single = "bench-single-" + size_text;
    std::string async = "bench-async-" + size_text;
    std::string batched = "bench-batch-" + size_text;
    // The broker's CPU time per message of a send phase (when this bench started it).
    auto measured = [&](auto phase) {
      const double before = attach.empty() ? cpu_us(broker.pid) : -1;
      const auto start = Clock::now();
      PhaseResult r = phase();
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      if (before >= 0 && r.msgs_per_s > 0) {
        r.cpu_us_per_msg = (cpu_us(broker.pid) - before) / (r.msgs_per_s * elapsed);
      }
      results.push_back(r);
    };
    if (wanted("sync"))
      measured([&] { return single_sends(broker.addr, single, size, 8, budget); });
    if (wanted("async"))
      measured([&] { return async_sends(broker.addr, async, size, 1, 8, budget); });
    if (wanted("batch")) {
      measured([&] { return batch_sends(broker.addr, batched, size, 64, 2, budget); });
    }
    if (wanted("pull") && wanted("batch"))
      results.push_back(consume_all(broker.addr, batched, size));
  }
  long loaded_rss = -1, loaded_anon = -1, loaded_file = -1;
  if (attach.empty()) {
    loaded_rss = rss_kib(broker.pid);
    loaded_anon = rss_kib(broker.pid, "RssAnon:");
    loaded_file = rss_kib(broker.pid, "RssFile:");
    kill(broker.pid, SIGTERM);
    int status = 0;
    waitpid(broker.pid, &status, 0);
    std::filesystem::remove_all(store);
  }

  std::printf(
      "\nbroker benchmark (flush=%s, %s per phase, loopback, client and broker on one host)\n\n",
      flush.c_str(),
      budget.count > 0 ? (std::to_string(budget.count) + " msgs").c_str()
                       : (std::to_string(budget.seconds) + " s").c_str());
  std::printf("| %-40s | %12s | %8s | %8s | %8s | %14s |\n", "phase", "msgs/s", "MB/s", "p50 us",
              "p99 us", "broker CPU us/msg");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(42, '-').c_str(), std::string(14, '-').c_str(),
              std::string(10, '-').c_str(), std::string(10, '-').c_str(),
              std::string(10, '-').c_str(), std::string(16, '-').c_str());
  for (const auto& r : results) {
    char cpu[32] = "";
    if (r.cpu_us_per_msg >= 0) std::snprintf(cpu, sizeof cpu, "%.2f", r.cpu_us_per_msg);
    std::printf("| %-40s | %12.0f | %8.1f | %8s | %8s | %14s |\n", r.name.c_str(), r.msgs_per_s,
                r.mb_per_s, r.p50_us < 0 ? "" : std::to_string(static_cast<long>(r.p50_us)).c_str(),
                r.p99_us < 0 ? "" : std::to_string(static_cast<long>(r.p99_us)).c_str(), cpu);
  }
  if (attach.empty()) {
    std::printf(
        "\nbroker RSS: idle %.1f MiB; after the run %.1f MiB = %.1f MiB anonymous (heap) + %.1f "
        "MiB of mapped store files (page cache)\n",
        idle_rss / 1024.0, loaded_rss / 1024.0, loaded_anon / 1024.0, loaded_file / 1024.0);
  }
  return 0;
}
