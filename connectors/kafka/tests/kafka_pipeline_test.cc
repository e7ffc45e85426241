// End to end, seed 001's two-way sync: kcat (Debian's Kafka client) produces into mock Kafka
// cluster A; KafkaSourceConnector copies it into the worker's embedded RocketMQ; the seed's
// RocketMQSinkConnector copies it on into mock Kafka cluster B, where kcat reads it. Keys, bodies
// and headers arrive intact; the connectors are created with seed 001's GET calls verbatim (only
// the bootstrap address is the mock cluster's); a kill -9 of the worker mid-stream loses nothing.
#include "integration/worker_harness.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace rmqc::itest {
namespace {

constexpr const char* kSinkGroup = "connector-consumer-group-kafkaSink";

// rmqc-kafka-mock as a child: a mock cluster with the topics, until its stdin pipe closes.
class MockCluster {
 public:
  explicit MockCluster(const std::vector<std::string>& topic_specs) {
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
      std::vector<char*> args{const_cast<char*>(bin)};
      for (const auto& spec : topic_specs) {
        args.push_back(const_cast<char*>("--topic"));
        args.push_back(const_cast<char*>(spec.c_str()));
      }
      args.push_back(nullptr);
      ::execv(bin, args.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    const std::string line = read_line();
    if (line.rfind("bootstrap: ", 0) == 0) bootstraps_ = line.substr(11);
  }
  ~MockCluster() {
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  const std::string& bootstraps() const { return bootstraps_; }
  // "down 1" / "up 1": broker 1 refuses connections / takes them again; true once done.
  bool command(const std::string& line) {
    const std::string text = line + "\n";
    if (::write(stdin_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      return false;
    }
    return read_line() == "ok";
  }

 private:
  std::string read_line() {
    std::string line;
    char c;
    while (::read(stdout_, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
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
  MockCluster a({"kafkaconnect:2"});
  MockCluster b({"kafkaconnect:2"});
  ASSERT_FALSE(a.bootstraps().empty()) << "rmqc-kafka-mock did not start (RMQC_KAFKA_MOCK_BIN)";
  ASSERT_FALSE(b.bootstraps().empty());

  TempDir dir("rmqc_kafka_pipeline");
  const std::string conf = dir / "worker.conf";
  write_file(conf, worker_conf(dir / "store"));
  auto w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, dir / "worker.log")) << w->error();

  // Seed 001's calls, verbatim but for the address of the mock clusters and the source's Kafka
  // session timeout: after the kill -9 below the dead worker's consumers stay members of the
  // source's group until their session expires (librdkafka's default is 45 s), and the restarted
  // worker's consumers get no partition before that.
  const std::string sink_call =
      "/connectors/create/kafkaSink?config={\"rocketmq.topics\":\"kafkaconnect\",\"tasks.num\":"
      "\"2\",\"kafka.bootstrap.server\":\"" +
      b.bootstraps() +
      "\",\"connector-class\":\"org.apache.rocketmq.connect.rocketmq.connector."
      "RocketMQSinkConnector\"}";
  const std::string source_call =
      "/connectors/create/kafkaSource?config={\"tasks.num\":\"4\",\"kafka.topics\":"
      "\"kafkaconnect\",\"kafka.session.timeout.ms\":\"6000\",\"kafka.bootstrap.server\":\"" +
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
    // Seed 001's group of the sink: connector-consumer-group-<connector name>.
    for (const auto& q : queues) {
      ASSERT_TRUE((*admin)->commit_offset(kSinkGroup, q.queue, 0).ok());
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
  EXPECT_NE(stored.find("\"task.group.id\":\"" + std::string(kSinkGroup) + "\""), std::string::npos)
      << stored;
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
  // On the broker: the sink's consumers are members of the seed's group, and the group's
  // committed offsets cover what arrived in Kafka B.
  {
    rocketmq::ClientConfig client;
    client.namesrv_addr = w->namesrv();
    auto admin = rocketmq::Admin::start(client);
    ASSERT_TRUE(admin.ok()) << admin.error().to_string();
    auto members = (*admin)->consumer_ids(kSinkGroup);
    ASSERT_TRUE(members.ok()) << members.error().to_string();
    EXPECT_EQ(members->size(), 2u);  // tasks.num 2
    std::int64_t committed = 0;
    ASSERT_TRUE(eventually(
        [&] {
          auto queues = (*admin)->topic_status("kafkaconnect");
          if (!queues.ok()) return false;
          committed = 0;
          for (const auto& q : *queues) {
            auto c = (*admin)->committed_offset(kSinkGroup, q.queue);
            if (c.ok() && *c > 0) committed += *c;
          }
          return committed >= kFirst;
        },
        60s, 200ms))
        << committed << " committed under " << kSinkGroup;
  }

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

// Kafka down: the tasks stay RUNNING and retry; their status says why until Kafka is back, and
// nothing is lost.
TEST(KafkaPipelineTest, StatusSaysWhyWhileKafkaIsDown) {
  MockCluster k({"status-in:1", "status-out:1"});
  ASSERT_FALSE(k.bootstraps().empty()) << "rmqc-kafka-mock did not start (RMQC_KAFKA_MOCK_BIN)";
  TempDir dir("rmqc_kafka_status");
  const std::string conf = dir / "worker.conf";
  write_file(conf, worker_conf(dir / "store", "offsetCommitIntervalMsConfig=1000\n"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(conf, {}, dir / "worker.log")) << w.error();
  rocketmq::ClientConfig client;
  client.namesrv_addr = w.namesrv();
  auto admin = rocketmq::Admin::start(client);
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  ASSERT_TRUE((*admin)->create_topic("status-rmq", 1).ok());
  ASSERT_TRUE(eventually([&] {
    auto status = (*admin)->topic_status("status-rmq");
    return status.ok() && status->size() == 1;
  }));
  auto created =
      w.post("/connectors/kafkaStatusSource", Json{{"connector.class", "KafkaSourceConnector"},
                                                   {"kafka.topics", "status-in"},
                                                   {"kafka.bootstrap.server", k.bootstraps()}}
                                                  .dump());
  ASSERT_EQ(created.status, 200) << created.body;
  created = w.post("/connectors/kafkaStatusSink",
                   Json{{"connector.class", "KafkaSinkConnector"},
                        {"connect.topicnames", "status-rmq"},
                        {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
                        {"kafka.topic", "status-out"},
                        {"kafka.bootstrap.server", k.bootstraps()}}
                       .dump());
  ASSERT_EQ(created.status, 200) << created.body;

  rocketmq::ProducerConfig pc;
  pc.client = client;
  pc.group = "status-producer";
  auto producer = rocketmq::Producer::start(pc);
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  auto send = [&](const std::string& body) {
    return (*producer)->send(rocketmq::Message("status-rmq", body)).ok();
  };
  // Flowing first: one message through the sink.
  ASSERT_TRUE(send("before"));
  ASSERT_TRUE(eventually([&] { return kcat_consume(k.bootstraps(), "status-out").size() == 1; },
                         60s, 200ms))
      << w.log_tail();
  for (const char* name : {"kafkaStatusSource", "kafkaStatusSink"}) {
    Json s = w.status(name);
    ASSERT_TRUE(w.all_in(name, "RUNNING")) << s;
    EXPECT_TRUE(s["tasks"][0]["trace"].is_null()) << s;
  }

  ASSERT_TRUE(k.command("down 1"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(send("while-down-" + std::to_string(i)));
  auto says_why = [&](const std::string& name) {
    Json s = w.status(name);
    if (!s.is_object() || s["tasks"].empty()) return false;
    const Json& t = s["tasks"][0];
    const std::string trace = t["trace"].is_string() ? t["trace"].get<std::string>() : "";
    return t["state"] == "RUNNING" &&
           trace.find("Kafka unreachable (" + k.bootstraps() + ")") != std::string::npos &&
           trace.find("retrying since ") != std::string::npos;
  };
  EXPECT_TRUE(eventually([&] { return says_why("kafkaStatusSource"); }, 60s, 200ms))
      << w.status("kafkaStatusSource") << w.log_tail();
  EXPECT_TRUE(eventually([&] { return says_why("kafkaStatusSink"); }, 60s, 200ms))
      << w.status("kafkaStatusSink") << w.log_tail();
  for (const char* name : {"kafkaStatusSource", "kafkaStatusSink"}) {
    std::printf("%s while Kafka is down: %s\n", name, w.status(name)["tasks"][0].dump().c_str());
  }

  ASSERT_TRUE(k.command("up 1"));
  auto clear = [&](const std::string& name) {
    Json s = w.status(name);
    return w.all_in(name, "RUNNING") && s["tasks"][0]["trace"].is_null();
  };
  EXPECT_TRUE(eventually([&] { return clear("kafkaStatusSource"); }, 60s, 200ms))
      << w.status("kafkaStatusSource");
  EXPECT_TRUE(eventually([&] { return clear("kafkaStatusSink"); }, 60s, 200ms))
      << w.status("kafkaStatusSink");
  std::set<std::string> out;
  EXPECT_TRUE(eventually(
      [&] {
        out.clear();
        for (const auto& m : kcat_consume(k.bootstraps(), "status-out")) out.insert(m.value);
        return out.size() == 6;
      },
      60s, 500ms))
      << out.size() << " of 6 distinct messages in Kafka after the outage";
  (*producer)->shutdown();
  EXPECT_EQ(w.stop(), 0);
}

// A record the sink cannot convert (not the JSON envelope its JsonConverter expects) goes to the
// dead letter queue under errors.tolerance=all, with its context; the others reach Kafka.
TEST(KafkaPipelineTest, ABadRecordGoesToTheDeadLetterQueue) {
  ASSERT_EQ(std::system("kcat -V >/dev/null 2>&1"), 0) << "kcat is not installed";
  MockCluster k({"dlq-out:1"});
  ASSERT_FALSE(k.bootstraps().empty()) << "rmqc-kafka-mock did not start (RMQC_KAFKA_MOCK_BIN)";
  TempDir dir("rmqc_kafka_dlq");
  write_file(dir / "worker.conf", worker_conf(dir / "store"));
  WorkerProcess w;
  ASSERT_TRUE(w.start(dir / "worker.conf", {}, dir / "worker.log")) << w.error();
  rocketmq::ClientConfig client;
  client.namesrv_addr = w.namesrv();
  rocketmq::ProducerConfig pc;
  pc.client = client;
  pc.group = "dlq-producer";
  auto producer = rocketmq::Producer::start(pc);
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  auto envelope = [](const std::string& text) {
    return Json{{"schema", {{"type", "string"}, {"optional", false}}}, {"payload", text}}.dump();
  };
  // One queue: the three records in this order.
  {
    auto admin = rocketmq::Admin::start(client);
    ASSERT_TRUE(admin.ok()) << admin.error().to_string();
    ASSERT_TRUE((*admin)->create_topic("dlq-in", 1).ok());
  }
  for (const std::string& body :
       {envelope("good-1"), std::string("not JSON"), envelope("good-2")}) {
    auto sent = (*producer)->send(rocketmq::Message("dlq-in", body));
    ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  }
  auto created =
      w.post("/connectors/kafkaDlqSink", Json{{"connector.class", "KafkaSinkConnector"},
                                              {"connect.topicnames", "dlq-in"},
                                              {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
                                              {"kafka.topic", "dlq-out"},
                                              {"kafka.bootstrap.server", k.bootstraps()},
                                              {"value.converter", "JsonConverter"},
                                              {"value.converter.schemas.enable", "true"},
                                              {"errors.tolerance", "all"},
                                              {"errors.deadletterqueue.topic.name", "kafka-dlq"}}
                                             .dump());
  ASSERT_EQ(created.status, 200) << created.body;
  std::vector<Seen> out;
  ASSERT_TRUE(eventually(
      [&] {
        out = kcat_consume(k.bootstraps(), "dlq-out");
        return out.size() >= 2;
      },
      60s, 300ms))
      << w.log_tail();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].value, "good-1");
  EXPECT_EQ(out[1].value, "good-2");
  EXPECT_TRUE(w.all_in("kafkaDlqSink", "RUNNING")) << w.status("kafkaDlqSink");

  rocketmq::ConsumerConfig cc;
  cc.client = client;
  cc.group = "dlq-reader";
  cc.auto_commit = false;
  auto consumer = rocketmq::LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok()) << consumer.error().to_string();
  std::vector<rocketmq::MessageQueue> queues;
  ASSERT_TRUE(eventually([&] {
    auto q = (*consumer)->fetch_queues("kafka-dlq");
    if (q.ok()) queues = *q;
    return !queues.empty();
  }));
  ASSERT_TRUE((*consumer)->assign(queues).ok());
  for (const auto& q : queues) (void)(*consumer)->seek_to_begin(q);
  std::vector<rocketmq::MessageExt> dead;
  ASSERT_TRUE(eventually([&] {
    auto got = (*consumer)->poll(200ms);
    if (got.ok()) {
      for (auto& m : *got) dead.push_back(std::move(m));
    }
    return !dead.empty();
  }));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].body(), "not JSON");
  auto props = dead[0].properties();
  EXPECT_EQ(props["__connect.errors.stage"], "VALUE_CONVERTER");
  EXPECT_EQ(props["__connect.errors.topic"], "dlq-in");
  EXPECT_EQ(props["__connect.errors.connector.name"], "kafkaDlqSink");
  (*consumer)->shutdown();
  (*producer)->shutdown();
  EXPECT_EQ(w.stop(), 0);
}

}  // namespace
}  // namespace rmqc::itest
