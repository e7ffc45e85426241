#include "broker/server/broker.h"

#include "base/logging.h"
#include "rocketmq/protocol/acl.h"
#include "rocketmq/protocol/message_codec.h"
#include "rocketmq/protocol/message_properties.h"
#include "rocketmq/protocol/request_code.h"
#include "rocketmq/protocol/response_code.h"

#include <algorithm>
#include <charconv>
#include <optional>

namespace rmqc::broker {
namespace rc = rocketmq::request_code;
namespace rsp = rocketmq::response_code;
using rocketmq::RemotingCommand;

namespace {

constexpr std::string_view kFaq = "\nSee http://rocketmq.apache.org/docs/faq/ for further details.";
constexpr std::string_view kRetryPrefix = "%RETRY%";
constexpr std::string_view kDlqPrefix = "%DLQ%";
constexpr std::string_view kAutoCreateTemplate = "TBW102";
constexpr std::size_t kMaxTopicLength = 127;

bool is_system_topic(std::string_view t) {
  static constexpr std::string_view kSystem[] = {"TBW102",
                                                 "SCHEDULE_TOPIC_XXXX",
                                                 "BenchmarkTest",
                                                 "RMQ_SYS_TRANS_HALF_TOPIC",
                                                 "RMQ_SYS_TRANS_OP_HALF_TOPIC",
                                                 "RMQ_SYS_TRACE_TOPIC",
                                                 "TRANS_CHECK_MAX_TIME_TOPIC",
                                                 "SELF_TEST_TOPIC",
                                                 "OFFSET_MOVED_EVENT"};
  return std::find(std::begin(kSystem), std::end(kSystem), t) != std::end(kSystem) ||
         t.starts_with("rmq_sys_");
}

// ^[%|a-zA-Z0-9_-]+$, at most 127 characters (the V1 stored layout's 1-byte topic length).
// Checked and worded as the 4.9.7 broker's TopicValidator: blank, characters, then length.
std::optional<std::string> topic_error(std::string_view t) {
  if (t.empty()) return std::string("The specified topic is blank.");
  for (char c : t) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '%' || c == '|' || c == '_' || c == '-';
    if (!ok) {
      return std::string(
          "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$");
    }
  }
  if (t.size() > kMaxTopicLength) {
    return std::string("The specified topic is longer than topic max length.");
  }
  return std::nullopt;
}

RemotingCommand reply_to(const RemotingCommand& request, std::int32_t code,
                         std::string remark = {}) {
  return RemotingCommand::response_to(request, code, std::move(remark));
}

// Why the request being dispatched on this thread was refused as undecodable (its header or
// body), for on_request to log with the peer's address. Dispatch runs on the request's thread.
thread_local std::optional<std::string> t_refusal;

void note_refusal(std::string reason) {
  t_refusal = std::move(reason);
}

// A request whose header or body could not be decoded: SYSTEM_ERROR with the reason, logged.
RemotingCommand refused(const RemotingCommand& request, std::string reason) {
  note_refusal(reason);
  return reply_to(request, rsp::SYSTEM_ERROR, std::move(reason));
}

// Send replies carry MSG_REGION and TRACE_ON, errors included (spec 8.3).
RemotingCommand send_reply(const RemotingCommand& request, std::int32_t code, std::string remark) {
  auto r = reply_to(request, code, std::move(remark));
  r.ext_fields["MSG_REGION"] = "DefaultRegion";
  r.ext_fields["TRACE_ON"] = "true";
  return r;
}

std::int32_t send_error_code(const Error& e) {
  switch (e.code()) {
    case ErrorCode::kInvalidArgument:
      return rsp::MESSAGE_ILLEGAL;
    case ErrorCode::kResourceExhausted:
      return rsp::SERVICE_NOT_AVAILABLE;
    default:
      return rsp::SYSTEM_ERROR;
  }
}

std::string perm_text(std::int32_t perm) {
  std::string s;
  s += (perm & kPermRead) ? 'R' : '-';
  s += (perm & kPermWrite) ? 'W' : '-';
  s += (perm & kPermInherit) ? 'X' : '-';
  return s;
}

std::vector<std::int32_t> tag_codes_of(const rocketmq::SubscriptionData& sub) {
  if (sub.sub_string.empty() || sub.sub_string == rocketmq::SubscriptionData::SUB_ALL) return {};
  return sub.code_set;
}

rocketmq::TopicConfig to_wire(const TopicConfig& t) {
  rocketmq::TopicConfig w;
  w.topic_name = t.topic_name;
  w.read_queue_nums = t.read_queue_nums;
  w.write_queue_nums = t.write_queue_nums;
  w.perm = t.perm;
  w.topic_sys_flag = t.topic_sys_flag;
  w.order = t.order;
  return w;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Broker::Broker(BrokerConfig config, MessageStore& store, std::string broker_addr, Post post)
    : config_(std::move(config)),
      store_(store),
      broker_addr_(std::move(broker_addr)),
      post_(std::move(post)) {
  auto host = rocketmq::SocketAddress::parse(broker_addr_);
  store_host_ = host.ok() ? *host : rocketmq::SocketAddress::ipv4(127, 0, 0, 1, 10911);
  store_host_hex_ = rocketmq::make_offset_msg_id(store_host_, 0);
  store_host_hex_.resize(store_host_hex_.size() - 16);  // without the offset's 16 digits
  store_.set_arrival_listener([this](std::string_view topic, std::int32_t queue_id,
                                     std::int64_t max_offset, std::int64_t tags_code) {
    on_messages_arrived(std::string(topic), queue_id, max_offset, tags_code);
  });
  auto levels = parse_delay_levels(config_.message_delay_level);
  if (!levels.ok()) {
    logger("broker")->error("{}; using the default levels", levels.error().message());
    levels = parse_delay_levels(kDefaultDelayLevels);
  }
  schedule_ = std::make_unique<ScheduleService>(
      store_, std::move(levels).value(),
      [this](std::string_view topic, std::string& record) -> Result<PutResult> {
        bool created = false;
        auto config = ensure_topic(topic, config_.default_topic_queue_nums, &created);
        if (!config.ok()) return config.error();
        if (created) publish(/*oneway=*/true);
        return store_.put_message(std::span<char>(record.data(), record.size()));
      });
  transactions_ = std::make_unique<TransactionService>(
      store_, config_.transaction,
      [this](std::string_view topic, std::string& record) -> Result<PutResult> {
        bool created = false;
        auto config = ensure_topic(topic, config_.default_topic_queue_nums, &created);
        if (!config.ok()) return config.error();
        if (created) publish(/*oneway=*/true);
        return store_.put_message(std::span<char>(record.data(), record.size()));
      });
  // SCHEDULE_TOPIC_XXXX has one queue per level, as on a real broker.
  auto schedule_config = store_.topic_configs().get(kScheduleTopic);
  if (!schedule_config || schedule_config->read_queue_nums < schedule_->max_level()) {
    TopicConfig t;
    t.topic_name = std::string(kScheduleTopic);
    t.read_queue_nums = t.write_queue_nums = schedule_->max_level();
    if (auto r = store_.topic_configs().put(t); !r.ok()) {
      logger("broker")->error("cannot create {}: {}", kScheduleTopic, r.error().message());
    }
  }
}

Broker::~Broker() {
  store_.set_arrival_listener(nullptr);
}

BrokerRegistration Broker::registration() const {
  BrokerRegistration reg;
  reg.cluster_name = config_.cluster_name;
  reg.broker_name = config_.broker_name;
  reg.broker_addr = broker_addr_;
  reg.ha_server_addr = broker_addr_;
  reg.broker_id = 0;
  auto version = store_.topic_configs().data_version();
  reg.data_version = {version.timestamp, version.counter};
  // The topics a real broker creates at start (TBW102, the auto-create template clients route
  // unknown topics through, with perm 7; the cluster and broker names; ...), then the stored ones.
  for (auto& t : system_topic_configs()) reg.topic_config_table[t.topic_name] = std::move(t);
  for (const auto& t : store_.topic_configs().list())
    reg.topic_config_table[t.topic_name] = to_wire(t);
  return reg;
}

void Broker::publish(bool oneway) {
  if (registrar_) registrar_(registration(), oneway);
}

Result<void> Broker::create_topic(std::string_view topic, std::int32_t read_queues,
                                  std::int32_t write_queues, std::int32_t perm) {
  if (auto err = topic_error(topic)) return Error(ErrorCode::kInvalidArgument, *err);
  // The start-up topics (cluster and broker names among them) are system topics too.
  const auto start_up = system_topic_configs();
  if (is_system_topic(topic) ||
      std::any_of(start_up.begin(), start_up.end(),
                  [&](const rocketmq::TopicConfig& t) { return t.topic_name == topic; })) {
    return Error(ErrorCode::kInvalidArgument,
                 "The topic[" + std::string(topic) + "] is conflict with system topic.");
  }
  if (read_queues <= 0 || write_queues <= 0 || read_queues > 1024 || write_queues > 1024) {
    return Error(ErrorCode::kInvalidArgument, "queue numbers must be between 1 and 1024");
  }
  TopicConfig t;
  t.topic_name = std::string(topic);
  t.read_queue_nums = read_queues;
  t.write_queue_nums = write_queues;
  t.perm = perm;
  RMQC_RETURN_IF_ERROR(store_.topic_configs().put(t));
  publish(/*oneway=*/false);
  return {};
}

Result<TopicConfig> Broker::ensure_topic(std::string_view topic, std::int32_t queues,
                                         bool* created) {
  *created = false;
  if (auto existing = store_.topic_configs().get(topic)) return *existing;
  bool internal = topic.starts_with(kRetryPrefix) || topic.starts_with(kDlqPrefix);
  if (!config_.auto_create_topic && !internal) {
    return Error(ErrorCode::kNotFound, "topic[" + std::string(topic) +
                                           "] not exist, apply first please!" + std::string(kFaq));
  }
  if (auto err = topic_error(topic)) return Error(ErrorCode::kInvalidArgument, *err);
  TopicConfig t;
  t.topic_name = std::string(topic);
  t.read_queue_nums = t.write_queue_nums = std::max(1, queues);
  RMQC_RETURN_IF_ERROR(store_.topic_configs().put(t));
  *created = true;
  logger("broker")->info("auto-created topic {} with {} queues", topic, t.write_queue_nums);
  return t;
}

void Broker::on_request(const remoting::ConnectionPtr& connection, RemotingCommand request) {
  if (config_.acl_enable) {
    auto allowed = rocketmq::verify_request(request, [this](const std::string& key) {
      auto it = config_.acl_accounts.find(key);
      return it == config_.acl_accounts.end() ? nullptr : &it->second;
    });
    if (!allowed.ok()) {
      logger("broker")->warn("ACL: request {} from {} refused: {}", request.code,
                             connection->remote_address(), allowed.error().message());
      // RocketMQ answers ACL failures as a failed call (code 1) with the reason.
      if (!request.is_oneway()) {
        connection->send(reply_to(request, rsp::SYSTEM_ERROR, allowed.error().message()));
      }
      return;
    }
  }
  bool deferred = false;
  t_refusal.reset();
  RemotingCommand reply = dispatch(connection, request, &deferred);
  if (t_refusal) {
    refusals_.log(connection->remote_address(), request.code, *t_refusal);
    t_refusal.reset();
  }
  if (!deferred && !request.is_oneway()) connection->send(reply);
}

void Broker::VipHandler::on_request(const remoting::ConnectionPtr& c, RemotingCommand r) {
  if (r.code == rc::PULL_MESSAGE) {
    if (!r.is_oneway()) {
      c->send(reply_to(r, rsp::REQUEST_CODE_NOT_SUPPORTED,
                       " request type " + std::to_string(r.code) + " not supported"));
    }
    return;
  }
  broker_.on_request(c, std::move(r));
}

RemotingCommand Broker::dispatch(const remoting::ConnectionPtr& connection,
                                 RemotingCommand& request, bool* deferred) {
  switch (request.code) {
    case rc::SEND_MESSAGE:
    case rc::SEND_MESSAGE_V2:
    case rc::SEND_BATCH_MESSAGE:
      return send_message(connection, request);
    case rc::PULL_MESSAGE: {
      auto header = rocketmq::PullMessageRequestHeader::from_ext_fields(request.ext_fields);
      if (!header.ok()) return refused(request, header.error().message());
      // Which tags: the request's own subscription, or the one its group registered by heartbeat.
      std::vector<std::int32_t> codes;
      if (header->expression_type && *header->expression_type == "SQL92") {
        return reply_to(request, rsp::SYSTEM_ERROR,
                        "The broker does not support consumer to filter message by SQL92");
      }
      if (header->sys_flag & rocketmq::pull_sysflag::FLAG_SUBSCRIPTION) {
        codes = tag_codes_of(rocketmq::SubscriptionData::build(
            header->topic, header->subscription.value_or("*"), header->sub_version));
      } else {
        std::lock_guard lock(groups_mutex_);
        auto g = groups_.find(header->consumer_group);
        if (g == groups_.end()) {
          auto r = reply_to(request, rsp::SUBSCRIPTION_NOT_EXIST,
                            "the consumer's group info not exist" + std::string(kFaq));
          r.ext_fields_present = true;
          return r;
        }
        auto s = g->second.subscriptions.find(header->topic);
        if (s == g->second.subscriptions.end()) {
          auto r = reply_to(request, rsp::SUBSCRIPTION_NOT_EXIST,
                            "the consumer's subscription not exist" + std::string(kFaq));
          r.ext_fields_present = true;
          return r;
        }
        if (s->second.sub_version < header->sub_version) {
          auto r = reply_to(request, rsp::SUBSCRIPTION_NOT_LATEST,
                            "the consumer's subscription not latest");
          r.ext_fields_present = true;
          return r;
        }
        codes = tag_codes_of(s->second);
      }
      RemotingCommand reply;
      if (!pull_message(connection, request, *header, codes, /*allow_park=*/true, &reply)) {
        *deferred = true;
      }
      return reply;
    }
    case rc::QUERY_CONSUMER_OFFSET:
      return query_consumer_offset(request);
    case rc::UPDATE_CONSUMER_OFFSET: {
      auto h = rocketmq::UpdateConsumerOffsetRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) return refused(request, h.error().message());
      store_.consumer_offsets().commit(h->consumer_group, h->topic, h->queue_id, h->commit_offset);
      // An explicit commit is durable before it is acknowledged, so a crash of the broker (or of
      // a worker embedding it) re-delivers at most what was consumed since the last commit.
      // Offsets piggy-backed on pulls stay on the store's periodic flush.
      if (auto p = store_.consumer_offsets().persist(); !p.ok()) {
        return reply_to(request, rsp::SYSTEM_ERROR, p.error().message());
      }
      auto r = reply_to(request, rsp::SUCCESS);
      r.ext_fields_present = true;
      return r;
    }
    case rc::GET_MAX_OFFSET:
    case rc::GET_MIN_OFFSET:
    case rc::GET_EARLIEST_MSG_STORETIME: {
      auto h = rocketmq::QueueRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) return refused(request, h.error().message());
      auto r = reply_to(request, rsp::SUCCESS);
      if (request.code == rc::GET_EARLIEST_MSG_STORETIME) {
        r.ext_fields =
            rocketmq::GetEarliestMsgStoretimeResponseHeader{
                store_.earliest_message_store_time(h->topic, h->queue_id)}
                .to_ext_fields();
      } else {
        std::int64_t offset = request.code == rc::GET_MAX_OFFSET
                                  ? store_.max_offset(h->topic, h->queue_id)
                                  : store_.min_offset(h->topic, h->queue_id);
        r.ext_fields = rocketmq::OffsetResponseHeader{offset}.to_ext_fields();
      }
      return r;
    }
    case rc::SEARCH_OFFSET_BY_TIMESTAMP: {
      auto h = rocketmq::SearchOffsetRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) return refused(request, h.error().message());
      auto r = reply_to(request, rsp::SUCCESS);
      r.ext_fields = rocketmq::OffsetResponseHeader{store_.search_offset_by_timestamp(
                                                        h->topic, h->queue_id, h->timestamp)}
                         .to_ext_fields();
      return r;
    }
    case rc::HEART_BEAT:
      return heart_beat(connection, request);
    case rc::UNREGISTER_CLIENT:
      return unregister_client(request);
    case rc::GET_CONSUMER_LIST_BY_GROUP: {
      auto h = rocketmq::ConsumerGroupRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) return refused(request, h.error().message());
      rocketmq::ConsumerListBody body;
      {
        std::lock_guard lock(groups_mutex_);
        if (auto g = groups_.find(h->consumer_group); g != groups_.end()) {
          for (const auto& [id, m] : g->second.members)
            body.consumer_id_list.push_back(m.client_id);
        }
      }
      if (body.consumer_id_list.empty()) {
        auto r = reply_to(request, rsp::SYSTEM_ERROR,
                          "no consumer for this group, " + h->consumer_group);
        r.ext_fields_present = true;
        return r;
      }
      auto r = reply_to(request, rsp::SUCCESS);
      r.ext_fields_present = true;
      r.body = body.to_json();
      return r;
    }
    case rc::CONSUMER_SEND_MSG_BACK:
      return send_back(connection, request);
    case rc::LOCK_BATCH_MQ:
      return lock_batch(connection, request, true);
    case rc::UNLOCK_BATCH_MQ:
      return lock_batch(connection, request, false);
    case rc::UPDATE_AND_CREATE_TOPIC:
      return admin_create_topic(request);
    case rc::DELETE_TOPIC_IN_BROKER: {
      auto h = rocketmq::DeleteTopicRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) return refused(request, h.error().message());
      if (is_system_topic(h->topic)) {
        return reply_to(request, rsp::SYSTEM_ERROR,
                        "The topic[" + h->topic + "] is conflict with system topic.");
      }
      (void)store_.topic_configs().remove(h->topic);
      if (auto r = store_.delete_topic(h->topic); !r.ok()) {
        return reply_to(request, rsp::SYSTEM_ERROR, r.error().message());
      }
      store_.consumer_offsets().remove_topic(h->topic);
      publish(false);
      return reply_to(request, rsp::SUCCESS);
    }
    case rc::GET_ALL_TOPIC_CONFIG:
      return all_topic_config(request);
    case rc::QUERY_MESSAGE:
      return query_message(request);
    case rc::GET_BROKER_CONFIG:
      return broker_config(request);
    case rc::GET_BROKER_RUNTIME_INFO:
      return broker_runtime_info(request);
    case rc::GET_TOPIC_STATS_INFO:
      return topic_stats(request);
    case rc::GET_CONSUMER_CONNECTION_LIST:
      return consumer_connection_list(request);
    case rc::GET_CONSUME_STATS:
      return consume_stats(request);
    case rc::QUERY_TOPIC_CONSUME_BY_WHO:
      return topic_consume_by_who(request);
    case rc::GET_ALL_CONSUMER_OFFSET: {
      auto r = reply_to(request, rsp::SUCCESS);
      r.body = store_.consumer_offsets().to_json();
      return r;
    }
    case rc::VIEW_MESSAGE_BY_ID: {
      auto h = rocketmq::ViewMessageRequestHeader::from_ext_fields(request.ext_fields);
      if (!h.ok()) return refused(request, h.error().message());
      auto m = store_.read_message(h->offset);
      if (!m.ok()) {
        return reply_to(request, rsp::SYSTEM_ERROR,
                        "can not find message by the offset, " + std::to_string(h->offset));
      }
      auto r = reply_to(request, rsp::SUCCESS);
      r.body.assign(m->bytes);
      return r;
    }
    case rc::UPDATE_AND_CREATE_SUBSCRIPTIONGROUP:
    case rc::CHECK_CLIENT_CONFIG:
      return reply_to(request, rsp::SUCCESS);
    case rc::END_TRANSACTION: {
      auto r = transactions_->end_transaction(connection, request);
      if (!r.ok()) return refused(request, r.error().message());
      if (!*r) *deferred = true;  // unknown state: no reply, as RocketMQ
      return *r ? std::move(**r) : RemotingCommand{};
    }
    default:
      return reply_to(request, rsp::REQUEST_CODE_NOT_SUPPORTED,
                      " request type " + std::to_string(request.code) + " not supported");
  }
}

