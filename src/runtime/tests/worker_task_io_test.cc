// WorkerSourceTask and WorkerSinkTask against test doubles of their I/O (RecordSender,
// RecordFetcher, PositionStore): no broker. What is acknowledged, delivered, put and committed is
// in the test's hands, so the assertions are on exact offsets and orders.
#include "rmqc/api/errors.h"
#include "rmqc/api/sink_task.h"
#include "rmqc/api/source_task.h"

#include "converters/string_converter.h"
#include "rocketmq/client/message.h"
#include "rocketmq/protocol/message_codec.h"
#include "runtime/storage/position_store.h"
#include "runtime/task_io.h"
#include "runtime/worker_task.h"
#include "testing/eventually.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace rmqc::runtime {
namespace {

using namespace std::chrono_literals;
using rocketmq::MessageQueue;

// Bounded: a broken task makes the test fail, not hang.
using rmqc::testing::eventually;

// --- source side ---

class FakePositionStore final : public PositionStore {
 public:
  Result<void> put_positions(std::string_view, const OffsetMap& positions) override {
    std::lock_guard lock(mutex_);
    puts_.push_back(positions);
    for (const auto& [p, o] : positions) merged_[p] = o;
    return {};
  }
  std::optional<RecordOffset> position(std::string_view,
                                       const RecordPartition& partition) const override {
    std::lock_guard lock(mutex_);
    auto it = merged_.find(partition);
    if (it == merged_.end()) return std::nullopt;
    return it->second;
  }
  OffsetMap positions(std::string_view) const override {
    std::lock_guard lock(mutex_);
    return merged_;
  }
  Result<void> remove_positions(std::string_view) override {
    std::lock_guard lock(mutex_);
    merged_.clear();
    return {};
  }
  std::vector<OffsetMap> puts() const {
    std::lock_guard lock(mutex_);
    return puts_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<OffsetMap> puts_;  // every put_positions() call, in order
  OffsetMap merged_;
};

// Holds every send until the test completes it (the test thread plays the I/O thread).
class FakeSender final : public RecordSender {
 public:
  struct Send {
    std::vector<std::string> bodies;
    std::string key;
    bool batch = false;
    rocketmq::SendCallback callback;
    std::vector<rocketmq::Message> messages;  // whole, as the sender saw them
  };

  void send_async(rocketmq::Message message, std::string key,
                  rocketmq::SendCallback callback) override {
    std::lock_guard lock(mutex_);
    sends_.push_back(
        Send{{message.body}, std::move(key), false, std::move(callback), {std::move(message)}});
  }
  void send_batch_async(std::span<const rocketmq::Message> messages, std::string key,
                        rocketmq::SendCallback callback) override {
    Send s{{}, std::move(key), true, std::move(callback), {messages.begin(), messages.end()}};
    for (const auto& m : messages) s.bodies.push_back(m.body);
    std::lock_guard lock(mutex_);
    sends_.push_back(std::move(s));
  }

  std::size_t queue_count(const std::string&) const override { return queues; }

  std::size_t count() const {
    std::lock_guard lock(mutex_);
    return sends_.size();
  }
  // Bodies, key and kind of send `i` (its callback stays here).
  Send peek(std::size_t i) const {
    std::lock_guard lock(mutex_);
    const auto& s = sends_.at(i);
    return Send{s.bodies, s.key, s.batch, nullptr, s.messages};
  }
  void complete(std::size_t i, Result<rocketmq::SendResult> result) {
    rocketmq::SendCallback callback;
    {
      std::lock_guard lock(mutex_);
      callback = std::move(sends_.at(i).callback);
      sends_.at(i).callback = nullptr;
    }
    ASSERT_TRUE(callback) << "send " << i << " completed twice";
    callback(std::move(result));
  }
  void ack(std::size_t i, std::int64_t queue_offset) {
    rocketmq::SendResult r;
    r.queue = MessageQueue{"out", "broker-a", 0};
    r.queue_offset = queue_offset;
    r.msg_id = "id-" + std::to_string(queue_offset);
    complete(i, r);
  }
  void fail_retriably(std::size_t i) {
    complete(i, Error::retriable(ErrorCode::kTimeout, "send timed out (test)"));
  }
  // Drops callbacks never completed (they hold the task).
  void clear() {
    std::lock_guard lock(mutex_);
    sends_.clear();
  }

