// StandaloneWorker in-process against the embedded broker: lifecycle edge cases that need a
// misbehaving or instrumented plugin (a real connector cannot be made to hang on demand).
#include "runtime/worker.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"
#include "rmqc/api/wakeup.h"

#include "broker/server/embedded_broker.h"
#include "converters/builtin_converters.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"
#include "runtime/task_metrics.h"
#include "testing/eventually.h"

#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using rmqc::testing::eventually;

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
  std::atomic<int> starts{0};      // start() calls of all tasks
  std::atomic<bool> hang{false};
};
PollControl g_poll;

class ControlledPollTask : public SourceTask {
 public:
  void start(const KeyValue& config) override {
    ++g_poll.starts;
    hangs_ = config.get_string("test.hang") == "true";
  }
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

// A task whose poll() blocks until wakeup(): the SDK's contract for blocking reads.
struct WakeControl {
  std::atomic<int> polls{0};
  std::atomic<int> wakeups{0};
  std::atomic<int> stops{0};
};
WakeControl g_wake;

class BlockingPollTask : public SourceTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override { ++g_wake.stops; }
  void wakeup() override {
    ++g_wake.wakeups;
    signal_.notify();
  }
  std::vector<ConnectRecord> poll() override {
    ++g_wake.polls;
    while (!signal_.wait_for(1h)) {
    }
    return {};
  }

 private:
  WakeupSignal signal_;
};

// Pausing and deleting wake a poll() blocked on its external system, so the task stops on its
// own thread instead of being abandoned after maxStopTimeoutMills (an hour here).
TEST_F(WorkerTest, BlockedPollIsWokenByPauseAndStop) {
  registry_.add_source_connector<OneTaskSource<BlockingPollTask>>({"BlockingSource", {}, "1", ""});
  start_worker({{"maxStopTimeoutMills", "3600000"}});
  ASSERT_TRUE(
      worker_
          ->put_connector("blocking",
                          {{"connector.class", "BlockingSource"}, {"connect.topicname", "t"}}, {})
          .ok());
  ASSERT_TRUE(eventually([] { return g_wake.polls.load() >= 1; })) << "poll() never called";
  ASSERT_TRUE(worker_->set_target_state("blocking", TargetState::kPaused).ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("blocking") == RunState::kPaused; }))
      << "the blocked poll() was not woken by the pause";
  EXPECT_GE(g_wake.wakeups.load(), 1);
  const int polls = g_wake.polls.load();
  ASSERT_TRUE(worker_->set_target_state("blocking", TargetState::kStarted).ok());
  ASSERT_TRUE(eventually([&] { return g_wake.polls.load() > polls; })) << "no poll after resume";

  ASSERT_TRUE(worker_->delete_connector("blocking").ok());
  EXPECT_EQ(g_wake.stops.load(), 1) << "the task was abandoned instead of stopped";
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

// A connector that finds more work (a new table) asks for new task configs: the worker asks
// task_configs() again and restarts the tasks only; the connector itself keeps running.
struct Tables {
  std::atomic<int> count{1};
  std::atomic<int> connector_starts{0};
  std::mutex mutex;
  ConnectorContext* context = nullptr;
};
Tables g_tables;

class TableSource : public SourceConnector {
 public:
  void start(const KeyValue&) override {
    ++g_tables.connector_starts;
    std::lock_guard lock(g_tables.mutex);
    g_tables.context = context();
  }
  void stop() override {
    std::lock_guard lock(g_tables.mutex);
    g_tables.context = nullptr;
  }
  std::vector<KeyValue> task_configs(int max_tasks) override {
    std::vector<KeyValue> out;
    for (int i = 0; i < std::min(g_tables.count.load(), max_tasks); ++i) {
      out.push_back(KeyValue{{"table", "t" + std::to_string(i)}});
    }
    return out;
  }
  std::string task_class() const override { return "TableTask"; }
  std::unique_ptr<Task> create_task() const override {
    return std::make_unique<ControlledPollTask>();
  }
};

TEST_F(WorkerTest, ConnectorAskedForTaskReconfiguration) {
  registry_.add_source_connector<TableSource>({"TableSource", {}, "1", ""});
  start_worker({});
  g_poll.hang = false;
  ASSERT_TRUE(
      worker_
          ->put_connector(
              "tables",
              {{"connector.class", "TableSource"}, {"connect.topicname", "t"}, {"max.tasks", "4"}},
              {})
          .ok());
  auto task_count = [&] {
    auto s = worker_->connector_state("tables");
    return s.ok() ? s->tasks.size() : 0u;
  };
  ASSERT_EQ(task_count(), 1u);
  auto ask = [] {
    std::lock_guard lock(g_tables.mutex);
    ASSERT_NE(g_tables.context, nullptr);
    g_tables.context->request_task_reconfiguration();
  };

  g_tables.count = 3;
  ask();
  ASSERT_TRUE(eventually([&] { return task_count() == 3; })) << task_count();
  auto info = worker_->connector_info("tables");
  ASSERT_TRUE(info.ok());
  ASSERT_EQ(info->task_configs.size(), 3u);
  EXPECT_EQ(info->task_configs[2].get_string("table"), "t2");
  EXPECT_TRUE(eventually([&] {
    auto s = worker_->connector_state("tables");
    if (!s.ok()) return false;
    for (const auto& t : s->tasks) {
      if (t.state != RunState::kRunning) return false;
    }
    return true;
  }));
  EXPECT_EQ(g_tables.connector_starts.load(), 1) << "the connector was restarted";

  // Capped by max.tasks; an unchanged answer leaves the tasks alone.
  g_tables.count = 9;
  ask();
  ASSERT_TRUE(eventually([&] { return task_count() == 4; })) << task_count();
  const int starts = g_poll.starts.load();
  ask();
  std::this_thread::sleep_for(200ms);
  g_tables.count = 2;
  ask();
  ASSERT_TRUE(eventually([&] { return task_count() == 2; })) << task_count();
  // Tasks 0 and 1 kept their configs: they run on untouched, only tasks 2 and 3 stopped.
  EXPECT_EQ(g_poll.starts.load(), starts) << "tasks restarted although their configs are the same";
  EXPECT_EQ(worker_->task_state("tables", 0)->state, RunState::kRunning);
  EXPECT_EQ(g_tables.connector_starts.load(), 1);
}

