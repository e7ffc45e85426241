// WorkerDirectTask in-process through LocalWorker (no broker, no producer): put() retried on a
// RetriableException, errors.tolerance on a failing put(), positions committed only for what
// put() accepted, pause/resume, counters, and a secret kept out of a failed task's trace.
#include "runtime/direct_task.h"

#include "rmqc/api/errors.h"

#include "converters/builtin_converters.h"
#include "runtime/local_worker.h"
#include "runtime/storage/state_store.h"
#include "testing/eventually.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using rmqc::testing::eventually;

// Shared by the test and its plugins (one test at a time).
struct Script {
  std::mutex mutex;
  int total = 0;                 // records the source produces, one per poll, offsets 1..total
  std::vector<std::string> got;  // values put() accepted
  int retriable_puts = 0;        // put() throws RetriableException this many times first
  int failing_value = -1;        // put() of the record with this value throws ConnectException
  std::string fail_start_with;   // the sink's start() throws this message
  std::atomic<int> polls{0};
  std::atomic<int> flushes{0};
};
Script g;

class CountingSource : public SourceTask {
 public:
  void start(const KeyValue& config) override {
    auto committed = context()->offset_storage_reader().read_offset(partition());
    next_ = committed ? static_cast<int>(committed->find("n")->as_int64()) : 0;
    (void)config;
  }
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    ++g.polls;
    std::lock_guard lock(g.mutex);
    if (next_ >= g.total) {
      std::this_thread::sleep_for(2ms);
      return {};
    }
    ++next_;
    ConnectRecord r(partition(), RecordOffset{{"n", std::int64_t{next_}}}, std::nullopt);
    r.value = Value(std::to_string(next_));
    std::vector<ConnectRecord> out;
    out.push_back(std::move(r));
    return out;
  }

 private:
  static RecordPartition partition() { return RecordPartition{{"p", std::string("only")}}; }
  int next_ = 0;
};

class ScriptedSink : public SinkTask {
 public:
  void start(const KeyValue& config) override {
    std::lock_guard lock(g.mutex);
    target_ = config.get_string("target");
    if (!g.fail_start_with.empty()) throw ConnectException(g.fail_start_with + " " + target_);
  }
  void stop() override {}
  void put(std::vector<ConnectRecord>& records) override {
    std::lock_guard lock(g.mutex);
    if (g.retriable_puts > 0) {
      --g.retriable_puts;
      throw RetriableException("target busy");
    }
    for (const auto& r : records) {
      if (r.value.to_string() == std::to_string(g.failing_value)) {
        throw ConnectException("cannot write " + r.value.to_string() + " to " + target_);
      }
    }
    for (const auto& r : records) g.got.push_back(r.value.to_string());
  }
  void flush(const OffsetMap&) override { ++g.flushes; }

 private:
  std::string target_;
};

template <typename TaskT, typename Base>
class Factory : public Base {
 public:
  void start(const KeyValue& config) override { config_ = config; }
  void stop() override {}
  std::vector<KeyValue> task_configs(int) override { return {config_}; }
  std::string task_class() const override { return std::string("test.") + TaskT::kName; }
  std::unique_ptr<Task> create_task() const override { return std::make_unique<TaskT>(); }

 private:
  KeyValue config_;
};
struct CountingSourceNamed : CountingSource {
  static constexpr const char* kName = "CountingSourceTask";
};
struct ScriptedSinkNamed : ScriptedSink {
  static constexpr const char* kName = "ScriptedSinkTask";
};

class DirectTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rmqc_direct_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    converters::register_builtin_converters(registry_);
    registry_.add_source_connector(
        {"test.CountingSourceConnector", {"CountingSource"}, "1", ""},
        [] { return std::make_unique<Factory<CountingSourceNamed, SourceConnector>>(); });
    registry_.add_sink_connector({"test.ScriptedSinkConnector", {"ScriptedSink"}, "1", ""}, [] {
      return std::make_unique<Factory<ScriptedSinkNamed, SinkConnector>>();
    });
    std::lock_guard lock(g.mutex);
    g.total = 0;
    g.got.clear();
    g.retriable_puts = 0;
    g.failing_value = -1;
    g.fail_start_with.clear();
  }
  void TearDown() override {
    worker_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void start_worker(KeyValue keys = {}) {
    if (!store_) {
      auto s = StateStore::open((dir_ / "store").string());
      ASSERT_TRUE(s.ok()) << s.error().to_string();
      store_ = std::move(s).value();
    }
    keys.put("offsetCommitIntervalMsConfig", "20");
    auto c = config::parse_worker_config(keys);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    LocalWorker::Options o;
    o.config = *c;
    o.registry = &registry_;
    o.positions = store_.get();
    worker_ = std::make_unique<LocalWorker>(std::move(o));
  }

  KeyValue connector_config() const {
    return KeyValue{{"connector.class", "test.CountingSourceConnector"},
                    {"connector.direct.enable", "true"},
                    {"source.task.class", "CountingSourceTask"},
                    {"sink.task.class", "ScriptedSink"},
                    {"direct.sink.target", "the-target"}};
  }

  // Validates, starts the connector and its one task as a coordinator would.
  void start_connector(const KeyValue& config) {
    KeyValue checked = config;
    auto checked_ok = worker_->check(checked, "d");
    ASSERT_TRUE(checked_ok.ok()) << checked_ok.error().to_string();
    ASSERT_TRUE(worker_->start_connector("d", checked, {}).ok());
    auto configs = worker_->task_configs("d", 1);
    ASSERT_TRUE(configs.ok()) << configs.error().to_string();
    ASSERT_EQ(configs->size(), 1u);
    EXPECT_EQ((*configs)[0].get_string("task.type"), "DIRECT");
    ASSERT_TRUE(worker_->start_task({"d", 0}, checked, (*configs)[0], false).ok());
  }

  TaskState task() { return worker_->task_states("d").at(0); }
  std::size_t got() {
    std::lock_guard lock(g.mutex);
    return g.got.size();
  }
  std::int64_t committed() {
    auto o = store_->position("d", RecordPartition{{"p", std::string("only")}});
    return o ? o->find("n")->as_int64() : 0;
  }
  void produce(int total) {
    std::lock_guard lock(g.mutex);
    g.total = total;
  }

  fs::path dir_;
  plugins::PluginRegistry registry_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<LocalWorker> worker_;
};

