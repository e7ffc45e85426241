// DistributedWorker coordinators in one process, sharing one set of stores and told their
// membership by hand (StaticMembership): assignment, handover without overlap, a member cut off,
// task-count changes and target states issued on any member. The tasks send through a real
// embedded broker; the multi-process cluster over the config/status topics is tested in
// tests/integration/cluster_test.cc.
#include "runtime/distributed_worker.h"

#include "rmqc/api/errors.h"

#include "converters/builtin_converters.h"
#include "rocketmq/client/tests/test_env.h"
#include "runtime/storage/state_store.h"
#include "runtime/task_metrics.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
namespace rt = rocketmq::testing;
using namespace std::chrono_literals;

using rmqc::testing::eventually;

// Counts, per task id, how many instances run at once (the handover must never make it 2).
struct Overlap {
  std::mutex mutex;
  std::map<std::string, int> running;
  int max_running = 0;
  std::atomic<int> starts{0};
};
Overlap g_overlap;

class CountingTask : public SourceTask {
 public:
  void start(const KeyValue& config) override {
    id_ = config.get_string("connector.name") + "-" + config.get_string("task.id");
    std::lock_guard lock(g_overlap.mutex);
    g_overlap.max_running = std::max(g_overlap.max_running, ++g_overlap.running[id_]);
    ++g_overlap.starts;
  }
  void stop() override {
    std::lock_guard lock(g_overlap.mutex);
    --g_overlap.running[id_];
  }
  std::vector<ConnectRecord> poll() override {
    std::this_thread::sleep_for(20ms);
    return {};
  }

 private:
  std::string id_;
};

class CountingSource : public SourceConnector {
 public:
  void start(const KeyValue& config) override { config_ = config; }
  void stop() override {}
  std::vector<KeyValue> task_configs(int max_tasks) override {
    return std::vector<KeyValue>(static_cast<std::size_t>(max_tasks), config_);
  }
  std::string task_class() const override { return "CountingTask"; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<CountingTask>(); }

 private:
  KeyValue config_;
};

// Tasks whose start() throws while g_flaky_starts_to_fail is positive.
std::atomic<int> g_flaky_starts_to_fail{0};
std::atomic<int> g_flaky_starts{0};

class FlakyTask : public SourceTask {
 public:
  void start(const KeyValue&) override {
    ++g_flaky_starts;
    if (g_flaky_starts_to_fail.fetch_sub(1) > 0) throw ConnectException("flaky start");
  }
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    std::this_thread::sleep_for(20ms);
    return {};
  }
};

class FlakySource : public SourceConnector {
 public:
  void start(const KeyValue& config) override { config_ = config; }
  void stop() override {}
  std::vector<KeyValue> task_configs(int max_tasks) override {
    return std::vector<KeyValue>(static_cast<std::size_t>(max_tasks), config_);
  }
  std::string task_class() const override { return "FlakyTask"; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<FlakyTask>(); }

 private:
  KeyValue config_;
};

class DistributedWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(temp_.str());
    broker_ = rt::start_broker(rt::broker_options((dir_ / "broker").string()));
    ASSERT_TRUE(broker_);
    converters::register_builtin_converters(registry_);
    registry_.add_source_connector<CountingSource>({"CountingSource", {}, "1", ""});
    registry_.add_source_connector<FlakySource>({"FlakySource", {}, "1", ""});
    auto store = StateStore::open((dir_ / "shared").string());
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::shared_ptr<StateStore>(std::move(store).value());
    {
      std::lock_guard lock(g_overlap.mutex);
      g_overlap.running.clear();
      g_overlap.max_running = 0;
    }
  }

  void TearDown() override {
    for (auto& [id, w] : workers_) w->stop();
    workers_.clear();
    if (broker_) broker_->stop();
  }

  std::vector<cluster::Member> members(const std::vector<std::string>& ids) {
    std::vector<cluster::Member> out;
    for (const auto& id : ids) out.push_back({id, "127.0.0.1@" + id});
    return out;
  }

  void start_worker(const std::string& id, const std::vector<std::string>& view,
                    const KeyValue& extra = {}) {
    KeyValue keys{{"workerId", id},
                  {"storePathRootDir", (dir_ / id).string()},
                  {"namesrvAddr", broker_->namesrv_addr()},
                  {"maxStopTimeoutMills", "2000"},
                  {"allocTaskStrategy", "consistent-hash"}};
    for (const auto& [k, v] : extra) keys.put(k, v);
    auto config = config::parse_worker_config(keys);
    ASSERT_TRUE(config.ok()) << config.error().to_string();
    DistributedWorker::Options o;
    o.config = *config;
    o.registry = &registry_;
    o.namesrv_addr = broker_->namesrv_addr();
    o.config_store = store_;
    o.position_store = store_;
    o.status_store = store_;
    auto m = std::make_shared<cluster::StaticMembership>(id, members(view));
    memberships_[id] = m;
    o.membership = m;
    auto w = DistributedWorker::start(o);
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    workers_[id] = std::move(w).value();
  }

  void set_view(const std::vector<std::string>& view) {
    for (auto& [id, m] : memberships_) m->set_members(members(view));
  }

  // Task id -> worker id as worker `asked` reports it; RUNNING tasks only.
  std::map<int, std::string> running_tasks(const std::string& asked, const std::string& name) {
    std::map<int, std::string> out;
    auto s = workers_.at(asked)->connector_state(name);
    if (!s.ok()) return out;
    for (const auto& t : s->tasks) {
      if (t.state == RunState::kRunning) out[t.id] = t.worker_id;
    }
    return out;
  }

  rt::TempDir temp_;
  fs::path dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
  plugins::PluginRegistry registry_;
  std::shared_ptr<StateStore> store_;
  std::map<std::string, std::shared_ptr<cluster::StaticMembership>> memberships_;
  std::map<std::string, std::unique_ptr<DistributedWorker>> workers_;
};

