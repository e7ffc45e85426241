// WorkerSinkTask on its own (no worker) against the embedded broker: thread names, the sink
// context's offset resets, which offsets a commit may carry, and that an idle sink blocks yet
// stops and pauses promptly.
#include "rmqc/api/sink_task.h"

#include "base/thread_name.h"
#include "broker/server/embedded_broker.h"
#include "converters/string_converter.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/producer.h"
#include "runtime/worker_task.h"
#include "testing/eventually.h"
#include "testing/task_fakes.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using rmqc::testing::eventually;

// Names of this process's threads (/proc/self/task/*/comm).
std::multiset<std::string> thread_names() {
  std::multiset<std::string> out;
  for (const auto& t : fs::directory_iterator("/proc/self/task")) {
    std::ifstream in(t.path() / "comm");
    std::string name;
    std::getline(in, name);
    out.insert(name);
  }
  return out;
}

// What the test's sink plugin does; the test sets the hooks before starting the task.
struct SinkHooks {
  std::mutex mutex;
  // Runs inside put() with the task's context (once per put).
  std::function<void(SinkTaskContext&, std::vector<ConnectRecord>&)> on_put;
  // Extra offsets pre_commit() returns besides current_offsets.
  OffsetMap extra_pre_commit;
  std::atomic<int> puts{0};
  std::atomic<int> records{0};
  std::atomic<int> wakeups{0};  // Task::wakeup() calls (the worker's stop and pause)
};
SinkHooks g_hooks;

class HookedSink final : public SinkTask {
 public:
  void start(const KeyValue&) override {}
  void stop() override {}
  void wakeup() override { ++g_hooks.wakeups; }
  void put(std::vector<ConnectRecord>& records) override {
    std::function<void(SinkTaskContext&, std::vector<ConnectRecord>&)> hook;
    {
      std::lock_guard lock(g_hooks.mutex);
      hook = g_hooks.on_put;
    }
    if (hook) hook(*context(), records);
    g_hooks.records += static_cast<int>(records.size());
    ++g_hooks.puts;
  }
  OffsetMap pre_commit(const OffsetMap& current) override {
    OffsetMap out = current;
    std::lock_guard lock(g_hooks.mutex);
    for (const auto& [p, o] : g_hooks.extra_pre_commit) out[p] = o;
    return out;
  }
};

class WorkerTaskSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      std::lock_guard lock(g_hooks.mutex);
      g_hooks.on_put = nullptr;
      g_hooks.extra_pre_commit.clear();
    }
    g_hooks.puts = 0;
    g_hooks.records = 0;
    g_hooks.wakeups = 0;
    broker::EmbeddedBrokerOptions bo;
    bo.store.dir = scratch_.file("broker");
    bo.store.commit_log_segment_bytes = 8 << 20;
    bo.namesrv_port = 0;
    bo.broker_port = 0;
    bo.vip_port = false;
    auto b = broker::EmbeddedBroker::start(bo);
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    broker_ = std::move(b).value();
    client_.namesrv_addr = broker_->namesrv_addr();
    auto admin = rocketmq::Admin::start(client_);
    ASSERT_TRUE(admin.ok()) << admin.error().to_string();
    admin_ = std::move(admin).value();
    ASSERT_TRUE(admin_->create_topic("in", 2).ok());
    ASSERT_TRUE(admin_->create_topic("elsewhere", 1).ok());  // no task of ours reads it
  }

  void TearDown() override {
    for (auto& t : tasks_) t->stop(5s);
    tasks_.clear();
    admin_.reset();
    if (broker_) broker_->stop();
  }

  std::shared_ptr<WorkerSinkTask> start_sink(const std::string& connector, int id,
                                             std::chrono::milliseconds commit_interval = 30s) {
    TaskSetup setup;
    setup.connector = connector;
    setup.task_id = id;
    setup.worker_id = "test";
    setup.connector_config =
        KeyValue{{"connect.topicnames", "in"}, {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}};
    setup.task = std::make_unique<HookedSink>();
    setup.key_converter = std::make_unique<converters::StringConverter>();
    setup.value_converter = std::make_unique<converters::StringConverter>();
    setup.commit_interval = commit_interval;
    setup.commit_timeout = 3s;
    setup.client = client_;
    auto task = std::make_shared<WorkerSinkTask>(std::move(setup));
    task->start();
    tasks_.push_back(task);
    return task;
  }

  // Running with both queues of "in" assigned.
  void wait_running(const std::shared_ptr<WorkerSinkTask>& task) {
    ASSERT_TRUE(eventually([&] {
      return task->state().state == RunState::kRunning && task->assignment().size() == 2;
    })) << "the sink task did not start with its queues";
  }

  void send(const std::string& body) {
    if (!producer_) {
      rocketmq::ProducerConfig pc;
      pc.client = client_;
      auto p = rocketmq::Producer::start(pc);
      ASSERT_TRUE(p.ok()) << p.error().to_string();
      producer_ = std::move(p).value();
    }
    auto sent = producer_->send(rocketmq::Message("in", body));
    ASSERT_TRUE(sent.ok()) << sent.error().to_string();
  }

  static RecordPartition elsewhere_partition(const std::shared_ptr<WorkerSinkTask>& task) {
    // Same broker as the task's queues, a topic the task does not read.
    auto owned = queue_of(task->assignment().front());
    return partition_of(rocketmq::MessageQueue{"elsewhere", owned->broker_name, 0});
  }

  std::int64_t broker_committed(const std::string& group, const RecordPartition& partition) {
    auto q = queue_of(partition);
    auto r = admin_->committed_offset(group, *q);
    return r.ok() ? *r : -1;
  }

  testing::ScratchDir scratch_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  rocketmq::ClientConfig client_;
  std::unique_ptr<rocketmq::Admin> admin_;
  std::unique_ptr<rocketmq::Producer> producer_;
  std::vector<std::shared_ptr<WorkerSinkTask>> tasks_;
};

