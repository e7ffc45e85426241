#include "runtime/storage/topic_log.h"

#include "base/logging.h"
#include "base/thread_name.h"
#include "rocketmq/client/admin.h"
#include "rocketmq/client/lite_pull_consumer.h"
#include "rocketmq/client/producer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <unistd.h>

namespace rmqc::runtime {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kDeletedProperty = "RMQC_DELETED";
constexpr std::string_view kWorkerProperty = "RMQC_WORKER";
constexpr std::string_view kEmptyBody = "-";

// Group names allow letters, digits, '-', '_', '%' and '|'.
std::string group_name(std::string_view prefix, std::string_view text) {
  std::string out(prefix);
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out.substr(0, 120);
}

std::string unique_suffix() {
  static std::atomic<std::uint64_t> counter{0};
  return std::to_string(::getpid()) + "_" + std::to_string(++counter) + "_" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
}

Error cannot_create(const std::string& topic, const rocketmq::ClientConfig& client,
                    const Error& cause) {
  return Error(cause.code(),
               "topic '" + topic + "' does not exist and could not be created (" +
                   cause.to_string() +
                   "). Create it by hand with one queue (mqadmin updateTopic -n " +
                   client.namesrv_addr + " -c <cluster> -t " + topic +
                   " -r 1 -w 1), or enable autoCreateTopicEnable on the broker, or check that "
                   "this worker's accessKey may create topics (ACL)",
               cause.is_retriable());
}

}  // namespace

Result<void> TopicLog::ensure_topic(const rocketmq::ClientConfig& client, const std::string& topic,
                                    std::chrono::milliseconds timeout) {
  RMQC_ASSIGN_OR_RETURN(auto admin, rocketmq::Admin::start(client));
  auto route = admin->topic_route(topic);
  if (route.ok() && !route->queue_datas.empty()) return {};
  if (!route.ok() && route.error().code() != ErrorCode::kNotFound) {
    return Error(route.error()).with_context("reading the route of topic '" + topic + "'");
  }
  if (auto created = admin->create_topic(topic, 1); !created.ok()) {
    return cannot_create(topic, client, created.error());
  }
  logger("storage")->info("created topic '{}' with one queue", topic);
  // A broker registers the new topic with its name servers; wait until it is routable.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    route = admin->topic_route(topic);
    if (route.ok() && !route->queue_datas.empty()) return {};
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error::retriable(ErrorCode::kTimeout, "topic '" + topic +
                                                       "' was created but the name server has no "
                                                       "route for it yet; retry later");
    }
    std::this_thread::sleep_for(100ms);
  }
}

Result<std::unique_ptr<TopicLog>> TopicLog::open(TopicLogOptions options, Callback callback,
                                                 IdleCallback on_idle) {
  if (options.topic.empty()) return Error(ErrorCode::kInvalidArgument, "topic log: no topic");
  RMQC_RETURN_IF_ERROR(ensure_topic(options.client, options.topic, options.read_timeout));
  std::unique_ptr<TopicLog> log(new TopicLog(options, std::move(callback), std::move(on_idle)));

  // The queue every worker uses: queue 0 of the first broker (by name) serving the topic.
  std::int64_t end = 0;
  std::int64_t begin = 0;
  {
    RMQC_ASSIGN_OR_RETURN(auto admin, rocketmq::Admin::start(options.client));
    RMQC_ASSIGN_OR_RETURN(auto route, admin->topic_route(options.topic));
    std::vector<std::string> brokers;
    for (const auto& q : route.queue_datas) {
      if (q.read_queue_nums > 0 && q.write_queue_nums > 0) brokers.push_back(q.broker_name);
    }
    if (brokers.empty()) {
      return Error(ErrorCode::kUnavailable,
                   "topic '" + options.topic + "' has no readable and writable queue");
    }
    std::sort(brokers.begin(), brokers.end());
    log->queue_ = rocketmq::MessageQueue{options.topic, brokers.front(), 0};
    RMQC_ASSIGN_OR_RETURN(begin, admin->min_offset(log->queue_));
    RMQC_ASSIGN_OR_RETURN(end, admin->max_offset(log->queue_));
  }

  rocketmq::ClientConfig client = options.client;
  if (client.thread_tag.empty()) client.thread_tag = options.thread_name;  // "io:cfg-follow"
  rocketmq::ProducerConfig pc;
  pc.client = client;
  pc.group = group_name("rmqc-log-writer-", options.topic);
  pc.send_timeout = options.send_timeout;
  RMQC_ASSIGN_OR_RETURN(log->producer_, rocketmq::Producer::start(pc));

  rocketmq::ConsumerConfig cc;
  cc.client = client;
  // Offsets are never committed (every start reads from the first offset); a stable name per
  // worker and topic keeps the broker from collecting a group per restart.
  cc.group = group_name(
      "rmqc-log-reader-",
      (options.worker_id.empty() ? unique_suffix() : options.worker_id) + "-" + options.topic);
  cc.consume_from = rocketmq::ConsumeFromWhere::kFirstOffset;
  cc.auto_commit = false;
  cc.long_poll_suspend = 5s;
  cc.pull_error_backoff = 200ms;
  RMQC_ASSIGN_OR_RETURN(log->consumer_, rocketmq::LitePullConsumer::start(cc));
  RMQC_RETURN_IF_ERROR(log->consumer_->assign({log->queue_}));
  RMQC_RETURN_IF_ERROR(log->consumer_->seek(log->queue_, begin));
  log->next_ = begin;

  log->follower_ = std::thread([raw = log.get()] { raw->follow(); });
  {
    std::unique_lock lock(log->mutex_);
    log->follower_id_ = log->follower_.get_id();
    if (!log->applied_cv_.wait_for(lock, options.read_timeout,
                                   [&] { return log->next_ >= end || log->stopping_; })) {
      const auto read = log->next_ - begin;
      lock.unlock();
      log->stop();
      return Error::retriable(ErrorCode::kTimeout,
                              "reading topic '" + options.topic + "': read " +
                                  std::to_string(read) + " of " + std::to_string(end - begin) +
                                  " records within " +
                                  std::to_string(options.read_timeout.count()) + " ms");
    }
  }
  logger("storage")->debug("topic log '{}': read {} records (offsets {}..{})", options.topic,
                           end - begin, begin, end);
  return log;
}