RemotingCommand Broker::send_message(const remoting::ConnectionPtr& connection,
                                     const RemotingCommand& request) {
  auto header = rocketmq::SendMessageRequestHeader::from_command(request);
  if (!header.ok()) {
    note_refusal(header.error().message());
    return send_reply(request, rsp::SYSTEM_ERROR, header.error().message());
  }
  if (auto err = topic_error(header->topic)) return send_reply(request, rsp::SYSTEM_ERROR, *err);
  std::string topic = header->topic;
  std::int32_t reconsume_times = header->reconsume_times;
  // A retried message that used up its attempts goes to the group's dead letter queue.
  if (topic.starts_with(kRetryPrefix)) {
    std::int32_t max = header->max_reconsume_times.value_or(config_.max_reconsume_times);
    if (reconsume_times >= max) topic = std::string(kDlqPrefix) + topic.substr(kRetryPrefix.size());
  }
  auto props = rocketmq::parse_properties(header->properties);
  // TRAN_MSG=true: a half message, kept in RMQ_SYS_TRANS_HALF_TOPIC until END_TRANSACTION.
  const bool half = TransactionService::is_half(props);
  if (half && header->batch) {
    return send_reply(request, rsp::MESSAGE_ILLEGAL, "transactional messages cannot be batched");
  }
  bool created = false;
  bool internal = topic.starts_with(kRetryPrefix) || topic.starts_with(kDlqPrefix);
  auto config = ensure_topic(
      topic,
      internal ? 1
               : std::min(header->default_topic_queue_nums > 0 ? header->default_topic_queue_nums
                                                               : config_.default_topic_queue_nums,
                          config_.default_topic_queue_nums),
      &created);
  if (!config.ok()) {
    return send_reply(
        request,
        config.error().code() == ErrorCode::kNotFound ? rsp::TOPIC_NOT_EXIST : rsp::SYSTEM_ERROR,
        config.error().message());
  }
  if (created) publish(/*oneway=*/true);
  if (!(config->perm & kPermWrite)) {
    return send_reply(request, rsp::NO_PERMISSION,
                      "the topic[" + topic + "] sending message is forbidden");
  }
  std::int32_t queue_id = header->queue_id;
  if (queue_id < 0) {
    queue_id = static_cast<std::int32_t>(round_robin_.fetch_add(1) %
                                         static_cast<std::uint32_t>(config->write_queue_nums));
  }
  if (queue_id >= std::max(config->read_queue_nums, config->write_queue_nums)) {
    return send_reply(
        request, rsp::SYSTEM_ERROR,
        "request queueId[" + std::to_string(queue_id) + "] is illegal, TopicConfig [topicName=" +
            topic + ", readQueueNums=" + std::to_string(config->read_queue_nums) +
            ", writeQueueNums=" + std::to_string(config->write_queue_nums) +
            ", perm=" + perm_text(config->perm) +
            ", topicFilterType=SINGLE_TAG, topicSysFlag=" + std::to_string(config->topic_sys_flag) +
            ", order=" + (config->order ? "true" : "false") +
            "] Producer: " + connection->remote_address());
  }

  // DELAY=n: parked in SCHEDULE_TOPIC_XXXX queue n-1 until level n's delay passed (retried and
  // dead-lettered messages are delivered at once).
  std::string delay_level;
  if (auto d = props.find(std::string(rocketmq::property::DELAY));
      !half && d != props.end() && !topic.starts_with(kDlqPrefix)) {
    int level = 0;
    std::from_chars(d->second.data(), d->second.data() + d->second.size(), level);
    if (level > 0) {
      if (header->batch) {
        return send_reply(request, rsp::MESSAGE_ILLEGAL,
                          "TimeDelayLevel is not supported for batched messages");
      }
      level = schedule_->clamp(level);
      props[std::string(rocketmq::property::REAL_TOPIC)] = topic;
      props[std::string(rocketmq::property::REAL_QID)] = std::to_string(queue_id);
      d->second = std::to_string(level);
      delay_level = d->second;
    }
  }
  const std::int32_t reply_queue_id = queue_id;
  if (!delay_level.empty()) {
    topic = std::string(kScheduleTopic);
    queue_id = std::stoi(delay_level) - 1;
  }
  if (half) {
    props[std::string(rocketmq::property::REAL_TOPIC)] = topic;
    props[std::string(rocketmq::property::REAL_QID)] = std::to_string(queue_id);
    topic = std::string(kTransHalfTopic);
    queue_id = 0;
  }

  auto born = rocketmq::SocketAddress::parse(connection->remote_address());
  rocketmq::StoredMessageView m;
  m.queue_id = queue_id;
  m.flag = header->flag;
  m.sys_flag = half ? header->sys_flag & ~rocketmq::sysflag::TRANSACTION_MASK : header->sys_flag;
  m.born_timestamp = header->born_timestamp;
  m.born_host = born.ok() ? *born : store_host_;
  m.store_timestamp = now_ms();
  m.store_host = store_host_;
  m.reconsume_times = reconsume_times;
  m.topic = topic;

  // The stored properties: the sender's map re-encoded, CLUSTER added, WAIT dropped (kept in
  // batches, whose inner messages keep their bytes, as a real broker stores them).
  if (!header->batch) props.erase(std::string(rocketmq::property::WAIT));
  props[std::string(rocketmq::property::CLUSTER)] = config_.cluster_name;
  std::string batch_props = rocketmq::encode_properties(props);

  // Every record of the request back to back in one buffer, the I/O thread's own: once grown it
  // is only overwritten (no allocation and no zero-filling per request or message). `ends`
  // marks where each record stops.
  thread_local std::string encoded;
  std::size_t used = 0;
  std::vector<std::size_t> ends;
  auto encode_one = [&](const rocketmq::StoredMessageView& each) -> Result<void> {
    RMQC_ASSIGN_OR_RETURN(std::size_t size, rocketmq::stored_message_size(each));
    if (encoded.size() < used + size) encoded.resize(used + size);
    RMQC_RETURN_IF_ERROR(
        rocketmq::encode_stored_message(each, std::span<char>(encoded.data() + used, size)));
    used += size;
    ends.push_back(used);
    return ok_result();
  };
  struct Trim {  // a huge batch does not keep its buffer for ever
    ~Trim() {
      if (encoded.capacity() > (16u << 20)) std::string().swap(encoded);
    }
  } trim;
  if (header->batch) {
    auto inner = rocketmq::decode_batch_body(request.body);
    if (!inner.ok()) return send_reply(request, rsp::MESSAGE_ILLEGAL, inner.error().message());
    if (inner->empty()) return send_reply(request, rsp::MESSAGE_ILLEGAL, "empty batch");
    ends.reserve(inner->size());
    std::string p;  // reused for every message's properties
    for (const auto& b : *inner) {
      p.assign(b.properties);
      if (!p.empty() && p.back() != rocketmq::kPropertySeparator) p += rocketmq::kPropertySeparator;
      p += batch_props;
      rocketmq::StoredMessageView each = m;
      each.flag = b.flag;
      each.body = b.body;
      each.properties = p;
      if (auto r = encode_one(each); !r.ok()) {
        return send_reply(request, rsp::MESSAGE_ILLEGAL, r.error().message());
      }
    }
  } else {
    m.body = request.body;
    m.properties = batch_props;
    if (auto r = encode_one(m); !r.ok()) {
      return send_reply(request, rsp::MESSAGE_ILLEGAL, r.error().message());
    }
  }

  rocketmq::SendMessageResponseHeader out;
  out.queue_id = reply_queue_id;
  if (ends.size() == 1) {
    auto put = store_.put_message(std::span<char>(encoded.data(), used),
                                  /*body_crc_computed=*/true);
    if (!put.ok()) return send_reply(request, send_error_code(put.error()), put.error().message());
    append_offset_msg_id(out.msg_id, put->physical_offset);
    out.queue_offset = put->queue_offset;
    note_put(1);
  } else {
    std::vector<std::span<char>> spans;
    spans.reserve(ends.size());
    std::size_t begin = 0;
    for (std::size_t e : ends) {
      spans.emplace_back(encoded.data() + begin, e - begin);
      begin = e;
    }
    auto put = store_.put_messages(spans, /*body_crc_computed=*/true);
    if (!put.ok()) return send_reply(request, send_error_code(put.error()), put.error().message());
    out.msg_id.reserve(put->size() * (store_host_hex_.size() + 17));
    for (std::size_t i = 0; i < put->size(); ++i) {
      if (i) out.msg_id += ',';
      append_offset_msg_id(out.msg_id, (*put)[i].physical_offset);
    }
    out.queue_offset = put->front().queue_offset;
    note_put(static_cast<std::int64_t>(put->size()));
  }
  auto reply = send_reply(request, rsp::SUCCESS, {});
  for (auto& [k, v] : out.to_ext_fields()) reply.ext_fields[k] = v;
  return reply;
}