// A source that produces numbered records from one partition, 100 per poll.
class NumberSource : public SourceTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    std::this_thread::sleep_for(5ms);
    std::vector<ConnectRecord> out;
    for (int i = 0; i < 100; ++i) {
      ++n_;
      out.emplace_back(RecordPartition{{"numbers", std::string("all")}}, RecordOffset{{"n", n_}},
                       std::nullopt, nullptr, Value("r" + std::to_string(n_)));
    }
    return out;
  }

 private:
  std::int64_t n_ = 0;
};

// The broker goes away under a running source (errors.tolerance=all): when the connector is
// stopped, records the broker never took must not be tolerated away. The committed position
// stays within what the broker stored, so a restart sends them again.
TEST_F(WorkerTest, StopDuringABrokerOutageKeepsUnsentRecords) {
  registry_.add_source_connector<OneTaskSource<NumberSource>>({"NumberSource", {}, "1", ""});
  start_worker({{"offsetCommitIntervalMsConfig", "100"},
                {"operationTimeout", "500"},
                {"maxStopTimeoutMills", "10000"},
                {"offsetCommitTimeoutMsConfig", "1000"},
                {"valueConverter", "StringConverter"}});
  ASSERT_TRUE(worker_
                  ->put_connector("numbers",
                                  {{"connector.class", "NumberSource"},
                                   {"connect.topicname", "numbers"},
                                   {"errors.tolerance", "all"}},
                                  {})
                  .ok());
  auto committed = [&]() -> std::int64_t {
    auto offsets = worker_->connector_offsets("numbers");
    if (!offsets.ok() || offsets->empty()) return 0;
    std::int64_t n = 0;
    const Value* v = (*offsets)[0].offset.find("n");
    return v && v->to_int64(n) ? n : 0;
  };
  ASSERT_TRUE(eventually([&] { return committed() >= 500; })) << committed();

  const std::string store = (dir_ / "broker").string();
  broker_->stop();
  std::this_thread::sleep_for(1500ms);  // sends fail (retriably) and pile up
  ASSERT_TRUE(worker_->set_target_state("numbers", TargetState::kStopped).ok());
  const std::int64_t position = committed();

  // What did the broker store? Start it again on the same store.
  broker::EmbeddedBrokerOptions bo;
  bo.store.dir = store;
  bo.store.commit_log_segment_bytes = 8 << 20;
  bo.namesrv_port = 0;
  bo.broker_port = 0;
  bo.vip_port = false;
  auto again = broker::EmbeddedBroker::start(bo);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  rocketmq::ClientConfig client;
  client.namesrv_addr = (*again)->namesrv_addr();
  auto admin = rocketmq::Admin::start(client);
  ASSERT_TRUE(admin.ok());
  std::int64_t stored = 0;
  ASSERT_TRUE(eventually([&] {
    auto status = (*admin)->topic_status("numbers");
    if (!status.ok()) return false;
    stored = 0;
    for (const auto& q : *status) stored += q.max_offset;
    return stored > 0;
  }));
  EXPECT_GE(position, 500);
  std::printf("outage: position %lld, stored %lld\n", static_cast<long long>(position),
              static_cast<long long>(stored));
  EXPECT_LE(position, stored) << "the position passed records the broker never stored";
  (*again)->stop();
}

// A source task whose poll() returns records() once, then nothing.
class OnceSourceTask : public SourceTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    if (done_) {
      std::this_thread::sleep_for(10ms);
      return {};
    }
    done_ = true;
    return records();
  }

 protected:
  virtual std::vector<ConnectRecord> records() = 0;

 private:
  bool done_ = false;
};

// A keyed record with a null value (a deletion) cannot become a RocketMQ message: it is an
// error under errors.tolerance (FAILED with none, passed over with all), never dropped quietly.
class TombstoneSource : public OnceSourceTask {
 public:
  std::vector<ConnectRecord> records() override {
    std::vector<ConnectRecord> out;
    out.emplace_back(RecordPartition{{"t", std::string("t")}}, RecordOffset{{"n", std::int64_t{1}}},
                     std::nullopt, nullptr, Value(std::string("k")), nullptr,
                     Value(std::string("v")));
    out.emplace_back(RecordPartition{{"t", std::string("t")}}, RecordOffset{{"n", std::int64_t{2}}},
                     std::nullopt, nullptr, Value(std::string("k")), nullptr, Value());
    return out;
  }
};

