// End to end: two `rmq-connect broker` processes, A (source) and B (destination, the worker's
// cluster), and `rmq-connect standalone` on B running the replicator. Messages produced on A with
// keys, tags and properties arrive on B renamed and filtered by tag, each source queue's order
// kept and their origin named; the checkpoint connector translates a consumer group's offsets
// without skipping a message; a kill -9 of the worker mid-stream loses nothing.
#include "integration/cluster_harness.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>

namespace rmqc::itest {
namespace {

using rocketmq::MessageQueue;

struct Copy {
  MessageQueue dest;
  std::int64_t dest_offset = 0;
  std::string body;
  std::string keys;
  std::string tags;
  std::map<std::string, std::string, std::less<>> properties;
  std::string prop(const std::string& name) const {
    auto it = properties.find(name);
    return it == properties.end() ? "" : it->second;
  }
};

rocketmq::ClientConfig client(const std::string& namesrv) {
  rocketmq::ClientConfig c;
  c.namesrv_addr = namesrv;
  return c;
}

// Every message now stored in `topic` (all queues, from their start), in queue order.
std::vector<Copy> read_topic(const std::string& namesrv, const std::string& topic) {
  std::vector<Copy> out;
  auto admin = rocketmq::Admin::start(client(namesrv));
  if (!admin.ok()) return out;
  auto status = (*admin)->topic_status(topic);
  if (!status.ok()) return out;
  std::int64_t total = 0;
  for (const auto& q : *status) total += q.max_offset - q.min_offset;
  if (total == 0) return out;
  rocketmq::ConsumerConfig cc;
  cc.client = client(namesrv);
  cc.group = "replicator-test-reader";
  cc.auto_commit = false;
  cc.long_poll_suspend = 200ms;
  auto consumer = rocketmq::LitePullConsumer::start(std::move(cc));
  if (!consumer.ok()) return out;
  std::vector<MessageQueue> queues;
  for (const auto& q : *status) queues.push_back(q.queue);
  if (!(*consumer)->assign(queues).ok()) return out;
  for (const auto& q : *status) (void)(*consumer)->seek(q.queue, q.min_offset);
  auto deadline = Clock::now() + 10s;
  while (static_cast<std::int64_t>(out.size()) < total && Clock::now() < deadline) {
    auto batch = (*consumer)->poll(200ms);
    if (!batch.ok()) break;
    for (const auto& m : *batch) {
      Copy c;
      c.dest = m.queue();
      c.dest_offset = m.queue_offset();
      c.body = std::string(m.body());
      c.keys = std::string(m.keys());
      c.tags = std::string(m.tags());
      c.properties = m.properties();
      out.push_back(std::move(c));
    }
  }
  (*consumer)->shutdown();
  std::sort(out.begin(), out.end(), [](const Copy& a, const Copy& b) {
    return std::tie(a.dest, a.dest_offset) < std::tie(b.dest, b.dest_offset);
  });
  return out;
}

// Bodies of the copies of one phase, with how often each arrived.
std::map<std::string, int> arrived(const std::vector<Copy>& copies, const std::string& phase) {
  std::map<std::string, int> out;
  for (const auto& c : copies) {
    if (c.body.rfind(phase + "-", 0) == 0) ++out[c.body];
  }
  return out;
}

bool create_topic(const std::string& namesrv, const std::string& topic, int queues) {
  auto admin = rocketmq::Admin::start(client(namesrv));
  if (!admin.ok() || !(*admin)->create_topic(topic, queues).ok()) return false;
  return eventually([&] {
    auto s = (*admin)->topic_status(topic);
    return s.ok() && static_cast<int>(s->size()) == queues;
  });
}

rocketmq::Message message(const std::string& topic, const std::string& body, const std::string& tag,
                          int i) {
  rocketmq::Message m(topic, body, tag, "key-" + body);
  m.properties["app-prop"] = "v" + std::to_string(i);
  return m;
}

TEST(ReplicatorPipelineTest, CopiesFiltersTranslatesAndSurvivesKill9) {
  TempDir dir("rmqc_replicator");
  BrokerChild a;
  BrokerChild b;
  ASSERT_TRUE(a.start_broker(dir / "store-a", dir / "broker-a.log")) << a.error();
  ASSERT_TRUE(b.start_broker(dir / "store-b", dir / "broker-b.log")) << b.error();
  ASSERT_TRUE(create_topic(a.namesrv(), "TopicA", 4));
  ASSERT_TRUE(create_topic(a.namesrv(), "TopicB", 2));
  ASSERT_TRUE(create_topic(b.namesrv(), "dr-TopicA", 4));
  ASSERT_TRUE(create_topic(b.namesrv(), "dr-TopicB", 4));

  // Phase one on A: TopicA with tags tagA/tagB/tagC over its 4 queues, TopicB untagged.
  rocketmq::ProducerConfig pc;
  pc.client = client(a.namesrv());
  pc.group = "replicator-test-producer";
  auto producer = rocketmq::Producer::start(pc);
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  std::vector<MessageQueue> queues_a;
  {
    auto admin = rocketmq::Admin::start(client(a.namesrv()));
    ASSERT_TRUE(admin.ok());
    auto status = (*admin)->topic_status("TopicA");
    ASSERT_TRUE(status.ok());
    for (const auto& q : *status) queues_a.push_back(q.queue);
    std::sort(queues_a.begin(), queues_a.end());
    ASSERT_EQ(queues_a.size(), 4u);
  }
  constexpr int kOne = 240;
  const char* tags[] = {"tagA", "tagB", "tagC"};
  std::map<std::string, std::pair<MessageQueue, std::int64_t>> source_of;  // body -> where on A
  for (int i = 0; i < kOne; ++i) {
    const std::string body = "one-" + std::to_string(i);
    auto r = (*producer)->send_to(message("TopicA", body, tags[i % 3], i),
                                  queues_a[static_cast<std::size_t>((i / 3) % 4)]);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    source_of[body] = {r->queue, r->queue_offset};
  }
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE((*producer)->send(message("TopicB", "b-" + std::to_string(i), "", i)).ok());
  }