void Broker::append_offset_msg_id(std::string& out, std::int64_t physical_offset) const {
  // make_offset_msg_id without its allocations: the store host's hex is fixed.
  static constexpr char kHex[] = "0123456789ABCDEF";
  char digits[16];
  auto offset = static_cast<std::uint64_t>(physical_offset);
  for (int i = 15; i >= 0; --i, offset >>= 4) digits[i] = kHex[offset & 0xF];
  out += store_host_hex_;
  out.append(digits, sizeof digits);
}

bool Broker::pull_message(const remoting::ConnectionPtr& connection, const RemotingCommand& request,
                          const rocketmq::PullMessageRequestHeader& header,
                          const std::vector<std::int32_t>& tag_codes, bool allow_park,
                          RemotingCommand* reply) {
  auto config = store_.topic_configs().get(header.topic);
  if (!config) {
    *reply =
        reply_to(request, rsp::TOPIC_NOT_EXIST,
                 "topic[" + header.topic + "] not exist, apply first please! " + std::string(kFaq));
    reply->ext_fields_present = true;
    return true;
  }
  if (header.queue_id < 0 || header.queue_id >= config->read_queue_nums) {
    *reply = reply_to(request, rsp::SYSTEM_ERROR,
                      "queueId[" + std::to_string(header.queue_id) + "] is illegal, topic:[" +
                          header.topic + "] topicConfig.readQueueNums:[" +
                          std::to_string(config->read_queue_nums) + "] consumer:[/" +
                          connection->remote_address() + "]");
    reply->ext_fields_present = true;
    return true;
  }
  if (!(config->perm & kPermRead)) {
    *reply = reply_to(request, rsp::NO_PERMISSION,
                      "the topic[" + header.topic + "] pulling message is forbidden");
    reply->ext_fields_present = true;
    return true;
  }
  // The consumer's progress rides along with the pull (first pass only, as RocketMQ).
  if (allow_park && (header.sys_flag & rocketmq::pull_sysflag::FLAG_COMMIT_OFFSET)) {
    store_.consumer_offsets().commit(header.consumer_group, header.topic, header.queue_id,
                                     header.commit_offset);
  }
  TagFilter filter{tag_codes};
  std::int32_t max_count =
      std::clamp(header.max_msg_nums, std::int32_t{1}, config_.max_pull_messages);
  auto got = store_.get_messages(header.topic, header.queue_id, header.queue_offset, max_count,
                                 config_.max_pull_bytes, tag_codes.empty() ? nullptr : &filter);
  if (!got.ok()) {
    *reply = reply_to(request, rsp::SYSTEM_ERROR, got.error().message());
    reply->ext_fields_present = true;
    return true;
  }
  rocketmq::PullMessageResponseHeader out;
  out.next_begin_offset = got->next_begin_offset;
  out.min_offset = got->min_offset;
  out.max_offset = got->max_offset;
  std::int32_t code = rsp::SYSTEM_ERROR;
  switch (got->status) {
    case GetStatus::kFound:
      code = rsp::SUCCESS;
      break;
    case GetStatus::kNoMatchedMessage:
    case GetStatus::kOffsetFoundNull:
      code = rsp::PULL_RETRY_IMMEDIATELY;
      break;
    case GetStatus::kOffsetOverflowOne:
      code = rsp::PULL_NOT_FOUND;
      break;
    case GetStatus::kNoMessageInQueue:
      code = header.queue_offset == 0 ? rsp::PULL_NOT_FOUND : rsp::PULL_OFFSET_MOVED;
      break;
    case GetStatus::kOffsetTooSmall:
    case GetStatus::kOffsetOverflowBadly:
      code = rsp::PULL_OFFSET_MOVED;
      break;
  }
  if (code == rsp::PULL_NOT_FOUND && allow_park &&
      (header.sys_flag & rocketmq::pull_sysflag::FLAG_SUSPEND)) {
    ParkedPull parked;
    parked.connection = connection;
    parked.request = request;
    parked.request.body.clear();
    parked.header = header;
    parked.tag_codes = tag_codes;
    std::int64_t hold =
        std::clamp(header.suspend_timeout_millis, std::int64_t{0}, config_.max_suspend_millis);
    parked.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(hold);
    bool rerun_now = false;
    {
      std::lock_guard lock(parked_mutex_);
      // A message may have arrived between the read and the park: look again under the lock.
      rerun_now = store_.max_offset(header.topic, header.queue_id) > header.queue_offset;
      if (!rerun_now) parked_[{header.topic, header.queue_id}].push_back(std::move(parked));
    }
    if (!rerun_now) return false;
    return pull_message(connection, request, header, tag_codes, /*allow_park=*/false, reply);
  }
  *reply = reply_to(request, code, std::string(get_status_name(got->status)));
  reply->ext_fields = out.to_ext_fields();
  if (code == rsp::SUCCESS) {
    reply->body = got->body();
    note_get(header.consumer_group, header.topic, static_cast<std::int64_t>(got->messages.size()));
  }
  return true;
}