  std::atomic<std::size_t> queues{0};  // what queue_count() answers (0 = route unknown)

 private:
  mutable std::mutex mutex_;
  std::deque<Send> sends_;
};

// Returns its records on the first poll, nothing afterwards; remembers what was acknowledged.
class ScriptedSource final : public SourceTask {
 public:
  explicit ScriptedSource(std::vector<ConnectRecord> records) : records_(std::move(records)) {}
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    ++polls;
    return std::exchange(records_, {});
  }
  void commit(const ConnectRecord& record, const RecordMetadata& metadata) override {
    std::lock_guard lock(mutex);
    acked.emplace_back(record.value.as_string(), metadata.queue_offset);
  }

  std::atomic<int> polls{0};
  std::mutex mutex;
  std::vector<std::pair<std::string, std::int64_t>> acked;  // body, queue offset; in order

 private:
  std::vector<ConnectRecord> records_;
};

RecordPartition file(const std::string& name) {
  return RecordPartition{{"file", name}};
}
RecordOffset pos(std::int64_t n) {
  return RecordOffset{{"pos", n}};
}

ConnectRecord source_record(const std::string& partition, std::int64_t n, const std::string& key,
                            const std::string& value) {
  return ConnectRecord(file(partition), pos(n), std::nullopt, nullptr, Value(key), nullptr,
                       Value(value));
}

// A retriable send failure holds the position before the record until its resend is
// acknowledged; acknowledgments after it (of its partition) wait for it, another partition's do
// not.
// A source task writing string keys and values to topic "out", committing on every loop (a
// premature commit shows at once) with 5 s to wait for acknowledgments at a commit.
TaskSetup string_source_setup(std::string connector, std::unique_ptr<Task> task,
                              PositionStore& store, std::shared_ptr<RecordSender> sender) {
  TaskSetup setup;
  setup.connector = std::move(connector);
  setup.worker_id = "test";
  setup.connector_config = KeyValue{{"connect.topicname", "out"}};
  setup.task = std::move(task);
  setup.key_converter = std::make_unique<converters::StringConverter>();
  setup.value_converter = std::make_unique<converters::StringConverter>();
  setup.store = &store;
  setup.sender = std::move(sender);
  setup.commit_interval = 1ms;
  setup.commit_timeout = 5s;
  return setup;
}

TEST(WorkerTaskIoTest, SourcePositionsCoverOnlyTheAcknowledgedPrefix) {
  FakePositionStore store;
  auto sender = std::make_shared<FakeSender>();
  auto plugin = std::make_unique<ScriptedSource>(std::vector<ConnectRecord>{
      source_record("p", 1, "k1", "r1"), source_record("p", 2, "k2", "r2"),
      source_record("q", 1, "kq", "q1"), source_record("p", 3, "k3", "r3")});
  ScriptedSource& source = *plugin;

  TaskSetup setup = string_source_setup("io-source", std::move(plugin), store, sender);
  auto task = std::make_shared<WorkerSourceTask>(std::move(setup));
  task->start();

  // Different keys: one send each, in poll order.
  ASSERT_TRUE(eventually([&] { return sender->count() >= 4; })) << "records were not sent";
  const std::vector<std::pair<std::string, std::string>> sent = {
      {"r1", "k1"}, {"r2", "k2"}, {"q1", "kq"}, {"r3", "k3"}};
  for (std::size_t i = 0; i < sent.size(); ++i) {
    auto s = sender->peek(i);
    EXPECT_FALSE(s.batch);
    EXPECT_EQ(s.bodies, std::vector<std::string>{sent[i].first}) << i;
    EXPECT_EQ(s.key, sent[i].second) << i;
  }

  // Everything but r1 is acknowledged; r1 fails retriably and is sent again.
  sender->ack(2, 100);  // q1
  sender->ack(1, 101);  // r2
  sender->ack(3, 102);  // r3
  sender->fail_retriably(0);
  ASSERT_TRUE(eventually([&] { return sender->count() >= 5; })) << "r1 was not sent again";
  {
    auto resend = sender->peek(4);
    EXPECT_EQ(resend.bodies, std::vector<std::string>{"r1"});
    EXPECT_EQ(resend.key, "k1");
  }
  // Two more loops of the task (poll, drain, commit) while the resend is unanswered.
  const int polls = source.polls.load();
  ASSERT_TRUE(eventually([&] { return source.polls.load() >= polls + 2; }));
  EXPECT_EQ(store.positions("io-source"), (OffsetMap{{file("q"), pos(1)}}))
      << "a position moved past a record the broker has not acknowledged";
  {
    std::lock_guard lock(source.mutex);
    EXPECT_EQ(source.acked, (std::vector<std::pair<std::string, std::int64_t>>{{"q1", 100}}));
  }

  // The resend is acknowledged: p's position moves past all three at once.
  sender->ack(4, 103);
  ASSERT_TRUE(eventually([&] { return store.position("io-source", file("p")).has_value(); }))
      << "p's position was never committed";
  EXPECT_EQ(store.positions("io-source"), (OffsetMap{{file("q"), pos(1)}, {file("p"), pos(3)}}));
  for (const auto& put : store.puts()) {
    if (auto it = put.find(file("p")); it != put.end()) {
      EXPECT_EQ(it->second, pos(3)) << "a partial position of p was committed";
    }
  }
  {
    std::lock_guard lock(source.mutex);
    EXPECT_EQ(source.acked, (std::vector<std::pair<std::string, std::int64_t>>{
                                {"q1", 100}, {"r1", 103}, {"r2", 101}, {"r3", 102}}))
        << "records retired out of order";
  }

  ASSERT_TRUE(task->stop(5s));
  EXPECT_EQ(task->state().state, RunState::kUnassigned) << task->state().trace.value_or("");
  EXPECT_EQ(task->committed_offsets(), (OffsetMap{{file("q"), pos(1)}, {file("p"), pos(3)}}));
  EXPECT_EQ(sender->count(), 5u) << "an acknowledged record was sent again";
  // Five sends: four acknowledged (timed from send to acknowledgment), one failed retriably.
  const auto m = task->metrics();
  EXPECT_EQ(m.send_latency.count, 4u);
  EXPECT_EQ(m.send_errors_retriable, 1u);
  EXPECT_EQ(m.send_errors_fatal, 0u);
  EXPECT_EQ(m.source_record_write, 4u);
  sender->clear();
}

// A batch (records of one key) that fails retriably is sent again record by record; the
// position waits for the first of them.
TEST(WorkerTaskIoTest, SourceBatchFailingRetriablyIsResentAndCommittedInOrder) {
  FakePositionStore store;
  auto sender = std::make_shared<FakeSender>();
  auto plugin = std::make_unique<ScriptedSource>(
      std::vector<ConnectRecord>{source_record("p", 1, "k", "b1"), source_record("p", 2, "k", "b2"),
                                 source_record("p", 3, "k", "b3")});
  ScriptedSource& source = *plugin;
  TaskSetup setup = string_source_setup("io-batch", std::move(plugin), store, sender);
  auto task = std::make_shared<WorkerSourceTask>(std::move(setup));
  task->start();

  ASSERT_TRUE(eventually([&] { return sender->count() >= 1; })) << "records were not sent";
  {
    auto batch = sender->peek(0);
    EXPECT_TRUE(batch.batch);
    EXPECT_EQ(batch.bodies, (std::vector<std::string>{"b1", "b2", "b3"}));
    EXPECT_EQ(batch.key, "k");
  }
  sender->fail_retriably(0);
  ASSERT_TRUE(eventually([&] { return sender->count() >= 4; })) << "the batch was not sent again";
  for (std::size_t i = 1; i <= 3; ++i) {
    auto s = sender->peek(i);
    EXPECT_FALSE(s.batch);
    EXPECT_EQ(s.bodies, std::vector<std::string>{"b" + std::to_string(i)});
    EXPECT_EQ(s.key, "k");
  }
  sender->ack(2, 11);  // b2
  sender->ack(3, 12);  // b3
  const int polls = source.polls.load();
  ASSERT_TRUE(eventually([&] { return source.polls.load() >= polls + 2; }));
  EXPECT_TRUE(store.puts().empty()) << "a position moved past b1, which is not acknowledged";

  sender->ack(1, 13);  // b1
  ASSERT_TRUE(eventually([&] { return !store.puts().empty(); })) << "nothing was committed";
  EXPECT_EQ(store.puts().front(), (OffsetMap{{file("p"), pos(3)}}));
  ASSERT_TRUE(task->stop(5s));
  EXPECT_EQ(task->state().state, RunState::kUnassigned) << task->state().trace.value_or("");
  EXPECT_EQ(task->committed_offsets(), (OffsetMap{{file("p"), pos(3)}}));
  std::lock_guard lock(source.mutex);
  EXPECT_EQ(source.acked, (std::vector<std::pair<std::string, std::int64_t>>{
                              {"b1", 13}, {"b2", 11}, {"b3", 12}}));
  // The batch failed once (one request), its three records were acknowledged one by one.
  const auto m = task->metrics();
  EXPECT_EQ(m.send_latency.count, 3u);
  EXPECT_EQ(m.send_errors_retriable, 1u);
  sender->clear();
}

// metrics.enabled=false: the task counts and times nothing (the A/B switch of the benchmark).
TEST(WorkerTaskIoTest, SourceWithMetricsDisabledCountsNothing) {
  FakePositionStore store;
  auto sender = std::make_shared<FakeSender>();
  TaskSetup setup = string_source_setup(
      "io-quiet",
      std::make_unique<ScriptedSource>(std::vector<ConnectRecord>{
          source_record("p", 1, "k1", "r1"), source_record("p", 2, "k2", "r2")}),
      store, sender);
  setup.metrics_enabled = false;
  auto task = std::make_shared<WorkerSourceTask>(std::move(setup));
  task->start();
  ASSERT_TRUE(eventually([&] { return sender->count() >= 2; })) << "records were not sent";
  sender->ack(0, 1);
  sender->ack(1, 2);
  ASSERT_TRUE(eventually([&] { return store.position("io-quiet", file("p")).has_value(); }));
  ASSERT_TRUE(task->stop(5s));
  const auto m = task->metrics();
  EXPECT_EQ(m.source_record_poll, 0u);
  EXPECT_EQ(m.source_record_write, 0u);
  EXPECT_EQ(m.batch_time.count, 0u);
  EXPECT_EQ(m.send_latency.count, 0u);
  sender->clear();
}

// Once the topic's queue count is known, records whose keys pick the same queue share one
// batch (routed by its first key), in poll order; a key alone on its queue goes alone.
TEST(WorkerTaskIoTest, SourceRecordsOfOneQueueShareABatchAcrossKeys) {
  // Two keys on queue 0 of 2, one on queue 1 (Java's String hash, as the producer picks).
  std::vector<std::string> on0, on1;
  for (int i = 0; on0.size() < 2 || on1.empty(); ++i) {
    std::string key = "key-" + std::to_string(i);
    (rocketmq::Producer::queue_for_key(key, 2) == 0 ? on0 : on1).push_back(key);
  }
  FakePositionStore store;
  auto sender = std::make_shared<FakeSender>();
  sender->queues = 2;
  auto plugin = std::make_unique<ScriptedSource>(std::vector<ConnectRecord>{
      source_record("p", 1, on0[0], "a1"), source_record("p", 2, on1[0], "b1"),
      source_record("p", 3, on0[1], "c1"), source_record("p", 4, on0[0], "a2")});
  ScriptedSource& source = *plugin;
  TaskSetup setup = string_source_setup("io-queues", std::move(plugin), store, sender);
  auto task = std::make_shared<WorkerSourceTask>(std::move(setup));
  task->start();

  ASSERT_TRUE(eventually([&] { return sender->count() >= 2; })) << "records were not sent";
  {
    auto batch = sender->peek(0);
    EXPECT_TRUE(batch.batch);
    EXPECT_EQ(batch.bodies, (std::vector<std::string>{"a1", "c1", "a2"}));
    EXPECT_EQ(batch.key, on0[0]);
    auto single = sender->peek(1);
    EXPECT_FALSE(single.batch);
    EXPECT_EQ(single.bodies, std::vector<std::string>{"b1"});
    EXPECT_EQ(single.key, on1[0]);
  }
  sender->ack(1, 50);  // b1
  sender->ack(0, 20);  // a1, c1, a2 at 20, 21, 22
  ASSERT_TRUE(eventually([&] { return store.position("io-queues", file("p")).has_value(); }));
  ASSERT_TRUE(task->stop(5s));
  EXPECT_EQ(task->committed_offsets(), (OffsetMap{{file("p"), pos(4)}}));
  EXPECT_EQ(sender->count(), 2u);
  std::lock_guard lock(source.mutex);
  EXPECT_EQ(source.acked, (std::vector<std::pair<std::string, std::int64_t>>{
                              {"a1", 20}, {"b1", 50}, {"c1", 21}, {"a2", 22}}));
  sender->clear();
}

// Returns one batch of records per poll, then nothing.
class PollsSource final : public SourceTask {
 public:
  explicit PollsSource(std::vector<std::vector<ConnectRecord>> polls) : polls_(std::move(polls)) {}
  void start(const KeyValue&) override {}
  void stop() override {}
  std::vector<ConnectRecord> poll() override {
    if (next_ >= polls_.size()) return {};
    return std::move(polls_[next_++]);
  }