TopicLog::TopicLog(TopicLogOptions options, Callback callback, IdleCallback on_idle)
    : options_(std::move(options)), callback_(std::move(callback)), on_idle_(std::move(on_idle)) {}

TopicLog::~TopicLog() {
  stop();
}

void TopicLog::follow() {
  set_thread_name(options_.thread_name);
  auto last_warning = std::chrono::steady_clock::time_point{};
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto got = consumer_->poll(200ms);
    if (!got.ok()) {
      if (got.error().code() == ErrorCode::kCancelled) return;
      auto now = std::chrono::steady_clock::now();
      if (now - last_warning > 30s) {
        logger("storage")->warn("following topic '{}': {}", options_.topic,
                                got.error().to_string());
        last_warning = now;
      }
      std::unique_lock lock(mutex_);
      applied_cv_.wait_for(lock, 200ms, [&] { return stopping_; });
      continue;
    }
    for (const auto& m : *got) {
      std::int64_t next;
      {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        next = next_;
      }
      if (m.queue_offset() < next) continue;  // seen already (a re-delivery)
      LogRecord r;
      r.key = std::string(m.keys());
      r.deleted = m.property(kDeletedProperty) == "true";
      r.value = std::string(m.body());
      if (r.deleted && r.value == kEmptyBody) r.value.clear();
      r.writer = std::string(m.property(kWorkerProperty));
      r.offset = m.queue_offset();
      try {
        callback_(r);
      } catch (const std::exception& e) {
        logger("storage")->error("topic '{}' record {} (key '{}'): {}", options_.topic, r.offset,
                                 r.key, e.what());
      }
      {
        std::lock_guard lock(mutex_);
        next_ = r.offset + 1;
      }
      applied_cv_.notify_all();
    }
    if (on_idle_) {
      try {
        on_idle_();
      } catch (const std::exception& e) {
        logger("storage")->error("topic '{}': {}", options_.topic, e.what());
      }
    }
  }
}

Result<std::int64_t> TopicLog::append(std::string_view key, std::string_view value, bool deleted) {
  if (key.empty() || key.find_first_of("\x01\x02") != std::string_view::npos) {
    return Error(ErrorCode::kInvalidArgument,
                 "topic log key must be non-empty and free of \\x01 and \\x02");
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_)
      return Error(ErrorCode::kCancelled, "topic log '" + options_.topic + "' stopped");
  }
  rocketmq::Message m(options_.topic, value.empty() ? std::string(kEmptyBody) : std::string(value),
                      {}, std::string(key));
  if (deleted) m.properties.emplace(std::string(kDeletedProperty), "true");
  if (!options_.worker_id.empty())
    m.properties.emplace(std::string(kWorkerProperty), options_.worker_id);
  RMQC_ASSIGN_OR_RETURN(auto sent, producer_->send_to(m, queue_));
  if (sent.status != rocketmq::SendStatus::kSendOk) {
    // Stored, but not flushed or replicated as configured: it still comes back through the
    // follower (or, lost with the broker, never does and wait_applied times out).
    logger("storage")->warn("topic '{}': send status {}", options_.topic,
                            rocketmq::send_status_name(sent.status));
  }
  return sent.queue_offset;
}

Result<void> TopicLog::wait_applied(std::int64_t offset) {
  if (on_follower_thread()) return {};
  std::unique_lock lock(mutex_);
  if (!applied_cv_.wait_for(lock, options_.apply_timeout,
                            [&] { return next_ > offset || stopping_; })) {
    return Error::retriable(ErrorCode::kTimeout,
                            "the record at offset " + std::to_string(offset) + " of topic '" +
                                options_.topic + "' was acknowledged but not read back within " +
                                std::to_string(options_.apply_timeout.count()) +
                                " ms (read up to " + std::to_string(next_) + ")");
  }
  if (next_ <= offset) {
    return Error(ErrorCode::kCancelled, "topic log '" + options_.topic + "' stopped");
  }
  return {};
}

std::int64_t TopicLog::applied_end() const {
  std::lock_guard lock(mutex_);
  return next_;
}

bool TopicLog::on_follower_thread() const {
  std::lock_guard lock(mutex_);
  return follower_id_ == std::this_thread::get_id();
}

void TopicLog::stop() {
  std::lock_guard stop_lock(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  applied_cv_.notify_all();
  if (follower_.joinable()) follower_.join();
  if (consumer_) consumer_->shutdown();
  if (producer_) producer_->shutdown();
}

}  // namespace rmqc::runtime