void Broker::on_messages_arrived(std::string topic, std::int32_t queue_id, std::int64_t max_offset,
                                 std::int64_t tags_code) {
  std::vector<ParkedPull> wake;
  {
    std::lock_guard lock(parked_mutex_);
    auto it = parked_.find({topic, queue_id});
    if (it == parked_.end()) return;
    auto& list = it->second;
    for (auto p = list.begin(); p != list.end();) {
      bool matches = p->tag_codes.empty() ||
                     std::find(p->tag_codes.begin(), p->tag_codes.end(),
                               static_cast<std::int32_t>(tags_code)) != p->tag_codes.end();
      if (matches && max_offset > p->header.queue_offset) {
        wake.push_back(std::move(*p));
        p = list.erase(p);
      } else {
        ++p;
      }
    }
    if (list.empty()) parked_.erase(it);
  }
  if (!wake.empty()) {
    // Off the putting thread: the store calls us while it completes a put.
    post_([this, wake = std::move(wake)]() mutable { rerun_parked(std::move(wake)); });
  }
}

void Broker::rerun_parked(std::vector<ParkedPull> parked) {
  for (auto& p : parked) {
    if (!p.connection->is_open()) continue;
    RemotingCommand reply;
    if (pull_message(p.connection, p.request, p.header, p.tag_codes, /*allow_park=*/false,
                     &reply)) {
      p.connection->send(reply);
    }
  }
}