  const std::string conf = dir / "worker.conf";
  write_file(conf, "workerId=replicator-worker\nhttpPort=0\nnamesrvAddr=" + b.namesrv() +
                       "\nstorePathRootDir=" + (dir / "worker-store") +
                       "\noffsetCommitIntervalMsConfig=500\n");
  auto w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, dir / "worker.log")) << w->error();
  Json repl = {{"connector.class", "org.apache.rocketmq.replicator.ReplicatorSourceConnector"},
               {"max.tasks", "2"},
               {"src.endpoint", a.namesrv()},
               {"src.cluster", "cluster-a"},
               {"src.topictags", "TopicA:tagA||tagB;TopicB"},
               {"topic.rename.format", "dr-${topic}"},
               {"offset.sync.interval.ms", "200"},
               {"offset.sync.step", "10"}};
  auto created = w->post("/connectors", Json{{"name", "repl"}, {"config", repl}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  // A bad config is refused with the key named.
  Json bad = repl;
  bad["src.topictags"] = "TopicA:tagA||";
  auto refused = w->post("/connectors", Json{{"name", "bad"}, {"config", bad}}.dump());
  EXPECT_EQ(refused.status / 100, 4) << refused.body;
  EXPECT_NE(refused.body.find("src.topictags"), std::string::npos) << refused.body;

  const int want_a = kOne * 2 / 3;  // tagA and tagB
  std::vector<Copy> copies;
  ASSERT_TRUE(eventually(
      [&] {
        copies = read_topic(b.namesrv(), "dr-TopicA");
        return static_cast<int>(arrived(copies, "one").size()) == want_a;
      },
      30s, 200ms))
      << arrived(copies, "one").size() << " of " << want_a << "\n"
      << w->log_tail();
  // Bodies, keys, tags, properties and origin; one source queue -> one destination queue, in
  // order; no tagC.
  std::map<std::string, MessageQueue> dest_of_source;
  std::map<std::string, std::int64_t> last_offset;  // source queue -> last source offset seen
  for (const auto& c : copies) {
    ASSERT_EQ(c.body.rfind("one-", 0), 0u) << c.body;
    const int i = std::stoi(c.body.substr(4));
    EXPECT_NE(c.tags, "tagC");
    EXPECT_EQ(c.tags, tags[i % 3]);
    EXPECT_EQ(c.keys, "key-" + c.body);
    EXPECT_EQ(c.prop("app-prop"), "v" + std::to_string(i));
    const auto& [sq, so] = source_of[c.body];
    EXPECT_EQ(c.prop("REPLICATOR_SRC_CLUSTER"), "cluster-a");
    EXPECT_EQ(c.prop("REPLICATOR_SRC_TOPIC"), "TopicA");
    EXPECT_EQ(c.prop("REPLICATOR_SRC_BROKER"), sq.broker_name);
    EXPECT_EQ(c.prop("REPLICATOR_SRC_QUEUE_ID"), std::to_string(sq.queue_id));
    EXPECT_EQ(c.prop("REPLICATOR_SRC_QUEUE_OFFSET"), std::to_string(so));
    EXPECT_FALSE(c.prop("REPLICATOR_SRC_MSG_ID").empty());
    const std::string sk = sq.broker_name + "/" + std::to_string(sq.queue_id);
    auto [d, first] = dest_of_source.try_emplace(sk, c.dest);
    EXPECT_TRUE(first || d->second == c.dest) << sk << " landed on two queues";
    auto [lo, fresh] = last_offset.try_emplace(
        sk + "@" + c.dest.broker_name + std::to_string(c.dest.queue_id), so);
    if (!fresh) {
      EXPECT_LT(lo->second, so) << "order of " << sk << " broken";
      lo->second = so;
    }
  }
  EXPECT_EQ(dest_of_source.size(), 4u);
  std::vector<Copy> copies_b;
  ASSERT_TRUE(eventually(
      [&] {
        copies_b = read_topic(b.namesrv(), "dr-TopicB");
        return arrived(copies_b, "b").size() == 20;
      },
      20s, 200ms));

  // Checkpoints: group cg1 consumed 30 messages of each TopicA queue on A.
  constexpr std::int64_t kConsumed = 30;
  {
    auto admin = rocketmq::Admin::start(client(a.namesrv()));
    ASSERT_TRUE(admin.ok());
    auto status = (*admin)->topic_status("TopicA");
    ASSERT_TRUE(status.ok());
    for (const auto& q : *status) {
      ASSERT_TRUE((*admin)->commit_offset("cg1", q.queue, kConsumed).ok());
    }
  }
  Json ckpt = {{"connector.class", "org.apache.rocketmq.replicator.ReplicatorCheckpointConnector"},
               {"src.endpoint", a.namesrv()},
               {"src.cluster", "cluster-a"},
               {"dest.endpoint", b.namesrv()},
               {"src.topictags", "TopicA"},
               {"sync.gids", "cg1"},
               {"checkpoint.interval.ms", "300"},
               {"sync.group.offsets.enabled", "true"}};
  created = w->post("/connectors", Json{{"name", "ckpt"}, {"config", ckpt}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::map<std::int32_t, Json> checkpoints;  // source queue id -> newest record
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& c : read_topic(b.namesrv(), "rmq-replicator-checkpoint")) {
          Json j = Json::parse(c.body, nullptr, false);
          if (j.is_object() && j.value("group", "") == "cg1" &&
              j.value("srcOffset", -1) == kConsumed) {
            checkpoints[j["srcQueueId"].get<std::int32_t>()] = j;
          }
        }
        // Until the newest syncs are in: each queue's last message is a filtered tagC one.
        return checkpoints.size() == 4 &&
               std::all_of(checkpoints.begin(), checkpoints.end(),
                           [](const auto& e) { return e.second.value("replicationLag", -1) == 1; });
      },
      30s, 300ms))
      << checkpoints.size() << " queues checkpointed; offset syncs on B: "
      << read_topic(b.namesrv(), "rmq-replicator-offset-sync").size()
      << ", checkpoints: " << read_topic(b.namesrv(), "rmq-replicator-checkpoint").size() << "\n"
      << w->log_tail();
  auto dest_admin = rocketmq::Admin::start(client(b.namesrv()));
  ASSERT_TRUE(dest_admin.ok());
  for (const auto& [qid, j] : checkpoints) {
    const MessageQueue dq{j["destTopic"], j["destBroker"], j["destQueueId"].get<std::int32_t>()};
    const std::int64_t translated = j["destOffset"];
    EXPECT_EQ(j["srcTopic"], "TopicA");
    EXPECT_EQ(j["srcMaxOffset"].get<std::int64_t>() - j["replicatedOffset"].get<std::int64_t>(), 1)
        << j.dump();
    // Never skips: every copy of a message of this source queue the group had not consumed is
    // at or after the translated offset; and the translation moved past what it consumed.
    bool moved = false;
    for (const auto& c : copies) {
      if (c.dest != dq || c.prop("REPLICATOR_SRC_QUEUE_ID") != std::to_string(qid)) continue;
      const std::int64_t so = std::stoll(c.prop("REPLICATOR_SRC_QUEUE_OFFSET"));
      if (so >= kConsumed) {
        EXPECT_GE(c.dest_offset, translated) << j.dump();
      }
      if (so < kConsumed && c.dest_offset < translated) moved = true;
    }
    EXPECT_TRUE(moved) << j.dump();
    // Committed on B for cg1: at most the smallest translation of the queues landing there.
    std::int64_t floor = translated;
    for (const auto& [q2, j2] : checkpoints) {
      if (j2["destQueueId"] == j["destQueueId"] && j2["destBroker"] == j["destBroker"]) {
        floor = std::min<std::int64_t>(floor, j2["destOffset"].get<std::int64_t>());
      }
    }
    std::int64_t committed = -1;
    EXPECT_TRUE(eventually([&] {
      auto c = (*dest_admin)->committed_offset("cg1", dq);
      committed = c.ok() ? *c : -1;
      return committed == floor;
    })) << committed
        << " vs " << floor;
  }

  // kill -9 mid-stream: phase two is produced while the worker is killed (once 300 copies
  // arrived) and restarted.
  constexpr int kTwo = 2000;
  constexpr int kChunk = 100;
  std::atomic<bool> produced_ok{true};
  std::thread writer([&] {
    for (int from = 0; from < kTwo; from += kChunk) {
      for (int i = from; i < from + kChunk; ++i) {
        if (!(*producer)->send(message("TopicA", "two-" + std::to_string(i), "tagA", i)).ok()) {
          produced_ok = false;
        }
      }
      std::this_thread::sleep_for(50ms);
    }
  });
  const bool flowing =
      eventually([&] { return arrived(read_topic(b.namesrv(), "dr-TopicA"), "two").size() >= 300; },
                 30s, 50ms);
  const int status = w->kill9();
  const std::size_t at_kill = arrived(read_topic(b.namesrv(), "dr-TopicA"), "two").size();
  if (!flowing) {
    writer.join();
    FAIL() << "phase two did not reach B\n" << read_text(dir / "worker.log");
  }
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  w = std::make_unique<WorkerProcess>();
  ASSERT_TRUE(w->start(conf, {}, dir / "worker2.log")) << w->error();
  writer.join();
  ASSERT_TRUE(produced_ok);
  std::map<std::string, int> second;
  ASSERT_TRUE(eventually(
      [&] {
        second = arrived(read_topic(b.namesrv(), "dr-TopicA"), "two");
        return second.size() == kTwo;
      },
      60s, 500ms))
      << second.size() << " of " << kTwo << " after the restart\n"
      << w->log_tail();
  std::size_t duplicates = 0;
  for (const auto& [body, count] : second) duplicates += static_cast<std::size_t>(count - 1);
  // Only copies made before the kill (acknowledged, their position not committed yet) come again.
  EXPECT_LE(duplicates, at_kill);
  std::printf(
      "replicator: %zu of %d phase-two messages copied at kill -9; all %d arrived after the "
      "restart with %zu duplicates\n",
      at_kill, kTwo, kTwo, duplicates);
  EXPECT_EQ(w->stop(), 0);
}

