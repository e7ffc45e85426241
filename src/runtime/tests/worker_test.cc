// StandaloneWorker in-process against the embedded broker: lifecycle edge cases that need a
// misbehaving or instrumented plugin (a real connector cannot be made to hang on demand).
#include "runtime/worker.h"

#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include "broker/server/embedded_broker.h"
#include "converters/builtin_converters.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& predicate, std::chrono::milliseconds timeout = 20s) {
  for (auto deadline = std::chrono::steady_clock::now() + timeout;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    if (predicate()) return true;
  }
  return predicate();
}

// An embedded broker and a worker on it, with the test's plugins registered.
class WorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rmqc_worker_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    broker::EmbeddedBrokerOptions bo;
    bo.store.dir = (dir_ / "broker").string();
    bo.store.commit_log_segment_bytes = 8 << 20;
    bo.namesrv_port = 0;
    bo.broker_port = 0;
    bo.vip_port = false;
    auto b = broker::EmbeddedBroker::start(bo);
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    broker_ = std::move(b).value();
    client_.namesrv_addr = broker_->namesrv_addr();
    converters::register_builtin_converters(registry_);
  }

  void TearDown() override {
    if (worker_) worker_->stop();
    if (broker_) broker_->stop();
    fs::remove_all(dir_);
  }

  // Starts the worker with these worker.conf keys (storePathRootDir is the test's).
  void start_worker(KeyValue keys) {
    keys.put("storePathRootDir", (dir_ / "w").string());
    auto config = config::parse_worker_config(keys);
    ASSERT_TRUE(config.ok()) << config.error().to_string();
    StandaloneWorker::Options wo;
    wo.config = *config;
    wo.registry = &registry_;
    wo.namesrv_addr = broker_->namesrv_addr();
    auto w = StandaloneWorker::start(wo);
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    worker_ = std::move(w).value();
  }

  RunState task_run_state(const std::string& connector, int task = 0) {
    auto t = worker_->task_state(connector, task);
    return t.ok() ? t->state : RunState::kDestroyed;
  }

  fs::path dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  rocketmq::ClientConfig client_;
  plugins::PluginRegistry registry_;
  std::unique_ptr<StandaloneWorker> worker_;
};

// A source whose task's start() blocks well past the worker's start timeout.
class HangingStartTask : public SourceTask {
 public:
  void start(const KeyValue&) override { std::this_thread::sleep_for(3s); }
  void stop() override {}
  std::vector<ConnectRecord> poll() override { return {}; }
};

// A source task whose poll() counts its calls; with test.hang=true in its config it blocks in
// poll() while g_poll.hang is set.
struct PollControl {
  std::atomic<int> polls{0};       // by tasks that do not hang
  std::atomic<int> hung_polls{0};  // poll() calls entered by hanging tasks
  std::atomic<int> hung_stops{0};  // stop() calls of hanging tasks
  std::atomic<bool> hang{false};
};
PollControl g_poll;

class ControlledPollTask : public SourceTask {
 public:
  void start(const KeyValue& config) override { hangs_ = config.get_string("test.hang") == "true"; }
  void stop() override { hung_stops_on_stop(); }
  std::vector<ConnectRecord> poll() override {
    if (!hangs_) {
      ++g_poll.polls;
      std::this_thread::sleep_for(5ms);
      return {};
    }
    ++g_poll.hung_polls;
    while (g_poll.hang.load()) std::this_thread::sleep_for(10ms);
    return {};
  }

 private:
  void hung_stops_on_stop() {
    if (hangs_) ++g_poll.hung_stops;
  }
  bool hangs_ = false;
};

template <typename TaskT>
class OneTaskSource : public SourceConnector {
 public:
  void start(const KeyValue& config) override { config_ = config; }
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {config_}; }
  std::string task_class() const override { return "TestTask"; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<TaskT>(); }

 private:
  KeyValue config_;
};

