#pragma once

#include "rmqc/base/result.h"

#include "rocketmq/client/client_config.h"
#include "rocketmq/client/message.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace rmqc::rocketmq {
class Producer;
class LitePullConsumer;
}  // namespace rmqc::rocketmq

namespace rmqc::runtime {

struct TopicLogOptions {
  rocketmq::ClientConfig client;
  std::string topic;
  std::string worker_id;                   // stamped on every record this log appends
  std::string thread_name = "log-follow";  // the follower thread's name (at most 15 bytes)
  // Reading the topic up to its end at open().
  std::chrono::milliseconds read_timeout{60'000};
  // wait_applied(): how long an acknowledged record may take to come back through the follower.
  std::chrono::milliseconds apply_timeout{15'000};
  std::chrono::milliseconds send_timeout{3'000};
};

// One record of the log. A deletion is marked by the property RMQC_DELETED=true; its body is
// whatever the writer put there (RocketMQ has no empty bodies: "-" when there is nothing).
struct LogRecord {
  std::string key;  // KEYS
  std::string value;
  bool deleted = false;
  std::string writer;  // property RMQC_WORKER: the worker id of the writer
  std::int64_t offset = 0;
};

// A key -> value log over one queue of a RocketMQ topic (queue 0 on the first broker by name
// that serves the topic), so the order of records is total and the same for every reader.
//
// open() creates the topic (one queue) when it is missing, then reads it from its first offset
// to the end (the max offset at open(), read with Admin) before it returns, and keeps following
// it on its own thread. The callback gets every record in topic order — other workers' and this
// log's own — on that thread, including during open(); what "latest record per key wins" means
// is up to the callback. Thread-safe.
class TopicLog {
 public:
  using Callback = std::function<void(const LogRecord&)>;
  // Called on the follower thread after each batch of records (and every ~200 ms when idle).
  using IdleCallback = std::function<void()>;

  static Result<std::unique_ptr<TopicLog>> open(TopicLogOptions options, Callback callback,
                                                IdleCallback on_idle = {});
  ~TopicLog();
  TopicLog(const TopicLog&) = delete;
  TopicLog& operator=(const TopicLog&) = delete;

  // Sends one record and returns its queue offset once the broker acknowledged it (not yet
  // applied: see wait_applied). `key` must be non-empty and free of the characters \x01 and
  // \x02; an empty value is sent as "-".
  Result<std::int64_t> append(std::string_view key, std::string_view value, bool deleted = false);
  // Waits until the follower handed the record at `offset` to the callback. kTimeout
  // (retriable) after apply_timeout, kCancelled once stopped. Returns at once when called on the
  // follower thread (from the callback), where waiting could never end.
  Result<void> wait_applied(std::int64_t offset);
  // The next offset the follower will apply.
  std::int64_t applied_end() const;
  bool on_follower_thread() const;
  const rocketmq::MessageQueue& queue() const { return queue_; }
  const std::string& topic() const { return options_.topic; }

  // Stops following (the callback is not called any more once this returns) and closes the
  // clients. Idempotent; must not be called from the callback.
  void stop();

  // Makes sure `topic` exists, creating it with one queue: what open() does first. On refusal
  // the error says what to do (create the topic by hand, enable autoCreateTopicEnable, or check
  // the ACL).
  static Result<void> ensure_topic(const rocketmq::ClientConfig& client, const std::string& topic,
                                   std::chrono::milliseconds timeout);

 private:
  TopicLog(TopicLogOptions options, Callback callback, IdleCallback on_idle);
  void follow();

  const TopicLogOptions options_;
  const Callback callback_;
  const IdleCallback on_idle_;
  rocketmq::MessageQueue queue_;
  std::unique_ptr<rocketmq::Producer> producer_;
  std::unique_ptr<rocketmq::LitePullConsumer> consumer_;

  mutable std::mutex mutex_;
  std::condition_variable applied_cv_;
  std::int64_t next_ = 0;  // next offset to apply
  bool stopping_ = false;
  std::thread follower_;
  std::thread::id follower_id_;
  std::mutex stop_mutex_;
};

}  // namespace rmqc::runtime