TEST_F(WorkerTaskSinkTest, ThreadsCarryTheTaskName) {
  auto task = start_sink("names", 7);
  wait_running(task);
  auto names = thread_names();
  // The task's thread, its consumer's dispatch thread, its client's I/O and timer threads.
  for (const char* name : {"t:names-7", "p:names-7", "io:names-7", "cl:names-7"}) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  EXPECT_EQ(names.count("broker-hk"), 1u);
  EXPECT_GE(names.count("broker-io-0"), 1u);

  // A long connector name is shortened, the task id stays.
  auto long_task = start_sink("a-really-long-connector-name", 12);
  wait_running(long_task);
  const std::string expected = fit_thread_name("t:", "a-really-long-connector-name", "-12");
  EXPECT_EQ(expected, "t:a-really-l-12");
  EXPECT_EQ(thread_names().count(expected), 1u);
}

TEST_F(WorkerTaskSinkTest, ResetOffsetOfAQueueNotAssignedIsNotRecorded) {
  auto task = start_sink("reset", 0);
  wait_running(task);
  const RecordPartition foreign = elsewhere_partition(task);
  std::atomic<bool> reset{false};
  {
    std::lock_guard lock(g_hooks.mutex);
    g_hooks.on_put = [&](SinkTaskContext& context, std::vector<ConnectRecord>&) {
      if (reset.exchange(true)) return;
      // The seek fails (the task does not read "elsewhere"): the offset must not be recorded,
      // so it is never committed for this group.
      context.reset_offset(foreign, RecordOffset{{"queueOffset", std::int64_t{5}}});
    };
  }
  send("one");
  ASSERT_TRUE(eventually([] { return g_hooks.records.load() >= 1; }));
  ASSERT_TRUE(task->stop(5s));  // the final commit

  const auto committed = task->committed_offsets();
  EXPECT_EQ(committed.count(foreign), 0u) << "a failed reset_offset was committed";
  // (A broker answers 0, not "none", for a queue whose first message is still there.)
  EXPECT_NE(broker_committed("connect-reset", foreign), 5);
  // What put() accepted is committed as usual.
  bool owned_committed = false;
  for (const auto& [p, o] : committed) owned_committed |= queue_of(p)->topic == "in";
  EXPECT_TRUE(owned_committed);
}

TEST_F(WorkerTaskSinkTest, ResetOffsetOfAnAssignedQueueReadsItAgain) {
  auto task = start_sink("reseek", 0);
  wait_running(task);
  for (int i = 0; i < 4; ++i) send("m" + std::to_string(i));
  ASSERT_TRUE(eventually([] { return g_hooks.records.load() >= 4; }));
  // Read everything again from offset 0 of the queue of the next record.
  std::atomic<bool> reset{false};
  const int before = g_hooks.records.load();
  {
    std::lock_guard lock(g_hooks.mutex);
    g_hooks.on_put = [&](SinkTaskContext& context, std::vector<ConnectRecord>& records) {
      if (records.empty() || reset.exchange(true)) return;
      context.reset_offset(records.front().position.partition,
                           RecordOffset{{"queueOffset", std::int64_t{0}}});
    };
  }
  send("trigger");
  ASSERT_TRUE(eventually([&] { return reset.load() && g_hooks.records.load() > before + 1; }))
      << "the seek did not make the task read the queue again";
}