void Broker::tick() {
  auto now = std::chrono::steady_clock::now();
  std::vector<ParkedPull> due;
  {
    std::lock_guard lock(parked_mutex_);
    for (auto it = parked_.begin(); it != parked_.end();) {
      auto& list = it->second;
      std::int64_t max = store_.max_offset(it->first.first, it->first.second);
      for (auto p = list.begin(); p != list.end();) {
        // Timed out, gone, or the queue grew with messages the filter skipped (answer 20 now
        // rather than at the deadline, so the consumer moves past them).
        if (now >= p->deadline || !p->connection->is_open() || max > p->header.queue_offset) {
          if (p->connection->is_open()) due.push_back(std::move(*p));
          p = list.erase(p);
        } else {
          ++p;
        }
      }
      it = list.empty() ? parked_.erase(it) : std::next(it);
    }
  }
  if (!due.empty()) rerun_parked(std::move(due));

  // Clients silent for client_expiry: close their connection, drop them without notifying
  // (as RocketMQ does; the others notice at their next rebalance).
  std::vector<remoting::ConnectionPtr> to_close;
  {
    std::lock_guard lock(groups_mutex_);
    for (auto& [name, group] : groups_) {
      std::erase_if(group.members, [&](auto& entry) {
        if (now - entry.second.last_heartbeat < config_.client_expiry) return false;
        if (auto c = entry.second.connection.lock()) to_close.push_back(std::move(c));
        logger("broker")->info("consumer {} of group {} expired", entry.second.client_id, name);
        return true;
      });
    }
    for (auto& [group, table] : locks_) {
      std::erase_if(
          table, [&](auto& e) { return now - e.second.last_update >= config_.queue_lock_expiry; });
    }
  }
  for (auto& c : to_close) c->close();
  schedule_->deliver_due(now_ms());
  sample_stats();
  transactions_->producers().expire(now, config_.client_expiry);
  transactions_->tick(now_ms());
}