 private:
  std::vector<std::vector<ConnectRecord>> polls_;
  std::size_t next_ = 0;
};

// The messages of a sent batch are filled again for later records: each message carries exactly
// its own record's properties, tags and keys, never those of the record its buffers last held.
TEST(WorkerTaskIoTest, SourceMessagesReusedAcrossBatchesCarryOnlyTheirOwnRecordsProperties) {
  auto record = [](std::int64_t n, std::string key, std::optional<std::int64_t> ts,
                   std::vector<std::pair<std::string, std::string>> extensions) {
    ConnectRecord r(file("p"), pos(n), ts, nullptr, key.empty() ? Value() : Value(std::move(key)),
                    nullptr, Value("v" + std::to_string(n)));
    for (auto& [k, v] : extensions) r.add_extension(k, v);
    return r;
  };
  std::vector<std::vector<ConnectRecord>> polls(4);
  for (int i = 0; i < 3; ++i) {  // headers h1 and tags, a timestamp, one key
    polls[0].push_back(record(i, "k", 1000 + i, {{"h1", "a"}, {"tags", "T"}}));
  }
  for (int i = 3; i < 6; ++i) polls[1].push_back(record(i, "", std::nullopt, {{"h2", "b"}}));
  for (int i = 6; i < 9; ++i) {  // the names of the first poll again, other values
    polls[2].push_back(record(i, "", 2000 + i, {{"h1", "c"}, {"tags", "U"}}));
  }
  for (int i = 9; i < 12; ++i) {  // a header named like the timestamp property, and no timestamp
    polls[3].push_back(record(i, "", std::nullopt, {{"connect.timestamp", "x"}, {"h1", "d"}}));
  }
  FakePositionStore store;
  auto sender = std::make_shared<FakeSender>();
  TaskSetup setup = string_source_setup("io-reuse", std::make_unique<PollsSource>(std::move(polls)),
                                        store, sender);
  auto task = std::make_shared<WorkerSourceTask>(std::move(setup));
  task->start();

  std::vector<rocketmq::Message> sent;
  ASSERT_TRUE(eventually([&] {
    sent.clear();
    for (std::size_t i = 0; i < sender->count(); ++i) {
      for (auto& m : sender->peek(i).messages) sent.push_back(std::move(m));
    }
    return sent.size() >= 12;
  })) << "records were not sent";
  for (std::size_t i = 0; i < sender->count(); ++i)
    sender->ack(i, static_cast<std::int64_t>(i) * 10);
  ASSERT_TRUE(task->stop(5s));
  ASSERT_EQ(sent.size(), 12u);
  std::sort(sent.begin(), sent.end(), [](const auto& a, const auto& b) {
    return std::stoi(a.body.substr(1)) < std::stoi(b.body.substr(1));
  });
  using Props = rocketmq::MessageProperties;
  for (int i = 0; i < 12; ++i) {
    const auto& m = sent[static_cast<std::size_t>(i)];
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(m.body, "v" + std::to_string(i));
    EXPECT_EQ(m.topic, "out");
    if (i < 3) {
      EXPECT_EQ(m.keys, "k");
      EXPECT_EQ(m.tags, "T");
      EXPECT_EQ(m.properties,
                (Props{{"connect.timestamp", std::to_string(1000 + i)}, {"h1", "a"}}));
    } else if (i < 6) {
      EXPECT_EQ(m.keys, "");
      EXPECT_EQ(m.tags, "");
      EXPECT_EQ(m.properties, (Props{{"h2", "b"}}));
    } else if (i < 9) {
      EXPECT_EQ(m.tags, "U");
      EXPECT_EQ(m.properties,
                (Props{{"connect.timestamp", std::to_string(2000 + i)}, {"h1", "c"}}));
    } else {
      EXPECT_EQ(m.tags, "");
      EXPECT_EQ(m.properties, (Props{{"connect.timestamp", "x"}, {"h1", "d"}}));
    }
  }
  sender->clear();
}

// --- sink side ---

std::string describe(const MessageQueue& q) {
  return q.topic + "@" + std::to_string(q.queue_id);
}

// What happened, in order, as the task's plugin and its fetcher saw it.
struct EventLog {
  std::mutex mutex;
  std::vector<std::string> events;
  void add(std::string e) {
    std::lock_guard lock(mutex);
    events.push_back(std::move(e));
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mutex);
    return events;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
};

// Messages the test delivers; commits it records (with the thread that made them).
class FakeFetcher final : public RecordFetcher {
 public:
  FakeFetcher(std::vector<MessageQueue> assigned, EventLog& log)
      : assigned_(std::move(assigned)), log_(log) {}

