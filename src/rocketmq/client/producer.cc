#include "rocketmq/client/producer.h"

#include "base/logging.h"
#include "rocketmq/client/client_instance.h"
#include "rocketmq/protocol/byte_io.h"
#include "rocketmq/protocol/headers.h"
#include "rocketmq/protocol/message_id.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <charconv>
#include <cstdlib>
#include <limits>

namespace rmqc::rocketmq {
namespace {

namespace rc = request_code;
namespace rsp = response_code;
using Clock = std::chrono::steady_clock;

UniqKeyGenerator& uniq_keys() {
  static UniqKeyGenerator generator = UniqKeyGenerator::for_this_process();
  return generator;
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Result<void> validate_topic(std::string_view topic) {
  if (topic.empty()) return Error(ErrorCode::kInvalidArgument, "message topic is empty");
  if (topic.size() > kMaxTopicLengthV1) {
    return Error(ErrorCode::kInvalidArgument,
                 "topic '" + std::string(topic) + "' is longer than 127 characters");
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '%' || c == '|' || c == '_' || c == '-';
    if (!ok) {
      return Error(ErrorCode::kInvalidArgument,
                   "topic '" + std::string(topic) +
                       "' contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
    }
  }
  return {};
}

// Writes a message's properties in Java's encoding (user properties in key order, then TAGS,
// KEYS, DELAY and a fresh UNIQ_KEY) at the end of `out`, where they start at `start` (a batch
// body holds other bytes before them). Returns where the UNIQ_KEY's digits begin. Nothing is
// allocated beyond out's own growth.
std::size_t append_message_properties(std::string& out, std::size_t start, const Message& m,
                                      std::int32_t millis_in_month) {
  auto add = [&](std::string_view name, std::string_view value) {
    if (name.empty() || value.empty()) return;
    if (out.size() != start) out.push_back(kPropertySeparator);
    out.append(name);
    out.push_back(kNameValueSeparator);
    out.append(value);
  };
  for (const auto& [k, v] : m.properties) add(k, v);
  if (!m.tags.empty()) add(property::TAGS, m.tags);
  if (!m.keys.empty()) add(property::KEYS, m.keys);
  if (m.delay_level > 0) {
    char digits[16];
    auto end = std::to_chars(digits, digits + sizeof(digits), m.delay_level).ptr;
    add(property::DELAY, std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }
  if (out.size() != start) out.push_back(kPropertySeparator);
  out.append(property::UNIQ_KEY);
  out.push_back(kNameValueSeparator);
  const std::size_t id_at = out.size();
  uniq_keys().append_next(out, millis_in_month);
  return id_at;
}

std::size_t properties_size_hint(const Message& m) {
  std::size_t n = m.tags.size() + m.keys.size() + 64;
  for (const auto& [k, v] : m.properties) n += k.size() + v.size() + 2;
  return n;
}

}  // namespace

struct Producer::Prepared {
  Selection selection = Selection::kRoundRobin;
  std::string key;     // kKey
  MessageQueue fixed;  // kFixed
  std::int32_t code = rc::SEND_MESSAGE_V2;
  SendMessageRequestHeader header;
  std::string owned_body;  // compressed or batch body
  std::string_view body;   // what goes on the wire
  std::string msg_id;      // UNIQ_KEY(s)
};

struct Producer::AsyncSend {
  Message message;  // owns the body the Prepared views
  std::shared_ptr<Prepared> prepared;
  Clock::time_point deadline;
  int attempt = 0;
  std::string avoid_broker;
  std::optional<Error> last_error;
  SendCallback callback;
};

Producer::Producer(ProducerConfig config, std::shared_ptr<ClientInstance> instance)
    : config_(std::move(config)), instance_(std::move(instance)) {}

Result<std::unique_ptr<Producer>> Producer::start(ProducerConfig config) {
  if (config.group.empty()) return Error(ErrorCode::kInvalidConfig, "producer group is empty");
  if (config.client.thread_tag.empty()) config.client.thread_tag = config.group;
  RMQC_ASSIGN_OR_RETURN(auto instance, ClientInstance::create(config.client));
  std::unique_ptr<Producer> producer(new Producer(std::move(config), std::move(instance)));
  producer->heartbeat_id_ = producer->instance_->add_heartbeat_contributor(
      [group = producer->config_.group](HeartbeatData& data) {
        data.producer_data_set.push_back(ProducerData{group});
      });
  return producer;
}

Producer::~Producer() {
  shutdown();
}

void Producer::shutdown() {
  if (stopped_.exchange(true)) return;
  instance_->remove_heartbeat_contributor(heartbeat_id_);
  instance_->unregister_client(config_.group, std::nullopt);
  instance_->shutdown();
}

const std::string& Producer::client_id() const {
  return instance_->client_id();
}

std::size_t Producer::queue_for_key(std::string_view key, std::size_t queue_count) {
  if (queue_count == 0) return 0;
  std::int64_t h = java_string_hash(key);
  return static_cast<std::size_t>(std::llabs(h)) % queue_count;
}

std::size_t Producer::cached_queue_count(std::string_view topic) const {
  auto route = instance_->cached_route(topic);
  return route ? route->publish_queues.size() : 0;
}

Result<std::shared_ptr<Producer::Prepared>> Producer::prepare(const Message& m) const {
  if (stopped_.load()) return Error(ErrorCode::kCancelled, "producer is shut down");
  RMQC_RETURN_IF_ERROR(validate_topic(m.topic));
  if (m.body.empty()) {
    return Error(ErrorCode::kInvalidArgument, "message body is empty");
  }
  if (m.body.size() > config_.max_message_size) {
    return Error(ErrorCode::kInvalidArgument, "message body of " + std::to_string(m.body.size()) +
                                                  " bytes exceeds the maximum message size of " +
                                                  std::to_string(config_.max_message_size) +
                                                  " bytes");
  }
  auto p = std::make_shared<Prepared>();
  auto& h = p->header;
  const auto now = std::chrono::system_clock::now();
  h.producer_group = config_.group;
  h.topic = m.topic;
  h.default_topic_queue_nums = config_.default_topic_queue_nums;
  h.born_timestamp = epoch_ms(now);
  h.flag = m.flag;
  h.properties.reserve(properties_size_hint(m));
  const std::size_t id_at =
      append_message_properties(h.properties, 0, m, uniq_keys().millis_in_month(now));
  p->msg_id.assign(h.properties, id_at, uniq_keys().key_size());
  h.batch = false;
  // A transactional half message (TransactionProducer): sysFlag PREPARED, as Java's producer.
  if (auto t = m.properties.find(property::TRAN_MSG);
      t != m.properties.end() && t->second == "true") {
    h.sys_flag |= sysflag::TRANSACTION_PREPARED_TYPE;
  }
  if (m.body.size() >= config_.compress_over) {
    auto compressed = compress_body(m.body, config_.compress_level);
    if (compressed.ok() && compressed->size() < m.body.size()) {
      p->owned_body = std::move(compressed).value();
      p->body = p->owned_body;
      h.sys_flag |= sysflag::COMPRESSED_FLAG | sysflag::COMPRESSION_ZLIB;
    }
  }
  if (p->body.empty()) p->body = m.body;
  return p;
}

Result<std::shared_ptr<Producer::Prepared>> Producer::prepare_batch(
    std::span<const Message> messages) const {
  if (stopped_.load()) return Error(ErrorCode::kCancelled, "producer is shut down");
  if (messages.empty()) return Error(ErrorCode::kInvalidArgument, "empty batch");
  const std::string& topic = messages.front().topic;
  RMQC_RETURN_IF_ERROR(validate_topic(topic));
  auto p = std::make_shared<Prepared>();
  p->code = rc::SEND_BATCH_MESSAGE;
  std::size_t total = 0;
  for (const auto& m : messages) total += m.body.size() + 22 + properties_size_hint(m);
  std::string& out = p->owned_body;
  out.reserve(total);
  const std::size_t id_size = uniq_keys().key_size();
  p->msg_id.reserve(messages.size() * (id_size + 1));
  // One clock read for the batch: its messages share the born timestamp and the UNIQ_KEY month
  // offset (their counters differ).
  const auto now = std::chrono::system_clock::now();
  const std::int32_t millis_in_month = uniq_keys().millis_in_month(now);
  // Each entry (spec §2.3.3) is written in place: TOTALSIZE, MAGICCODE (0), BODYCRC (0, the
  // broker computes it), FLAG, BODY length, BODY, PROPERTIES length, PROPERTIES; the two lengths
  // are patched once the properties are written.
  for (const auto& m : messages) {
    if (m.topic != topic) {
      return Error(ErrorCode::kInvalidArgument, "all messages of a batch must share one topic");
    }
    if (m.delay_level > 0) {
      return Error(ErrorCode::kInvalidArgument, "batch messages cannot be delayed");
    }
    if (m.body.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()) - 32) {
      return Error(ErrorCode::kResourceExhausted, "batch message exceeds 2 GiB");
    }
    const std::size_t entry = out.size();
    out.append(20, '\0');
    byte_io::store_be<std::int32_t>(out.data() + entry + 12, m.flag);
    byte_io::store_be<std::int32_t>(out.data() + entry + 16,
                                    static_cast<std::int32_t>(m.body.size()));
    out.append(m.body);
    out.append(2, '\0');
    const std::size_t props_at = out.size();
    const std::size_t id_at = append_message_properties(out, props_at, m, millis_in_month);
    const std::size_t props_size = out.size() - props_at;
    if (props_size > kMaxPropertiesLength) {
      return Error(ErrorCode::kResourceExhausted, "batch message properties exceed 32767 bytes");
    }
    byte_io::store_be<std::int32_t>(out.data() + entry,
                                    static_cast<std::int32_t>(out.size() - entry));
    byte_io::store_be<std::int16_t>(out.data() + props_at - 2,
                                    static_cast<std::int16_t>(props_size));
    if (!p->msg_id.empty()) p->msg_id.push_back(',');
    p->msg_id.append(out, id_at, id_size);
  }
  if (p->owned_body.size() > config_.max_message_size) {
    return Error(ErrorCode::kInvalidArgument, "batch of " + std::to_string(p->owned_body.size()) +
                                                  " bytes exceeds the maximum message size of " +
                                                  std::to_string(config_.max_message_size) +
                                                  " bytes");
  }
  p->body = p->owned_body;
  auto& h = p->header;
  h.producer_group = config_.group;
  h.topic = topic;
  h.default_topic_queue_nums = config_.default_topic_queue_nums;
  h.born_timestamp = epoch_ms(now);
  h.batch = true;
  return p;
}

Result<MessageQueue> Producer::select(const TopicRouteInfo& route, const Prepared& p,
                                      const std::string& avoid_broker) const {
  const auto& queues = route.publish_queues;
  if (p.selection == Selection::kFixed) return p.fixed;
  if (queues.empty()) {
    return Error::retriable(ErrorCode::kNotFound,
                            "no writable queue for topic '" + p.header.topic + "'");
  }
  if (p.selection == Selection::kKey) return queues[queue_for_key(p.key, queues.size())];
  const std::size_t n = queues.size();
  for (std::size_t i = 0; i < n; ++i) {
    const auto& q = queues[route.send_index.fetch_add(1, std::memory_order_relaxed) % n];
    if (avoid_broker.empty() || q.broker_name != avoid_broker) return q;
  }
  return queues[route.send_index.fetch_add(1, std::memory_order_relaxed) % n];
}

RemotingCommand Producer::build_request(const Prepared& p, const MessageQueue& queue) const {
  SendMessageRequestHeader h = p.header;
  h.queue_id = queue.queue_id;
  h.bname = queue.broker_name;
  return RemotingCommand::request(p.code, h.to_v2_ext_fields());
}

Result<SendResult> Producer::to_send_result(const RemotingCommand& reply, const Prepared& p,
                                            const MessageQueue& queue) {
  if (!rsp::is_send_stored(reply.code)) return error_from_response(reply, "send");
  RMQC_ASSIGN_OR_RETURN(auto h, SendMessageResponseHeader::from_ext_fields(reply.ext_fields));
  SendResult r;
  switch (reply.code) {
    case rsp::FLUSH_DISK_TIMEOUT:
      r.status = SendStatus::kFlushDiskTimeout;
      break;
    case rsp::FLUSH_SLAVE_TIMEOUT:
      r.status = SendStatus::kFlushSlaveTimeout;
      break;
    case rsp::SLAVE_NOT_AVAILABLE:
      r.status = SendStatus::kSlaveNotAvailable;
      break;
    default:
      r.status = SendStatus::kSendOk;
  }
  r.msg_id = p.msg_id;
  r.offset_msg_id = std::move(h.msg_id);
  r.queue = MessageQueue{queue.topic, queue.broker_name, h.queue_id};
  r.queue_offset = h.queue_offset;
  r.region_id = h.msg_region.value_or("DefaultRegion");
  r.trace_on = h.trace_on.value_or("false") == "true";
  r.transaction_id = h.transaction_id.value_or("");
  return r;
}

Result<SendResult> Producer::send_prepared(const std::shared_ptr<Prepared>& p) {
  const auto deadline = Clock::now() + config_.send_timeout;
  const int attempts = 1 + std::max(0, config_.retry_times);
  std::string avoid;
  std::optional<Error> last;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (remaining.count() <= 0) break;
    auto route = attempt == 0 ? instance_->route(p->header.topic, /*allow_default=*/true)
                              : instance_->refresh_route(p->header.topic, true);
    if (!route.ok() && attempt > 0) route = instance_->route(p->header.topic, true);
    if (!route.ok()) {
      last = std::move(route).error();
      if (!last->is_retriable()) return *last;
      continue;
    }
    auto queue = select(**route, *p, avoid);
    if (!queue.ok()) return std::move(queue).error();
    auto addr = (*route)->master_addrs.find(queue->broker_name);
    std::optional<std::string> master;
    if (addr != (*route)->master_addrs.end()) {
      master = addr->second;
    } else {
      master = instance_->master_addr(queue->broker_name);
    }
    if (!master) {
      last = Error::retriable(ErrorCode::kNotFound, "no master for broker " + queue->broker_name);
      avoid = queue->broker_name;
      continue;
    }
    auto reply =
        instance_->remoting().invoke(*master, build_request(*p, *queue), p->body, remaining);
    if (reply.ok()) {
      auto result = to_send_result(*reply, *p, *queue);
      if (result.ok()) return result;
      last = std::move(result).error();
    } else {
      last = std::move(reply).error();
    }
    if (!last->is_retriable()) return *last;
    logger("client")->debug("send to {} failed (attempt {}): {}", queue->broker_name, attempt + 1,
                            last->to_string());
    avoid = queue->broker_name;
  }
  if (!last) {
    last = Error::retriable(
        ErrorCode::kTimeout,
        "send timed out after " + std::to_string(config_.send_timeout.count()) + " ms");
  }
  return *last;
}

Result<SendResult> Producer::send(const Message& message) {
  RMQC_ASSIGN_OR_RETURN(auto p, prepare(message));
  return send_prepared(p);
}

Result<SendResult> Producer::send_by_key(const Message& message, std::string_view key) {
  RMQC_ASSIGN_OR_RETURN(auto p, prepare(message));
  p->selection = Selection::kKey;
  p->key = std::string(key);
  return send_prepared(p);
}

Result<SendResult> Producer::send_to(const Message& message, const MessageQueue& queue) {
  RMQC_ASSIGN_OR_RETURN(auto p, prepare(message));
  p->selection = Selection::kFixed;
  p->fixed = queue;
  return send_prepared(p);
}

Result<SendResult> Producer::send_batch(std::span<const Message> messages, std::string_view key) {
  RMQC_ASSIGN_OR_RETURN(auto p, prepare_batch(messages));
  if (!key.empty()) {
    p->selection = Selection::kKey;
    p->key = std::string(key);
  }
  return send_prepared(p);
}

Result<void> Producer::send_oneway(const Message& message) {
  RMQC_ASSIGN_OR_RETURN(auto p, prepare(message));
  RMQC_ASSIGN_OR_RETURN(auto route, instance_->route(message.topic, true));
  RMQC_ASSIGN_OR_RETURN(auto queue, select(*route, *p, {}));
  auto addr = route->master_addrs.find(queue.broker_name);
  if (addr == route->master_addrs.end()) {
    return Error::retriable(ErrorCode::kNotFound, "no master for broker " + queue.broker_name);
  }
  return instance_->remoting().invoke_oneway(addr->second, build_request(*p, queue), p->body);
}

void Producer::send_async(Message message, SendCallback callback) {
  auto state = std::make_shared<AsyncSend>();
  state->message = std::move(message);  // owns the body the Prepared views
  state->callback = std::move(callback);
  auto p = prepare(state->message);
  start_async(std::move(state), std::move(p), std::nullopt);
}

void Producer::send_by_key_async(Message message, std::string key, SendCallback callback) {
  auto state = std::make_shared<AsyncSend>();
  state->message = std::move(message);
  state->callback = std::move(callback);
  auto p = prepare(state->message);
  start_async(std::move(state), std::move(p), std::move(key));
}

void Producer::send_batch_async(std::span<const Message> messages, std::string key,
                                SendCallback callback) {
  auto state = std::make_shared<AsyncSend>();
  state->callback = std::move(callback);
  auto p = prepare_batch(messages);  // the batch body is copied into the Prepared
  std::optional<std::string> by_key;
  if (!key.empty()) by_key = std::move(key);
  start_async(std::move(state), std::move(p), std::move(by_key));
}

void Producer::start_async(std::shared_ptr<AsyncSend> state,
                           Result<std::shared_ptr<Prepared>> prepared,
                           std::optional<std::string> key) {
  if (!prepared.ok()) {
    state->callback(std::move(prepared).error());
    return;
  }
  state->prepared = std::move(prepared).value();
  if (key) {
    state->prepared->selection = Selection::kKey;
    state->prepared->key = std::move(*key);
  }
  state->deadline = Clock::now() + config_.send_timeout;
  send_prepared_async(std::move(state));
}

std::future<Result<SendResult>> Producer::send_async(Message message) {
  auto promise = std::make_shared<std::promise<Result<SendResult>>>();
  auto future = promise->get_future();
  send_async(std::move(message),
             [promise](Result<SendResult> r) { promise->set_value(std::move(r)); });
  return future;
}

void Producer::send_prepared_async(std::shared_ptr<AsyncSend> state) {
  const int attempts = 1 + std::max(0, config_.retry_times);
  auto finish = [&state](Error e) { state->callback(std::move(e)); };
  auto remaining =
      std::chrono::duration_cast<std::chrono::milliseconds>(state->deadline - Clock::now());
  if (stopped_.load()) return finish(Error(ErrorCode::kCancelled, "producer is shut down"));
  if (state->attempt >= attempts || remaining.count() <= 0) {
    return finish(
        state->last_error.value_or(Error::retriable(ErrorCode::kTimeout, "send timed out")));
  }
  // Retries run on an I/O thread, where only the cached route may be used (no blocking call).
  auto route = instance_->route(state->prepared->header.topic, true);
  if (!route.ok()) return finish(std::move(route).error());
  auto queue = select(**route, *state->prepared, state->avoid_broker);
  if (!queue.ok()) return finish(std::move(queue).error());
  auto addr = (*route)->master_addrs.find(queue->broker_name);
  if (addr == (*route)->master_addrs.end()) {
    return finish(Error::retriable(ErrorCode::kNotFound, "no master for " + queue->broker_name));
  }
  ++state->attempt;
  MessageQueue mq = *queue;
  instance_->remoting().invoke_async(
      addr->second, build_request(*state->prepared, mq), state->prepared->body, remaining,
      [this, state, mq](Result<RemotingCommand> reply) mutable {
        Error error(ErrorCode::kInternal, "");
        if (reply.ok()) {
          auto result = to_send_result(*reply, *state->prepared, mq);
          if (result.ok()) {
            state->callback(std::move(result));
            return;
          }
          error = std::move(result).error();
        } else {
          error = std::move(reply).error();
        }
        if (!error.is_retriable() || state->prepared->selection != Selection::kRoundRobin) {
          state->callback(std::move(error));
          return;
        }
        state->last_error = std::move(error);
        state->avoid_broker = mq.broker_name;
        send_prepared_async(std::move(state));
      });
}

}  // namespace rmqc::rocketmq