TEST_F(WorkerTest, TombstonesAreErrorsUnderTolerance) {
  registry_.add_source_connector<OneTaskSource<TombstoneSource>>({"TombstoneSource", {}, "1", ""});
  start_worker({{"offsetCommitIntervalMsConfig", "100"},
                {"keyConverter", "StringConverter"},
                {"valueConverter", "StringConverter"}});
  ASSERT_TRUE(worker_
                  ->put_connector(
                      "strict",
                      {{"connector.class", "TombstoneSource"}, {"connect.topicname", "tombstones"}},
                      {})
                  .ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("strict") == RunState::kFailed; }));
  auto failed = worker_->task_state("strict", 0);
  ASSERT_TRUE(failed.ok() && failed->trace.has_value());
  EXPECT_NE(failed->trace->find("tombstone"), std::string::npos) << *failed->trace;

  ASSERT_TRUE(worker_
                  ->put_connector("lenient",
                                  {{"connector.class", "TombstoneSource"},
                                   {"connect.topicname", "tombstones"},
                                   {"errors.tolerance", "all"}},
                                  {})
                  .ok());
  EXPECT_TRUE(eventually([&] {
    auto offsets = worker_->connector_offsets("lenient");
    std::int64_t n = 0;
    return offsets.ok() && offsets->size() == 1 && (*offsets)[0].offset.find("n") &&
           (*offsets)[0].offset.find("n")->to_int64(n) && n == 2;
  })) << "the position did not move past the tolerated tombstone";
  EXPECT_EQ(task_run_state("lenient"), RunState::kRunning);
}

// A source that reads input it cannot decode: the record before it is returned by the first
// poll(); the next poll() hands the bad input to the runtime's error reporter (or fails without
// one: errors.tolerance=none) and returns the record after it.
class BadInputSource : public SourceTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    auto at = [](std::int64_t n) {
      return std::pair(RecordPartition{{"t", std::string("t")}}, RecordOffset{{"n", n}});
    };
    std::vector<ConnectRecord> out;
    if (step_ == 0) {
      auto [p, o] = at(1);
      out.emplace_back(p, o, std::nullopt, nullptr, Value(std::string("first")));
    } else if (step_ == 1) {
      ErrorRecordReporter* reporter = context()->error_record_reporter();
      if (reporter == nullptr) throw ConnectException("undecodable input at n=2");
      auto [p, o] = at(2);
      ConnectRecord bad(p, o, std::nullopt, nullptr, Value(Bytes{0x00, 0xff, 0x10}));
      bad.set_topic("bad-input");
      reporter->report(bad, "undecodable input at n=2");
      auto [p3, o3] = at(3);
      out.emplace_back(p3, o3, std::nullopt, nullptr, Value(std::string("third")));
    } else {
      std::this_thread::sleep_for(10ms);
    }
    ++step_;
    return out;
  }

 private:
  int step_ = 0;
};

TEST_F(WorkerTest, SourceTasksReportUndecodableInputToTheDeadLetterQueue) {
  registry_.add_source_connector<OneTaskSource<BadInputSource>>({"BadInputSource", {}, "1", ""});
  start_worker({{"offsetCommitIntervalMsConfig", "100"},
                {"keyConverter", "StringConverter"},
                {"valueConverter", "StringConverter"}});
  ASSERT_TRUE(worker_
                  ->put_connector(
                      "strict",
                      {{"connector.class", "BadInputSource"}, {"connect.topicname", "decoded"}}, {})
                  .ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("strict") == RunState::kFailed; }));
  auto failed = worker_->task_state("strict", 0);
  ASSERT_TRUE(failed.ok() && failed->trace.has_value());
  EXPECT_NE(failed->trace->find("undecodable input at n=2"), std::string::npos) << *failed->trace;

  ASSERT_TRUE(worker_
                  ->put_connector("lenient",
                                  {{"connector.class", "BadInputSource"},
                                   {"connect.topicname", "decoded"},
                                   {"errors.tolerance", "all"},
                                   {"errors.deadletterqueue.topic.name", "bad-dlq"}},
                                  {})
                  .ok());
  EXPECT_TRUE(eventually([&] {
    auto offsets = worker_->connector_offsets("lenient");
    std::int64_t n = 0;
    return offsets.ok() && offsets->size() == 1 && (*offsets)[0].offset.find("n") &&
           (*offsets)[0].offset.find("n")->to_int64(n) && n == 3;
  })) << "the position did not move past the reported input";
  EXPECT_EQ(task_run_state("lenient"), RunState::kRunning);
  rocketmq::ConsumerConfig cc;
  cc.client = client_;
  cc.group = "check-bad-dlq";
  cc.consume_from = rocketmq::ConsumeFromWhere::kFirstOffset;
  auto consumer = rocketmq::LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe("bad-dlq").ok());
  std::vector<rocketmq::MessageExt> messages;
  eventually([&] {
    auto polled = (*consumer)->poll(100ms);
    if (polled.ok()) {
      for (auto& m : *polled) messages.push_back(std::move(m));
    }
    return !messages.empty();
  });
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(std::string(messages[0].body()), std::string("\x00\xff\x10", 3));
  EXPECT_EQ(messages[0].property("__connect.errors.topic"), "bad-input");
  EXPECT_EQ(messages[0].property("__connect.errors.stage"), "TASK_POLL");
  EXPECT_EQ(messages[0].property("__connect.errors.exception.message"), "undecodable input at n=2");
  (*consumer)->shutdown();
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

