// StandaloneWorker in-process against the embedded broker: lifecycle edge cases that need a
// misbehaving plugin (a real connector cannot be made to hang on demand).
#include "runtime/worker.h"

#include "rmqc/api/source_task.h"

#include "broker/server/embedded_broker.h"
#include "converters/builtin_converters.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A source whose task's start() blocks well past the worker's start timeout.
class HangingTask : public SourceTask {
 public:
  void start(const KeyValue&) override { std::this_thread::sleep_for(3s); }
  void stop() override {}
  std::vector<ConnectRecord> poll() override { return {}; }
};

class HangingConnector : public SourceConnector {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {KeyValue{}}; }
  std::string task_class() const override { return "HangingTask"; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<HangingTask>(); }
};

TEST(StandaloneWorkerTest, TaskWhoseStartHangsIsReportedFailed) {
  fs::path dir = fs::temp_directory_path() / ("rmqc_worker_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  broker::EmbeddedBrokerOptions bo;
  bo.store.dir = (dir / "broker").string();
  bo.store.commit_log_segment_bytes = 8 << 20;
  bo.namesrv_port = 0;
  bo.broker_port = 0;
  bo.vip_port = false;
  auto b = broker::EmbeddedBroker::start(bo);
  ASSERT_TRUE(b.ok()) << b.error().to_string();

  plugins::PluginRegistry registry;
  converters::register_builtin_converters(registry);
  registry.add_source_connector<HangingConnector>({"HangingConnector", {}, "1", ""});
  auto config = config::parse_worker_config(KeyValue{{"storePathRootDir", (dir / "w").string()},
                                                     {"maxStartTimeoutMills", "500"},
                                                     {"maxStopTimeoutMills", "200"}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  StandaloneWorker::Options wo;
  wo.config = *config;
  wo.registry = &registry;
  wo.namesrv_addr = (*b)->namesrv_addr();
  auto w = StandaloneWorker::start(wo);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  auto created = (*w)->put_connector(
      "hang", KeyValue{{"connector.class", "HangingConnector"}, {"connect.topicname", "t"}}, false);
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  // The REST API keeps answering meanwhile, and the task ends up FAILED with the reason.
  std::optional<TaskState> task;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    auto t = (*w)->task_state("hang", 0);
    ASSERT_TRUE(t.ok());
    if (t->state == RunState::kFailed) {
      task = *t;
      break;
    }
  }
  ASSERT_TRUE(task.has_value()) << "the hung task was never reported FAILED";
  ASSERT_TRUE(task->trace.has_value());
  EXPECT_NE(task->trace->find("maxStartTimeoutMills"), std::string::npos) << *task->trace;
  (*w)->stop();
  (*b)->stop();
  fs::remove_all(dir);
}

// A sink that records which threads call put() and pre_commit(): the plugin API promises a
// task one thread, so a commit a consumer rebalance asks for must run on it too.
struct SinkCalls {
  std::mutex mutex;
  std::set<std::thread::id> put_threads;
  std::set<std::thread::id> commit_threads;
  std::size_t records = 0;
};
SinkCalls g_sink_calls;

class RecordingSinkTask : public SinkTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  void put(std::vector<ConnectRecord>& records) override {
    std::lock_guard lock(g_sink_calls.mutex);
    g_sink_calls.put_threads.insert(std::this_thread::get_id());
    g_sink_calls.records += records.size();
  }
  OffsetMap pre_commit(const OffsetMap& current) override {
    std::lock_guard lock(g_sink_calls.mutex);
    g_sink_calls.commit_threads.insert(std::this_thread::get_id());
    return current;
  }
};

class RecordingSinkConnector : public SinkConnector {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {KeyValue{}}; }
  std::string task_class() const override { return "RecordingSinkTask"; }
  std::unique_ptr<Task> create_task() const override {
    return std::make_unique<RecordingSinkTask>();
  }
};