RemotingCommand Broker::heart_beat(const remoting::ConnectionPtr& connection,
                                   const RemotingCommand& request) {
  if (request.body.empty()) return refused(request, "heartbeat without a body");
  auto data = rocketmq::HeartbeatData::from_json(request.body);
  if (!data.ok()) return refused(request, data.error().message());
  auto now = std::chrono::steady_clock::now();
  std::vector<std::string> changed_groups;
  std::vector<std::string> new_retry_topics;
  {
    std::lock_guard lock(groups_mutex_);
    for (const auto& consumer : data->consumer_data_set) {
      auto [it, new_group] = groups_.try_emplace(consumer.group_name);
      Group& group = it->second;
      auto member = group.members.find(connection->id());
      bool joined = member == group.members.end();
      Member& m = group.members[connection->id()];
      m.client_id = data->client_id;
      m.connection = connection;
      m.last_heartbeat = now;
      m.consume_from_where = consumer.consume_from_where;
      m.language = std::string(rocketmq::language_name(request.language));
      m.version = request.version;
      group.consume_type = consumer.consume_type;
      group.message_model = consumer.message_model;
      group.consume_from_where = consumer.consume_from_where;
      // One subscription table per group, replaced by each member's heartbeat.
      std::set<std::string> before;
      for (const auto& [topic, sub] : group.subscriptions) before.insert(topic);
      group.subscriptions.clear();
      std::set<std::string> after;
      for (const auto& sub : consumer.subscription_data_set) {
        group.subscriptions[sub.topic] = sub;
        after.insert(sub.topic);
      }
      if (joined || before != after) changed_groups.push_back(consumer.group_name);
      if (new_group) new_retry_topics.push_back(std::string(kRetryPrefix) + consumer.group_name);
    }
    for (const auto& producer : data->producer_data_set) {  // check-back targets
      transactions_->producers().heartbeat(connection, data->client_id, producer.group_name, now);
    }
  }
  bool created_any = false;
  for (const auto& topic : new_retry_topics) {
    bool created = false;
    if (auto r = ensure_topic(topic, 1, &created); r.ok() && created) created_any = true;
  }
  if (created_any) publish(/*oneway=*/true);
  // Members learn of the change before the heartbeat's reply, as RocketMQ orders it.
  for (const auto& g : changed_groups) notify_group_changed(g);
  return reply_to(request, rsp::SUCCESS);
}