template <typename TaskT>
class OneTaskSink : public SinkConnector {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {KeyValue{}}; }
  std::string task_class() const override { return "TestSinkTask"; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<TaskT>(); }
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

// A source whose records carry keys, tags, a header and one its own topic: the worker sends
// each as a message with KEYS, TAGS and the property, same key -> same queue, and tells the task
// where each landed through commit(record, metadata).
struct SourceCommits {
  std::mutex mutex;
  std::vector<std::pair<ConnectRecord, RecordMetadata>> acked;
  int commits = 0;  // commit() after a position commit
};
SourceCommits g_source;
constexpr int kSourceRecords = 60;

class KeyedSourceTask : public OnceSourceTask {
 public:
  std::vector<ConnectRecord> records() override {
    std::vector<ConnectRecord> out;
    for (int i = 0; i < kSourceRecords; ++i) {
      ConnectRecord r(RecordPartition{{"file", std::string("f")}},
                      RecordOffset{{"line", std::int64_t{i + 1}}}, std::nullopt, nullptr,
                      Value(std::string("k") + std::to_string(i % 3)), nullptr,
                      Value("v" + std::to_string(i)));
      r.add_extension("color", "c" + std::to_string(i));
      r.add_extension("tags", "TagA");
      if (i == kSourceRecords - 1) r.set_topic("other-topic");
      out.push_back(std::move(r));
    }
    // Last, a record without payload (a blank line): RocketMQ cannot carry an empty body, so it
    // becomes no message, but the task keeps running and the position moves past it.
    out.emplace_back(RecordPartition{{"file", std::string("f")}},
                     RecordOffset{{"line", std::int64_t{kSourceRecords + 1}}}, std::nullopt,
                     nullptr, Value(std::string("k0")), nullptr, Value(std::string()));
    return out;
  }
  void commit(const ConnectRecord& record, const RecordMetadata& metadata) override {
    std::lock_guard lock(g_source.mutex);
    g_source.acked.emplace_back(record, metadata);
  }
  void commit() override {
    std::lock_guard lock(g_source.mutex);
    ++g_source.commits;
  }
};

// Records of one sharding key land on one queue whatever their keys; the messages keep the keys.
std::mutex g_sharded_mutex;
std::vector<std::pair<ConnectRecord, RecordMetadata>> g_sharded;
constexpr int kShardedRecords = 40;

class ShardedSourceTask : public OnceSourceTask {
 public:
  std::vector<ConnectRecord> records() override {
    std::vector<ConnectRecord> out;
    for (int i = 0; i < kShardedRecords; ++i) {
      ConnectRecord r(RecordPartition{{"p", std::int64_t{i % 2}}},
                      RecordOffset{{"o", std::int64_t{i}}}, std::nullopt, nullptr,
                      Value("key-" + std::to_string(i)), nullptr, Value("v" + std::to_string(i)));
      r.add_extension(std::string(ConnectRecord::kShardingKeyExtension),
                      "part-" + std::to_string(i % 2));
      out.push_back(std::move(r));
    }
    return out;
  }
  void commit(const ConnectRecord& record, const RecordMetadata& metadata) override {
    std::lock_guard lock(g_sharded_mutex);
    g_sharded.emplace_back(record, metadata);
  }
};

TEST_F(WorkerTest, ShardingKeyPicksTheQueue) {
  registry_.add_source_connector<OneTaskSource<ShardedSourceTask>>({"ShardedSource", {}, "1", ""});
  start_worker({{"keyConverter", "StringConverter"}, {"valueConverter", "StringConverter"}});
  auto admin = rocketmq::Admin::start(client_);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->create_topic("sharded-topic", 8).ok());
  ASSERT_TRUE(
      worker_
          ->put_connector(
              "sharded",
              {{"connector.class", "ShardedSource"}, {"connect.topicname", "sharded-topic"}}, {})
          .ok());
  ASSERT_TRUE(eventually([] {
    std::lock_guard lock(g_sharded_mutex);
    return g_sharded.size() == kShardedRecords;
  })) << "not every record was acknowledged";
  std::map<std::string, std::int32_t> queue_of_shard;
  std::map<std::string, std::int64_t> last_offset;
  std::lock_guard lock(g_sharded_mutex);
  for (const auto& [record, meta] : g_sharded) {
    const std::string shard = *record.extension(ConnectRecord::kShardingKeyExtension);
    auto [it, fresh] = queue_of_shard.emplace(shard, meta.queue_id);
    EXPECT_EQ(it->second, meta.queue_id) << record.key.to_string() << " left its shard's queue";
    // In order within the shard: queue offsets grow with the record order.
    EXPECT_GT(meta.queue_offset, last_offset.count(shard) ? last_offset[shard] : -1);
    last_offset[shard] = meta.queue_offset;
  }
  EXPECT_EQ(queue_of_shard.size(), 2u);
}

