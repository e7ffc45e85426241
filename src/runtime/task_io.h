#pragma once

// The I/O of worker tasks behind small interfaces: a source task sends through a RecordSender, a
// sink task reads through a RecordFetcher. The RocketMQ implementations wrap the shared producer
// and a lite pull consumer; tests substitute doubles to drive task logic without a broker.

#include "rmqc/base/result.h"

#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/message.h"
#include "rocketmq/client/producer.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace rmqc::runtime {

// What a source task sends its messages through. Thread-safe. Each callback runs exactly once,
// possibly on an I/O thread (it must not block), possibly before the send call returns.
class RecordSender {
 public:
  virtual ~RecordSender() = default;

  // One message: round robin over the topic's queues when `key` is empty, else the queue picked
  // by the hash of `key` (same key, same queue: per-key order).
  virtual void send_async(rocketmq::Message message, std::string key,
                          rocketmq::SendCallback callback) = 0;
  // One request for messages of one topic (they land on one queue, consecutive offsets); `key`
  // non-empty selects the queue by hash. The messages are read before the call returns.
  virtual void send_batch_async(std::span<const rocketmq::Message> messages, std::string key,
                                rocketmq::SendCallback callback) = 0;
  // How many queues a keyed send of `topic` picks among right now (so records whose keys pick
  // the same queue can share a batch); 0 when unknown. Never blocks on the network.
  virtual std::size_t queue_count(const std::string& /*topic*/) const { return 0; }
};

// The worker's shared producer.
class RocketMqRecordSender final : public RecordSender {
 public:
  explicit RocketMqRecordSender(std::shared_ptr<rocketmq::Producer> producer)
      : producer_(std::move(producer)) {}

  void send_async(rocketmq::Message message, std::string key,
                  rocketmq::SendCallback callback) override;
  void send_batch_async(std::span<const rocketmq::Message> messages, std::string key,
                        rocketmq::SendCallback callback) override;
  std::size_t queue_count(const std::string& topic) const override {
    return producer_->cached_queue_count(topic);
  }

 private:
  std::shared_ptr<rocketmq::Producer> producer_;
};

// What a sink task reads its messages through: a group member subscribed to topics, whose
// queues a rebalance assigns and revokes.
//
// Threads: wakeup() may be called from any thread; the other calls come from the task's thread.
// The assignment listener runs on the fetcher's own thread and may block there (bounded): a sink
// task holds on_revoked() until its thread has committed the revoked queues, so assignment() must
// still include them until on_revoked() returns.
class RecordFetcher {
 public:
  virtual ~RecordFetcher() = default;

  // Joins the group's rebalance for `topic` with a tag expression ("*", "TagA || TagB").
  virtual Result<void> subscribe(const std::string& topic, const std::string& expression) = 0;
  virtual void set_assignment_listener(rocketmq::AssignmentListener listener) = 0;
  // The queues assigned to this member now.
  virtual std::vector<rocketmq::MessageQueue> assignment() const = 0;
  // The readable queues of a topic (none while it has no route).
  virtual Result<std::vector<rocketmq::MessageQueue>> fetch_queues(const std::string& topic) = 0;
  // Asks for an assignment now: makes this member known to the brokers, then rebalances.
  virtual void request_rebalance() = 0;

  // Messages that arrived, waiting up to `timeout` for at least one; empty on timeout and after
  // wakeup().
  virtual Result<std::vector<rocketmq::MessageExt>> poll(std::chrono::milliseconds timeout) = 0;
  // Makes a poll() in progress return now; with none in progress, the next one does not wait.
  virtual void wakeup() = 0;

  // The next poll() of `queue` starts at `offset`.
  virtual Result<void> seek(const rocketmq::MessageQueue& queue, std::int64_t offset) = 0;
  virtual void pause(const std::vector<rocketmq::MessageQueue>& queues) = 0;
  virtual void resume(const std::vector<rocketmq::MessageQueue>& queues) = 0;

  // The group's committed offset (next offset to consume); -1 when none.
  virtual Result<std::int64_t> committed(const rocketmq::MessageQueue& queue) = 0;
  // Commits these offsets (next offset to consume), synchronously.
  virtual Result<void> commit(const std::map<rocketmq::MessageQueue, std::int64_t>& offsets) = 0;

  // Leaves the group (its queues go to the other members). Idempotent.
  virtual void shutdown() = 0;

  // Position and broker end of the assigned queues, as far as known without a request (a sink
  // task's consumer lag in GET /metrics). Any thread; none by default.
  virtual std::vector<rocketmq::QueuePosition> positions() const { return {}; }
};

// Builds a sink task's fetcher from the consumer configuration the task derived (group, where
// to start, auto commit off, the worker's client settings).
using FetcherFactory =
    std::function<Result<std::unique_ptr<RecordFetcher>>(rocketmq::ConsumerConfig config)>;

// A RocketMQ lite pull consumer.
class RocketMqRecordFetcher final : public RecordFetcher {
 public:
  // Starts a lite pull consumer; a FetcherFactory.
  static Result<std::unique_ptr<RecordFetcher>> start(rocketmq::ConsumerConfig config);
  explicit RocketMqRecordFetcher(std::unique_ptr<rocketmq::LitePullConsumer> consumer)
      : consumer_(std::move(consumer)) {}

  Result<void> subscribe(const std::string& topic, const std::string& expression) override;
  void set_assignment_listener(rocketmq::AssignmentListener listener) override;
  std::vector<rocketmq::MessageQueue> assignment() const override;
  Result<std::vector<rocketmq::MessageQueue>> fetch_queues(const std::string& topic) override;
  void request_rebalance() override;
  Result<std::vector<rocketmq::MessageExt>> poll(std::chrono::milliseconds timeout) override;
  void wakeup() override;
  Result<void> seek(const rocketmq::MessageQueue& queue, std::int64_t offset) override;
  void pause(const std::vector<rocketmq::MessageQueue>& queues) override;
  void resume(const std::vector<rocketmq::MessageQueue>& queues) override;
  Result<std::int64_t> committed(const rocketmq::MessageQueue& queue) override;
  Result<void> commit(const std::map<rocketmq::MessageQueue, std::int64_t>& offsets) override;
  void shutdown() override;
  std::vector<rocketmq::QueuePosition> positions() const override { return consumer_->positions(); }

 private:
  std::unique_ptr<rocketmq::LitePullConsumer> consumer_;
};

}  // namespace rmqc::runtime