void Broker::notify_group_changed(const std::string& group) {
  std::vector<remoting::ConnectionPtr> targets;
  {
    std::lock_guard lock(groups_mutex_);
    auto g = groups_.find(group);
    if (g == groups_.end()) return;
    for (auto& [id, m] : g->second.members) {
      if (auto c = m.connection.lock()) targets.push_back(std::move(c));
    }
  }
  for (auto& c : targets) {
    RemotingCommand notify =
        RemotingCommand::request(rc::NOTIFY_CONSUMER_IDS_CHANGED, {{"consumerGroup", group}});
    notify.opaque = next_opaque_.fetch_add(1);
    notify.mark_oneway();
    notify.serialize_type = rocketmq::SerializeType::JSON;
    notify.ext_fields_present = true;
    c->send(notify);
  }
}

RemotingCommand Broker::unregister_client(const RemotingCommand& request) {
  auto h = rocketmq::UnregisterClientRequestHeader::from_ext_fields(request.ext_fields);
  if (!h.ok()) return refused(request, h.error().message());
  if (h->producer_group) transactions_->producers().unregister(h->client_id, *h->producer_group);
  bool removed = false;
  if (h->consumer_group) {
    std::lock_guard lock(groups_mutex_);
    if (auto g = groups_.find(*h->consumer_group); g != groups_.end()) {
      removed = std::erase_if(g->second.members, [&](const auto& e) {
                  return e.second.client_id == h->client_id;
                }) > 0;
    }
  }
  if (removed) notify_group_changed(*h->consumer_group);
  auto r = reply_to(request, rsp::SUCCESS);
  r.ext_fields_present = true;
  return r;
}

void Broker::on_close(const remoting::ConnectionPtr& connection) {
  transactions_->producers().on_close(connection);
  std::vector<std::string> affected;
  std::size_t unlocked = 0;
  {
    std::lock_guard lock(groups_mutex_);
    for (auto& [name, group] : groups_) {
      if (group.members.erase(connection->id()) > 0) affected.push_back(name);
    }
    // The queue locks this connection took or renewed last, in every group: a client that died
    // (or shut down without unlocking) does not keep its queues from the survivors until the
    // lock expiry. Dropped before the members are notified, so their rebalance can lock them.
    for (auto& [group, table] : locks_) {
      unlocked += std::erase_if(table, [&](const auto& e) {
        const auto& holder = e.second.connection;
        return !holder.owner_before(connection) && !connection.owner_before(holder);
      });
    }
  }
  if (unlocked > 0) {
    logger("broker")->debug("connection {} closed: {} queue locks dropped", connection->id(),
                            unlocked);
  }
  for (const auto& g : affected) notify_group_changed(g);
}