TEST_F(WorkerTest, SourceRecordsBecomeMessages) {
  registry_.add_source_connector<OneTaskSource<KeyedSourceTask>>({"KeyedSource", {}, "1", ""});
  start_worker({{"offsetCommitIntervalMsConfig", "100"},
                {"keyConverter", "StringConverter"},
                {"valueConverter", "StringConverter"}});
  auto admin = rocketmq::Admin::start(client_);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->create_topic("src-topic", 4).ok());
  ASSERT_TRUE(
      worker_
          ->put_connector(
              "keyed", {{"connector.class", "KeyedSource"}, {"connect.topicname", "src-topic"}}, {})
          .ok());
  ASSERT_TRUE(eventually([] {
    std::lock_guard lock(g_source.mutex);
    return g_source.acked.size() == kSourceRecords && g_source.commits > 0;
  })) << "not every record was acknowledged";
  // The position of the last record is committed.
  ASSERT_TRUE(eventually([&] {
    auto offsets = worker_->connector_offsets("keyed");
    if (!offsets.ok() || offsets->size() != 1) return false;
    const Value* line = (*offsets)[0].offset.find("line");
    std::int64_t n = 0;
    return line && line->to_int64(n) && n == kSourceRecords + 1;
  })) << "the position did not move past the record without payload";
  EXPECT_EQ(task_run_state("keyed"), RunState::kRunning);

  std::map<std::string, std::int32_t> queue_of_key;
  std::map<std::pair<std::int32_t, std::int64_t>, std::string> body_at;  // src-topic only
  {
    std::lock_guard lock(g_source.mutex);
    for (const auto& [record, meta] : g_source.acked) {
      const std::string value = record.value.to_string();
      EXPECT_FALSE(meta.msg_id.empty()) << value;
      EXPECT_EQ(meta.broker_name, "broker-a") << value;
      EXPECT_GE(meta.queue_offset, 0) << value;
      if (value == "v" + std::to_string(kSourceRecords - 1)) {
        EXPECT_EQ(meta.topic, "other-topic");
        continue;
      }
      EXPECT_EQ(meta.topic, "src-topic") << value;
      auto [it, fresh] = queue_of_key.emplace(record.key.to_string(), meta.queue_id);
      EXPECT_EQ(it->second, meta.queue_id) << "key " << record.key.to_string() << " moved queue";
      EXPECT_TRUE(body_at.emplace(std::pair{meta.queue_id, meta.queue_offset}, value).second)
          << "two records at one queue offset";
    }
  }
  EXPECT_EQ(queue_of_key.size(), 3u);

  // The messages carry what the records did, at the queue offsets the task was told.
  rocketmq::ConsumerConfig cc;
  cc.client = client_;
  cc.group = "check-src";
  cc.consume_from = rocketmq::ConsumeFromWhere::kFirstOffset;
  auto consumer = rocketmq::LitePullConsumer::start(cc);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*consumer)->subscribe("src-topic").ok());
  std::vector<rocketmq::MessageExt> messages;
  eventually([&] {
    auto polled = (*consumer)->poll(100ms);
    if (polled.ok()) {
      for (auto& m : *polled) messages.push_back(std::move(m));
    }
    return messages.size() >= kSourceRecords - 1;
  });
  ASSERT_EQ(messages.size(), static_cast<std::size_t>(kSourceRecords - 1));
  for (const auto& m : messages) {
    std::string body(m.body());
    const int i = std::stoi(body.substr(1));
    EXPECT_EQ(m.keys(), "k" + std::to_string(i % 3)) << body;
    EXPECT_EQ(m.tags(), "TagA") << body;
    EXPECT_EQ(m.property("color"), "c" + std::to_string(i)) << body;
    EXPECT_EQ(body_at[std::pair(m.queue_id(), m.queue_offset())], body);
  }
  (*consumer)->shutdown();
}

// What a sink task may ask of its context: a RetriableException from put() gets the same batch
// again; assignment(); reset_offset() rewinds; pause()/resume() of one queue; the error
// reporter sends to the dead letter queue. Actions run on the task's thread, from put() or the
// periodic pre_commit().
struct ScriptedSink {
  std::mutex mutex;
  std::vector<std::pair<std::int32_t, std::int64_t>> seen;     // (queue id, offset) put, in order
  std::vector<std::pair<std::int32_t, std::int64_t>> refused;  // the batch put() threw for
  int throw_retriable = 0;
  std::deque<std::function<void(SinkTaskContext&)>> actions;
  std::optional<ConnectRecord> last;
};
ScriptedSink g_scripted;

std::pair<std::int32_t, std::int64_t> where(const ConnectRecord& r) {
  std::int64_t q = -1, o = -1;
  r.position.partition.find("queueId")->to_int64(q);
  r.position.offset.find("queueOffset")->to_int64(o);
  return {static_cast<std::int32_t>(q), o};
}

