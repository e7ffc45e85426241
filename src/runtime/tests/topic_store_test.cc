// The topic-backed stores of the distributed mode against an embedded broker: replay, two
// workers on one topic, epochs, generations, deletions, canonical position keys, the local cache.
#include "base/thread_name.h"
#include "broker/server/embedded_broker.h"
#include "runtime/storage/position_key.h"
#include "runtime/storage/topic_log.h"
#include "runtime/storage/topic_stores.h"
#include "testing/eventually.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

// Polls `predicate` until it holds or `timeout` passed.
using rmqc::testing::eventually;

class TopicStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rmqc_topic_store_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    start_broker("broker");
  }
  void TearDown() override {
    if (broker_) broker_->stop();
    fs::remove_all(dir_);
  }

  void start_broker(const std::string& sub, bool acl = false) {
    if (broker_) broker_->stop();
    broker_.reset();
    broker::EmbeddedBrokerOptions bo;
    bo.store.dir = (dir_ / sub).string();
    bo.store.commit_log_segment_bytes = 8 << 20;
    bo.namesrv_port = 0;
    bo.broker_port = 0;
    bo.vip_port = false;
    bo.broker.acl_enable = acl;
    if (acl) bo.broker.acl_accounts.emplace("admin", "secret-secret");
    auto b = broker::EmbeddedBroker::start(bo);
    ASSERT_TRUE(b.ok()) << b.error().to_string();
    broker_ = std::move(b).value();
  }

  TopicStoreOptions options(const std::string& topic, const std::string& worker) {
    TopicStoreOptions o;
    o.client.namesrv_addr = broker_->namesrv_addr();
    o.topic = topic;
    o.worker_id = worker;
    o.cache_dir = (dir_ / ("cache-" + worker)).string();
    o.cache_interval = 0ms;
    return o;
  }

  template <typename Store>
  std::unique_ptr<Store> open(const std::string& topic, const std::string& worker) {
    auto s = Store::open(options(topic, worker));
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // A raw writer on a topic, as another (possibly outdated) worker would write.
  std::unique_ptr<TopicLog> raw_log(const std::string& topic, const std::string& worker) {
    TopicLogOptions lo;
    lo.client.namesrv_addr = broker_->namesrv_addr();
    lo.topic = topic;
    lo.worker_id = worker;
    auto log = TopicLog::open(lo, [](const LogRecord&) {});
    EXPECT_TRUE(log.ok()) << log.error().to_string();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  static StoredConnector connector_with(const std::string& cls) {
    StoredConnector c;
    c.config = KeyValue{{"connector.class", cls}, {"max.tasks", "1"}};
    return c;
  }

  fs::path dir_;
  std::unique_ptr<broker::EmbeddedBroker> broker_;
};

TEST_F(TopicStoreTest, LogReplaysEveryRecordInOrderThenFollowsOnANamedThread) {
  auto writer = raw_log("log-topic", "w1");
  ASSERT_TRUE(writer);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(writer->append("a", "a" + std::to_string(i)).ok());
    ASSERT_TRUE(writer->append("b", "b" + std::to_string(i)).ok());
  }
  auto del = writer->append("b", "", /*deleted=*/true);
  ASSERT_TRUE(del.ok());
  ASSERT_TRUE(writer->wait_applied(*del).ok());

  std::mutex mutex;
  std::vector<LogRecord> seen;
  std::string thread_name;
  TopicLogOptions lo;
  lo.client.namesrv_addr = broker_->namesrv_addr();
  lo.topic = "log-topic";
  lo.worker_id = "w2";
  lo.thread_name = "test-follow";
  auto reader = TopicLog::open(lo, [&](const LogRecord& r) {
    std::lock_guard lock(mutex);
    seen.push_back(r);
    thread_name = current_thread_name();
  });
  ASSERT_TRUE(reader.ok()) << reader.error().to_string();
  {
    // open() returned after the replay: all 11 records, in topic order, latest per key last.
    std::lock_guard lock(mutex);
    ASSERT_EQ(seen.size(), 11u);
    for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].offset, std::int64_t(i));
    std::map<std::string, LogRecord> latest;
    for (const auto& r : seen) latest[r.key] = r;
    EXPECT_EQ(latest["a"].value, "a4");
    EXPECT_FALSE(latest["a"].deleted);
    EXPECT_TRUE(latest["b"].deleted);
    EXPECT_EQ(latest["b"].value, "");
    EXPECT_EQ(latest["b"].writer, "w1");
    EXPECT_EQ(thread_name, "test-follow");
  }
  // Then it follows: a write of the other log comes through, and its own writes too.
  auto off = writer->append("c", "c0");
  ASSERT_TRUE(off.ok());
  auto own = (*reader)->append("d", "d0");
  ASSERT_TRUE(own.ok());
  ASSERT_TRUE((*reader)->wait_applied(*own).ok());
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), 13u);
  EXPECT_EQ(seen[11].key, "c");
  EXPECT_EQ(seen[12].key, "d");
  EXPECT_EQ(seen[12].writer, "w2");
  EXPECT_FALSE((*reader)->append("bad\x01key", "x").ok());
}