TEST_F(WorkerTest, TaskWhoseStartHangsIsReportedFailed) {
  registry_.add_source_connector<OneTaskSource<HangingStartTask>>(
      {"HangingConnector", {}, "1", ""});
  start_worker({{"maxStartTimeoutMills", "500"}, {"maxStopTimeoutMills", "200"}});
  auto created = worker_->put_connector(
      "hang", KeyValue{{"connector.class", "HangingConnector"}, {"connect.topicname", "t"}}, {});
  ASSERT_TRUE(created.ok()) << created.error().to_string();

  // The REST API keeps answering meanwhile, and the task ends up FAILED with the reason.
  ASSERT_TRUE(eventually([&] { return task_run_state("hang") == RunState::kFailed; }, 10s))
      << "the hung task was never reported FAILED";
  auto task = worker_->task_state("hang", 0);
  ASSERT_TRUE(task.ok() && task->trace.has_value());
  EXPECT_NE(task->trace->find("maxStartTimeoutMills"), std::string::npos) << *task->trace;
}

// A poll() that never returns ties up its own thread only: the worker answers, another
// connector runs, and deleting the hung one returns after maxStopTimeoutMills.
TEST_F(WorkerTest, HungPollBlocksNeitherTheWorkerNorOtherConnectors) {
  registry_.add_source_connector<OneTaskSource<ControlledPollTask>>(
      {"ControlledConnector", {}, "1", ""});
  start_worker({{"maxStopTimeoutMills", "200"}});
  g_poll.hang = true;
  ASSERT_TRUE(worker_
                  ->put_connector("hung",
                                  {{"connector.class", "ControlledConnector"},
                                   {"connect.topicname", "t"},
                                   {"test.hang", "true"}},
                                  {})
                  .ok());
  ASSERT_TRUE(eventually([] { return g_poll.hung_polls.load() >= 1; })) << "poll() never called";

  // Lifecycle calls still work while that task sits in poll(), and another connector runs.
  EXPECT_TRUE(worker_->set_target_state("hung", TargetState::kPaused).ok());
  EXPECT_TRUE(worker_->connector_state("hung").ok());
  const int before = g_poll.polls.load();
  ASSERT_TRUE(
      worker_
          ->put_connector(
              "other", {{"connector.class", "ControlledConnector"}, {"connect.topicname", "t"}}, {})
          .ok());
  ASSERT_TRUE(eventually([&] { return g_poll.polls.load() > before + 3; }))
      << "the second connector's task did not poll";
  EXPECT_EQ(g_poll.hung_polls.load(), 1) << "the hung poll() returned";

  // Deleting it abandons the task after maxStopTimeoutMills rather than waiting for poll().
  auto deleted = worker_->delete_connector("hung");
  EXPECT_TRUE(deleted.ok()) << deleted.error().to_string();
  EXPECT_FALSE(worker_->connector_state("hung").ok());
  EXPECT_EQ(g_poll.hung_stops.load(), 0) << "the hung task was stopped before poll() returned";
  EXPECT_EQ(task_run_state("other"), RunState::kRunning);
  // Once poll() returns, the abandoned task's thread sees the stop and stops the plugin.
  g_poll.hang = false;
  EXPECT_TRUE(eventually([] { return g_poll.hung_stops.load() == 1; }));
}

// A connector created PAUSED (Kafka's initial_state) never runs a poll() before its resume; one
// created STOPPED has no tasks.
TEST_F(WorkerTest, CreatedInItsInitialState) {
  registry_.add_source_connector<OneTaskSource<ControlledPollTask>>(
      {"ControlledConnector", {}, "1", ""});
  start_worker({});
  g_poll.hang = false;
  g_poll.polls = 0;
  KeyValue config{{"connector.class", "ControlledConnector"}, {"connect.topicname", "t"}};
  ASSERT_TRUE(
      worker_->put_connector("paused", config, {.initial_state = TargetState::kPaused}).ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("paused") == RunState::kPaused; }));
  EXPECT_EQ(g_poll.polls.load(), 0) << "a connector created PAUSED polled";
  EXPECT_EQ(worker_->connector_info("paused")->target_state, TargetState::kPaused);

  ASSERT_TRUE(
      worker_->put_connector("stopped", config, {.initial_state = TargetState::kStopped}).ok());
  auto stopped = worker_->connector_state("stopped");
  ASSERT_TRUE(stopped.ok());
  EXPECT_EQ(stopped->state, RunState::kStopped);
  EXPECT_TRUE(stopped->tasks.empty());

  ASSERT_TRUE(worker_->set_target_state("paused", TargetState::kStarted).ok());
  EXPECT_TRUE(eventually([] { return g_poll.polls.load() > 0; })) << "no poll() after resume";
}

