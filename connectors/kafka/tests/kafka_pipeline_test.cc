// End to end, seed 001's two-way sync: kcat (Debian's Kafka client) produces into mock Kafka
// cluster A; KafkaSourceConnector copies it into the worker's embedded RocketMQ; the seed's
// RocketMQSinkConnector copies it on into mock Kafka cluster B, where kcat reads it. Keys, bodies
// and headers arrive intact; the connectors are created with seed 001's GET calls verbatim (only
// the bootstrap address is the mock cluster's); a kill -9 of the worker mid-stream loses nothing.
#include "integration/worker_harness.h"
#include "rocketmq/client/admin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>

namespace rmqc::itest {
namespace {

// rmqc-kafka-mock as a child: a mock cluster with the topic, until its stdin pipe closes.
class MockCluster {
 public:
  explicit MockCluster(const std::string& topic_spec) {
    const char* bin = std::getenv("RMQC_KAFKA_MOCK_BIN");
    if (bin == nullptr) return;
    int in[2];
    int out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], STDIN_FILENO);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(in[1]);
      ::close(out[0]);
      ::execl(bin, bin, "--topic", topic_spec.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    std::string line;
    char c;
    while (::read(out[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(out[0]);
    if (line.rfind("bootstrap: ", 0) == 0) bootstraps_ = line.substr(11);
  }
  ~MockCluster() {
    if (stdin_ >= 0) ::close(stdin_);
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& bootstraps() const { return bootstraps_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string bootstraps_;
};

// kcat -P: one message per line "key:value", every message with the headers given.
bool kcat_produce(const std::string& bootstraps, const std::string& topic,
                  const std::vector<std::pair<std::string, std::string>>& messages,
                  const std::vector<std::string>& headers) {
  std::string cmd = "kcat -P -q -b " + bootstraps + " -t " + topic + " -K:";
  for (const auto& h : headers) cmd += " -H " + h;
  FILE* pipe = ::popen(cmd.c_str(), "w");
  if (pipe == nullptr) return false;
  for (const auto& [k, v] : messages) std::fprintf(pipe, "%s:%s\n", k.c_str(), v.c_str());
  return ::pclose(pipe) == 0;
}

struct Seen {
  std::string key;
  std::string value;
  std::vector<std::string> headers;  // name, value, name, value...
};

// kcat -C -J from the beginning to the current end of every partition.
std::vector<Seen> kcat_consume(const std::string& bootstraps, const std::string& topic) {
  std::string cmd = "kcat -C -q -b " + bootstraps + " -t " + topic + " -o beginning -e -J";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  std::vector<Seen> out;
  if (pipe == nullptr) return out;
  std::string line;
  char buf[4096];
  while (std::fgets(buf, sizeof(buf), pipe) != nullptr) {
    line += buf;
    if (line.empty() || line.back() != '\n') continue;
    Json j = Json::parse(line, nullptr, false);
    line.clear();
    if (!j.is_object() || !j.contains("payload")) continue;
    Seen s;
    if (j["key"].is_string()) s.key = j["key"];
    if (j["payload"].is_string()) s.value = j["payload"];
    if (j.contains("headers")) {
      for (const auto& h : j["headers"])
        s.headers.push_back(h.is_string() ? h.get<std::string>() : "");
    }
    out.push_back(std::move(s));
  }
  ::pclose(pipe);
  return out;
}

std::vector<std::pair<std::string, std::string>> batch(const std::string& phase, int from, int to) {
  std::vector<std::pair<std::string, std::string>> out;
  for (int i = from; i < to; ++i) {
    out.emplace_back("key-" + phase + "-" + std::to_string(i),
                     "value-" + phase + "-" + std::to_string(i) + "-payload");
  }
  return out;
}

// value -> how often it arrived in B, for the values of one phase.
std::map<std::string, int> arrived(const std::vector<Seen>& seen, const std::string& phase) {
  std::map<std::string, int> out;
  for (const auto& s : seen) {
    if (s.value.rfind("value-" + phase + "-", 0) == 0) ++out[s.value];
  }
  return out;
}

TEST(KafkaPipelineTest, KcatThroughRocketMqAndBackSurvivesKill9) {
  ASSERT_EQ(std::system("kcat -V >/dev/null 2>&1"), 0) << "kcat is not installed";
  MockCluster a("kafkaconnect:2");
  MockCluster b("kafkaconnect:2");
  ASSERT_FALSE(a.bootstraps().empty()) << "rmqc-kafka-mock did not start (RMQC_KAFKA_MOCK_BIN)";
  ASSERT_FALSE(b.bootstraps().empty());

  TempDir dir("rmqc_kafka_pipeline");
  const std::string conf = dir / "worker.conf";
  write_file(conf, worker_conf(dir / "store"));
  auto w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, dir / "worker.log")) << w->error();

  // Seed 001's calls, verbatim but for the address of the mock clusters.
  const std::string sink_call =
      "/connectors/create/kafkaSink?config={\"rocketmq.topics\":\"kafkaconnect\",\"tasks.num\":"
      "\"2\",\"kafka.bootstrap.server\":\"" +
      b.bootstraps() +
      "\",\"connector-class\":\"org.apache.rocketmq.connect.rocketmq.connector."
      "RocketMQSinkConnector\"}";
  const std::string source_call =
      "/connectors/create/kafkaSource?config={\"tasks.num\":\"4\",\"kafka.topics\":"
      "\"kafkaconnect\",\"kafka.bootstrap.server\":\"" +
      a.bootstraps() +
      "\",\"connector-class\":\"org.apache.rocketmq.connect.kafka.connector."
      "KafkaSourceConnector\"}";
  // The sink's new group would start at the end of the topic as it is when its queues are
  // assigned: the topic is created and the group's offsets set to its start first, so every
  // message the source writes reaches Kafka B however long the assignment takes.
  {
    rocketmq::ClientConfig client;
    client.namesrv_addr = w->namesrv();
    auto admin = rocketmq::Admin::start(client);
    ASSERT_TRUE(admin.ok()) << admin.error().to_string();
    ASSERT_TRUE((*admin)->create_topic("kafkaconnect", 4).ok());
    std::vector<rocketmq::QueueOffsets> queues;
    ASSERT_TRUE(eventually([&] {
      auto status = (*admin)->topic_status("kafkaconnect");
      if (status.ok()) queues = *status;
      return queues.size() == 4;
    }));
    for (const auto& q : queues) {
      ASSERT_TRUE((*admin)->commit_offset("connect-kafkaSink", q.queue, 0).ok());
    }
  }
  auto created = w->get(sink_call);
  ASSERT_EQ(created.status, 200) << created.body;
  created = w->get(source_call);
  ASSERT_EQ(created.status, 200) << created.body;
  ASSERT_TRUE(eventually([&] { return w->all_in("kafkaSink", "RUNNING"); }, 30s))
      << w->status("kafkaSink").dump() << w->log_tail();
  ASSERT_TRUE(eventually([&] { return w->all_in("kafkaSource", "RUNNING"); }, 30s))
      << w->status("kafkaSource").dump() << w->log_tail();
  // Stored under the current keys: the legacy ones were renamed where the config entered.
  Json config = w->get("/connectors/kafkaSink/config").json();
  const std::string stored = config.dump();
  EXPECT_NE(stored.find("connect.topicnames"), std::string::npos) << stored;
  EXPECT_NE(stored.find("max.tasks"), std::string::npos) << stored;
  EXPECT_EQ(stored.find("connector-class"), std::string::npos) << stored;
  EXPECT_NE(read_text(dir / "worker.log").find("use connector.class"), std::string::npos);

  // Keys, bodies and headers intact.
  constexpr int kFirst = 300;
  ASSERT_TRUE(kcat_produce(a.bootstraps(), "kafkaconnect", batch("one", 0, kFirst),
                           {"origin=kcat", "trace-id=t-1"}));
  std::vector<Seen> seen;
  ASSERT_TRUE(eventually(
      [&] {
        seen = kcat_consume(b.bootstraps(), "kafkaconnect");
        return arrived(seen, "one").size() == kFirst;
      },
      60s, 500ms))
      << arrived(seen, "one").size() << " of " << kFirst << "\n"
      << w->log_tail();
  int checked = 0;
  for (const auto& s : seen) {
    if (s.value.rfind("value-one-", 0) != 0) continue;
    const std::string n = s.value.substr(10, s.value.find("-payload") - 10);
    EXPECT_EQ(s.key, "key-one-" + n);
    EXPECT_EQ(s.headers, (std::vector<std::string>{"origin", "kcat", "trace-id", "t-1"}));
    ++checked;
  }
  EXPECT_GE(checked, kFirst);

  // kill -9 mid-stream: kcat keeps producing in chunks while the worker is killed as soon as the
  // first messages of the phase reach Kafka B, and while it restarts.
  constexpr int kSecond = 3000;
  constexpr int kChunk = 100;
  std::atomic<bool> produced_ok{true};
  std::thread producer([&] {
    for (int from = 0; from < kSecond; from += kChunk) {
      if (!kcat_produce(a.bootstraps(), "kafkaconnect", batch("two", from, from + kChunk), {})) {
        produced_ok = false;
      }
      std::this_thread::sleep_for(100ms);
    }
  });
  const bool flowing = eventually(
      [&] { return !arrived(kcat_consume(b.bootstraps(), "kafkaconnect"), "two").empty(); }, 60s,
      50ms);
  const int status = w->kill9();
  const std::size_t at_kill = arrived(kcat_consume(b.bootstraps(), "kafkaconnect"), "two").size();
  if (!flowing) {
    producer.join();
    FAIL() << "phase two did not reach Kafka B\n" << read_text(dir / "worker.log");
  }
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, dir / "worker2.log")) << w->error();
  producer.join();
  ASSERT_TRUE(produced_ok);
  std::map<std::string, int> second;
  ASSERT_TRUE(eventually(
      [&] {
        second = arrived(kcat_consume(b.bootstraps(), "kafkaconnect"), "two");
        return second.size() == kSecond;
      },
      180s, 1s))
      << second.size() << " of " << kSecond << " after the restart\n"
      << read_text(dir / "worker2.log").substr(0, 6000);
  std::size_t duplicates = 0;
  for (const auto& [value, count] : second) duplicates += static_cast<std::size_t>(count - 1);
  // A message read before the kill can come at most three times: re-sent by the source
  // (acknowledged by RocketMQ, its offset not committed yet) and both copies re-written by the
  // sink (delivered to Kafka, the RocketMQ offset not committed yet). The messages read before
  // the kill are at most those produced by then, so 2 x kSecond bounds the duplicates.
  EXPECT_LE(duplicates, 2u * kSecond) << duplicates << " duplicates";
  // Where they come from: every message in the RocketMQ topic beyond the input is a source
  // re-send; the rest were re-written by the sink.
  std::int64_t in_topic = 0;
  {
    rocketmq::ClientConfig client;
    client.namesrv_addr = w->namesrv();
    auto admin = rocketmq::Admin::start(client);
    ASSERT_TRUE(admin.ok()) << admin.error().to_string();
    auto queues = (*admin)->topic_status("kafkaconnect");
    ASSERT_TRUE(queues.ok()) << queues.error().to_string();
    for (const auto& q : *queues) in_topic += q.max_offset;
  }
  const std::int64_t source_dups = in_topic - kFirst - kSecond;
  EXPECT_GE(source_dups, 0);
  std::printf(
      "kafka pipeline: %zu of %d second-phase messages out at kill -9; all arrived after "
      "the restart with %zu duplicates (%lld re-sent by the source, the rest re-written "
      "by the sink)\n",
      at_kill, kSecond, duplicates, static_cast<long long>(source_dups));
  EXPECT_EQ(w->stop(), 0);
}

}  // namespace
}  // namespace rmqc::itest