// The source broker (and its name server) stops mid-stream: the task says why in the worker log
// and keeps retrying; once the broker is back on the same ports, copying resumes where it was.
TEST(ReplicatorPipelineTest, SourceDownIsRetriedAndNothingIsLost) {
  TempDir dir("rmqc_replicator_down");
  Child a;
  BrokerChild b;
  ASSERT_TRUE(a.start({"broker", "--store", dir / "store-a", "--namesrv-port", "0", "--broker-port",
                       "0", "--flush", "sync"},
                      dir / "broker-a.log", "broker ready:"))
      << a.error();
  const std::string namesrv_a = ready_field(a.ready_line(), "namesrv");
  const std::string broker_a = ready_field(a.ready_line(), "broker");
  ASSERT_FALSE(namesrv_a.empty());
  ASSERT_FALSE(broker_a.empty());
  ASSERT_TRUE(b.start_broker(dir / "store-b", dir / "broker-b.log")) << b.error();
  ASSERT_TRUE(create_topic(namesrv_a, "Orders", 2));

  auto produce = [&](int from, int to) {
    rocketmq::ProducerConfig pc;
    pc.client = client(namesrv_a);
    pc.group = "replicator-test-producer";
    auto producer = rocketmq::Producer::start(pc);
    if (!producer.ok()) return false;
    for (int i = from; i < to; ++i) {
      if (!(*producer)->send(message("Orders", "m-" + std::to_string(i), "", i)).ok()) {
        return false;
      }
    }
    (*producer)->shutdown();
    return true;
  };
  ASSERT_TRUE(produce(0, 100));

  const std::string conf = dir / "worker.conf";
  write_file(conf, "workerId=replicator-worker\nhttpPort=0\nnamesrvAddr=" + b.namesrv() +
                       "\nstorePathRootDir=" + (dir / "worker-store") +
                       "\noffsetCommitIntervalMsConfig=500\n");
  WorkerProcess w;
  ASSERT_TRUE(w.start(conf, {}, dir / "worker.log")) << w.error();
  Json repl = {{"connector.class", "ReplicatorSourceConnector"},
               {"src.endpoint", namesrv_a},
               {"src.topictags", "Orders"}};
  ASSERT_EQ(w.post("/connectors", Json{{"name", "repl"}, {"config", repl}}.dump()).status, 201);
  std::map<std::string, int> got;
  ASSERT_TRUE(eventually(
      [&] {
        got = arrived(read_topic(b.namesrv(), "Orders"), "m");
        return got.size() == 100;
      },
      30s, 200ms))
      << got.size() << "\n"
      << w.log_tail();

  ASSERT_EQ(a.stop(), 0);
  ASSERT_TRUE(eventually(
      [&] {
        const std::string log = read_text(dir / "worker.log");
        return log.find("source cluster " + namesrv_a) != std::string::npos &&
               log.find("retrying") != std::string::npos;
      },
      30s, 200ms))
      << w.log_tail();
  EXPECT_TRUE(w.all_in("repl", "RUNNING")) << w.status("repl").dump();
  // ... and its status says why.
  EXPECT_TRUE(eventually(
      [&] {
        const std::string status = w.status("repl").dump();
        return status.find("source cluster " + namesrv_a + " unreachable") != std::string::npos;
      },
      30s, 200ms))
      << w.status("repl").dump();

  // Back on the same ports, with its store: new messages are copied, none twice, none lost.
  const auto colon_n = namesrv_a.rfind(':');
  const auto colon_b = broker_a.rfind(':');
  Child again;
  ASSERT_TRUE(eventually(
      [&] {
        return again.start(
            {"broker", "--store", dir / "store-a", "--namesrv-port", namesrv_a.substr(colon_n + 1),
             "--broker-port", broker_a.substr(colon_b + 1), "--flush", "sync"},
            dir / "broker-a.log", "broker ready:");
      },
      20s, 500ms))
      << again.error();
  ASSERT_TRUE(eventually([&] { return produce(100, 200); }, 20s, 500ms));
  ASSERT_TRUE(eventually(
      [&] {
        got = arrived(read_topic(b.namesrv(), "Orders"), "m");
        return got.size() == 200;
      },
      40s, 200ms))
      << got.size() << "\n"
      << w.log_tail(12000);
  for (const auto& [body, count] : got) EXPECT_EQ(count, 1) << body;
  EXPECT_NE(read_text(dir / "worker.log").find("answers again"), std::string::npos);
  EXPECT_EQ(w.stop(), 0);
}

}  // namespace
}  // namespace rmqc::itest