KeyValue counting(int tasks) {
  return KeyValue{{"connector.class", "CountingSource"},
                  {"connect.topicname", "dist-topic"},
                  {"max.tasks", std::to_string(tasks)}};
}

TEST_F(DistributedWorkerTest, TasksSpreadOverMembersAndEveryMemberAnswers) {
  start_worker("w1", {"w1", "w2", "w3"});
  start_worker("w2", {"w1", "w2", "w3"});
  start_worker("w3", {"w1", "w2", "w3"});
  ASSERT_TRUE(workers_["w2"]->put_connector("spread", counting(9), {}).ok());

  // Every member lists it and sees all nine tasks RUNNING, each on exactly one member.
  for (const auto& asked : {"w1", "w2", "w3"}) {
    ASSERT_TRUE(eventually([&] { return running_tasks(asked, "spread").size() == 9; }))
        << asked << " sees " << running_tasks(asked, "spread").size() << " running tasks";
    EXPECT_EQ(workers_[asked]->connector_names(), std::vector<std::string>{"spread"});
  }
  std::map<std::string, int> per_worker;
  for (const auto& [task, worker] : running_tasks("w1", "spread")) ++per_worker[worker];
  EXPECT_EQ(per_worker.size(), 3u) << "every member runs some of the tasks";
  std::size_t assigned = 0;
  for (auto& [id, w] : workers_) assigned += w->assignment().tasks.size();
  EXPECT_EQ(assigned, 9u);
  EXPECT_EQ(g_overlap.max_running, 1);
  EXPECT_EQ(workers_["w3"]->worker_info().workers, (std::vector<std::string>{"w1", "w2", "w3"}));
}

TEST_F(DistributedWorkerTest, CutOffMemberHandsOverWithoutOverlap) {
  start_worker("w1", {"w1", "w2"});
  start_worker("w2", {"w1", "w2"});
  ASSERT_TRUE(workers_["w1"]->put_connector("moving", counting(6), {}).ok());
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "moving").size() == 6; }));
  ASSERT_FALSE(workers_["w2"]->assignment().tasks.empty());

  // w2 drops out of the group (as when cut off from the broker): it stops its tasks, and w1
  // takes every task over, never running one while w2 still does.
  set_view({"w1"});
  ASSERT_TRUE(eventually([&] {
    auto r = running_tasks("w1", "moving");
    return r.size() == 6 &&
           std::all_of(r.begin(), r.end(), [](const auto& t) { return t.second == "w1"; });
  })) << "w1 did not take over every task";
  EXPECT_TRUE(workers_["w2"]->assignment().tasks.empty());
  EXPECT_EQ(g_overlap.max_running, 1) << "a task ran on two workers at once";

  // w2 comes back and gets its share again.
  set_view({"w1", "w2"});
  ASSERT_TRUE(eventually([&] {
    auto r = running_tasks("w1", "moving");
    return r.size() == 6 &&
           std::any_of(r.begin(), r.end(), [](const auto& t) { return t.second == "w2"; });
  })) << "w2 got no task back";
  EXPECT_EQ(g_overlap.max_running, 1);
}