RemotingCommand Broker::lock_batch(const remoting::ConnectionPtr& connection,
                                   const RemotingCommand& request, bool lock_them) {
  auto body = rocketmq::LockBatchRequestBody::from_json(request.body);
  if (!body.ok()) return refused(request, body.error().message());
  auto now = std::chrono::steady_clock::now();
  rocketmq::LockBatchResponseBody out;
  {
    std::lock_guard lock(groups_mutex_);
    auto& table = locks_[body->consumer_group];
    for (const auto& mq : body->mq_set) {
      auto it = table.find(mq);
      if (!lock_them) {
        if (it != table.end() && it->second.client_id == body->client_id) table.erase(it);
        continue;
      }
      bool free = it == table.end() || it->second.client_id == body->client_id ||
                  now - it->second.last_update >= config_.queue_lock_expiry;
      if (free) {
        table[mq] = QueueLock{body->client_id, now, connection};
        out.lock_ok_mq_set.push_back(mq);
      }
    }
  }
  auto r = reply_to(request, rsp::SUCCESS);
  if (lock_them) r.body = out.to_json();
  return r;
}

RemotingCommand Broker::query_consumer_offset(const RemotingCommand& request) {
  auto h = rocketmq::QueryConsumerOffsetRequestHeader::from_ext_fields(request.ext_fields);
  if (!h.ok()) return refused(request, h.error().message());
  auto committed = store_.consumer_offsets().query(h->consumer_group, h->topic, h->queue_id);
  std::int64_t offset = -1;
  if (committed && *committed >= 0) {
    offset = *committed;
  } else if (store_.min_offset(h->topic, h->queue_id) <= 0) {
    offset = 0;  // a young queue: a new group starts at its beginning (RocketMQ 4.x)
  }
  if (offset < 0) {
    return reply_to(request, rsp::QUERY_NOT_FOUND,
                    "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first");
  }
  auto r = reply_to(request, rsp::SUCCESS);
  r.ext_fields = rocketmq::OffsetResponseHeader{offset}.to_ext_fields();
  return r;
}

RemotingCommand Broker::send_back(const remoting::ConnectionPtr& connection,
                                  const RemotingCommand& request) {
  (void)connection;
  auto h = rocketmq::ConsumerSendMsgBackRequestHeader::from_ext_fields(request.ext_fields);
  if (!h.ok()) return refused(request, h.error().message());
  auto stored = store_.read_message(h->offset);
  if (!stored.ok()) {
    return reply_to(request, rsp::SYSTEM_ERROR,
                    "look message by offset failed, " + std::to_string(h->offset));
  }
  auto original = rocketmq::decode_stored_message(stored->bytes);
  if (!original.ok()) return reply_to(request, rsp::SYSTEM_ERROR, original.error().message());
  std::int32_t max = h->max_reconsume_times.value_or(config_.max_reconsume_times);
  bool dead = h->delay_level < 0 || original->reconsume_times >= max;
  std::string topic = std::string(dead ? kDlqPrefix : kRetryPrefix) + h->group;
  bool created = false;
  auto config = ensure_topic(topic, 1, &created);
  if (!config.ok()) return reply_to(request, rsp::SYSTEM_ERROR, config.error().message());
  if (created) publish(/*oneway=*/true);

  auto props = rocketmq::parse_properties(original->properties);
  props.try_emplace(std::string(rocketmq::property::RETRY_TOPIC), std::string(original->topic));
  props.try_emplace(std::string(rocketmq::property::ORIGIN_MESSAGE_ID), original->offset_msg_id());
  props[std::string(rocketmq::property::WAIT)] = "false";
  rocketmq::StoredMessageView copy = *original;
  copy.topic = topic;
  copy.queue_id = 0;
  if (!dead) {
    // Back-off through the delay levels, as a real broker: level 0 means 3 + reconsumeTimes.
    const int level =
        schedule_->clamp(h->delay_level == 0 ? 3 + original->reconsume_times : h->delay_level);
    props[std::string(rocketmq::property::REAL_TOPIC)] = topic;
    props[std::string(rocketmq::property::REAL_QID)] = "0";
    props[std::string(rocketmq::property::DELAY)] = std::to_string(level);
    copy.topic = kScheduleTopic;
    copy.queue_id = level - 1;
  }
  std::string encoded = rocketmq::encode_properties(props);
  copy.reconsume_times = original->reconsume_times + 1;
  copy.store_host = store_host_;
  copy.store_timestamp = now_ms();
  copy.properties = encoded;
  std::string rec;
  if (auto r = rocketmq::append_stored_message(copy, rec); !r.ok()) {
    return reply_to(request, rsp::SYSTEM_ERROR, r.error().message());
  }
  auto put = store_.put_message(std::span<char>(rec.data(), rec.size()));
  if (!put.ok()) return reply_to(request, rsp::SYSTEM_ERROR, put.error().message());
  return reply_to(request, rsp::SUCCESS);
}

RemotingCommand Broker::admin_create_topic(const RemotingCommand& request) {
  auto h = rocketmq::CreateTopicRequestHeader::from_ext_fields(request.ext_fields);
  if (!h.ok()) return refused(request, h.error().message());
  if (auto r = create_topic(h->topic, h->read_queue_nums, h->write_queue_nums, h->perm); !r.ok()) {
    return reply_to(request, rsp::SYSTEM_ERROR, r.error().message());
  }
  // What a 4.9.7 broker answers (its reply is built before the code is set).
  return reply_to(request, rsp::SUCCESS, "not set any response code");
}

}  // namespace rmqc::broker