TEST_F(TopicStoreTest, TwoWorkersSeeEachOthersConfigWritesAndListenersFire) {
  auto a = open<TopicConfigStore>("cfg", "worker-a");
  auto b = open<TopicConfigStore>("cfg", "worker-b");
  ASSERT_TRUE(a && b);
  std::mutex mutex;
  std::vector<std::string> heard_a, heard_b;
  a->add_listener([&](const std::string& n) {
    std::lock_guard lock(mutex);
    heard_a.push_back(n);
  });
  int id_b = b->add_listener([&](const std::string& n) {
    std::lock_guard lock(mutex);
    heard_b.push_back(n);
    // A listener may read the store: no lock of the store is held.
    (void)b->connector(n);
  });

  ASSERT_TRUE(a->put_connector("files", connector_with("FileSource")).ok());
  // put_* returns once this worker applied the write (and its listeners ran).
  ASSERT_TRUE(a->connector("files").has_value());
  EXPECT_EQ(a->connector("files")->epoch, 1);
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(heard_a, std::vector<std::string>{"files"});
  }
  ASSERT_TRUE(eventually([&] { return b->connector("files").has_value(); }));
  EXPECT_EQ(b->connector("files")->config.get_string("connector.class"), "FileSource");

  ASSERT_TRUE(b->put_target_state("files", TargetState::kPaused).ok());
  ASSERT_TRUE(
      b->put_task_configs("files", {KeyValue{{"task", "0"}}, KeyValue{{"task", "1"}}}).ok());
  ASSERT_TRUE(eventually([&] {
    auto c = a->connector("files");
    return c && c->task_configs.size() == 2 && c->target_state == TargetState::kPaused;
  }));
  EXPECT_EQ(a->connector("files")->epoch, 3);
  EXPECT_EQ(b->connector("files")->epoch, 3);
  EXPECT_EQ(b->put_target_state("nope", TargetState::kPaused).error().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(a->remove_connector("files").ok());
  EXPECT_FALSE(a->connector("files").has_value());
  ASSERT_TRUE(eventually([&] { return !b->connector("files").has_value(); }));
  EXPECT_TRUE(b->connectors().empty());
  ASSERT_TRUE(a->remove_connector("files").ok());  // unknown: nothing to do
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(heard_a.size(), 4u);  // create, target, tasks, delete
    EXPECT_EQ(heard_b.size(), 4u);
  }
  // Re-created after the deletion: its epoch continues above the deletion's.
  b->remove_listener(id_b);
  ASSERT_TRUE(b->put_connector("files", connector_with("Again")).ok());
  EXPECT_EQ(b->connector("files")->epoch, 5);
  ASSERT_TRUE(eventually([&] { return a->connector("files").has_value(); }));
  std::lock_guard lock(mutex);
  EXPECT_EQ(heard_a.size(), 5u);
  EXPECT_EQ(heard_b.size(), 4u);
}