// Queues taken from a sink task by a rebalance (another member joins its group) get their
// offsets committed first, by the task's own thread, also while the connector is paused.
TEST(StandaloneWorkerTest, RevokedQueuesAreCommittedOnTheTaskThread) {
  fs::path dir = fs::temp_directory_path() / ("rmqc_worker_revoke_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  broker::EmbeddedBrokerOptions bo;
  bo.store.dir = (dir / "broker").string();
  bo.store.commit_log_segment_bytes = 8 << 20;
  bo.namesrv_port = 0;
  bo.broker_port = 0;
  bo.vip_port = false;
  auto b = broker::EmbeddedBroker::start(bo);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  rocketmq::ClientConfig client;
  client.namesrv_addr = (*b)->namesrv_addr();

  const std::string topic = "revoke-topic";
  auto admin = rocketmq::Admin::start(client);
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  ASSERT_TRUE((*admin)->create_topic(topic, 4).ok());
  rocketmq::ProducerConfig pc;
  pc.client = client;
  auto producer = rocketmq::Producer::start(pc);
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    auto sent = (*producer)->send(rocketmq::Message(topic, "m" + std::to_string(i)));
    ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  }

  plugins::PluginRegistry registry;
  converters::register_builtin_converters(registry);
  registry.add_sink_connector<RecordingSinkConnector>({"RecordingSinkConnector", {}, "1", ""});
  // No periodic commit during the test: only the revocation (and the final stop) commits.
  auto config = config::parse_worker_config(KeyValue{{"storePathRootDir", (dir / "w").string()},
                                                     {"offsetCommitIntervalMsConfig", "600000"},
                                                     {"offsetCommitTimeoutMsConfig", "5000"},
                                                     {"keyConverter", "StringConverter"},
                                                     {"valueConverter", "StringConverter"}});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  StandaloneWorker::Options wo;
  wo.config = *config;
  wo.registry = &registry;
  wo.namesrv_addr = (*b)->namesrv_addr();
  auto w = StandaloneWorker::start(wo);
  ASSERT_TRUE(w.ok()) << w.error().to_string();
  auto created = (*w)->put_connector("rev",
                                     KeyValue{{"connector.class", "RecordingSinkConnector"},
                                              {"connect.topicnames", topic},
                                              {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}},
                                     false);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  auto eventually = [](auto predicate) {
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      if (predicate()) return true;
    }
    return predicate();
  };
  ASSERT_TRUE(eventually([] {
    std::lock_guard lock(g_sink_calls.mutex);
    return g_sink_calls.records >= kMessages;
  })) << "the sink did not receive every message";
  ASSERT_TRUE((*w)->set_target_state("rev", TargetState::kPaused).ok());
  ASSERT_TRUE(eventually([&] {
    auto t = (*w)->task_state("rev", 0);
    return t.ok() && t->state == RunState::kPaused;
  }));
  {
    std::lock_guard lock(g_sink_calls.mutex);
    EXPECT_TRUE(g_sink_calls.commit_threads.empty()) << "committed before any revocation";
  }

  // A second member joins the group connect-rev: the task loses half of the four queues.
  rocketmq::ConsumerConfig cc;
  cc.client = client;
  cc.group = "connect-rev";
  cc.auto_commit = false;
  auto other = rocketmq::LitePullConsumer::start(cc);
  ASSERT_TRUE(other.ok()) << other.error().to_string();
  ASSERT_TRUE((*other)->subscribe(topic).ok());
  (*other)->request_rebalance();
  ASSERT_TRUE(eventually([&] { return (*other)->assignment().size() == 2; }))
      << "the rebalance did not split the queues";
  // What the paused task had put for the queues it lost is committed: the new member starts
  // after it rather than re-reading.
  // (The members rebalance independently, so the commit may land just after the split.)
  std::string progress;
  EXPECT_TRUE(eventually([&] {
    progress.clear();
    bool all = true;
    for (const auto& q : (*other)->assignment()) {
      auto max = (*admin)->max_offset(q);
      auto committed = (*admin)->committed_offset("connect-rev", q);
      if (!max.ok() || !committed.ok()) return false;
      progress += " queue " + std::to_string(q.queue_id) + ": " + std::to_string(*committed) +
                  " of " + std::to_string(*max);
      all = all && *max > 0 && *committed == *max;
    }
    return all;
  })) << progress;
  {
    std::lock_guard lock(g_sink_calls.mutex);
    EXPECT_FALSE(g_sink_calls.commit_threads.empty()) << "the revocation committed nothing";
    EXPECT_EQ(g_sink_calls.put_threads.size(), 1u);
    EXPECT_EQ(g_sink_calls.commit_threads, g_sink_calls.put_threads)
        << "pre_commit ran on another thread than put";
  }
  (*other)->shutdown();
  (*w)->stop();
  (*b)->stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace rmqc::runtime
