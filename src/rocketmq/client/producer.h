#pragma once

// The producer (spec §2.3.3, §4.4): sync, async, oneway and batch sends over SEND_MESSAGE_V2 /
// SEND_BATCH_MESSAGE, round-robin or key-hash queue selection, retries on another broker for
// retriable failures, client-side size check and zlib compression.

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"
#include "rocketmq/client/message.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace rmqc::rocketmq {

class ClientInstance;
struct TopicRouteInfo;

struct ProducerConfig {
  ClientConfig client;
  std::string group = "DEFAULT_PRODUCER";
  // Budget of one send() including its retries (Java sendMsgTimeout).
  std::chrono::milliseconds send_timeout{3000};
  int retry_times = 2;                        // extra attempts, sync and async
  std::size_t max_message_size = 4u << 20;    // body, before compression (Java 4 MiB)
  std::size_t compress_over = 4096;           // compress bodies of at least this size
  int compress_level = 5;                     // Java >= 4.9.4
  std::int32_t default_topic_queue_nums = 4;  // queues of auto-created topics
};

using SendCallback = std::function<void(Result<SendResult>)>;

// Thread-safe: any number of threads may send concurrently.
class Producer {
 public:
  static Result<std::unique_ptr<Producer>> start(ProducerConfig config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Round robin over the topic's writable queues.
  Result<SendResult> send(const Message& message);
  // The queue picked by the hash of `key`: the same key always lands on the same queue while
  // the topic's queue count stays the same (ordered delivery). No retry on another queue.
  Result<SendResult> send_by_key(const Message& message, std::string_view key);
  // A given queue; retried only on that queue.
  Result<SendResult> send_to(const Message& message, const MessageQueue& queue);

  // The callback runs on an I/O thread (must not block) exactly once.
  void send_async(Message message, SendCallback callback);
  void send_by_key_async(Message message, std::string key, SendCallback callback);
  std::future<Result<SendResult>> send_async(Message message);

  // Fire and forget: queued on the connection, never retried.
  Result<void> send_oneway(const Message& message);

  // One SEND_BATCH_MESSAGE: all messages share topic (and end up on one queue, consecutive
  // offsets). Not compressed. `key` non-empty selects the queue by hash.
  Result<SendResult> send_batch(std::span<const Message> messages, std::string_view key = {});
  // The same, asynchronously; with retries on other brokers like send_async when `key` is empty.
  void send_batch_async(std::span<const Message> messages, std::string key, SendCallback callback);

  // Queue index chosen for `key` among `queue_count` queues (Java SelectMessageQueueByHash).
  static std::size_t queue_for_key(std::string_view key, std::size_t queue_count);
  // The writable queues a keyed send of `topic` picks among, from the cached route only (0 when
  // no route is cached yet).
  std::size_t cached_queue_count(std::string_view topic) const;

  const std::string& client_id() const;
  ClientInstance& instance() { return *instance_; }

  // UNREGISTER_CLIENT, closes connections; later sends fail with kCancelled. Idempotent.
  void shutdown();

 private:
  struct Prepared;
  struct AsyncSend;
  enum class Selection { kRoundRobin, kKey, kFixed };

  Producer(ProducerConfig config, std::shared_ptr<ClientInstance> instance);
  Result<std::shared_ptr<Prepared>> prepare(const Message& message) const;
  Result<std::shared_ptr<Prepared>> prepare_batch(std::span<const Message> messages) const;
  Result<MessageQueue> select(const TopicRouteInfo& route, const Prepared& p,
                              const std::string& avoid_broker) const;
  Result<SendResult> send_prepared(const std::shared_ptr<Prepared>& p);
  void send_prepared_async(std::shared_ptr<AsyncSend> state);
  // Fails the callback with a preparation error, or selects by `key` and sends.
  void start_async(std::shared_ptr<AsyncSend> state, Result<std::shared_ptr<Prepared>> prepared,
                   std::optional<std::string> key);
  RemotingCommand build_request(const Prepared& p, const MessageQueue& queue) const;
  static Result<SendResult> to_send_result(const RemotingCommand& reply, const Prepared& p,
                                           const MessageQueue& queue);

  ProducerConfig config_;
  std::shared_ptr<ClientInstance> instance_;
  int heartbeat_id_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace rmqc::rocketmq