TEST_F(TopicStoreTest, AStaleConfigWriteNeverWins) {
  auto a = open<TopicConfigStore>("cfg", "worker-a");
  auto b = open<TopicConfigStore>("cfg", "worker-b");
  ASSERT_TRUE(a && b);
  // Listening from the start: a change is visible in b a moment before b's listeners hear of
  // it, so a listener added after the epoch-3 read could still hear that change.
  std::atomic<int> heard{0};
  b->add_listener([&](const std::string&) { ++heard; });
  ASSERT_TRUE(a->put_connector("c", connector_with("V1")).ok());       // epoch 1
  ASSERT_TRUE(a->put_target_state("c", TargetState::kPaused).ok());    // epoch 2
  ASSERT_TRUE(a->put_task_configs("c", {KeyValue{{"t", "0"}}}).ok());  // epoch 3
  ASSERT_TRUE(eventually([&] { return b->connector("c") && b->connector("c")->epoch == 3; }));
  ASSERT_TRUE(eventually([&] { return heard.load() == 3; })) << heard.load();
  heard = 0;

  // A change based on epoch 1 (its writer missed two changes) is refused and changes nothing.
  StoredConnector stale = connector_with("STALE");
  stale.epoch = 1;
  auto r = b->put_connector("c", stale);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_TRUE(r.error().is_retriable());
  EXPECT_EQ(b->connector("c")->config.get_string("connector.class"), "V1");

  // A raw record of an outdated worker (epoch 2 < 3) is ignored by every worker.
  auto zombie = raw_log("cfg", "zombie");
  ASSERT_TRUE(zombie);
  json v = {{"connector", "c"},         {"epoch", 2},
            {"worker", "zombie"},       {"config", {{"connector.class", "ZOMBIE"}}},
            {"targetState", "STARTED"}, {"tasks", json::array()}};
  ASSERT_TRUE(zombie->append("connector-c", v.dump()).ok());
  json del = {{"connector", "c"}, {"epoch", 1}, {"worker", "zombie"}};
  auto last = zombie->append("connector-c", del.dump(), /*deleted=*/true);
  ASSERT_TRUE(last.ok());
  // Equal epochs: the later record wins (a writer that saw epoch 2 as well as the applied one).
  json equal = {{"connector", "c"}, {"epoch", 3}, {"worker", "zombie"}, {"targetState", "STOPPED"}};
  auto eq = zombie->append("target-c", equal.dump());
  ASSERT_TRUE(eq.ok());
  ASSERT_TRUE(eventually([&] { return b->connector("c")->target_state == TargetState::kStopped; }));
  ASSERT_TRUE(eventually([&] { return a->connector("c")->target_state == TargetState::kStopped; }));
  for (auto* s : {a.get(), b.get()}) {
    auto c = s->connector("c");
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->config.get_string("connector.class"), "V1");
    EXPECT_EQ(c->epoch, 3);
  }
  EXPECT_EQ(heard.load(), 1);  // only the applied change

  // Based on the current epoch: accepted.
  StoredConnector fresh = *b->connector("c");  // read, modify, write back
  fresh.config.put("connector.class", "V2");
  ASSERT_TRUE(b->put_connector("c", fresh).ok());
  EXPECT_EQ(b->connector("c")->epoch, 4);

  // A fresh reader replays the whole topic to the same view.
  auto c = open<TopicConfigStore>("cfg", "worker-c");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->connector("c")->config.get_string("connector.class"), "V2");
  EXPECT_EQ(c->connector("c")->target_state, TargetState::kStopped);
  EXPECT_EQ(c->connector("c")->epoch, 4);
}

TEST_F(TopicStoreTest, ReplayKeepsTheLatestRecordPerKeyAndHonoursDeletions) {
  {
    auto a = open<TopicConfigStore>("cfg", "worker-a");
    ASSERT_TRUE(a);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(a->put_connector("keep", connector_with("K" + std::to_string(i))).ok());
      ASSERT_TRUE(a->put_connector("gone", connector_with("G" + std::to_string(i))).ok());
    }
    ASSERT_TRUE(a->put_target_state("keep", TargetState::kPaused).ok());
    ASSERT_TRUE(a->remove_connector("gone").ok());
  }
  auto b = open<TopicConfigStore>("cfg", "worker-b");
  ASSERT_TRUE(b);
  auto all = b->connectors();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all["keep"].config.get_string("connector.class"), "K4");
  EXPECT_EQ(all["keep"].target_state, TargetState::kPaused);
  EXPECT_EQ(all["keep"].epoch, 6);
  EXPECT_FALSE(b->connector("gone").has_value());
}