TEST_F(DistributedWorkerTest, TaskCountTargetStatesAndDeletionFromAnyMember) {
  start_worker("w1", {"w1", "w2"});
  start_worker("w2", {"w1", "w2"});
  ASSERT_TRUE(workers_["w1"]->put_connector("live", counting(2), {}).ok());
  ASSERT_TRUE(eventually([&] { return running_tasks("w2", "live").size() == 2; }));

  ASSERT_TRUE(workers_["w2"]->set_max_tasks("live", 5).ok());
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "live").size() == 5; }))
      << running_tasks("w1", "live").size();

  ASSERT_TRUE(workers_["w2"]->set_target_state("live", TargetState::kPaused).ok());
  ASSERT_TRUE(eventually([&] {
    auto s = workers_["w1"]->connector_state("live");
    if (!s.ok() || s->tasks.size() != 5) return false;
    return std::all_of(s->tasks.begin(), s->tasks.end(),
                       [](const TaskState& t) { return t.state == RunState::kPaused; });
  })) << "not every task paused";
  ASSERT_TRUE(workers_["w1"]->set_target_state("live", TargetState::kStarted).ok());
  ASSERT_TRUE(eventually([&] { return running_tasks("w2", "live").size() == 5; }));

  ASSERT_TRUE(workers_["w1"]->set_target_state("live", TargetState::kStopped).ok());
  ASSERT_TRUE(eventually([&] {
    auto s = workers_["w2"]->connector_state("live");
    return s.ok() && s->state == RunState::kStopped;
  }));
  ASSERT_TRUE(eventually([&] {
    return workers_["w1"]->assignment().tasks.empty() && workers_["w2"]->assignment().tasks.empty();
  }));

  ASSERT_TRUE(workers_["w2"]->delete_connector("live").ok());
  EXPECT_FALSE(workers_["w1"]->connector_state("live").ok());
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(g_overlap.mutex);
    for (const auto& [id, n] : g_overlap.running) {
      if (n != 0) return false;
    }
    return true;
  })) << "a task of the deleted connector still runs";
  EXPECT_EQ(g_overlap.max_running, 1);
}

}  // namespace
}  // namespace rmqc::runtime

namespace rmqc::runtime {
namespace {

// With consistent hashing a joining worker takes only tasks that now land on it (none moves
// between the others), and when it leaves exactly those go back where they were.
TEST_F(DistributedWorkerTest, ConsistentHashMovesOnlyWhatMustMove) {
  start_worker("w1", {"w1", "w2", "w3"});
  start_worker("w2", {"w1", "w2", "w3"});
  start_worker("w3", {"w1", "w2", "w3"});
  ASSERT_TRUE(workers_["w1"]->put_connector("ring", counting(30), {}).ok());
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "ring").size() == 30; }));
  const auto before = running_tasks("w1", "ring");

  start_worker("w4", {"w1", "w2", "w3", "w4"});
  set_view({"w1", "w2", "w3", "w4"});
  ASSERT_TRUE(eventually([&] {
    auto r = running_tasks("w2", "ring");
    return r.size() == 30 &&
           std::any_of(r.begin(), r.end(), [](const auto& t) { return t.second == "w4"; });
  })) << "w4 got no task";
  ASSERT_TRUE(eventually([&] {
    // Settled: every member runs what its assignment says.
    std::size_t assigned = 0;
    for (auto& [id, w] : workers_) assigned += w->assignment().tasks.size();
    return assigned == 30 && running_tasks("w3", "ring").size() == 30;
  }));
  const auto joined = running_tasks("w1", "ring");
  int moved = 0;
  for (const auto& [task, worker] : joined) {
    if (worker == before.at(task)) continue;
    ++moved;
    EXPECT_EQ(worker, "w4") << "task " << task << " moved from " << before.at(task) << " to "
                            << worker << ", not to the new worker";
  }
  std::printf("consistent hash, 3 -> 4 workers: %d of 30 tasks moved\n", moved);
  EXPECT_GT(moved, 0);

  set_view({"w1", "w2", "w3"});
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "ring") == before; }))
      << "the tasks did not go back to their owners before the join";
  EXPECT_EQ(g_overlap.max_running, 1);
}

}  // namespace
}  // namespace rmqc::runtime

namespace rmqc::runtime {
namespace {

// A restart asked on any member restarts the instances wherever they run.
TEST_F(DistributedWorkerTest, RestartsFromAnyMember) {
  start_worker("w1", {"w1", "w2"});
  start_worker("w2", {"w1", "w2"});
  ASSERT_TRUE(workers_["w1"]->put_connector("again", counting(4), {}).ok());
  // Both views: owners is read from w1's, which may lag w2's by a status round.
  ASSERT_TRUE(eventually([&] { return running_tasks("w2", "again").size() == 4; }));
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "again").size() == 4; }));
  auto owners = running_tasks("w1", "again");
  ASSERT_FALSE(workers_["w1"]->assignment().tasks.empty());
  ASSERT_FALSE(workers_["w2"]->assignment().tasks.empty());

  const int before = g_overlap.starts.load();
  ASSERT_TRUE(workers_["w1"]
                  ->restart_connector("again", /*include_tasks=*/true,
                                      /*only_failed=*/false)
                  .ok());
  ASSERT_TRUE(eventually([&] { return g_overlap.starts.load() == before + 4; }))
      << g_overlap.starts.load() - before << " of 4 tasks restarted";
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "again") == owners; }));

  // One task, asked on the worker that does not run it.
  int remote_task = -1;
  for (const auto& [task, worker] : owners) {
    if (worker == "w1") remote_task = task;
  }
  ASSERT_GE(remote_task, 0);
  ASSERT_TRUE(workers_["w2"]->restart_task("again", remote_task).ok());
  ASSERT_TRUE(eventually([&] { return g_overlap.starts.load() == before + 5; }));
  // Only failed instances: none here, nothing restarts.
  ASSERT_TRUE(workers_["w2"]->restart_connector("again", true, true).ok());
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(g_overlap.starts.load(), before + 5);
  EXPECT_FALSE(workers_["w2"]->restart_task("again", 9).ok());
  EXPECT_EQ(g_overlap.max_running, 1);
}