class ScriptedSinkTask : public SinkTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  void put(std::vector<ConnectRecord>& records) override {
    run_actions();
    std::lock_guard lock(g_scripted.mutex);
    if (g_scripted.throw_retriable > 0) {
      --g_scripted.throw_retriable;
      for (const auto& r : records) g_scripted.refused.push_back(where(r));
      throw RetriableException("downstream busy");
    }
    for (const auto& r : records) g_scripted.seen.push_back(where(r));
    if (!records.empty()) g_scripted.last = records.back();
  }
  OffsetMap pre_commit(const OffsetMap& current) override {
    run_actions();
    return current;
  }

 private:
  void run_actions() {
    std::deque<std::function<void(SinkTaskContext&)>> todo;
    {
      std::lock_guard lock(g_scripted.mutex);
      todo.swap(g_scripted.actions);
    }
    for (auto& a : todo) a(*context());
  }
};

TEST_F(WorkerTest, SinkTaskContextWorks) {
  const std::string topic = "ctx-topic";
  auto admin = rocketmq::Admin::start(client_);
  ASSERT_TRUE(admin.ok());
  ASSERT_TRUE((*admin)->create_topic(topic, 2).ok());
  rocketmq::ProducerConfig pc;
  pc.client = client_;
  auto producer = rocketmq::Producer::start(pc);
  ASSERT_TRUE(producer.ok());
  auto produce = [&](int n) {
    for (int i = 0; i < n; ++i) {
      rocketmq::Message m(topic, "m" + std::to_string(i), "", "key-" + std::to_string(i));
      m.properties["origin"] = "test";
      ASSERT_TRUE((*producer)->send(m).ok());
    }
  };
  produce(20);  // round robin: 10 per queue

  registry_.add_sink_connector<OneTaskSink<ScriptedSinkTask>>({"ScriptedSink", {}, "1", ""});
  start_worker({{"offsetCommitIntervalMsConfig", "100"},
                {"keyConverter", "StringConverter"},
                {"valueConverter", "StringConverter"}});
  {
    std::lock_guard lock(g_scripted.mutex);
    g_scripted.throw_retriable = 1;
  }
  ASSERT_TRUE(worker_
                  ->put_connector("ctx",
                                  {{"connector.class", "ScriptedSink"},
                                   {"connect.topicnames", topic},
                                   {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"},
                                   {"errors.tolerance", "all"},
                                   {"errors.deadletterqueue.topic.name", "ctx-dlq"}},
                                  {})
                  .ok());
  auto seen_count = [] {
    std::lock_guard lock(g_scripted.mutex);
    return g_scripted.seen.size();
  };
  auto run = [](std::function<void(SinkTaskContext&)> action) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    {
      std::lock_guard lock(g_scripted.mutex);
      g_scripted.actions.push_back([action = std::move(action), done](SinkTaskContext& c) {
        action(c);
        *done = true;
      });
    }
    return eventually([&] { return done->load(); });
  };
  ASSERT_TRUE(eventually([&] { return seen_count() == 20; })) << seen_count();
  {
    // The refused batch came again, unchanged, before anything else.
    std::lock_guard lock(g_scripted.mutex);
    ASSERT_FALSE(g_scripted.refused.empty());
    std::vector<std::pair<std::int32_t, std::int64_t>> first(
        g_scripted.seen.begin(),
        g_scripted.seen.begin() + static_cast<std::ptrdiff_t>(g_scripted.refused.size()));
    EXPECT_EQ(first, g_scripted.refused);
  }

  std::vector<RecordPartition> assigned;
  ASSERT_TRUE(run([&](SinkTaskContext& c) { assigned = c.assignment(); }));
  ASSERT_EQ(assigned.size(), 2u);
  for (const auto& p : assigned) EXPECT_EQ(p.find("topic")->as_string(), topic);
  auto queue_id = [](const RecordPartition& p) {
    std::int64_t q = -1;
    p.find("queueId")->to_int64(q);
    return static_cast<std::int32_t>(q);
  };
  const RecordPartition rewound = assigned[0], paused = assigned[1];

  // reset_offset: offsets 5..9 of the first queue again.
  ASSERT_TRUE(run([&](SinkTaskContext& c) {
    c.reset_offset(rewound, RecordOffset{{"queueOffset", std::int64_t{5}}});
  }));
  ASSERT_TRUE(eventually([&] { return seen_count() == 25; })) << seen_count();
  {
    std::lock_guard lock(g_scripted.mutex);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(g_scripted.seen[20 + i], std::pair(queue_id(rewound), std::int64_t{5 + i}));
    }
  }

  // pause one queue: new messages come from the other only, until resume.
  ASSERT_TRUE(run([&](SinkTaskContext& c) { c.pause({paused}); }));
  produce(10);
  ASSERT_TRUE(eventually([&] { return seen_count() == 30; })) << seen_count();
  std::this_thread::sleep_for(300ms);  // give a paused queue the chance to deliver wrongly
  {
    std::lock_guard lock(g_scripted.mutex);
    EXPECT_EQ(g_scripted.seen.size(), 30u);
    for (std::size_t i = 25; i < g_scripted.seen.size(); ++i) {
      EXPECT_EQ(g_scripted.seen[i].first, queue_id(rewound)) << "from the paused queue";
    }
  }
  ASSERT_TRUE(run([&](SinkTaskContext& c) { c.resume({paused}); }));
  ASSERT_TRUE(eventually([&] { return seen_count() == 35; })) << seen_count();

  // A message becomes a record: value from the body, key from KEYS, properties as extensions,
  // partition {topic, brokerName, queueId}, offset {queueOffset}.
  {
    std::lock_guard lock(g_scripted.mutex);
    ASSERT_TRUE(g_scripted.last.has_value());
    const ConnectRecord& r = *g_scripted.last;
    const std::string value = r.value.to_string();
    ASSERT_EQ(value.rfind("m", 0), 0u) << value;
    EXPECT_EQ(r.key.to_string(), "key-" + value.substr(1));
    ASSERT_NE(r.extension("origin"), nullptr);
    EXPECT_EQ(*r.extension("origin"), "test");
    EXPECT_EQ(r.topic(), topic);
    EXPECT_EQ(r.position.partition.find("brokerName")->as_string(), "broker-a");
    EXPECT_NE(r.position.offset.find("queueOffset"), nullptr);
  }

  // The error reporter delivers to the dead letter queue.
  ASSERT_TRUE(run([&](SinkTaskContext& c) {
    ErrorRecordReporter* reporter = c.error_record_reporter();
    ASSERT_NE(reporter, nullptr);
    std::lock_guard lock(g_scripted.mutex);
    reporter->report(*g_scripted.last, "rejected downstream");
  }));
  EXPECT_TRUE(eventually([&] {
    auto status = (*admin)->topic_status("ctx-dlq");
    if (!status.ok()) return false;
    std::int64_t n = 0;
    for (const auto& q : *status) n += q.max_offset;
    return n == 1;
  })) << "the reported record did not reach the dead letter queue";
}