TEST_F(TopicStoreTest, StatusGenerationsNeverGoBack) {
  auto a = open<TopicStatusStore>("status", "worker-a");
  auto b = open<TopicStatusStore>("status", "worker-b");
  ASSERT_TRUE(a && b);
  ConnectorState st;
  st.name = "files";
  st.type = ConnectorType::kSource;
  st.state = RunState::kRunning;
  st.worker_id = "worker-a";
  st.tasks = {TaskState{0, RunState::kRunning, "worker-a", std::nullopt},
              TaskState{1, RunState::kFailed, "worker-a", std::string("boom")}};
  ASSERT_TRUE(a->put_status(st, 5).ok());
  // The connector's record and each task's are applied one by one.
  ASSERT_TRUE(eventually([&] {
    auto s = b->status("files");
    return s && s->tasks.size() == 2;
  }));
  auto seen = b->status("files");
  ASSERT_EQ(seen->tasks.size(), 2u);
  EXPECT_EQ(seen->type, ConnectorType::kSource);
  EXPECT_EQ(seen->tasks[1].state, RunState::kFailed);
  EXPECT_EQ(seen->tasks[1].trace, "boom");

  // A worker of an older generation reports: refused, nothing changes.
  ConnectorState old = st;
  old.state = RunState::kFailed;
  old.worker_id = "worker-b";
  old.tasks = {TaskState{0, RunState::kFailed, "worker-b", std::nullopt}};
  auto r = b->put_status(old, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kAlreadyExists);
  for (auto* s : {a.get(), b.get()}) {
    ASSERT_TRUE(eventually([&] { return s->status("files")->tasks.size() == 2; }));
    auto now = s->status("files");
    EXPECT_EQ(now->state, RunState::kRunning);
    EXPECT_EQ(now->worker_id, "worker-a");
    EXPECT_EQ(now->tasks[0].state, RunState::kRunning);
  }

  // The same generation moves a task; a newer generation with one task drops the other.
  st.tasks[1] = TaskState{1, RunState::kRunning, "worker-a", std::nullopt};
  ASSERT_TRUE(a->put_status(st, 5).ok());
  EXPECT_EQ(a->status("files")->tasks[1].state, RunState::kRunning);
  ConnectorState shrunk = st;
  shrunk.worker_id = "worker-b";
  shrunk.tasks = {TaskState{0, RunState::kPaused, "worker-b", std::nullopt}};
  ASSERT_TRUE(b->put_status(shrunk, 6).ok());
  // The connector record (which drops task 1) and task 0's record arrive one by one.
  ASSERT_TRUE(eventually([&] {
    auto s = a->status("files");
    return s->tasks.size() == 1 && s->tasks[0].state == RunState::kPaused;
  }));
  EXPECT_EQ(a->status("files")->worker_id, "worker-b");
  EXPECT_EQ(a->statuses().size(), 1u);

  // Deleted; a late write of an older generation does not bring it back.
  ASSERT_TRUE(a->remove_status("files").ok());
  EXPECT_FALSE(a->status("files").has_value());
  EXPECT_FALSE(a->put_status(st, 5).ok());
  EXPECT_FALSE(a->status("files").has_value());
  ASSERT_TRUE(a->put_status(st, 7).ok());
  EXPECT_EQ(a->status("files")->tasks.size(), 2u);

  // A fresh reader replays to the same view.
  auto c = open<TopicStatusStore>("status", "worker-c");
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->status("files").has_value());
  EXPECT_EQ(c->status("files")->tasks.size(), 2u);
  EXPECT_EQ(c->status("files")->worker_id, "worker-a");
}

