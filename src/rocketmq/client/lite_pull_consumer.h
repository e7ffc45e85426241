#pragma once

// A lite-pull consumer (RocketMQ's DefaultLitePullConsumer, what sink tasks need): subscribe
// with clustering rebalance inside the group, or assign queues by hand; poll() backed by long
// polling; seek, pause/resume, committed/commit and auto-commit (spec §2.3.4–§2.3.6, §4.5–§4.7).

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"
#include "rocketmq/client/message.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rmqc::rocketmq {

class ClientInstance;

enum class ConsumeFromWhere { kLastOffset, kFirstOffset, kTimestamp };

struct ConsumerConfig {
  ClientConfig client;
  std::string group;
  // Where a queue starts when the group has no offset for it. Note (spec §2.3.5): brokers
  // answer 0, not "none", for queues whose first message is still present, so on young queues a
  // new group starts at the beginning whatever this says, as with Java clients.
  ConsumeFromWhere consume_from = ConsumeFromWhere::kLastOffset;
  std::int64_t consume_timestamp_ms = 0;  // kTimestamp; 0 = now - 30 min
  bool auto_commit = true;
  std::chrono::milliseconds auto_commit_interval{5000};
  std::chrono::milliseconds rebalance_interval{20'000};
  std::int32_t pull_batch_size = 32;
  std::chrono::milliseconds long_poll_suspend{15'000};  // broker hold per pull
  std::chrono::milliseconds pull_error_backoff{1000};
  std::size_t max_cached_messages_per_queue = 1024;
  std::size_t max_poll_messages = 256;  // per poll() call

  // Exclusive queue ownership in subscribe mode, with the broker's queue locks (LOCK_BATCH_MQ,
  // as RocketMQ's orderly consumers): a queue a rebalance gives this consumer is pulled only
  // once this client holds its lock on the queue's broker, and its start offset is read then
  // (the previous owner unlocks only after its revocation listener committed). Until then it is
  // assigned (assignment()) but waiting; locking is retried every `lock_retry_interval`. A
  // queue still not locked after `lock_wait` is taken anyway, with a warning naming it (a dead
  // holder keeps its lock on an Apache broker until the broker's 60 s expiry; the embedded
  // broker drops a client's locks when its connection closes). Held locks are renewed every
  // `lock_renew_interval` (Apache brokers expire them after 60 s); revoked queues are unlocked
  // after on_revoked returned, the rest at shutdown. No effect on assign().
  bool lock_queues = false;
  std::chrono::milliseconds lock_retry_interval{500};
  std::chrono::milliseconds lock_wait{10'000};
  std::chrono::milliseconds lock_renew_interval{20'000};
};

// Called on the consumer's own thread (never an I/O thread, so it may commit()): revoked
// before the queues are dropped, assigned after their start offsets are known. With
// lock_queues, on_assigned reports a queue when this consumer starts consuming it (it got the
// lock, or lock_wait passed), which can be later than the rebalance that gave it; on_revoked
// reports every queue that leaves assignment(), also one still waiting for its lock (nothing
// was polled from it).
struct AssignmentListener {
  std::function<void(const std::vector<MessageQueue>& revoked)> on_revoked;
  std::function<void(const std::vector<MessageQueue>& assigned)> on_assigned;
};

// Where a consumer is in one of its queues (a sink task's lag, GET /metrics).
struct QueuePosition {
  MessageQueue queue;
  std::int64_t position = 0;    // next offset poll() hands out
  std::int64_t max_offset = 0;  // the queue's end (next offset written) in the last pull reply
};

// AllocateMessageQueueAveragely (spec §4.6): contiguous blocks of the sorted queues by the
// index of `client_id` among the sorted ids.
std::vector<MessageQueue> allocate_averagely(const std::vector<MessageQueue>& queues,
                                             const std::vector<std::string>& client_ids,
                                             const std::string& client_id);

// poll(), commit() and the seek/pause calls are thread-safe, but one thread polling is the
// intended use.
class LitePullConsumer {
 public:
  static Result<std::unique_ptr<LitePullConsumer>> start(ConsumerConfig config);
  ~LitePullConsumer();
  LitePullConsumer(const LitePullConsumer&) = delete;
  LitePullConsumer& operator=(const LitePullConsumer&) = delete;

  // Joins the group's rebalance for `topic` with a tag expression ("*", "TagA || TagB").
  Result<void> subscribe(const std::string& topic, const std::string& expression = "*");
  Result<void> unsubscribe(const std::string& topic);
  // Takes exactly these queues, without a group rebalance (replaces any subscription).
  Result<void> assign(const std::vector<MessageQueue>& queues);
  // The readable queues of a topic.
  Result<std::vector<MessageQueue>> fetch_queues(const std::string& topic);
  // The queues allocated to this consumer (with lock_queues, also those waiting for a lock).
  std::vector<MessageQueue> assignment() const;
  void set_assignment_listener(AssignmentListener listener);

  // Messages that arrived, waiting up to `timeout` for at least one. Empty on timeout, and after
  // wakeup().
  Result<std::vector<MessageExt>> poll(std::chrono::milliseconds timeout);
  // Makes a poll() in progress return now (empty unless messages are there); with none in
  // progress, the next poll() does not wait. For another thread that needs the polling thread
  // (stop, pause, a revocation to commit), so the poller can wait long when nothing arrives.
  void wakeup();

  // Next poll() of `queue` starts at `offset` (cached messages are dropped).
  Result<void> seek(const MessageQueue& queue, std::int64_t offset);
  Result<void> seek_to_begin(const MessageQueue& queue);
  Result<void> seek_to_end(const MessageQueue& queue);
  Result<void> seek_to_timestamp(const MessageQueue& queue, std::int64_t timestamp_ms);
  void pause(const std::vector<MessageQueue>& queues);
  void resume(const std::vector<MessageQueue>& queues);

  // The group's committed offset on the broker (next offset to consume); -1 when none.
  Result<std::int64_t> committed(const MessageQueue& queue);
  // Next offset poll() will return for an assigned queue; -1 if unknown.
  std::int64_t position(const MessageQueue& queue) const;
  // Position and broker end of each assigned queue that has had a pull reply (the end comes
  // with every PULL_MESSAGE reply, so this costs no request; it is as fresh as the last reply:
  // a long poll answers as soon as messages arrive, but a queue whose cache is full is not
  // pulled until poll() takes from it).
  std::vector<QueuePosition> positions() const;
  // Commits the position of every assigned queue (what poll() handed out), synchronously.
  Result<void> commit();
  // Commits the given offsets (next offset to consume) synchronously. With lock_queues, offsets
  // of assigned queues this consumer is not consuming (waiting for their lock) are left out.
  Result<void> commit(const std::map<MessageQueue, std::int64_t>& offsets);

  // Runs a rebalance now (normally on membership change and every rebalance_interval).
  void request_rebalance();

  const std::string& client_id() const;
  const std::string& group() const;
  ClientInstance& instance();

  // Final auto-commit, unlocks the queues (lock_queues), UNREGISTER_CLIENT, stops threads.
  // Idempotent.
  void shutdown();

 private:
  struct Impl;
  explicit LitePullConsumer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace rmqc::rocketmq