  Result<void> subscribe(const std::string& topic, const std::string&) override {
    std::lock_guard lock(mutex_);
    subscribed_.push_back(topic);
    return {};
  }
  void set_assignment_listener(rocketmq::AssignmentListener listener) override {
    std::lock_guard lock(mutex_);
    listener_ = std::move(listener);
  }
  std::vector<MessageQueue> assignment() const override {
    std::lock_guard lock(mutex_);
    return assigned_;
  }
  Result<std::vector<MessageQueue>> fetch_queues(const std::string&) override {
    return assignment();
  }
  void request_rebalance() override {}
  Result<std::vector<rocketmq::MessageExt>> poll(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !pending_.empty() || woken_; });
    woken_ = false;
    std::vector<rocketmq::MessageExt> out;
    out.swap(pending_);
    return out;
  }
  void wakeup() override {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    cv_.notify_all();
  }
  Result<void> seek(const MessageQueue&, std::int64_t) override { return {}; }
  void pause(const std::vector<MessageQueue>&) override {}
  void resume(const std::vector<MessageQueue>&) override {}
  Result<std::int64_t> committed(const MessageQueue& queue) override {
    std::lock_guard lock(mutex_);
    auto it = committed_.find(queue);
    return it == committed_.end() ? -1 : it->second;
  }
  Result<void> commit(const std::map<MessageQueue, std::int64_t>& offsets) override {
    std::string e = "commit";
    for (const auto& [q, o] : offsets) e += " " + describe(q) + "=" + std::to_string(o);
    {
      std::lock_guard lock(mutex_);
      for (const auto& [q, o] : offsets) committed_[q] = o;
      commit_threads_.push_back(std::this_thread::get_id());
    }
    log_.add(std::move(e));
    return {};
  }
  void shutdown() override { shut_down_ = true; }

  // The test's side.
  void deliver(std::vector<rocketmq::MessageExt> messages) {
    {
      std::lock_guard lock(mutex_);
      for (auto& m : messages) pending_.push_back(std::move(m));
    }
    cv_.notify_all();
  }
  // A rebalance takes `queues` away, on the calling thread as on a consumer's: the listener
  // first (it returns once the task committed them, or gave up), then they leave the assignment.
  void revoke(const std::vector<MessageQueue>& queues) {
    rocketmq::AssignmentListener listener;
    {
      std::lock_guard lock(mutex_);
      listener = listener_;
    }
    ASSERT_TRUE(listener.on_revoked) << "the task set no revocation listener";
    listener.on_revoked(queues);
    std::lock_guard lock(mutex_);
    std::erase_if(assigned_, [&](const MessageQueue& q) {
      return std::find(queues.begin(), queues.end(), q) != queues.end();
    });
  }
  std::vector<std::thread::id> commit_threads() const {
    std::lock_guard lock(mutex_);
    return commit_threads_;
  }
  std::vector<std::string> subscribed() const {
    std::lock_guard lock(mutex_);
    return subscribed_;
  }
  bool shut_down() const { return shut_down_.load(); }

  rocketmq::ConsumerConfig config;  // what the task built it from

 private:
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<MessageQueue> assigned_;
  EventLog& log_;
  std::vector<std::string> subscribed_;
  rocketmq::AssignmentListener listener_;
  std::vector<rocketmq::MessageExt> pending_;
  bool woken_ = false;
  std::map<MessageQueue, std::int64_t> committed_;
  std::vector<std::thread::id> commit_threads_;
  std::atomic<bool> shut_down_{false};
};