// Claims are a compare-and-set in the topic's order: of two workers claiming a free task at
// once exactly one wins, and every worker's view names the winner; a task let go (no worker)
// can be claimed again.
TEST_F(TopicStoreTest, ConcurrentClaimsOfATaskHaveOneWinner) {
  auto a = open<TopicStatusStore>("claims", "worker-a");
  auto b = open<TopicStatusStore>("claims", "worker-b");
  ASSERT_TRUE(a && b);
  for (int task = 0; task < 20; ++task) {
    Result<void> ra, rb;
    std::thread ta([&] {
      ra = a->claim_task("c", TaskState{task, RunState::kUnassigned, "worker-a", {}}, 10, "");
    });
    std::thread tb([&] {
      rb = b->claim_task("c", TaskState{task, RunState::kUnassigned, "worker-b", {}}, 11, "");
    });
    ta.join();
    tb.join();
    ASSERT_NE(ra.ok(), rb.ok()) << "task " << task << ": both or neither claim won";
    const std::string winner = ra.ok() ? "worker-a" : "worker-b";
    const auto& loser = ra.ok() ? rb : ra;
    EXPECT_EQ(loser.error().code(), ErrorCode::kAlreadyExists);
    for (auto* store : {a.get(), b.get()}) {
      ASSERT_TRUE(eventually([&] {
        auto s = store->status("c");
        if (!s) return false;
        for (const auto& t : s->tasks) {
          if (t.id == task) return t.worker_id == winner;
        }
        return false;
      })) << "task "
          << task;
    }
  }
  // Let go by its holder, the task is claimed by the other.
  auto s = a->status("c");
  ASSERT_TRUE(s);
  const std::string holder = s->tasks[0].worker_id;
  auto* holder_store = holder == "worker-a" ? a.get() : b.get();
  auto* other_store = holder == "worker-a" ? b.get() : a.get();
  const std::string other = holder == "worker-a" ? "worker-b" : "worker-a";
  ASSERT_TRUE(
      holder_store->put_task_status("c", TaskState{0, RunState::kUnassigned, "", {}}, 12).ok());
  ASSERT_TRUE(eventually([&] { return other_store->status("c")->tasks[0].worker_id.empty(); }));
  EXPECT_FALSE(
      other_store->claim_task("c", TaskState{0, RunState::kUnassigned, other, {}}, 13, holder).ok())
      << "a claim expecting the old holder won";
  EXPECT_TRUE(
      other_store->claim_task("c", TaskState{0, RunState::kUnassigned, other, {}}, 13, "").ok());
}

TEST_F(TopicStoreTest, PositionsAreFoundWhateverTheIntegerWidth) {
  auto a = open<TopicPositionStore>("pos", "worker-a");
  auto b = open<TopicPositionStore>("pos", "worker-b");
  ASSERT_TRUE(a && b);
  ValueMap nested;
  nested.emplace_back(Value("z"), Value(std::int8_t{1}));
  nested.emplace_back(Value("y"), Value(1.25f));
  std::vector<RecordPartition> partitions = {
      RecordPartition{{"topic", "t"}, {"partition", std::int32_t{3}}},
      RecordPartition{{"v", std::int8_t{8}}},
      RecordPartition{{"v", std::int16_t{16}}},
      RecordPartition{{"v", 1.1f}},
      RecordPartition{{"v", 2.5}},
      RecordPartition{{"v", false}},
      RecordPartition{{"v", "text with spaces"}},
      RecordPartition{{"v", Value(std::move(nested))}},
  };
  OffsetMap positions;
  for (std::size_t i = 0; i < partitions.size(); ++i)
    positions[partitions[i]] = RecordOffset{{"n", static_cast<std::int64_t>(i)}};
  ASSERT_TRUE(a->put_positions("src", positions).ok());
  ASSERT_TRUE(a->position("src", partitions[0]).has_value());
  // The other worker got them through JSON (integers as int64): typed lookups still match.
  ASSERT_TRUE(eventually([&] { return b->positions("src").size() == partitions.size(); }));
  for (std::size_t i = 0; i < partitions.size(); ++i) {
    auto p = b->position("src", partitions[i]);
    ASSERT_TRUE(p.has_value()) << canonical_partition_key(partitions[i]);
    EXPECT_EQ(p->find("n")->as_int64(), static_cast<std::int64_t>(i));
  }
  // Later wins, whatever width the writer used.
  OffsetMap later;
  later[RecordPartition{{"topic", "t"}, {"partition", std::int64_t{3}}}] =
      RecordOffset{{"n", std::int64_t{99}}};
  ASSERT_TRUE(b->put_positions("src", later).ok());
  ASSERT_TRUE(
      eventually([&] { return a->position("src", partitions[0])->find("n")->as_int64() == 99; }));
  EXPECT_EQ(a->positions("src").size(), partitions.size());

  // A fresh reader replays them.
  auto c = open<TopicPositionStore>("pos", "worker-c");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->position("src", partitions[0])->find("n")->as_int64(), 99);
  EXPECT_EQ(c->positions("src").size(), partitions.size());

  ASSERT_TRUE(a->remove_positions("src").ok());
  EXPECT_TRUE(a->positions("src").empty());
  ASSERT_TRUE(eventually([&] { return c->positions("src").empty(); }));
}