TEST_F(DirectTaskTest, ValidationNamesTheTaskClasses) {
  start_worker();
  KeyValue c = connector_config();
  c.put("sink.task.class", "CountingSourceTask");
  auto r = worker_->check(c, "d");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("sink.task.class: no sink task class"), std::string::npos)
      << r.error().message();
  c = connector_config();
  c.put("source.task.class", "ScriptedSink");  // a sink connector's alias
  r = worker_->check(c, "d");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("is a sink plugin"), std::string::npos) << r.error().message();
  c = connector_config();
  c.put("source.task.class", "test.CountingSourceTask");  // the full task class
  auto full = worker_->check(c, "d");
  EXPECT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ(worker_->type_of(c), ConnectorType::kSource);
}

TEST_F(DirectTaskTest, PutRetriedThenPositionsCommittedAfterPut) {
  start_worker();
  {
    std::lock_guard lock(g.mutex);
    g.retriable_puts = 3;
  }
  start_connector(connector_config());
  produce(50);
  ASSERT_TRUE(eventually([&] { return got() == 50; }));
  ASSERT_TRUE(eventually([&] { return committed() == 50; }));
  EXPECT_GT(g.flushes.load(), 0);  // pre_commit's flush before the positions
  TaskState s = task();
  EXPECT_EQ(s.state, RunState::kRunning);
  EXPECT_FALSE(s.trace.has_value());  // the retry reason cleared once put() succeeded
  {
    std::lock_guard lock(g.mutex);
    for (int i = 0; i < 50; ++i) ASSERT_EQ(g.got[i], std::to_string(i + 1));
  }
  auto m = worker_->task_metrics().at(0);
  EXPECT_EQ(m.type, ConnectorType::kSource);
  EXPECT_EQ(m.source_record_poll, 50u);
  EXPECT_EQ(m.sink_record_send, 50u);
  EXPECT_EQ(m.source_record_write, 50u);

  // Paused: nothing is polled or put; resumed: the rest flows.
  worker_->set_paused("d", true);
  ASSERT_TRUE(eventually([&] { return task().state == RunState::kPaused; }));
  produce(60);
  const int polls = g.polls.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(g.polls.load(), polls);
  EXPECT_EQ(got(), 50u);
  worker_->set_paused("d", false);
  ASSERT_TRUE(eventually([&] { return got() == 60; }));

  // Stopped and started again: it goes on from the committed position, nothing twice.
  worker_->stop_tasks({{"d", 0}});
  EXPECT_EQ(committed(), 60);
  produce(70);
  auto configs = worker_->task_configs("d", 1);
  ASSERT_TRUE(configs.ok());
  ASSERT_TRUE(worker_->start_task({"d", 0}, connector_config(), (*configs)[0], false).ok());
  ASSERT_TRUE(eventually([&] { return got() == 70; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(got(), 70u);
}

TEST_F(DirectTaskTest, FailedPutFailsTheTaskAndItsPositionStays) {
  start_worker();
  {
    std::lock_guard lock(g.mutex);
    g.failing_value = 8;
  }
  start_connector(connector_config());
  produce(20);
  ASSERT_TRUE(eventually([&] { return task().state == RunState::kFailed; }));
  EXPECT_NE(task().trace->find("put failed: ConnectException: cannot write 8"), std::string::npos)
      << *task().trace;
  EXPECT_EQ(got(), 7u);
  worker_->stop_tasks({{"d", 0}});
  EXPECT_LE(committed(), 7);  // never past what put() accepted
}

TEST_F(DirectTaskTest, ToleratedPutFailurePassesTheRecord) {
  start_worker();
  {
    std::lock_guard lock(g.mutex);
    g.failing_value = 8;
  }
  KeyValue c = connector_config();
  c.put("errors.tolerance", "all");
  start_connector(c);
  produce(20);
  ASSERT_TRUE(eventually([&] { return got() == 19; }));
  ASSERT_TRUE(eventually([&] { return committed() == 20; }));
  EXPECT_EQ(task().state, RunState::kRunning);
}

TEST_F(DirectTaskTest, ASecretInAFailedStartIsHidden) {
  ::setenv("RMQC_DIRECT_TEST_SECRET", "s3cr3t-value-91", 1);
  start_worker(KeyValue{{"config.providers", "env"},
                        {"config.providers.env.param.allowlist", "RMQC_DIRECT_TEST_*"}});
  {
    std::lock_guard lock(g.mutex);
    g.fail_start_with = "cannot reach";
  }
  KeyValue c = connector_config();
  c.put("direct.sink.target", "db://${env:RMQC_DIRECT_TEST_SECRET}@host");
  start_connector(c);
  ASSERT_TRUE(eventually([&] { return task().state == RunState::kFailed; }));
  const std::string trace = *task().trace;
  EXPECT_NE(trace.find("cannot reach db://${env:RMQC_DIRECT_TEST_SECRET}@host"), std::string::npos)
      << trace;
  EXPECT_EQ(trace.find("s3cr3t-value-91"), std::string::npos) << trace;
}

}  // namespace
}  // namespace rmqc::runtime