// A pulled message of `queue` at `offset`, as the RocketMQ client hands it out.
rocketmq::MessageExt message(const MessageQueue& queue, std::int64_t offset,
                             const std::string& body) {
  auto buffer = std::make_shared<const std::string>(queue.topic + body);
  rocketmq::StoredMessageView view;
  view.topic = std::string_view(*buffer).substr(0, queue.topic.size());
  view.body = std::string_view(*buffer).substr(queue.topic.size());
  view.queue_id = queue.queue_id;
  view.queue_offset = offset;
  view.store_timestamp = 1000 + offset;
  auto m =
      rocketmq::MessageExt::from_stored(view, buffer, std::make_shared<const MessageQueue>(queue));
  EXPECT_TRUE(m.ok()) << m.error().to_string();
  return std::move(m).value();
}

// A sink plugin that logs each put() (and the thread it ran on); the first `failures` puts throw
// a RetriableException, all of them when `failures` is negative.
class LoggingSink final : public SinkTask {
 public:
  LoggingSink(EventLog& log, int failures) : log_(log), failures_(failures) {}
  void start(const KeyValue&) override {}
  void stop() override {}
  void put(std::vector<ConnectRecord>& records) override {
    std::string batch;
    for (const auto& r : records) {
      auto q = queue_of(r.position.partition);
      std::int64_t offset = -1;
      if (const Value* o = r.position.offset.find("queueOffset")) o->to_int64(offset);
      batch += " " + (q ? describe(*q) : std::string("?")) + ":" + std::to_string(offset) + "=" +
               r.value.as_string();
    }
    put_thread = std::this_thread::get_id();
    ++attempts;
    if (failures_ < 0 || attempts <= failures_) {
      log_.add("put-failed" + batch);
      throw RetriableException("target busy (test)");
    }
    log_.add("put" + batch);
  }