// Seed 001's partial update and the task count change read and write the config in one step:
// concurrent patches of different keys all land.
TEST_F(WorkerTest, ConcurrentPatchesAllLand) {
  registry_.add_source_connector<OneTaskSource<ControlledPollTask>>(
      {"ControlledConnector", {}, "1", ""});
  start_worker({});
  g_poll.hang = false;
  ASSERT_TRUE(
      worker_
          ->put_connector(
              "p", {{"connector.class", "ControlledConnector"}, {"connect.topicname", "t"}}, {})
          .ok());
  constexpr int kPatches = 10;
  auto patcher = [&](const std::string& prefix) {
    for (int i = 0; i < kPatches; ++i) {
      auto r = worker_->patch_connector("p", KeyValue{{prefix + std::to_string(i), "v"}});
      EXPECT_TRUE(r.ok()) << r.error().to_string();
    }
  };
  std::thread a(patcher, "a."), b(patcher, "b.");
  a.join();
  b.join();
  ASSERT_TRUE(worker_->set_max_tasks("p", 2).ok());
  auto info = worker_->connector_info("p");
  ASSERT_TRUE(info.ok());
  for (int i = 0; i < kPatches; ++i) {
    EXPECT_TRUE(info->config.contains("a." + std::to_string(i))) << i;
    EXPECT_TRUE(info->config.contains("b." + std::to_string(i))) << i;
  }
  EXPECT_EQ(info->config.get_string("max.tasks"), "2");
  EXPECT_EQ(info->config.get_string("connector.class"), "ControlledConnector");
  EXPECT_FALSE(worker_->patch_connector("missing", KeyValue{{"k", "v"}}).ok());
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
TEST_F(WorkerTest, RevokedQueuesAreCommittedOnTheTaskThread) {
  const std::string topic = "revoke-topic";
  auto admin = rocketmq::Admin::start(client_);
  ASSERT_TRUE(admin.ok()) << admin.error().to_string();
  ASSERT_TRUE((*admin)->create_topic(topic, 4).ok());
  rocketmq::ProducerConfig pc;
  pc.client = client_;
  auto producer = rocketmq::Producer::start(pc);
  ASSERT_TRUE(producer.ok()) << producer.error().to_string();
  constexpr int kMessages = 40;
  for (int i = 0; i < kMessages; ++i) {
    auto sent = (*producer)->send(rocketmq::Message(topic, "m" + std::to_string(i)));
    ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  }

  registry_.add_sink_connector<RecordingSinkConnector>({"RecordingSinkConnector", {}, "1", ""});
  // No periodic commit during the test: only the revocation (and the final stop) commits.
  start_worker({{"offsetCommitIntervalMsConfig", "600000"},
                {"offsetCommitTimeoutMsConfig", "5000"},
                {"keyConverter", "StringConverter"},
                {"valueConverter", "StringConverter"}});
  auto created =
      worker_->put_connector("rev",
                             KeyValue{{"connector.class", "RecordingSinkConnector"},
                                      {"connect.topicnames", topic},
                                      {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}},
                             {});
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  ASSERT_TRUE(eventually([] {
    std::lock_guard lock(g_sink_calls.mutex);
    return g_sink_calls.records >= kMessages;
  })) << "the sink did not receive every message";
  ASSERT_TRUE(worker_->set_target_state("rev", TargetState::kPaused).ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("rev") == RunState::kPaused; }));
  {
    std::lock_guard lock(g_sink_calls.mutex);
    EXPECT_TRUE(g_sink_calls.commit_threads.empty()) << "committed before any revocation";
  }

  // A second member joins the group connect-rev: the task loses half of the four queues.
  rocketmq::ConsumerConfig cc;
  cc.client = client_;
  cc.group = "connect-rev";
  cc.auto_commit = false;
  auto other = rocketmq::LitePullConsumer::start(cc);
  ASSERT_TRUE(other.ok()) << other.error().to_string();
  ASSERT_TRUE((*other)->subscribe(topic).ok());
  (*other)->request_rebalance();
  ASSERT_TRUE(eventually([&] { return (*other)->assignment().size() == 2; }))
      << "the rebalance did not split the queues";
  // What the paused task had put for the queues it lost is committed: the new member starts
  // after it rather than re-reading. (The members rebalance independently, so the commit may
  // land just after the split.)
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
}

}  // namespace
}  // namespace rmqc::runtime