// Each worker restarts the failed tasks it runs, with backoff; health and metrics follow.
TEST_F(DistributedWorkerTest, FailedTasksAreRestartedByTheirWorker) {
  g_flaky_starts_to_fail = 2;
  g_flaky_starts = 0;
  const KeyValue fast{{"taskAutoRestartInitialBackoffMs", "50"},
                      {"taskAutoRestartMaxBackoffMs", "100"}};
  start_worker("w1", {"w1", "w2"}, fast);
  start_worker("w2", {"w1", "w2"}, fast);
  ASSERT_TRUE(eventually([&] {
    return workers_["w1"]->health().status == WorkerHealth::Status::kHealthy &&
           workers_["w2"]->health().status == WorkerHealth::Status::kHealthy;
  }));
  ASSERT_TRUE(workers_["w1"]
                  ->put_connector("flaky",
                                  {{"connector.class", "FlakySource"},
                                   {"connect.topicname", "dist-topic"},
                                   {"max.tasks", "2"}},
                                  {})
                  .ok());
  ASSERT_TRUE(eventually([&] { return running_tasks("w1", "flaky").size() == 2; }))
      << g_flaky_starts.load() << " starts";
  EXPECT_EQ(g_flaky_starts.load(), 4);
  std::uint64_t restarts = 0;
  int attempts = 0;
  for (auto& [id, w] : workers_) {
    auto m = w->worker_metrics();
    restarts += m.task_auto_restarts;
    ASSERT_TRUE(m.completed_rebalances.has_value());
    EXPECT_GT(*m.completed_rebalances, 0u);
    for (int task = 0; task < 2; ++task) {
      if (auto info = w->task_restart_info("flaky", task)) {
        attempts += info->attempts;
        EXPECT_NE(info->last_error.find("flaky start"), std::string::npos) << info->last_error;
      }
    }
  }
  EXPECT_EQ(restarts, 2u);
  EXPECT_EQ(attempts, 2);
}

}  // namespace
}  // namespace rmqc::runtime

namespace rmqc::runtime {
namespace {

// PATCH config with removals and the offsets of a STOPPED connector, from any member.
TEST_F(DistributedWorkerTest, PatchConfigAndOffsetsOfAStoppedConnector) {
  start_worker("w1", {"w1", "w2"});
  start_worker("w2", {"w1", "w2"});
  KeyValue config = counting(1);
  config.put("extra.key", "x");
  ASSERT_TRUE(workers_["w1"]->put_connector("offs", config, {}).ok());
  auto patched =
      workers_["w2"]->patch_connector_config("offs", KeyValue{{"other", "y"}}, {"extra.key"});
  ASSERT_TRUE(patched.ok()) << patched.error().to_string();
  auto info = workers_["w1"]->connector_info("offs");
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->config.contains("extra.key"));
  EXPECT_EQ(info->config.get_string("other"), "y");

  RecordPartition partition{{"file", Value(std::string("a"))}};
  std::vector<OffsetChange> changes{
      {partition, RecordOffset{{"position", Value(std::int64_t{7})}}}};
  auto running = workers_["w1"]->alter_offsets("offs", changes);
  ASSERT_FALSE(running.ok());
  EXPECT_EQ(running.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(workers_["w2"]->reset_offsets("offs").ok());

  ASSERT_TRUE(workers_["w1"]->set_target_state("offs", TargetState::kStopped).ok());
  ASSERT_TRUE(workers_["w2"]->alter_offsets("offs", changes).ok());
  auto stored = store_->position("offs", partition);
  ASSERT_TRUE(stored.has_value());
  std::int64_t at = 0;
  ASSERT_TRUE(stored->find("position")->to_int64(at));
  EXPECT_EQ(at, 7);
  ASSERT_TRUE(workers_["w1"]->reset_offsets("offs").ok());
  EXPECT_TRUE(store_->positions("offs").empty());
  EXPECT_EQ(workers_["w1"]->alter_offsets("nope", changes).error().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace rmqc::runtime