  std::atomic<int> attempts{0};
  std::atomic<std::thread::id> put_thread{};

 private:
  EventLog& log_;
  int failures_;
};

class WorkerTaskIoSinkTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (task_) task_->stop(5s);
  }

  void start_sink(int failures, std::chrono::milliseconds commit_interval) {
    auto fetcher = std::make_shared<std::unique_ptr<FakeFetcher>>(
        std::make_unique<FakeFetcher>(std::vector<MessageQueue>{q0_, q1_}, log_));
    fetcher_ = fetcher->get();
    auto plugin = std::make_unique<LoggingSink>(log_, failures);
    sink_ = plugin.get();
    TaskSetup setup;
    setup.connector = "io-sink";
    setup.worker_id = "test";
    setup.connector_config =
        KeyValue{{"connect.topicnames", "in"}, {"consume.from.where", "CONSUME_FROM_FIRST_OFFSET"}};
    setup.task = std::move(plugin);
    setup.key_converter = std::make_unique<converters::StringConverter>();
    setup.value_converter = std::make_unique<converters::StringConverter>();
    setup.commit_interval = commit_interval;
    setup.commit_timeout = 5s;
    setup.fetcher_factory =
        [fetcher](rocketmq::ConsumerConfig config) -> Result<std::unique_ptr<RecordFetcher>> {
      if (!*fetcher) return Error(ErrorCode::kInternal, "the test's fetcher was taken already");
      (*fetcher)->config = std::move(config);
      return std::unique_ptr<RecordFetcher>(std::move(*fetcher));
    };
    task_ = std::make_shared<WorkerSinkTask>(std::move(setup));
    task_->start();
  }

  const MessageQueue q0_{"in", "broker-a", 0};
  const MessageQueue q1_{"in", "broker-a", 1};
  EventLog log_;
  FakeFetcher* fetcher_ = nullptr;  // owned by the task
  LoggingSink* sink_ = nullptr;     // owned by the task
  std::shared_ptr<WorkerSinkTask> task_;
};