// A source task whose poll() throws RetriableException while g_unreachable is set.
std::atomic<bool> g_unreachable{false};
std::atomic<int> g_unreachable_polls{0};

class UnreachableSourceTask : public SourceTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    if (g_unreachable.load()) {
      ++g_unreachable_polls;
      throw RetriableException("target unreachable (test)");
    }
    std::this_thread::sleep_for(10ms);
    return {};
  }
};

// A RetriableException from poll() is retried without end: the task stays RUNNING, its trace
// says why and since when, and is cleared once poll() succeeds again.
TEST_F(WorkerTest, RetriablePollFailureShowsInTheTraceUntilItSucceeds) {
  registry_.add_source_connector<OneTaskSource<UnreachableSourceTask>>(
      {"UnreachableSource", {}, "1", ""});
  start_worker({});
  g_unreachable = true;
  g_unreachable_polls = 0;
  ASSERT_TRUE(worker_
                  ->put_connector(
                      "retrying",
                      {{"connector.class", "UnreachableSource"}, {"connect.topicname", "t"}}, {})
                  .ok());
  auto trace = [&]() -> std::string {
    auto t = worker_->task_state("retrying", 0);
    return t.ok() && t->trace ? *t->trace : std::string();
  };
  ASSERT_TRUE(eventually([&] { return g_unreachable_polls.load() >= 3; }))
      << "poll() was not retried";
  EXPECT_EQ(task_run_state("retrying"), RunState::kRunning);
  EXPECT_EQ(trace().rfind("target unreachable (test) (retrying since 20", 0), 0u) << trace();
  g_unreachable = false;
  ASSERT_TRUE(eventually([&] { return trace().empty(); })) << trace();
  EXPECT_EQ(task_run_state("retrying"), RunState::kRunning);
  ASSERT_TRUE(worker_->delete_connector("retrying").ok());
}

// --- Operations: health, automatic restarts, metrics (docs/operations.md) ---

// A source task whose start() throws while g_flaky.fail_left is positive.
struct FlakyControl {
  std::atomic<int> fail_left{0};
  std::atomic<int> starts{0};
};
FlakyControl g_flaky;

class FlakyStartTask : public SourceTask {
 public:
  void start(const KeyValue&) override {
    ++g_flaky.starts;
    if (g_flaky.fail_left.fetch_sub(1) > 0) throw ConnectException("flaky start");
  }
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    std::this_thread::sleep_for(5ms);
    return {};
  }
};

TEST_F(WorkerTest, HealthIsStartingUntilRestoredThenHealthy) {
  start_worker({});
  EXPECT_EQ(worker_->health().status, WorkerHealth::Status::kStarting);
  ASSERT_TRUE(worker_->restore().ok());
  auto h = worker_->health();
  EXPECT_EQ(h.status, WorkerHealth::Status::kHealthy) << h.message;
  worker_->stop();
  EXPECT_EQ(worker_->health().status, WorkerHealth::Status::kStopping);
}