TEST_F(WorkerTaskSinkTest, PreCommitOffsetsOfQueuesNotAssignedAreDropped) {
  auto task = start_sink("precommit", 0, /*commit_interval=*/200ms);
  wait_running(task);
  const RecordPartition foreign = elsewhere_partition(task);
  {
    std::lock_guard lock(g_hooks.mutex);
    g_hooks.extra_pre_commit[foreign] = RecordOffset{{"queueOffset", std::int64_t{42}}};
  }
  send("one");
  ASSERT_TRUE(eventually([] { return g_hooks.records.load() >= 1; }));
  // The owned queue's offset reaches the broker; the made-up one never does.
  ASSERT_TRUE(eventually([&] {
    for (const auto& [p, o] : task->committed_offsets()) {
      if (queue_of(p)->topic == "in") return true;
    }
    return false;
  })) << "nothing was committed";
  ASSERT_TRUE(task->stop(5s));
  EXPECT_EQ(task->committed_offsets().count(foreign), 0u);
  EXPECT_NE(broker_committed("connect-precommit", foreign), 42)
      << "an offset of a queue the task does not own was committed";
}

// A stop that comes while put() runs: the batch put() took is committed by the final commit, or
// the next owner of the queues writes it again (what a whole-cluster restart showed).
TEST_F(WorkerTaskSinkTest, BatchPutWhileStoppingIsCommitted) {
  auto task = start_sink("stopput", 0);
  wait_running(task);
  std::thread stopper;
  std::atomic<bool> stop_started{false};
  {
    std::lock_guard lock(g_hooks.mutex);
    g_hooks.on_put = [&](SinkTaskContext&, std::vector<ConnectRecord>&) {
      if (stop_started.exchange(true)) return;
      stopper = std::thread([&] { task->stop(10s); });
      // stop() marks the task stopping before it wakes the plugin: once woken, the stop is on.
      while (g_hooks.wakeups.load() == 0) std::this_thread::sleep_for(1ms);
    };
  }
  send("one");
  ASSERT_TRUE(eventually([] { return g_hooks.records.load() >= 1; }));
  ASSERT_TRUE(eventually([&] { return stop_started.load(); }));
  stopper.join();
  EXPECT_EQ(task->state().state, RunState::kUnassigned);
  std::int64_t committed_in = 0;
  for (const auto& [p, o] : task->committed_offsets()) {
    std::int64_t n = 0;
    if (queue_of(p)->topic == "in" && o.find("queueOffset")->to_int64(n)) committed_in += n;
  }
  EXPECT_EQ(committed_in, 1) << "the record put() took during the stop was not committed";
}

// With nothing to read, the task blocks in poll() for up to the commit interval (30 s here);
// stop and pause must still take effect at once.
TEST_F(WorkerTaskSinkTest, IdleTaskStopsAndPausesPromptly) {
  auto task = start_sink("idle", 0);
  wait_running(task);
  std::this_thread::sleep_for(300ms);  // well inside a poll()
  task->set_paused(true);
  ASSERT_TRUE(eventually([&] { return task->state().state == RunState::kPaused; }, 2s))
      << "pausing an idle sink waited for its poll()";
  task->set_paused(false);
  ASSERT_TRUE(eventually([&] { return task->state().state == RunState::kRunning; }, 2s));
  std::this_thread::sleep_for(300ms);
  // The poll() blocks for up to 30 s: a stop that did not wake it would be abandoned after 3 s.
  EXPECT_TRUE(task->stop(3s)) << "stopping an idle sink waited for its poll()";
  // Records still arrive promptly after a restart: long polling holds the pull on the broker.
}

// Long polling: a record sent to an idle task is put() promptly, not after a poll interval.
TEST_F(WorkerTaskSinkTest, IdleTaskGetsARecordPromptly) {
  auto task = start_sink("latency", 0);
  wait_running(task);
  std::this_thread::sleep_for(1s);  // pulls parked on the broker, task blocked in poll()
  // The task's poll() blocks for up to 30 s: a record seen within 5 s came by long polling.
  send("now");
  ASSERT_TRUE(eventually([] { return g_hooks.records.load() >= 1; }, 5s));
}

}  // namespace
}  // namespace rmqc::runtime