// Messages of two queues reach put() in one batch; their offsets are committed after put()
// returned, and a revocation commits the revoked queue on the task's thread before the queue
// goes; the revoked queue is not committed again.
TEST_F(WorkerTaskIoSinkTest, PutThenCommitAndRevocationCommitsOnTheTaskThread) {
  start_sink(/*failures=*/0, /*commit_interval=*/30s);  // no periodic commit during the test
  fetcher_->deliver({message(q0_, 5, "a"), message(q0_, 6, "b"), message(q1_, 10, "c")});
  ASSERT_TRUE(eventually([&] { return log_.size() >= 1; })) << "nothing was put";
  EXPECT_EQ(fetcher_->config.group, "connect-io-sink");
  EXPECT_FALSE(fetcher_->config.auto_commit);
  EXPECT_EQ(fetcher_->config.consume_from, rocketmq::ConsumeFromWhere::kFirstOffset);
  EXPECT_EQ(fetcher_->subscribed(), std::vector<std::string>{"in"});

  // The task is blocked in poll() (30 s): the revocation must wake it to commit.
  fetcher_->revoke({q0_});
  EXPECT_EQ(log_.get(),
            (std::vector<std::string>{"put in@0:5=a in@0:6=b in@1:10=c", "commit in@0=7 in@1=11"}));
  auto threads = fetcher_->commit_threads();
  ASSERT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads[0], sink_->put_thread.load()) << "the revocation was not committed by the task";
  EXPECT_NE(threads[0], std::this_thread::get_id());

  // Only the remaining queue goes on.
  fetcher_->deliver({message(q1_, 11, "d")});
  ASSERT_TRUE(eventually([&] { return log_.size() >= 3; }));
  ASSERT_TRUE(task_->stop(5s));  // the final commit
  EXPECT_EQ(task_->state().state, RunState::kUnassigned) << task_->state().trace.value_or("");
  EXPECT_EQ(log_.get(),
            (std::vector<std::string>{"put in@0:5=a in@0:6=b in@1:10=c", "commit in@0=7 in@1=11",
                                      "put in@1:11=d", "commit in@1=12"}));
  EXPECT_EQ(task_->committed_offsets(),
            (OffsetMap{{partition_of(q0_), {{"queueOffset", std::int64_t{7}}}},
                       {partition_of(q1_), {{"queueOffset", std::int64_t{12}}}}}));
  EXPECT_TRUE(fetcher_->shut_down());
}