TEST_F(TopicStoreTest, AWorkerStartsWithItsCachedViewWhenTheTopicLostItsRecords) {
  RecordPartition partition{{"partition", std::int32_t{1}}};
  {
    auto cfg = open<TopicConfigStore>("cfg", "worker-a");
    auto pos = open<TopicPositionStore>("pos", "worker-a");
    auto st = open<TopicStatusStore>("status", "worker-a");
    ASSERT_TRUE(cfg && pos && st);
    ASSERT_TRUE(cfg->put_connector("files", connector_with("FileSource")).ok());
    ASSERT_TRUE(cfg->put_connector("gone", connector_with("FileSource")).ok());
    ASSERT_TRUE(cfg->remove_connector("gone").ok());
    OffsetMap positions;
    positions[partition] = RecordOffset{{"n", std::int64_t{7}}};
    ASSERT_TRUE(pos->put_positions("files", positions).ok());
    ConnectorState s;
    s.name = "files";
    s.state = RunState::kRunning;
    s.tasks = {TaskState{0, RunState::kRunning, "worker-a", std::nullopt}};
    ASSERT_TRUE(st->put_status(s, 3).ok());
  }  // closed: the caches are written
  EXPECT_TRUE(fs::exists(dir_ / "cache-worker-a" / "config-cache.json"));

  // A new broker with empty topics: only the cache knows.
  start_broker("broker2");
  auto cfg = open<TopicConfigStore>("cfg", "worker-a");
  auto pos = open<TopicPositionStore>("pos", "worker-a");
  auto st = open<TopicStatusStore>("status", "worker-a");
  ASSERT_TRUE(cfg && pos && st);
  ASSERT_TRUE(cfg->connector("files").has_value());
  EXPECT_EQ(cfg->connector("files")->epoch, 1);
  EXPECT_FALSE(cfg->connector("gone").has_value());
  ASSERT_TRUE(pos->position("files", partition).has_value());
  EXPECT_EQ(pos->position("files", partition)->find("n")->as_int64(), 7);
  ASSERT_TRUE(st->status("files").has_value());
  EXPECT_EQ(st->status("files")->tasks.size(), 1u);
  // The deletion's epoch was kept: re-creating continues above it.
  ASSERT_TRUE(cfg->put_connector("gone", connector_with("Again")).ok());
  EXPECT_EQ(cfg->connector("gone")->epoch, 3);
  // A generation-3 status is still not overwritten by generation 2.
  ConnectorState older;
  older.name = "files";
  EXPECT_FALSE(st->put_status(older, 2).ok());
}

TEST_F(TopicStoreTest, ACorruptCacheIsIgnored) {
  fs::create_directories(dir_ / "cache-worker-a");
  std::ofstream(dir_ / "cache-worker-a" / "config-cache.json") << "{not json";
  auto cfg = open<TopicConfigStore>("cfg", "worker-a");
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->connectors().empty());
  ASSERT_TRUE(cfg->put_connector("files", connector_with("FileSource")).ok());
}

TEST_F(TopicStoreTest, ARefusedTopicCreationSaysWhatToDo) {
  start_broker("acl-broker", /*acl=*/true);
  auto cfg = TopicConfigStore::open(options("cfg", "worker-a"));
  ASSERT_FALSE(cfg.ok());
  const auto& message = cfg.error().message();
  EXPECT_NE(message.find("Create it by hand"), std::string::npos) << message;
  EXPECT_NE(message.find("autoCreateTopicEnable"), std::string::npos) << message;
  EXPECT_NE(message.find("ACL"), std::string::npos) << message;
}

}  // namespace
}  // namespace rmqc::runtime