// A task that fails twice and then starts is restarted with backoff; its status shows the
// attempts and the last error, and the worker counts the restarts.
TEST_F(WorkerTest, FailedTaskIsRestartedAutomatically) {
  g_flaky.fail_left = 2;
  g_flaky.starts = 0;
  registry_.add_source_connector<OneTaskSource<FlakyStartTask>>({"FlakyConnector", {}, "1", ""});
  start_worker({{"taskAutoRestartInitialBackoffMs", "50"}, {"taskAutoRestartMaxBackoffMs", "200"}});
  ASSERT_TRUE(
      worker_
          ->put_connector("flaky",
                          {{"connector.class", "FlakyConnector"}, {"connect.topicname", "t"}}, {})
          .ok());
  ASSERT_TRUE(eventually([&] {
    return g_flaky.starts.load() == 3 && task_run_state("flaky") == RunState::kRunning;
  })) << "starts: "
      << g_flaky.starts.load();
  auto info = worker_->task_restart_info("flaky", 0);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->attempts, 2);
  EXPECT_NE(info->last_error.find("flaky start"), std::string::npos) << info->last_error;
  EXPECT_FALSE(info->exhausted);
  EXPECT_FALSE(info->next_attempt_ms.has_value());
  EXPECT_EQ(worker_->worker_metrics().task_auto_restarts, 2u);
  EXPECT_EQ(g_flaky.starts.load(), 3);
}

// taskAutoRestartMaxAttempts: after that many restarts the task stays FAILED, marked exhausted.
TEST_F(WorkerTest, AutoRestartsStopAtMaxAttempts) {
  g_flaky.fail_left = 1000;
  g_flaky.starts = 0;
  registry_.add_source_connector<OneTaskSource<FlakyStartTask>>({"FlakyConnector", {}, "1", ""});
  start_worker({{"taskAutoRestartInitialBackoffMs", "20"},
                {"taskAutoRestartMaxBackoffMs", "40"},
                {"taskAutoRestartMaxAttempts", "3"}});
  ASSERT_TRUE(
      worker_
          ->put_connector("flaky",
                          {{"connector.class", "FlakyConnector"}, {"connect.topicname", "t"}}, {})
          .ok());
  ASSERT_TRUE(eventually([&] {
    auto info = worker_->task_restart_info("flaky", 0);
    return info && info->exhausted;
  })) << "starts: "
      << g_flaky.starts.load();
  EXPECT_EQ(g_flaky.starts.load(), 4);  // the first start and three restarts
  EXPECT_EQ(task_run_state("flaky"), RunState::kFailed);
  EXPECT_EQ(worker_->task_restart_info("flaky", 0)->attempts, 3);
}

// Off: a failed task stays FAILED until the user restarts it.
TEST_F(WorkerTest, AutoRestartDisabledLeavesTaskFailed) {
  g_flaky.fail_left = 1;
  g_flaky.starts = 0;
  registry_.add_source_connector<OneTaskSource<FlakyStartTask>>({"FlakyConnector", {}, "1", ""});
  start_worker({{"taskAutoRestartEnable", "false"}, {"taskAutoRestartInitialBackoffMs", "20"}});
  ASSERT_TRUE(
      worker_
          ->put_connector("flaky",
                          {{"connector.class", "FlakyConnector"}, {"connect.topicname", "t"}}, {})
          .ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("flaky") == RunState::kFailed; }));
  // Fifty backoff periods later: still FAILED, never started again.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(task_run_state("flaky"), RunState::kFailed);
  EXPECT_EQ(g_flaky.starts.load(), 1);
  EXPECT_FALSE(worker_->task_restart_info("flaky", 0).has_value());
  EXPECT_EQ(worker_->worker_metrics().task_auto_restarts, 0u);
  // The user's restart still works.
  ASSERT_TRUE(worker_->restart_task("flaky", 0).ok());
  EXPECT_TRUE(eventually([&] { return task_run_state("flaky") == RunState::kRunning; }));
}

// A FAILED task of a connector the user paused is left alone; resuming lets the policy act.
TEST_F(WorkerTest, PausedConnectorsFailedTaskIsNotRestarted) {
  g_flaky.fail_left = 1;
  g_flaky.starts = 0;
  registry_.add_source_connector<OneTaskSource<FlakyStartTask>>({"FlakyConnector", {}, "1", ""});
  start_worker({{"taskAutoRestartInitialBackoffMs", "50"}, {"taskAutoRestartMaxBackoffMs", "50"}});
  // Created paused: its task starts (and fails) but the user does not want it running.
  ASSERT_TRUE(worker_
                  ->put_connector(
                      "flaky", {{"connector.class", "FlakyConnector"}, {"connect.topicname", "t"}},
                      {.initial_state = TargetState::kPaused})
                  .ok());
  ASSERT_TRUE(eventually([&] { return task_run_state("flaky") == RunState::kFailed; }));
  std::this_thread::sleep_for(2500ms);  // a watcher round and fifty backoff periods
  EXPECT_EQ(g_flaky.starts.load(), 1);
  EXPECT_EQ(task_run_state("flaky"), RunState::kFailed);
  EXPECT_FALSE(worker_->task_restart_info("flaky", 0).has_value());
  ASSERT_TRUE(worker_->set_target_state("flaky", TargetState::kStarted).ok());
  EXPECT_TRUE(eventually([&] { return task_run_state("flaky") == RunState::kRunning; }));
  EXPECT_EQ(g_flaky.starts.load(), 2);
  EXPECT_EQ(worker_->task_restart_info("flaky", 0)->attempts, 1);
}

}  // namespace
}  // namespace rmqc::runtime