// put() throws a RetriableException twice: the same records come again, nothing is committed
// until a put() of them succeeded.
TEST_F(WorkerTaskIoSinkTest, RetriablePutIsRedeliveredAndNotCommittedUntilItSucceeds) {
  start_sink(/*failures=*/2, /*commit_interval=*/20ms);  // commits whenever there is something
  fetcher_->deliver({message(q0_, 0, "x"), message(q1_, 3, "y")});
  ASSERT_TRUE(eventually([&] { return log_.size() >= 4; })) << "no commit after a put";
  auto events = log_.get();
  const std::string batch = " in@0:0=x in@1:3=y";
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(events.begin(), events.begin() + 4),
            (std::vector<std::string>{"put-failed" + batch, "put-failed" + batch, "put" + batch,
                                      "commit in@0=1 in@1=4"}));
  // Later commits (every interval) carry the same offsets; nothing was put again.
  for (std::size_t i = 4; i < events.size(); ++i) EXPECT_EQ(events[i], "commit in@0=1 in@1=4");
  EXPECT_EQ(sink_->attempts.load(), 3);
  EXPECT_EQ(fetcher_->committed(q0_).value(), 1);
  EXPECT_EQ(fetcher_->committed(q1_).value(), 4);
}

// A put() that keeps failing retriably when the task stops: its records are not committed (they
// are read again by whoever gets the queues).
TEST_F(WorkerTaskIoSinkTest, RetriablePutCutShortByStopIsNotCommitted) {
  start_sink(/*failures=*/-1, /*commit_interval=*/20ms);
  fetcher_->deliver({message(q0_, 0, "x"), message(q1_, 3, "y")});
  ASSERT_TRUE(eventually([&] { return sink_->attempts.load() >= 2; })) << "put() was not retried";
  ASSERT_TRUE(task_->stop(5s));
  EXPECT_EQ(task_->state().state, RunState::kUnassigned) << task_->state().trace.value_or("");
  for (const auto& e : log_.get()) EXPECT_EQ(e, "put-failed in@0:0=x in@1:3=y");
  EXPECT_TRUE(fetcher_->commit_threads().empty()) << "records put() never accepted were committed";
  EXPECT_TRUE(task_->committed_offsets().empty());
  EXPECT_EQ(fetcher_->committed(q0_).value(), -1);
  EXPECT_TRUE(fetcher_->shut_down());
}

}  // namespace
}  // namespace rmqc::runtime
